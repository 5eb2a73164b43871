'use strict'

// memwatch-rs/prometheus: the leak detector's figures and the GC pause
// histograms as metrics of a prom-client registry. Every value is read when
// the registry is scraped (one `memwatch.metrics()` call per scrape); nothing
// runs on a timer. Registering keeps the leak detector running (as a `leak`
// listener would) until the handle is unregistered.
//
// The metrics are prom-client metric objects of our own (a name, a help
// text, a type and a `get()` returning the values), as prom-client's registry
// reads them: its Histogram class can only observe values one by one, and
// the pause histograms are already counted natively.

const memwatch = require('./memwatch.js')
const { HOLD } = require('./internal.js')
const { describe } = require('./describe.js')
const { optionsObject, bucketsOption, snapshot, fold, KINDS } = require('./metrics.js')

const WHERE = 'memwatch-rs/prometheus register(registry, options)'
const OPTIONS = ['prefix', 'labels', 'buckets']
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Registries with memwatch-rs's metrics, and the handle of each. */
const registered = new WeakMap()

const present = (v) => v !== null && v !== undefined

/**
 * The gauges and the counter: name (without prefix), type, help text, the
 * value in a snapshot (or undefined: no sample yet), cluster aggregator.
 */
const SCALARS = [
  [
    'memwatch_heap_used_after_gc_bytes',
    'gauge',
    'V8 heap used right after the latest full GC, in bytes: the base that a leak raises.',
    (s) => (s.leak.lastBase > 0 ? s.leak.lastBase : undefined),
  ],
  [
    'memwatch_heap_floor_bytes',
    'gauge',
    'Floor of the V8 heap: the lower of the bases after the latest two full GCs, in bytes.',
    (s) => (s.leak.gcs > 0 ? s.leak.floor : undefined),
  ],
  [
    'memwatch_heap_size_limit_bytes',
    'gauge',
    'V8 heap size limit, in bytes: the process runs out of memory when the heap reaches it.',
    (s) => (s.heapSizeLimit > 0 ? s.heapSizeLimit : undefined),
  ],
  [
    'memwatch_leak_rate_bytes_per_hour',
    'gauge',
    "Growth rate of the V8 heap's floor as the leak detector estimates it, in bytes per hour (over the growth period while a leak is suspected, over the detector's window otherwise; near 0, and possibly negative, on a flat heap).",
    (s) => (present(s.leak.rate) ? s.leak.rate : undefined),
  ],
  [
    'memwatch_leak_rate_low_bytes_per_hour',
    'gauge',
    "Lower confidence bound of the leak detector's growth rate, in bytes per hour (one-sided, 0.95 by default): above 0, the floor is rising.",
    (s) => (present(s.leak.rateLow) ? s.leak.rateLow : undefined),
  ],
  [
    'memwatch_leak_rate_high_bytes_per_hour',
    'gauge',
    "Upper confidence bound of the leak detector's growth rate, in bytes per hour.",
    (s) => (present(s.leak.rateHigh) ? s.leak.rateHigh : undefined),
  ],
  [
    'memwatch_leak_suspected',
    'gauge',
    'Whether the leak detector reports a leak that continues: 1 from its leak event until the growth has stopped, else 0.',
    (s) => (s.leak.state === 'leaking' ? 1 : 0),
    'max',
  ],
  [
    'memwatch_leaks_total',
    'counter',
    'Leaks the leak detector reported (leak events) in this process.',
    (s) => s.leak.leaks,
  ],
]

const PAUSES = 'memwatch_gc_pause_seconds'
const PAUSES_HELP =
  'Garbage collection pauses in seconds, by kind of GC (scavenge, minor_mark_sweep, mark_sweep_compact, incremental, weak_callbacks).'

/** One gauge or counter, as prom-client's registry reads a metric. */
class Scalar {
  constructor(name, type, help, read, aggregator, labels) {
    this.name = name
    this.help = help
    this.type = type
    this.aggregator = aggregator
    this.labelNames = Object.keys(labels)
    this._read = read
    this._labels = labels
  }

  get() {
    const value = this._read(snapshot())
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: value === undefined ? [] : [{ value, labels: { ...this._labels } }],
      aggregator: this.aggregator,
    }
  }

  /** The values are the addon's; there is nothing here to reset. */
  reset() {}
}

/** The pause histograms, one series set per GC kind. */
class Pauses {
  constructor(name, buckets, labels) {
    this.name = name
    this.help = PAUSES_HELP
    this.type = 'histogram'
    this.aggregator = 'sum'
    this.labelNames = ['kind', ...Object.keys(labels)]
    this._buckets = buckets
    this._labels = labels
  }

  get() {
    const s = snapshot()
    const { bounds, indexes } = this._buckets
    const values = []
    for (const kind of KINDS) {
      const h = s.gcPauses[kind.key]
      const labels = { ...this._labels, kind: kind.label }
      const counts = fold(h.buckets, indexes)
      let acc = 0
      for (let j = 0; j < bounds.length; j++) {
        acc += counts[j]
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: bounds[j] }, value: acc })
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count })
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum })
      values.push({ metricName: `${this.name}_count`, labels, value: h.count })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  reset() {}
}

function defaultRegistry() {
  let client
  try {
    client = require('prom-client')
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      throw new Error(
        `${WHERE}: no registry was given and prom-client cannot be loaded (it is an optional peer dependency of memwatch-rs: npm install prom-client)`,
        { cause: err },
      )
    }
    throw err
  }
  return client.register
}

function checkRegistry(registry) {
  const ok =
    registry !== null &&
    typeof registry === 'object' &&
    ['registerMetric', 'getSingleMetric', 'removeSingleMetric'].every((m) => typeof registry[m] === 'function')
  if (!ok) {
    throw new TypeError(`${WHERE}: registry must be a prom-client Registry, got ${describe(registry)}`)
  }
}

function prefixOption(value) {
  if (value === undefined) return ''
  if (typeof value !== 'string') {
    throw new TypeError(`${WHERE}: prefix must be a string, got ${describe(value)}`)
  }
  if (value !== '' && !NAME.test(value)) {
    throw new RangeError(
      `${WHERE}: prefix must be made of letters, digits, '_' and ':' and not start with a digit, got ${describe(value)}`,
    )
  }
  return value
}

function labelsOption(value) {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${WHERE}: labels must be an object of label names to values, got ${describe(value)}`)
  }
  const out = {}
  for (const [name, v] of Object.entries(value)) {
    const shown = JSON.stringify(name.length > 40 ? name.slice(0, 40) + '…' : name)
    if (!LABEL.test(name) || name.startsWith('__')) {
      throw new RangeError(
        `${WHERE}: labels: ${shown} is not a valid label name (letters, digits and '_', not starting with a digit or '__')`,
      )
    }
    if (name === 'kind' || name === 'le') {
      throw new RangeError(`${WHERE}: labels: "${name}" is a label of memwatch_gc_pause_seconds itself`)
    }
    if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new TypeError(`${WHERE}: labels.${name} must be a string or a finite number, got ${describe(v)}`)
    }
    out[name] = v
  }
  return out
}

/**
 * Registers memwatch-rs's metrics in `registry` (prom-client's default
 * registry when omitted) and keeps the leak detector running. Returns a
 * handle whose `unregister()` removes them again.
 */
function register(registry, options) {
  if (arguments.length > 2) {
    throw new TypeError(`${WHERE} takes at most two arguments (got ${arguments.length})`)
  }
  if (registry === undefined) registry = defaultRegistry()
  checkRegistry(registry)
  const opts = optionsObject(options, WHERE, OPTIONS)
  const prefix = prefixOption(opts.prefix)
  const labels = labelsOption(opts.labels)
  const buckets = bucketsOption(opts.buckets, WHERE)

  const previous = registered.get(registry)
  // A registry cleared since (`registry.clear()`, common between tests) no
  // longer has our metrics: that registration is over, and its hold too.
  if (previous && !previous.present()) previous.unregister()
  if (registered.has(registry)) {
    throw new Error(
      `${WHERE}: memwatch-rs's metrics are already registered in this registry; call unregister() on the handle the first register() returned before registering again`,
    )
  }
  const metrics = SCALARS.map(
    ([name, type, help, read, aggregator = 'sum']) => new Scalar(prefix + name, type, help, read, aggregator, labels),
  )
  metrics.push(new Pauses(prefix + PAUSES, buckets, labels))
  // All or nothing: a name taken by another metric registers none of ours.
  for (const m of metrics) {
    if (registry.getSingleMetric(m.name) !== undefined) {
      throw new Error(`${WHERE}: the registry already has a metric named ${m.name}; nothing was registered`)
    }
  }
  for (const m of metrics) registry.registerMetric(m)

  const release = memwatch[HOLD]()
  // By the names registered: an OpenMetrics scrape renames counter objects
  // (prom-client drops their `_total`), not the registry's keys.
  const keys = metrics.map((m) => m.name)
  const ours = (m, i) => registry.getSingleMetric(keys[i]) === m
  let done = false
  const handle = {
    /** The names of the metrics registered. */
    metricNames: Object.freeze(keys.slice()),
    /** Removes the metrics from the registry and stops holding the leak detector. Idempotent. */
    unregister() {
      if (done) return
      done = true
      if (registered.get(registry)?.unregister === handle.unregister) registered.delete(registry)
      metrics.forEach((m, i) => {
        if (ours(m, i)) registry.removeSingleMetric(keys[i])
      })
      release()
    },
  }
  registered.set(registry, { unregister: handle.unregister, present: () => metrics.some(ours) })
  return Object.freeze(handle)
}

module.exports = { register }
