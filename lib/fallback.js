'use strict'

// The fallback backend for `stats`, `leak` and `gc()`: used when the running
// Node's V8 symbols are not in the verified table (or MEMWATCH_FORCE_FALLBACK
// is set). GCs are seen through perf_hooks `gc` entries and the heap through
// `v8.getHeapStatistics()`; the stats maths and the leak detector are the same
// native code as on the V8 backend.
//
// What it cannot know exactly: `current_base` is read when the perf_hooks
// entry is delivered (shortly after the GC, so it may include a little new
// allocation); minor mark-sweeps are counted as scavenges; GCs are counted
// (and their pauses go to the metrics' histograms) only while a `stats` or
// `leak` listener is attached or a metrics exporter is registered (plus
// every gc()).

const v8 = require('node:v8')
const vm = require('node:vm')
const { PerformanceObserver, performance, constants } = require('node:perf_hooks')

const KIND = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markSweepCompact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incrementalMarking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'processWeakCallbacks',
}
const MAJOR = constants.NODE_PERFORMANCE_GC_MAJOR

let exposedGc = null

/**
 * V8's `gc` function without `--expose-gc` on the command line: the flag is
 * set just long enough to create one context that has it, then cleared, so
 * later contexts do not get a `gc` global. V8's flags are per process and
 * each thread gets its own `gc`: a process-wide lock keeps another thread
 * from clearing the flag between this thread's setting it and creating
 * its context (that context would have no `gc`).
 */
function flagFreeGc(native) {
  if (!exposedGc) {
    exposedGc = native.withV8FlagsLock(exposeGc)
  }
  return exposedGc
}

function exposeGc() {
  v8.setFlagsFromString('--expose-gc')
  try {
    return vm.runInNewContext('gc')
  } finally {
    v8.setFlagsFromString('--no-expose-gc')
  }
}

const KINDS = ['scavenge', 'minorMarkSweep', 'markSweepCompact', 'incrementalMarking', 'processWeakCallbacks']

/**
 * @param {object} native the binding
 */
function createFallback(native) {
  // GC counts and times by kind, as the native side names them.
  const tallies = { compactions: 0 }
  for (const kind of KINDS) tallies[kind] = { count: 0, timeNs: 0 }
  // performance.now() intervals of GCs memwatch-rs itself ran: their
  // perf_hooks entries are not natural full GCs. Each slot is [start, end,
  // counted]: gc() counts its GC itself (counted = 1); a heap snapshot's GCs
  // are counted from their entries but never reported (counted = 0). A fixed
  // ring, so marking them allocates nothing a HeapDiff could see.
  const OURS = 64
  const ours = new Float64Array(3 * OURS).fill(-1)
  let oursNext = 0
  let observer = null

  function count(kind, durationMs, flags) {
    const name = KIND[kind]
    if (name === undefined) return
    const ns = Math.round(durationMs * 1e6)
    tallies[name].count += 1
    tallies[name].timeNs += ns
    native.recordFallbackPause(name, ns)
    if (kind === MAJOR && flags & (constants.NODE_PERFORMANCE_GC_FLAGS_FORCED | constants.NODE_PERFORMANCE_GC_FLAGS_ALL_AVAILABLE_GARBAGE)) {
      tallies.compactions += 1
    }
  }

  function sample(endPerfMs, pauseMs, forced) {
    return {
      tsMs: performance.timeOrigin + endPerfMs,
      pauseNs: Math.round(pauseMs * 1e6),
      forced,
      heap: v8.getHeapStatistics(),
      tallies,
    }
  }

  /** -1: a natural GC; otherwise the `counted` flag of our window. */
  function ownership(start) {
    for (let i = 0; i < OURS; i++) {
      if (start >= ours[3 * i] && start <= ours[3 * i + 1]) return ours[3 * i + 2]
    }
    return -1
  }

  function onEntries(list) {
    for (const e of list.getEntries()) {
      const kind = e.detail ? e.detail.kind : e.kind
      const flags = e.detail ? e.detail.flags : e.flags
      const owner = ownership(e.startTime)
      if (owner !== 1) count(kind, e.duration, flags)
      if (owner === -1 && kind === MAJOR) {
        // Queued natively like a GC hook's record; its events come through
        // the same wake-up.
        native.observeFallbackGc(sample(e.startTime + e.duration, e.duration, false), true)
      }
    }
  }

  /**
   * Runs `fn`, marking the GCs it causes as memwatch-rs's own (`counted`:
   * the caller counts them itself). The window is opened before `fn` and
   * closed after, straight into the ring: no number stays boxed on the heap
   * while `fn` runs (a heap snapshot would see it).
   */
  function own(fn, counted = 0) {
    const slot = oursNext
    oursNext = (oursNext + 1) % OURS
    ours[3 * slot] = performance.now()
    ours[3 * slot + 1] = Infinity
    ours[3 * slot + 2] = counted
    try {
      return fn()
    } finally {
      ours[3 * slot + 1] = performance.now()
    }
  }

  return {
    /** Observe GCs only while someone listens. */
    listen(on) {
      if (on && !observer) {
        observer = new PerformanceObserver(onEntries)
        observer.observe({ entryTypes: ['gc'] })
      } else if (!on && observer) {
        observer.disconnect()
        observer = null
      }
    },

    /** A full GC of V8's most thorough kind, synchronously; its stats. */
    gc(emit) {
      const gc = flagFreeGc(native)
      const start = performance.now()
      // The bare call: on Node 20 a synchronous gc() given an options object
      // can keep just-dropped objects alive; the bare one is a precise full GC.
      own(() => gc(), 1)
      const end = performance.now()
      const ns = Math.round((end - start) * 1e6)
      tallies.markSweepCompact.count += 1
      tallies.markSweepCompact.timeNs += ns
      tallies.compactions += 1
      native.recordFallbackPause('markSweepCompact', ns)
      return native.observeFallbackGc(sample(end, end - start, true), emit)
    },

    /** The leak detector's early-sample probe: an asynchronous full GC. */
    probe() {
      if (native.probeIfDue(v8.getHeapStatistics().used_heap_size)) {
        flagFreeGc(native)({ type: 'major', execution: 'async' })
      }
    },

    /** V8's heap size limit (the native side cannot read it here). */
    heapSizeLimit() {
      return v8.getHeapStatistics().heap_size_limit
    },

    /** For HeapDiff: its snapshot GCs are counted, never reported. */
    own: (fn) => own(fn, 0),
  }
}

module.exports = { createFallback }
