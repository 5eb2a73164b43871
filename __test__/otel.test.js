'use strict'

// memwatch-rs/otel with the real OpenTelemetry SDK: a MeterProvider whose
// reader is the Prometheus exporter, serving on a local port. The instruments
// carry the addon's values at collection time; the GC pause histogram gets
// every pause once, in the right bucket, with the right sum.

const test = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const api = require('@opentelemetry/api')
const { MeterProvider, DataPointType } = require('@opentelemetry/sdk-metrics')
const { PrometheusExporter } = require('@opentelemetry/exporter-prometheus')
const memwatch = require('..')
const { register } = require('memwatch-rs/otel')
const { spread, fold, BOUNDS, DEFAULT_BUCKETS } = require('../lib/metrics.js')
const { freePort } = require('./helpers')

function churn(n = 2e6) {
  let keep = []
  for (let i = 0; i < n; i++) {
    keep.push({ i })
    if (keep.length > 1000) keep = []
  }
  return keep.length
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The bucket of `v` for `bounds`, as OpenTelemetry's SDK counts it (v <= bound). */
const bucketOf = (bounds, v) => {
  const i = bounds.findIndex((b) => v <= b)
  return i < 0 ? bounds.length : i
}

test('spread(): values that land in the counted buckets and add up to the sum', () => {
  const rnd = random(7)
  for (let trial = 0; trial < 500; trial++) {
    const bounds = trial % 5 === 0 ? [0.01, 0.1, 1] : DEFAULT_BUCKETS
    // Real pauses, spread over the buckets (some above the top bound).
    const values = Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => 10 ** (-4.5 + rnd() * 6))
    const counts = new Array(bounds.length + 1).fill(0)
    for (const v of values) counts[bucketOf(bounds, v)]++
    const sum = values.reduce((a, b) => a + b, 0)
    const out = spread(bounds, counts, sum)
    const got = new Array(bounds.length + 1).fill(0)
    let total = 0
    for (const [v, times] of out) {
      got[bucketOf(bounds, v)] += times
      total += v * times
    }
    assert.deepEqual(got, counts, `trial ${trial}: counts per bucket`)
    assert.ok(Math.abs(total - sum) <= 1e-9 * sum + 1e-12, `trial ${trial}: total ${total}, sum ${sum}`)
  }
  // The native buckets fold exactly into any subset of their bounds.
  const native = BOUNDS.map((_, i) => i + 1).concat([100])
  const sub = [BOUNDS.indexOf(0.001), BOUNDS.indexOf(1)]
  const folded = fold(native, sub)
  assert.deepEqual(folded, [1 + 2 + 3 + 4, native.slice(4, 13).reduce((a, b) => a + b, 0), native.slice(13).reduce((a, b) => a + b, 0)])
})

/** The SDK with the Prometheus exporter serving on a free local port. */
async function sdk() {
  const port = await freePort()
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true })
  await exporter.startServer()
  const provider = new MeterProvider({ readers: [exporter] })
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    assert.equal(res.status, 200)
    return res.text()
  }
  return { exporter, provider, scrape }
}

function metricsByName(collected) {
  assert.deepEqual(collected.errors, [])
  const out = {}
  for (const scope of collected.resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) out[m.descriptor.name] = { ...m, scope: scope.scope }
  }
  return out
}

test('the instruments through the SDK and its Prometheus exporter: semantic-convention names, units, values at collection', async () => {
  const { exporter, provider, scrape } = await sdk()
  const handle = register({ meterProvider: provider })
  const before = memwatch.metrics().gcPauses // what register() started from
  try {
    churn()
    for (let i = 0; i < 4; i++) {
      memwatch.gc()
      await sleep(300)
    }
    const st = memwatch.gc()
    const byName = metricsByName(await exporter.collect())
    const now = memwatch.metrics()

    const expected = {
      'v8js.gc.duration': ['s', DataPointType.HISTOGRAM],
      'memwatch.heap.used_after_gc': ['By', DataPointType.SUM],
      'memwatch.heap.floor': ['By', DataPointType.SUM],
      'memwatch.heap.size_limit': ['By', DataPointType.SUM],
      'memwatch.leak.rate': ['By/h', DataPointType.GAUGE],
      'memwatch.leak.suspected': ['{leak}', DataPointType.GAUGE],
      'memwatch.leaks': ['{leak}', DataPointType.SUM],
    }
    for (const [name, [unit, type]] of Object.entries(expected)) {
      assert.ok(byName[name], `${name} exported`)
      assert.equal(byName[name].descriptor.unit, unit, name)
      assert.equal(byName[name].dataPointType, type, name)
      assert.equal(byName[name].scope.name, 'memwatch-rs')
      assert.ok(byName[name].descriptor.description.length > 10, `${name} has a description`)
    }
    assert.equal(byName['memwatch.leaks'].isMonotonic, true, 'memwatch.leaks is a counter')
    assert.equal(byName['memwatch.heap.floor'].isMonotonic, false, 'byte sizes are up-down counters, as v8js.memory.*')
    const value = (name) => {
      const points = byName[name].dataPoints
      assert.equal(points.length, 1, name)
      return points[0].value
    }
    assert.equal(value('memwatch.heap.used_after_gc'), st.current_base)
    assert.equal(value('memwatch.heap.floor'), now.leak.floor)
    assert.equal(value('memwatch.heap.size_limit'), v8.getHeapStatistics().heap_size_limit)
    assert.equal(value('memwatch.leak.rate'), now.leak.rate)
    assert.equal(value('memwatch.leak.suspected'), 0)
    assert.equal(value('memwatch.leaks'), 0)

    // v8js.gc.duration: the full GCs since register(), exactly (nothing runs a
    // full GC between gc() and the collection), in the advised buckets.
    const gc = byName['v8js.gc.duration']
    const point = (type) => gc.dataPoints.find((p) => p.attributes['v8js.gc.type'] === type)
    assert.deepEqual(
      gc.dataPoints.map((p) => Object.keys(p.attributes)),
      gc.dataPoints.map(() => ['v8js.gc.type']),
      'one attribute, v8js.gc.type',
    )
    assert.ok(gc.dataPoints.every((p) => ['major', 'minor', 'incremental', 'weakcb'].includes(p.attributes['v8js.gc.type'])))
    const major = point('major').value
    const nativeMajor = now.gcPauses.markSweepCompact
    const delta = nativeMajor.buckets.map((c, i) => c - before.markSweepCompact.buckets[i])
    assert.equal(major.count, nativeMajor.count - before.markSweepCompact.count)
    assert.ok(major.count >= 5)
    assert.deepEqual(major.buckets.boundaries, [...DEFAULT_BUCKETS])
    const indexes = DEFAULT_BUCKETS.map((b) => BOUNDS.indexOf(b))
    assert.deepEqual(major.buckets.counts, fold(delta, indexes), 'every pause in its bucket')
    const sum = nativeMajor.sum - before.markSweepCompact.sum
    assert.ok(Math.abs(major.sum - sum) < 1e-9 * sum, `sum ${major.sum} vs ${sum}`)
    const minor = point('minor').value
    const nativeMinor = now.gcPauses.scavenge.count + now.gcPauses.minorMarkSweep.count
    assert.ok(minor.count > 0 && minor.count <= nativeMinor - before.scavenge.count - before.minorMarkSweep.count)

    // The next collection adds only what happened since: cumulative, each pause once.
    // (gc() runs one full GC or more: V8 repeats while weak objects die.)
    memwatch.gc()
    const again = metricsByName(await exporter.collect())['v8js.gc.duration'].dataPoints.find((p) => p.attributes['v8js.gc.type'] === 'major')
    const added = memwatch.metrics().gcPauses.markSweepCompact.count - nativeMajor.count
    assert.ok(added >= 1)
    assert.equal(again.value.count, major.count + added)

    // The exporter's own text: what Prometheus scrapes from an OTel service.
    const text = await scrape()
    assert.match(text, /^# TYPE v8js_gc_duration histogram$/m)
    assert.match(text, /^v8js_gc_duration_bucket\{v8js_gc_type="major",[^}]*le="0.05"\} \d+$/m)
    assert.match(text, /^memwatch_leak_suspected\{[^}]*\} 0$/m)
    assert.match(text, /^# TYPE memwatch_leaks_total counter$/m)
    assert.match(text, /^# UNIT memwatch_leak_rate By\/h$/m)
    assert.match(text, /^memwatch_heap_used_after_gc\{[^}]*\} \d+$/m)
  } finally {
    handle.unregister()
    await provider.shutdown()
  }
})

test('unregister() stops the pauses and the hold; a second register() is an Error; the global provider by default', async () => {
  const { exporter, provider } = await sdk()
  const handle = register({ meterProvider: provider })
  assert.equal(memwatch.leakStatus().watching, true)
  assert.throws(() => register({ meterProvider: provider }), {
    name: 'Error',
    message: /already registered with this meter provider; call unregister\(\)/,
  })
  memwatch.gc()
  const major = async () =>
    metricsByName(await exporter.collect())['v8js.gc.duration'].dataPoints.find((p) => p.attributes['v8js.gc.type'] === 'major').value.count
  const counted = await major()
  handle.unregister()
  handle.unregister()
  assert.equal(memwatch.leakStatus().watching, false)
  memwatch.gc()
  assert.equal(await major(), counted, 'no pause recorded after unregister()')
  register({ meterProvider: provider }).unregister() // and again works
  await provider.shutdown()

  const global = new MeterProvider()
  assert.ok(api.metrics.setGlobalMeterProvider(global))
  try {
    const h = register()
    assert.throws(() => register({ meterProvider: global }), { name: 'Error' }, 'the same provider as the default')
    h.unregister()
  } finally {
    api.metrics.disable()
    await global.shutdown()
  }
})

test('bad options: TypeError or RangeError naming the option', () => {
  const cases = [
    [[42], TypeError, /options must be an object, got number 42/],
    [[new MeterProvider()], TypeError, /unknown option "_sharedState" \(known: meterProvider, buckets\)/],
    [[{ meterProvider: {} }], TypeError, /meterProvider must be a MeterProvider \(an object with getMeter\(\)\), got an object/],
    [[{ meterProvider: null }], TypeError, /meterProvider must be a MeterProvider .*got null/],
    [[{ buckets: [0.01, 0.03] }], RangeError, /buckets\[1\] is 0.03, which is not a bound memwatch-rs keeps/],
    [[{ buckets: [1, 0.1] }], RangeError, /ascending order/],
    [[{}, {}], TypeError, /takes at most one argument \(got 2\)/],
  ]
  for (const [args, type, message] of cases) {
    assert.throws(() => register(...args), { name: type.name, message })
  }
  assert.equal(memwatch.leakStatus().watching, false, 'nothing held')
})
