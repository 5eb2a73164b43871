// Types of memwatch-rs/testing: leak assertions for any test runner.

/** Options of {@link expectCollected}. */
export interface ExpectCollectedOptions {
  /** How long to keep forcing GCs before failing, in ms (1 – 2^31−1). Default 5000. */
  timeoutMs?: number
  /**
   * Record a retainer path for the failure message: a heap diff is started
   * before the factory runs (factory form only) and, if the object stays
   * alive, ended with a shortest path from a root to a new object of its
   * group (`retained by: global → cache (Map) → table → [7] (Session)`).
   * Costs one heap snapshot up front and one more on failure. Default false.
   */
  retainers?: boolean
}

/** Options of {@link assertNoLeak}. */
export interface AssertNoLeakOptions {
  /** Measured calls per run, split into three batches in the ratio 1 : 2 : 3 (6 – 10,000,000). Default 60. */
  iterations?: number
  /**
   * Calls before the first measurement, not measured (0 – 10,000,000). Default 30. When they
   * add Node resource-timing entries (one per fetch() request), the warm-up goes on until that
   * buffer is full (250 entries by default; at most 1,000 more calls).
   */
  warmup?: number
  /**
   * How long each measurement waits, at most, for timers, sockets and other
   * handles the calls started to close, and how much longer the exact run's
   * last measurement waits for periodic sweeps (0 – 60,000 ms). Default 1000.
   */
  settleMs?: number
  /** More group names to leave out of the verdict (added to the internal groups always left out). */
  ignore?: string[]
  /**
   * When a heap census found the leak, run one more batch of calls inside an exact heap diff
   * for the suspects' retainer paths (two heap snapshots, only on a failure). Default true;
   * false fails sooner, without paths.
   */
  retainers?: boolean
}

/** How assertNoLeak measured: returned on a pass, `LeakError.calls` on a failure. */
export interface LeakTestCalls {
  /** Warm-up calls before the first run (more than the option when fetch()'s timing buffer was still filling). */
  warmup: number
  /** Calls in each batch of a run (ratio 1 : 2 : 3). */
  batches: number[]
  /** 1: the first, cheap run found no candidate; 2: a second, exact run per batch decided. */
  runs: 1 | 2
  /** What measured the groups: `'census'` (a heap census) or `'heapdiff'` (exact heap diffs). */
  method: 'census' | 'heapdiff'
}

/** A group of live objects that grew with the number of calls. */
export interface LeakSuspect {
  /** The group, as a heap diff names it: a constructor name (`Session`, `Object`, `Array`), `String`, `Closure`, … */
  what: string
  /** Live objects gained per call, averaged over the measured calls. */
  perIteration: number
  /** Bytes gained per call (the objects' own sizes), averaged over the measured calls. */
  bytesPerIteration: number
  /** Live objects gained in each batch (same order as `LeakTestCalls.batches`). */
  counts: number[]
  /** Bytes gained in each batch. */
  bytes: number[]
  /** Which figure grew with the calls: the object count, or only the bytes (objects that grow in place). */
  rule: 'objects' | 'bytes'
}

/** A path from a GC root to a live object, as reported by a heap diff. */
export interface LeakRetainer {
  /** The group of the retained object. */
  what: string
  /** e.g. `global → sessions (Map) → table → [2341] (Session)`: from a root, each step an edge and what it reaches. */
  path: string
  /** How many of the group's new objects are retained this way. */
  count: number
}

/** What expectCollected found alive. */
export interface LeakTarget {
  /** The object's group: its constructor's name, `Closure` for a function. */
  what: string
  /** Forced full GCs run while waiting. */
  gcs: number
  /** How long it waited, in ms. */
  waitedMs: number
}

/** The error both helpers reject with when they find a leak; the figures are properties. */
export declare class LeakError extends Error {
  readonly name: 'LeakError'
  readonly code: 'MEMWATCH_LEAK'
  /** assertNoLeak: the groups that grew with the number of calls, most bytes per call first; `[]` from expectCollected. */
  readonly suspects: LeakSuspect[]
  /**
   * Retainer paths found: expectCollected with `retainers: true`, the path to the object's group;
   * assertNoLeak, paths to the suspects (from its exact heap diffs, or after a census verdict from
   * one more batch measured by an exact heap diff). `[]` where none was found (expectCollected
   * without `retainers`).
   */
  readonly retainers: LeakRetainer[]
  /** expectCollected: the object that stayed alive; `null` from assertNoLeak. */
  readonly target: LeakTarget | null
  /** assertNoLeak: how it measured; `null` from expectCollected. */
  readonly calls: LeakTestCalls | null
}

/**
 * Resolves as soon as `target` has been garbage-collected (forced full GCs a
 * loop turn apart, then backing off, woken by the collection itself);
 * rejects with a {@link LeakError} naming its group if it is still alive
 * after `timeoutMs`.
 *
 * Pass a factory, `() => new Thing()`: the object then never lives in the
 * caller's frame. An object passed directly is collectable only if nothing
 * else references it, the caller's frame included: V8 keeps a suspended
 * async function's locals (and sometimes an earlier `await`'s value, even
 * after the variable was set to null) alive across an `await`. A factory
 * is called once, synchronously; it must return the object, not a promise.
 *
 * Rejects with a TypeError for a primitive target or bad options.
 */
export declare function expectCollected(target: object | (() => object), options?: ExpectCollectedOptions): Promise<void>

/**
 * Calls `fn` (sync or async, one call at a time) `warmup` times, then in
 * batches, and rejects with a {@link LeakError} when live objects of some
 * group grow with the number of calls (see the README's "Leak tests" for
 * the rule). Resolves to how it measured.
 *
 * Rejects with `fn`'s own error if a call throws; with a TypeError or
 * RangeError for bad arguments; with an Error if another assertNoLeak is
 * running in this thread.
 */
export declare function assertNoLeak(fn: () => unknown, options?: AssertNoLeakOptions): Promise<LeakTestCalls>
