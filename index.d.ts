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

  /**
   * What metrics exporters read (`memwatch.metrics()`): the leak detector's
   * status, V8's heap size limit and the GC pause histograms by kind.
   */
  type Metrics = binding.Metrics

  /** GC pause histograms by kind (`Metrics['gcPauses']`). */
  type GcPauses = binding.GcPausesInfo

  /** The pauses of one GC kind: counts per bucket of `Metrics['pauseBounds']`, count and sum (seconds). */
  type PauseHistogram = binding.PauseHistogramInfo

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
  /**
   * Options of `HeapDiff#end()`: `{ retainers: n }` explains the 5 groups
   * that grew most, `{ retainers: n, groups: ['Foo'] }` the groups named
   * (1 to 10; `groups` needs `retainers`).
   */
  type HeapDiffEndOptions =
    | (binding.HeapDiffEndOptions & { groups?: undefined })
    | (binding.HeapDiffEndOptions & { retainers: number; groups: string[] })
  /** One way new objects of a group are held: a shortest path from a root, and how many samples take it. */
  type RetainerPath = binding.RetainerPath

  /** Options of `startSampling()`. */
  type SamplingOptions = binding.SamplingOptions
  /** How allocation sampling runs (what `startSampling()` returns). */
  type SamplingSettings = binding.SamplingSettings
  /** The live heap by allocation stack: what `samplingProfile()` and `writeProfile()` return. */
  type SamplingProfile = binding.SamplingProfile
  /** The live sampled allocations of one allocation stack. */
  type SamplingSite = binding.SamplingSite
  /** One frame of an allocation stack (the allocating function first). */
  type SamplingFrame = binding.SamplingFrame
  /** Estimated live bytes and objects. */
  type SamplingTotal = binding.SamplingTotal
  /** How each allocation site changed between two profiles (`diffProfiles()`). */
  type SamplingDiff = binding.SamplingDiff

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
    /**
     * Takes the second snapshot and returns the diff. Throws if called twice.
     * With `{ retainers: n }` (1 to 100), each of the 5 groups with the most
     * new nodes also gets `retainers`: up to n shortest paths from a root to
     * sample new objects of the group. With `{ retainers: n, groups: [...] }`
     * (1 to 10 names, as `what` reads them), exactly the groups named get
     * them, those of them with new nodes, however little they grew.
     */
    end(options?: HeapDiffEndOptions): HeapDiffResult
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
     * What metrics exporters read, in one call: the leak detector's status
     * (as `leakStatus()`), V8's heap size limit and the GC pause histograms
     * by kind (fixed buckets from 0.1 ms to 10 s). `memwatch-rs/prometheus`
     * and `memwatch-rs/otel` are built on it.
     */
    metrics(): Metrics

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

    /**
     * Drops V8's table of heap snapshot object ids in this thread, which V8
     * otherwise keeps for the thread's lifetime after any heap snapshot
     * (about 90 bytes per object of the largest heap snapshotted), and
     * returns that memory. Snapshots taken afterwards (HeapDiffs, DevTools,
     * `v8.writeHeapSnapshot()`) number objects afresh, so none of them can
     * be matched by id with a snapshot taken before. Throws an `Error` while
     * a HeapDiff of this thread is open (made and not ended), or where
     * HeapDiffs do not use V8's heap profiler in process (the fallback
     * backend).
     */
    clearHeapSnapshotIds(): void

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

    /**
     * Starts V8's sampling heap profiler in this thread: an allocation is
     * sampled every `intervalBytes` (default 524288) on average, with up to
     * `stackDepth` (default 64) frames, and dropped when its object dies.
     * Returns the settings in force. Bad options throw a `TypeError` or
     * `RangeError` naming them; an `Error` if sampling already runs in this
     * thread (ours, or the inspector's, DevTools', `--heap-prof`'s) or is
     * not available (the fallback backend).
     */
    startSampling(options?: SamplingOptions): SamplingSettings

    /** Stops sampling in this thread and drops its samples; false if it was not running. */
    stopSampling(): boolean

    /**
     * The live sampled allocations by allocation stack, largest first. An
     * `Error` if sampling is not running, or another profiler stopped it.
     */
    samplingProfile(): SamplingProfile

    /**
     * Writes the current profile to `path` in pprof's format (gzipped
     * `profile.proto`, in-use objects and bytes) and returns it.
     */
    writeProfile(path: string): SamplingProfile

    /** How each allocation site changed from `before` to `after`, the most grown first. */
    diffProfiles(before: SamplingProfile, after: SamplingProfile): SamplingDiff
  }
}

declare const memwatch: memwatch.MemWatch
export = memwatch
