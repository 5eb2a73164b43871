'use strict'

// What the Prometheus and OpenTelemetry exporters share: one snapshot per
// collection, the GC kinds, the `buckets` option and the histogram maths.

const memwatch = require('./memwatch.js')
const { describe } = require('./describe.js')

/** The native pause bucket bounds, seconds (1-2-5 steps, 0.1 ms to 10 s). */
const BOUNDS = Object.freeze(memwatch.metrics().pauseBounds)

/** Bucket bounds shown by default: 1-5 steps from 0.1 ms to 10 s. */
const DEFAULT_BUCKETS = Object.freeze([0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10])

/**
 * The GC kinds of the snapshot (`gcPauses` keys), with their Prometheus
 * `kind` label and their OpenTelemetry `v8js.gc.type`.
 */
const KINDS = Object.freeze([
  { key: 'scavenge', label: 'scavenge', v8jsType: 'minor' },
  { key: 'minorMarkSweep', label: 'minor_mark_sweep', v8jsType: 'minor' },
  { key: 'markSweepCompact', label: 'mark_sweep_compact', v8jsType: 'major' },
  { key: 'incrementalMarking', label: 'incremental', v8jsType: 'incremental' },
  { key: 'processWeakCallbacks', label: 'weak_callbacks', v8jsType: 'weakcb' },
])

let cached = null

/**
 * `memwatch.metrics()`, read once per collection: every metric of one
 * scrape sees the same snapshot (prom-client asks each metric in turn,
 * synchronously; the cache is dropped before any other code runs).
 */
function snapshot() {
  if (cached === null) {
    cached = memwatch.metrics()
    queueMicrotask(() => {
      cached = null
    })
  }
  return cached
}

/**
 * Checks the `buckets` option of `where` (e.g. `register(registry, options)`):
 * undefined for the default, or an ascending array of the native bounds.
 * Returns the bounds to show and their indexes among the native ones.
 */
function bucketsOption(value, where) {
  if (value === undefined) value = DEFAULT_BUCKETS
  if (!Array.isArray(value)) {
    throw new TypeError(`${where}: buckets must be an array of numbers, got ${describe(value)}`)
  }
  const indexes = []
  for (let i = 0; i < value.length; i++) {
    const b = value[i]
    if (typeof b !== 'number') {
      throw new TypeError(`${where}: buckets[${i}] must be a number, got ${describe(b)}`)
    }
    const at = BOUNDS.indexOf(b)
    if (at < 0) {
      throw new RangeError(
        `${where}: buckets[${i}] is ${b}, which is not a bound memwatch-rs keeps (seconds: ${BOUNDS.join(', ')})`,
      )
    }
    if (indexes.length && at <= indexes[indexes.length - 1]) {
      throw new RangeError(`${where}: buckets must be in ascending order without repeats (buckets[${i}] is ${b})`)
    }
    indexes.push(at)
  }
  return { bounds: Object.freeze(value.slice()), indexes }
}

/**
 * Folds native per-bucket counts into the chosen buckets: `counts[j]` for
 * the chosen bucket j (pauses above the previous chosen bound, up to bound
 * j), the last entry for pauses above the top chosen bound. Exact: every
 * chosen bound is a native one.
 */
function fold(native, indexes) {
  const out = new Array(indexes.length + 1).fill(0)
  let j = 0
  for (let i = 0; i < native.length; i++) {
    while (j < indexes.length && i > indexes[j]) j++
    out[j] += native[i]
  }
  return out
}

/**
 * Values to record one by one so that a histogram with bucket bounds
 * `bounds` gets exactly `counts[j]` values in bucket j (the last entry:
 * above the top bound) and their total is `sum` as nearly as the buckets
 * allow. The values of the bounded buckets sit at one common relative
 * position inside their buckets; those above the top bound share what is
 * left of the sum. Returns `[value, times]` pairs.
 */
function spread(bounds, counts, sum) {
  const n = bounds.length
  const over = counts[n] || 0
  const top = n ? bounds[n - 1] : 0
  let low = 0
  let width = 0
  for (let j = 0; j < n; j++) {
    if (!counts[j]) continue
    const lo = j ? bounds[j - 1] : 0
    low += counts[j] * lo
    width += counts[j] * (bounds[j] - lo)
  }
  // The bounded buckets' total: all of the sum when nothing is above the
  // top bound; otherwise their midpoints, lowered if the values above the
  // top bound need the room.
  let finite = over ? Math.min(low + width / 2, sum - over * top * (1 + 1e-9)) : sum
  // Strictly inside each bucket, whatever the sum says (rounding must not
  // carry a value over a bound).
  let t = width > 0 ? (finite - low) / width : 0.5
  t = Math.min(1 - EDGE, Math.max(EDGE, Number.isFinite(t) ? t : 0.5))
  const out = []
  let used = 0
  for (let j = 0; j < n; j++) {
    if (!counts[j]) continue
    const lo = j ? bounds[j - 1] : 0
    const v = lo + t * (bounds[j] - lo)
    out.push([v, counts[j]])
    used += v * counts[j]
  }
  if (over) {
    let v = (sum - used) / over
    if (n && !(v > top)) v = top * (1 + 1e-9)
    if (!n && !(v >= 0)) v = 0
    out.push([v, over])
  }
  return out
}

/** How close to a bucket's ends spread() may place a value (share of its width). */
const EDGE = 1e-6

/**
 * Checks that `options` of `where` is undefined or a plain object whose own
 * keys are all in `known`; returns it (or `{}`).
 */
function optionsObject(options, where, known) {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${where}: options must be an object, got ${describe(options)}`)
  }
  for (const key of Reflect.ownKeys(options)) {
    if (!Object.prototype.propertyIsEnumerable.call(options, key)) continue
    if (typeof key === 'symbol' || !known.includes(key)) {
      const name = typeof key === 'symbol' ? String(key) : JSON.stringify(key)
      throw new TypeError(`${where}: unknown option ${name} (known: ${known.join(', ')})`)
    }
  }
  return options
}

module.exports = { optionsObject, BOUNDS, DEFAULT_BUCKETS, KINDS, snapshot, bucketsOption, fold, spread }
