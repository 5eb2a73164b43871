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
    const stats = fallback ? fallback.gc(emit) : native.gc(emit)
    scheduleFlush()
    return stats
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
    if (options === undefined) return native.getConfig()
    return setConfig(options)
  },
}

const fallback = info.backend === 'fallback' ? createFallback(native, scheduleFlush) : null

// configure(): option name -> the type it must have. Ranges are checked
// natively. A null-prototype table, so `toString` or `__proto__` are unknown
// options like any other.
const OPTION_TYPES = Object.assign(Object.create(null), {
  rule: 'rule',
  minDurationMs: 'number',
  minGcs: 'integer',
  minGrowthBytes: 'bytes',
  minGrowthPercent: 'number',
  maxDeviation: 'number',
  maxDip: 'number',
  windowMs: 'number',
  classicStreak: 'integer',
  probe: 'boolean',
  probeMinIntervalMs: 'number',
  probeMaxIntervalMs: 'number',
})
const U32_MAX = 2 ** 32 - 1

function setConfig(options) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`memwatch.configure(options): options must be an object, got ${describe(options)}`)
  }
  for (const sym of Object.getOwnPropertySymbols(options)) {
    if (Object.prototype.propertyIsEnumerable.call(options, sym)) {
      throw new TypeError(`memwatch.configure(): unknown option ${String(sym)} (known: ${Object.keys(OPTION_TYPES).join(', ')})`)
    }
  }
  // Each value is read once: what was checked is what the native side gets
  // (a getter may not answer the same twice).
  const merged = native.getConfig()
  const shown = {} // values the native side sees clamped, as given
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
          : typeof value === 'number' && (type === 'number' ? !Number.isNaN(value) : Number.isInteger(value))
    if (!ok) {
      const want = type === 'rule' ? "'trend' or 'classic'" : type === 'number' || type === 'boolean' ? `a ${type}` : 'an integer'
      throw new TypeError(`memwatch.configure(): ${key} must be ${want}, got ${describe(value)}`)
    }
    if (type === 'bytes' && (value < 0 || value > Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`memwatch.configure(): ${key} must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${value}`)
    }
    if (type === 'integer' && (value < 0 || value > U32_MAX)) {
      // Outside what the native u32 can hold: hand it the largest u32, which
      // no count option accepts, so its message gives the option's real range.
      shown[key] = value
      merged[key] = U32_MAX
    } else {
      merged[key] = value
    }
  }
  const error = native.setConfig(merged)
  if (error) {
    const [key, message] = error
    const value = Object.hasOwn(shown, key) ? shown[key] : merged[key]
    // Numbers as JS prints them (not Rust's "inf" or 300-digit floats).
    const text = typeof value === 'number' ? message.replace(/, got [^,]*$/, `, got ${value}`) : message
    throw new RangeError(`memwatch.configure(): ${text}`)
  }
  return native.getConfig()
}

function describe(value) {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`
  if (typeof value === 'bigint') return `bigint ${value}n`
  if (typeof value === 'object') return 'an object'
  return `a ${typeof value}`
}

memwatch.gc = api.gc
memwatch.configure = api.configure
memwatch.HeapDiff = require('./heap-diff.js')(native, { own: fallback ? fallback.own : undefined })
// A feature that lost its V8 source says so once, unless the fallback was asked for.
if (info.backend === 'v8' && memwatch.HeapDiff.source === 'json' && !/^json$/i.test(process.env.MEMWATCH_HEAPDIFF_SOURCE || '')) {
  process.emitWarning(`memwatch-rs HeapDiff is using its JSON snapshot source: ${memwatch.HeapDiff.sourceReason}`, {
    code: 'MEMWATCH_FALLBACK',
  })
}
Object.defineProperty(memwatch, 'backend', { value: info.backend, enumerable: true })
Object.defineProperty(memwatch, 'backendReason', { value: info.reason || null, enumerable: false })
memwatch.trackGC = require('./track-gc.js')(native)

module.exports = memwatch
