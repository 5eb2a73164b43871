// Types of memwatch-rs's public API. Every payload type is generated from
// the Rust definitions into `binding.d.ts` (their doc comments are the Rust
// ones); this file names them for users and types the emitter's events.

import { EventEmitter } from 'node:events'
import type * as binding from './binding'

declare namespace memwatch {
  /**
   * Heap statistics after a full (mark-sweep-compact) GC: memwatch's fields,
   * @airbnb/node-memwatch's fields and units, and V8's newer heap figures.
   * Bytes unless said.
   */
  type Stats = binding.Stats

  /** A suspected leak: the base (used heap after full GCs) kept growing. */
  type LeakInfo = binding.LeakInfo

  /** The leak detector's current estimate (`memwatch.leakStatus()`). */
  type LeakStatus = binding.LeakStatusInfo

  /** What the detector thinks of the heap: `'flat'`, `'suspected'` or `'leaking'`. */
  type LeakVerdict = binding.LeakVerdict

  /** Leak detector and probe settings; see README for each default and range. */
  type Config = binding.Config

  /** The leak detector's rule: `'rate'` (default) or `'classic'`. */
  type Rule = binding.Rule

  /** Which backend serves this thread: `'v8'` or `'fallback'`. */
  type Backend = binding.Backend

  /** Where HeapDiff's snapshots come from: V8's heap profiler in process, or `v8.writeHeapSnapshot()` read back. */
  type HeapDiffSource = binding.SnapshotSource

  /** What `HeapDiff#end()` returns (memwatch's shape). */
  type HeapDiffResult = binding.HeapDiffResult
  /** Totals of one HeapDiff snapshot. */
  type HeapDiffSnapshot = binding.HeapDiffSnapshot
  /** What changed between the snapshots. */
  type HeapDiffChange = binding.HeapDiffChange
  /** How one group of nodes changed between the snapshots. */
  type HeapDiffDetail = binding.HeapDiffDetail

  /** What `memwatch.census()` returns: live JS objects counted by group. */
  type Census = binding.CensusResult
  /** One group of a census: constructor name, live objects, their shallow bytes. */
  type CensusGroup = binding.CensusGroup
  /** A group that grew while the heap leaked (an entry of `LeakInfo#suspects`). */
  type LeakSuspect = binding.LeakSuspect

  /** Options of `new HeapDiff(options)`. */
  interface HeapDiffOptions {
    /**
     * `true`: diff two heap censuses instead of two heap snapshots (JS
     * objects only, net count changes per group, far cheaper; the result
     * has `census: true`). Default `false`.
     */
    census?: boolean
  }

  /**
   * Cancels one `trackGC` registration: its callback will not run, and the
   * registration (the callback and the native record) is released at once,
   * even while the target lives on. Calling it after the callback ran, or a
   * second time, does nothing.
   */
  type CancelTrackGC = () => void

  /** The events memwatch emits and their listeners' arguments. */
  interface Events {
    /** After every full GC (not those a HeapDiff causes). */
    stats: [stats: Stats]
    /** When the leak detector sees sustained base growth. */
    leak: [info: LeakInfo]
  }

  /** `'stats'` or `'leak'`. */
  type EventName = keyof Events

  /** A heap diff in progress; see {@link HeapDiffConstructor}. */
  interface HeapDiff {
    /** Takes the second snapshot and returns the diff. Throws if called twice. */
    end(): HeapDiffResult
  }

  /**
   * Exact heap diff: `new HeapDiff()` records the heap, `end()` records it
   * again and reports what was allocated and freed in between, matched by V8
   * object id and grouped by constructor name. Each snapshot runs full GCs
   * (which emit no `stats` events). Must be called with `new`. With
   * `{ census: true }`, two heap censuses instead (see `census()`).
   */
  interface HeapDiffConstructor {
    new (options?: HeapDiffOptions): HeapDiff
    readonly prototype: HeapDiff
    /** The snapshot source HeapDiffs use in this thread. */
    readonly source: HeapDiffSource
  }

  interface MemWatch extends EventEmitter {
    on<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    once<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    addListener<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    prependListener<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    prependOnceListener<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    off<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    removeListener<E extends EventName>(event: E, listener: (...args: Events[E]) => void): this
    removeAllListeners(event?: EventName): this
    emit<E extends EventName>(event: E, ...args: Events[E]): boolean

    /**
     * Runs a full, compacting GC now, synchronously, without `--expose-gc`.
     * Returns that GC's stats and causes exactly one `stats` event on the next
     * loop turn (none when called from inside a `stats` listener).
     */
    gc(): Stats

    /**
     * Reads (no argument) or changes the leak detector's settings; returns the
     * settings in force. Unknown options and wrong types throw `TypeError`,
     * out-of-range values `RangeError`; a rejected call changes nothing.
     */
    configure(options?: Partial<Config>): Config

    /**
     * The leak detector's current estimate, also between reports: state,
     * growth rate of the heap's floor with its confidence interval, the
     * floor, the heap limit and the projected time to it. The detector runs
     * while a `leak` listener is attached (`watching`).
     */
    leakStatus(): LeakStatus

    /**
     * Counts the live JS objects of this thread's heap (every context of
     * its isolate) by constructor, with their shallow sizes, largest group
     * first, without a heap snapshot. Pauses the thread (full GCs, which emit
     * no `stats` events, and a walk of the heap) and clears V8's type
     * feedback, which costs a short, transient slowdown. Strings, code and
     * V8's internal objects are not counted. Throws an `Error` saying why
     * where a census is not available (the fallback backend).
     */
    census(): Census

    /** memwatch's heap diff class; see {@link HeapDiffConstructor}. */
    HeapDiff: HeapDiffConstructor

    /** `'v8'`: V8 GC hooks and heap profiler; `'fallback'`: N-API and JS only. */
    readonly backend: Backend

    /**
     * Runs `callback` once, on the event loop, after `target` has been
     * garbage-collected: never while `target` is alive, never twice.
     * Callbacks of targets collected together run in one batch; one that
     * throws is an uncaught exception and the others still run.
     *
     * Tracking does not keep `target` alive, but the callback is held until
     * it runs: it must not capture `target` (or anything that references
     * it), or `target` can never be collected.
     *
     * Returns a function that cancels the tracking. Throws a `TypeError` if
     * `target` is not an object or a function, or `callback` is not a
     * function.
     */
    trackGC(target: object, callback: () => void): CancelTrackGC
  }
}

declare const memwatch: memwatch.MemWatch
export = memwatch
