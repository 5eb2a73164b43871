'use strict'

// The public face of memwatch-rs: an EventEmitter instance (drop-in for
// memwatch, memwatch-next and @airbnb/node-memwatch) that the native side
// emits into. Argument checks live here so errors name the argument.

const { EventEmitter } = require('node:events')
const native = require('./binding.js')
const { createFallback } = require('./fallback.js')

const forceFallback = /^(1|true|yes)$/i.test(process.env.MEMWATCH_FORCE_FALLBACK || '')

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
let interest = { stats: false, leak: false }

// While a `leak` listener is attached, check twice a second whether the
// detector is due a sample (the native probe policy decides; see README).
const PROBE_CHECK_MS = 500
let probeTimer = null

function syncInterest() {
  const next = { stats: memwatch.listenerCount('stats') > 0, leak: memwatch.listenerCount('leak') > 0 }
  if (next.stats === interest.stats && next.leak === interest.leak) return
  interest = next
  native.setInterest(next.stats, next.leak)
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

function toLeak(info) {
  return {
    start: new Date(info.startMs),
    end: new Date(info.endMs),
    growth: info.growth,
    reason: info.reason,
  }
}

function flush() {
  const events = native.takeEvents()
  for (const event of events) {
    if (event.kind === 'stats') emitSafely('stats', event.stats)
    else if (event.kind === 'leak') emitSafely('leak', toLeak(event.leak))
  }
}

const info = native.attach(flush, forceFallback)
if (info.backend === 'fallback' && !forceFallback) {
  process.emitWarning(`memwatch-rs is using its fallback backend: ${info.reason}`, { code: 'MEMWATCH_FALLBACK' })
}

let flushScheduled = false
function scheduleFlush() {
  if (flushScheduled) return
  flushScheduled = true
  setImmediate(() => {
    flushScheduled = false
    flush()
  })
}

/**
 * Runs a full, compacting GC now, without `--expose-gc`. Returns that GC's
 * stats and causes exactly one `stats` event on the next loop turn (none when
 * called from inside a `stats` listener).
 */
function gc() {
  if (arguments.length > 0) {
    throw new TypeError(`memwatch.gc() takes no arguments (got ${arguments.length})`)
  }
  const emit = inStatsListener === 0
  const stats = fallback ? fallback.gc(emit) : native.gc(emit)
  scheduleFlush()
  return stats
}

const fallback = info.backend === 'fallback' ? createFallback(native, scheduleFlush) : null

// configure(): option name -> the type it must have. Ranges are checked natively.
const OPTION_TYPES = {
  rule: 'rule',
  minDurationMs: 'number',
  minGcs: 'integer',
  minGrowthBytes: 'integer',
  minGrowthPercent: 'number',
  maxDeviation: 'number',
  maxDip: 'number',
  windowMs: 'number',
  classicStreak: 'integer',
  probe: 'boolean',
  probeMinIntervalMs: 'number',
  probeMaxIntervalMs: 'number',
}

/**
 * Reads or changes the leak detector's settings (see README for each
 * option's default and range). Returns the settings in force. Changing them
 * restarts the detector.
 */
function configure(options) {
  if (options === undefined) return native.getConfig()
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`memwatch.configure(options): options must be an object, got ${describe(options)}`)
  }
  for (const [key, value] of Object.entries(options)) {
    const type = OPTION_TYPES[key]
    if (!type) {
      throw new TypeError(
        `memwatch.configure(): unknown option "${key}" (known: ${Object.keys(OPTION_TYPES).join(', ')})`,
      )
    }
    const ok =
      type === 'rule'
        ? typeof value === 'string'
        : type === 'boolean'
          ? typeof value === 'boolean'
          : typeof value === 'number' && (type === 'integer' ? Number.isInteger(value) : !Number.isNaN(value))
    if (!ok) {
      const want = type === 'rule' ? "'trend' or 'classic'" : type === 'integer' ? 'an integer' : `a ${type}`
      throw new TypeError(`memwatch.configure(): ${key} must be ${want}, got ${describe(value)}`)
    }
    if (type === 'integer' && (value < 0 || value > 2 ** 32 - 1) && key !== 'minGrowthBytes') {
      throw new RangeError(`memwatch.configure(): ${key} must be an integer from 0 to 4294967295, got ${value}`)
    }
  }
  const error = native.setConfig({ ...native.getConfig(), ...options })
  if (error) throw new RangeError(`memwatch.configure(): ${error[1]}`)
  return native.getConfig()
}

function describe(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`
  return `a ${typeof value}`
}

memwatch.gc = gc
memwatch.configure = configure
memwatch.HeapDiff = require('./heap-diff.js')(native, { own: fallback ? fallback.own : undefined })
Object.defineProperty(memwatch, 'backend', { value: info.backend, enumerable: true })
Object.defineProperty(memwatch, 'backendReason', { value: info.reason || null, enumerable: false })
memwatch.trackGC = require('./track-gc.js')(native)

module.exports = memwatch
