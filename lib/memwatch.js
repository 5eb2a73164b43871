'use strict'

// The public object: an EventEmitter instance (drop-in for memwatch,
// memwatch-next and @airbnb/node-memwatch) that the native side emits into.
// The native side does the work and the argument checks; this file keeps
// the listener interest in sync and emits the typed events it is handed.

const { EventEmitter } = require('node:events')
const native = require('./native.js')
const { createFallback } = require('./fallback.js')
const { HOLD, CENSUS_UNAVAILABLE, LEND_SAMPLING } = require('./internal.js')

class MemWatch extends EventEmitter {}

// Every way a listener can be added or removed ends in one of these; after
// each we tell the native side whether `stats`/`leak` have listeners, so GCs
// cost only counter bumps when nobody listens. The interest is always the
// module's own: these methods are reachable on other objects too (another
// `new memwatch.constructor()`, `memwatch.on.call(other, …)`), whose
// listeners must not switch the module's events on or off.
for (const method of [
  'on',
  'addListener',
  'prependListener',
  'once',
  'prependOnceListener',
  'off',
  'removeListener',
  'removeAllListeners',
]) {
  const base = EventEmitter.prototype[method]
  Object.defineProperty(MemWatch.prototype, method, {
    value: function (...args) {
      const out = base.apply(this, args)
      syncInterest()
      return out
    },
    writable: true,
    configurable: true,
  })
}

const memwatch = new MemWatch()
let interest = { stats: false, leak: false, reports: false }
// Metrics exporters registered: each keeps the detector running as a `leak`
// listener would, but is not one (see internal.js).
let holds = 0

// While a `leak` listener is attached, check twice a second whether the
// detector is due a sample (the native probe policy decides; see README).
const PROBE_CHECK_MS = 500
let probeTimer = null

function syncInterest() {
  const reports = memwatch.listenerCount('leak') > 0
  const next = { stats: memwatch.listenerCount('stats') > 0, leak: holds > 0 || reports, reports }
  if (next.stats === interest.stats && next.leak === interest.leak && next.reports === interest.reports) return
  interest = next
  native.setInterest(next.stats, next.leak, next.reports)
  if (fallback) fallback.listen(next.stats || next.leak)
  if (next.leak && !probeTimer) {
    probeTimer = setInterval(fallback ? fallback.probe : () => native.probeIfDue(), PROBE_CHECK_MS)
    probeTimer.unref()
  } else if (!next.leak && probeTimer) {
    clearInterval(probeTimer)
    probeTimer = null
  }
}

// Depth of `stats` listeners running; a `gc()` from inside one does not queue
// another `stats` event (that would loop forever).
let inStatsListener = 0

function emitSafely(name, payload) {
  try {
    if (name === 'stats') inStatsListener++
    memwatch.emit(name, payload)
  } catch (err) {
    // As with any EventEmitter emitting from the event loop: the error is
    // uncaught. Deferring the throw lets the rest of the batch be delivered.
    process.nextTick(() => {
      throw err
    })
  } finally {
    if (name === 'stats') inStatsListener--
  }
}

/** Called by the native side on the event loop with the events due. */
function onEvents(events) {
  for (const event of events) {
    if (event.kind === 'stats') emitSafely('stats', event.stats)
    else if (event.kind === 'leak') emitSafely('leak', event.leak)
  }
}

const info = native.attach(onEvents)
for (const warning of info.warnings) process.emitWarning(warning, { code: 'MEMWATCH_FALLBACK' })
const fallback = info.backend === 'fallback' ? createFallback(native) : null

// gc() and configure() are methods (not plain functions) so that `new
// memwatch.gc()` throws "is not a constructor" instead of returning stats.
const api = {
  /**
   * Runs a full, compacting GC now, without `--expose-gc`. Returns that GC's
   * stats and causes exactly one `stats` event on the next loop turn (none when
   * called from inside a `stats` listener).
   */
  gc() {
    if (arguments.length > 0) {
      throw new TypeError(`memwatch.gc() takes no arguments (got ${arguments.length})`)
    }
    const emit = inStatsListener === 0
    return fallback ? fallback.gc(emit) : native.gc(emit)
  },

  /**
   * Reads or changes the leak detector's settings (see README for each
   * option's default and range). Returns the settings in force. Changing them
   * restarts the detector.
   */
  configure(options) {
    if (arguments.length > 1) {
      throw new TypeError(`memwatch.configure(options) takes one argument (got ${arguments.length})`)
    }
    return native.configure(options)
  },

  /**
   * The leak detector's current estimate: state ('flat', 'suspected',
   * 'leaking'), growth rate with its interval, floor, heap limit and the
   * projected time to it. The detector runs while a `leak` listener is
   * attached.
   */
  leakStatus() {
    return native.leakStatus()
  },

  /**
   * What metrics exporters read, in one call: the leak detector's status,
   * V8's heap size limit and the GC pause histograms by kind.
   */
  metrics() {
    if (arguments.length > 0) {
      throw new TypeError(`memwatch.metrics() takes no arguments (got ${arguments.length})`)
    }
    return native.metrics(fallback ? fallback.heapSizeLimit() : undefined)
  },

  /**
   * Counts the live JS objects of this thread's heap by constructor, with
   * their shallow sizes, largest group first, without a heap snapshot. Runs
   * full GCs (which emit no `stats` events). Throws an `Error` saying why
   * where a census is not available (the fallback backend).
   */
  census() {
    if (arguments.length > 0) {
      throw new TypeError(`memwatch.census() takes no arguments (got ${arguments.length})`)
    }
    return native.census()
  },

  /**
   * Drops V8's table of heap snapshot object ids in this thread (kept for
   * its lifetime otherwise: about 90 bytes per object of the largest
   * heap snapshotted). Later snapshots number objects afresh. Throws an
   * `Error` while a HeapDiff is open, or where HeapDiffs do not use V8's
   * heap profiler in process.
   */
  clearHeapSnapshotIds() {
    if (arguments.length > 0) {
      throw new TypeError(`memwatch.clearHeapSnapshotIds() takes no arguments (got ${arguments.length})`)
    }
    native.clearHeapSnapshotIds()
  },
}

/** Keeps the detector running until the returned function is called (once). */
function hold() {
  holds++
  syncInterest()
  let held = true
  return function release() {
    if (!held) return
    held = false
    holds--
    syncInterest()
  }
}
Object.defineProperty(memwatch, HOLD, { value: hold })
Object.defineProperty(memwatch, CENSUS_UNAVAILABLE, { value: () => native.censusUnavailableReason() })

memwatch.gc = api.gc
memwatch.configure = api.configure
memwatch.leakStatus = api.leakStatus
memwatch.metrics = api.metrics
memwatch.census = api.census
memwatch.clearHeapSnapshotIds = api.clearHeapSnapshotIds
memwatch.HeapDiff = require('./heap-diff.js')(native, info, { own: fallback ? fallback.own : undefined })
Object.defineProperty(memwatch, 'backend', { value: info.backend, enumerable: true })
Object.defineProperty(memwatch, 'backendReason', { value: info.reason || null, enumerable: false })
memwatch.trackGC = require('./track-gc.js')(native)
const sampling = require('./sampling.js')(native)
memwatch.startSampling = sampling.startSampling
memwatch.stopSampling = sampling.stopSampling
memwatch.samplingProfile = sampling.samplingProfile
memwatch.writeProfile = sampling.writeProfile
memwatch.diffProfiles = sampling.diffProfiles
Object.defineProperty(memwatch, LEND_SAMPLING, { value: sampling.lendSampling })

module.exports = memwatch
