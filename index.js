'use strict'

// The public face of memwatch-rs: an EventEmitter instance (drop-in for
// memwatch, memwatch-next and @airbnb/node-memwatch) that the native side
// emits into. Argument checks live here so errors name the argument.

const { EventEmitter } = require('node:events')
const native = require('./binding.js')

const forceFallback = /^(1|true|yes)$/i.test(process.env.MEMWATCH_FORCE_FALLBACK || '')

class MemWatch extends EventEmitter {}

// Every way a listener can be added or removed ends in one of these; after
// each we tell the native side whether `stats`/`leak` have listeners, so GCs
// cost only counter bumps when nobody listens.
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
      syncInterest(this)
      return out
    },
    writable: true,
    configurable: true,
  })
}

const memwatch = new MemWatch()
let interest = { stats: false, leak: false }

function syncInterest(emitter) {
  const next = { stats: emitter.listenerCount('stats') > 0, leak: emitter.listenerCount('leak') > 0 }
  if (next.stats !== interest.stats || next.leak !== interest.leak) {
    interest = next
    native.setInterest(next.stats, next.leak)
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
  const stats = native.gc(inStatsListener === 0)
  scheduleFlush()
  return stats
}

memwatch.gc = gc
memwatch.HeapDiff = require('./heap-diff.js')(native)
Object.defineProperty(memwatch, 'backend', { value: info.backend, enumerable: true })
Object.defineProperty(memwatch, 'backendReason', { value: info.reason || null, enumerable: false })

module.exports = memwatch
