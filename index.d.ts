// Types of memwatch-rs's public API. The native payload types come from the
// generated `binding.d.ts`, whose doc comments are the Rust ones.

import { EventEmitter } from 'node:events'
import type { Stats as NativeStats } from './binding'

declare namespace memwatch {
  /**
   * Heap statistics after a full (mark-sweep-compact) GC: memwatch's fields,
   * @airbnb/node-memwatch's fields and units, and V8's newer heap figures.
   * Bytes unless said.
   */
  type Stats = NativeStats

  /** A suspected leak: the base (used heap after full GCs) kept growing. */
  interface LeakInfo {
    /** When the base was last at its pre-growth level. */
    start: Date
    /** The full GC that confirmed the growth. */
    end: Date
    /** Bytes the base grew from `start` to `end` (never negative). */
    growth: number
    /** e.g. `heap growth over 5 consecutive GCs (20s) - 11.67 mb/hr`. */
    reason: string
  }

  /**
   * Cancels one `trackGC` registration: its callback will not run, and the
   * registration (the callback and the native record) is released at once,
   * even while the target lives on. Calling it after the callback ran, or a
   * second time, does nothing.
   */
  type CancelTrackGC = () => void

  /** The listener type of each event memwatch emits. */
  type Listener<E> = E extends 'stats'
    ? (stats: Stats) => void
    : E extends 'leak'
      ? (info: LeakInfo) => void
      : (...args: any[]) => void

  /** Leak detector and probe settings; see README for each default and range. */
  type Config = import('./binding').Config & { rule: 'trend' | 'classic' }

  /** Which backend serves this isolate. */
  type Backend = 'v8' | 'fallback'

  /** Totals of one HeapDiff snapshot. */
  interface HeapDiffSnapshot {
    /** Heap nodes (objects, strings, code, …), the HeapDiff's own excluded. */
    nodes: number
    /** Sum of their self sizes, bytes. */
    size_bytes: number
    /** `size_bytes` for humans: `"1.50 mb"`, `"12.00 kb"`, `"512 bytes"` (1024-based). */
    size: string
    /** When the snapshot was taken. */
    time: Date
  }

  /** How one group of nodes changed between the snapshots. */
  interface HeapDiffDetail {
    /**
     * Constructor name for objects; for other nodes their kind: `Array`,
     * `String`, `Code`, `Closure`, `RegExp`, `Number`, `Native` (memwatch's
     * names), `Hidden`, `ConsString`, `SlicedString`, `Symbol`, `BigInt`,
     * `ObjectShape`, `Synthetic`.
     */
    what: string
    /** Bytes allocated minus bytes freed in this group (may be negative). */
    size_bytes: number
    /** `size_bytes` for humans, may be negative: `"-3.25 kb"`. */
    size: string
    /** Nodes new since the first snapshot. */
    '+': number
    /** Nodes freed since the first snapshot. */
    '-': number
  }

  /** What changed between the snapshots. */
  interface HeapDiffChange {
    /** `after.size_bytes - before.size_bytes` (also the sum of `details`). */
    size_bytes: number
    /** `size_bytes` for humans, may be negative. */
    size: string
    /** Nodes only in the first snapshot. */
    freed_nodes: number
    /** Nodes only in the second snapshot. */
    allocated_nodes: number
    /** One entry per group that changed, largest absolute `size_bytes` first. */
    details: HeapDiffDetail[]
  }

  /** What `HeapDiff#end()` returns (memwatch's shape). */
  interface HeapDiffResult {
    before: HeapDiffSnapshot
    after: HeapDiffSnapshot
    change: HeapDiffChange
  }

  /** Where HeapDiff's snapshots come from: V8's heap profiler in process, or `v8.writeHeapSnapshot()` read back. */
  type HeapDiffSource = 'v8' | 'json'

  /** A heap diff in progress; see {@link HeapDiffConstructor}. */
  interface HeapDiff {
    /** Takes the second snapshot and returns the diff. Throws if called twice. */
    end(): HeapDiffResult
  }

  /**
   * Exact heap diff: `new HeapDiff()` records the heap, `end()` records it
   * again and reports what was allocated and freed in between, matched by V8
   * object id and grouped by constructor name. Each snapshot runs full GCs
   * (which emit no `stats` events). Must be called with `new`.
   */
  interface HeapDiffConstructor {
    new (): HeapDiff
    readonly prototype: HeapDiff
    /** The snapshot source HeapDiffs use in this thread. */
    readonly source: HeapDiffSource
  }

  interface MemWatch extends EventEmitter {
    /**
     * `'stats'`: after every full GC (not those a HeapDiff causes).
     * `'leak'`: when the leak detector sees sustained base growth.
     */
    on<E extends string | symbol>(event: E, listener: Listener<E>): this
    once<E extends string | symbol>(event: E, listener: Listener<E>): this
    addListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    prependListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    prependOnceListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    off<E extends string | symbol>(event: E, listener: Listener<E>): this
    removeListener<E extends string | symbol>(event: E, listener: Listener<E>): this
    emit<E extends string | symbol>(event: E, ...args: Parameters<Listener<E>>): boolean

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
