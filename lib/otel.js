'use strict'

// memwatch-rs/otel: the leak detector's figures and the GC pauses as
// OpenTelemetry instruments of a meter provider (the global one unless
// given). Values are read when the SDK collects (one `memwatch.metrics()`
// call per collection, in a batch observable callback); nothing runs on a
// timer. Registering keeps the leak detector running (as a `leak` listener
// would) until the handle is unregistered.
//
// GC pauses: OpenTelemetry's `v8js.gc.duration` is a histogram, and the API
// has no observable histogram. The pauses are counted natively per bucket
// (cheap, in the GC callback); at each collection, the pauses counted since
// the previous one are recorded into a synchronous Histogram from the batch
// callback (the SDK runs observable callbacks before it reads its
// instruments, so they are in the same export). Each pause is recorded as a
// value inside its bucket, the values placed so that their total is the
// pauses' total: counts per bucket and the sum are exact with the advised
// bucket boundaries (or any coarser subset of them); min and max are those
// representative values, not the true extremes.

const memwatch = require('./memwatch.js')
const { HOLD } = require('./internal.js')
const { describe } = require('./describe.js')
const { optionsObject, bucketsOption, snapshot, fold, spread, KINDS } = require('./metrics.js')
const { version } = require('../package.json')

const WHERE = 'memwatch-rs/otel register(options)'
const OPTIONS = ['meterProvider', 'buckets']

/** Meter providers with memwatch-rs's instruments, and the handle of each. */
const registered = new WeakMap()

const present = (v) => v !== null && v !== undefined

function globalMeterProvider() {
  let api
  try {
    api = require('@opentelemetry/api')
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      throw new Error(
        `${WHERE}: no meterProvider was given and @opentelemetry/api cannot be loaded (it is an optional peer dependency of memwatch-rs: npm install @opentelemetry/api)`,
        { cause: err },
      )
    }
    throw err
  }
  return api.metrics.getMeterProvider()
}

/**
 * Creates memwatch-rs's instruments on a meter of `meterProvider` (the
 * global one when omitted) and keeps the leak detector running. Returns a
 * handle whose `unregister()` stops reporting.
 */
function register(options) {
  if (arguments.length > 1) {
    throw new TypeError(`${WHERE} takes at most one argument (got ${arguments.length})`)
  }
  const opts = optionsObject(options, WHERE, OPTIONS)
  const buckets = bucketsOption(opts.buckets, WHERE)
  let provider = opts.meterProvider
  if (provider === undefined) {
    provider = globalMeterProvider()
  } else if (provider === null || typeof provider !== 'object' || typeof provider.getMeter !== 'function') {
    throw new TypeError(`${WHERE}: meterProvider must be a MeterProvider (an object with getMeter()), got ${describe(provider)}`)
  }
  if (registered.has(provider)) {
    throw new Error(
      `${WHERE}: memwatch-rs's instruments are already registered with this meter provider; call unregister() on the handle the first register() returned before registering again`,
    )
  }

  const meter = provider.getMeter('memwatch-rs', version)
  const gcDuration = meter.createHistogram('v8js.gc.duration', {
    description: 'Garbage collection duration.',
    unit: 's',
    advice: { explicitBucketBoundaries: buckets.bounds.slice() },
  })
  const bytes = (name, description) => meter.createObservableUpDownCounter(name, { description, unit: 'By' })
  const rate = (name, description) => meter.createObservableGauge(name, { description, unit: 'By/h' })
  // [instrument, value in a snapshot or undefined]
  const observed = [
    [
      bytes('memwatch.heap.used_after_gc', 'V8 heap used right after the latest full GC: the base that a leak raises.'),
      (s) => (s.leak.lastBase > 0 ? s.leak.lastBase : undefined),
    ],
    [
      bytes('memwatch.heap.floor', 'Floor of the V8 heap: the lower of the bases after the latest two full GCs.'),
      (s) => (s.leak.gcs > 0 ? s.leak.floor : undefined),
    ],
    [
      bytes('memwatch.heap.size_limit', 'V8 heap size limit: the process runs out of memory when the heap reaches it.'),
      (s) => (s.heapSizeLimit > 0 ? s.heapSizeLimit : undefined),
    ],
    [
      rate('memwatch.leak.rate', "Growth rate of the V8 heap's floor as the leak detector estimates it (near 0, possibly negative, on a flat heap)."),
      (s) => (present(s.leak.rate) ? s.leak.rate : undefined),
    ],
    [
      rate('memwatch.leak.rate_low', "Lower confidence bound of the leak detector's growth rate: above 0, the floor is rising."),
      (s) => (present(s.leak.rateLow) ? s.leak.rateLow : undefined),
    ],
    [
      rate('memwatch.leak.rate_high', "Upper confidence bound of the leak detector's growth rate."),
      (s) => (present(s.leak.rateHigh) ? s.leak.rateHigh : undefined),
    ],
    [
      meter.createObservableGauge('memwatch.leak.suspected', {
        description: 'Whether the leak detector reports a leak that continues: 1 from its leak event until the growth has stopped, else 0.',
        unit: '{leak}',
      }),
      (s) => (s.leak.state === 'leaking' ? 1 : 0),
    ],
    [
      meter.createObservableCounter('memwatch.leaks', {
        description: 'Leaks the leak detector reported (leak events) in this process.',
        unit: '{leak}',
      }),
      (s) => s.leak.leaks,
    ],
  ]
  const observables = observed.map(([instrument]) => instrument)

  // Pauses already recorded, per kind: native bucket counts and sum.
  const first = memwatch.metrics().gcPauses
  const seen = KINDS.map((k) => ({ buckets: first[k.key].buckets.slice(), sum: first[k.key].sum }))
  const attributes = KINDS.map((k) => Object.freeze({ 'v8js.gc.type': k.v8jsType }))

  function collect(result) {
    const s = snapshot()
    for (const [instrument, read] of observed) {
      const value = read(s)
      if (value !== undefined) result.observe(instrument, value)
    }
    for (let k = 0; k < KINDS.length; k++) {
      const h = s.gcPauses[KINDS[k].key]
      const last = seen[k]
      const delta = h.buckets.map((c, i) => c - last.buckets[i])
      const sum = h.sum - last.sum
      last.buckets = h.buckets.slice()
      last.sum = h.sum
      if (!delta.some((c) => c > 0)) continue
      for (const [value, times] of spread(buckets.bounds, fold(delta, buckets.indexes), sum)) {
        for (let i = 0; i < times; i++) gcDuration.record(value, attributes[k])
      }
    }
  }
  meter.addBatchObservableCallback(collect, observables)

  const release = memwatch[HOLD]()
  const handle = Object.freeze({
    /** Stops reporting and stops holding the leak detector. Idempotent. */
    unregister() {
      if (registered.get(provider) !== handle) return
      registered.delete(provider)
      meter.removeBatchObservableCallback(collect, observables)
      release()
    },
  })
  registered.set(provider, handle)
  return handle
}

module.exports = { register }
