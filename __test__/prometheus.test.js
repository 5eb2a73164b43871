'use strict'

// memwatch-rs/prometheus in process: prom-client's registry renders the
// metrics (the text parsed back), the values are the addon's at scrape time,
// a real leak flips memwatch_leak_suspected, and misuse gets clear errors.
// The real Prometheus server scraping the example service is
// prometheus-e2e.test.js.

const test = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const client = require('prom-client')
const memwatch = require('..')
const { register } = require('memwatch-rs/prometheus')
const { snapshot } = require('../lib/metrics.js')
const { runChild } = require('./helpers')

const DEFAULT_LE = ['0.0001', '0.0005', '0.001', '0.005', '0.01', '0.05', '0.1', '0.5', '1', '5', '10', '+Inf']
const KIND_LABELS = { scavenge: 'scavenge', minorMarkSweep: 'minor_mark_sweep', markSweepCompact: 'mark_sweep_compact', incrementalMarking: 'incremental', processWeakCallbacks: 'weak_callbacks' }

/** The text exposition format, parsed: samples, HELP and TYPE by name. */
function parse(text) {
  const samples = []
  const help = {}
  const type = {}
  for (const line of text.split('\n')) {
    if (line === '' || line === '# EOF') continue
    let m = /^# HELP (\S+) (.+)$/.exec(line)
    if (m) {
      help[m[1]] = m[2]
      continue
    }
    m = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (m) {
      type[m[1]] = m[2]
      continue
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    assert.ok(m, `not a sample line: ${line}`)
    const labels = {}
    for (const [, k, v] of (m[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = v
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) })
  }
  return { samples, help, type }
}

const one = (parsed, name) => {
  const found = parsed.samples.filter((s) => s.name === name)
  assert.equal(found.length, 1, `one ${name} sample, got ${found.length}`)
  return found[0].value
}

/** Short-lived garbage: scavenges. */
function churn(n = 2e6) {
  let keep = []
  for (let i = 0; i < n; i++) {
    keep.push({ i })
    if (keep.length > 1000) keep = []
  }
  return keep.length
}

async function fullGcs(n) {
  let s
  for (let i = 0; i < n; i++) {
    s = memwatch.gc()
    await new Promise((r) => setTimeout(r, 300))
  }
  return s
}

test('the metrics, read at scrape time: names, types and help in Prometheus conventions, values from the addon', async () => {
  const registry = new client.Registry()
  const handle = register(registry, { labels: { service: 'checkout' } })
  try {
    churn()
    await fullGcs(4) // the detector's rate needs three full GCs
    const st = memwatch.gc()
    const pending = registry.metrics() // every metric reads its value now
    const m = snapshot() // the snapshot that scrape read
    const p = parse(await pending)

    const expected = {
      memwatch_heap_used_after_gc_bytes: 'gauge',
      memwatch_heap_floor_bytes: 'gauge',
      memwatch_heap_size_limit_bytes: 'gauge',
      memwatch_leak_rate_bytes_per_hour: 'gauge',
      memwatch_leak_rate_low_bytes_per_hour: 'gauge',
      memwatch_leak_rate_high_bytes_per_hour: 'gauge',
      memwatch_leak_suspected: 'gauge',
      memwatch_leaks_total: 'counter',
      memwatch_gc_pause_seconds: 'histogram',
    }
    assert.deepEqual(p.type, expected)
    assert.deepEqual([...handle.metricNames].sort(), Object.keys(expected).sort())
    for (const name of Object.keys(expected)) assert.ok(p.help[name].length > 20, `${name} has a help text`)
    assert.ok(p.samples.every((s) => s.labels.service === 'checkout'), 'the static label is on every series')

    assert.equal(one(p, 'memwatch_heap_used_after_gc_bytes'), st.current_base, "the base after gc()'s full GC")
    assert.equal(one(p, 'memwatch_heap_floor_bytes'), m.leak.floor)
    assert.ok(m.leak.floor > 0 && m.leak.floor <= st.current_base + 1e6)
    assert.equal(one(p, 'memwatch_heap_size_limit_bytes'), v8.getHeapStatistics().heap_size_limit)
    assert.equal(typeof m.leak.rate, 'number', 'a rate after five full GCs')
    assert.equal(one(p, 'memwatch_leak_rate_bytes_per_hour'), m.leak.rate)
    for (const [name, field] of [
      ['memwatch_leak_rate_low_bytes_per_hour', 'rateLow'],
      ['memwatch_leak_rate_high_bytes_per_hour', 'rateHigh'],
    ]) {
      const got = p.samples.filter((s) => s.name === name).map((s) => s.value)
      assert.deepEqual(got, m.leak[field] === undefined ? [] : [m.leak[field]], name)
    }
    assert.equal(one(p, 'memwatch_leak_suspected'), 0)
    assert.equal(one(p, 'memwatch_leaks_total'), 0)

    // The histogram: one series set per kind, cumulative, exact against the
    // native buckets.
    for (const [key, kind] of Object.entries(KIND_LABELS)) {
      const h = m.gcPauses[key]
      const buckets = p.samples.filter((s) => s.name === 'memwatch_gc_pause_seconds_bucket' && s.labels.kind === kind)
      assert.deepEqual(buckets.map((s) => s.labels.le), DEFAULT_LE, kind)
      for (const b of buckets) {
        const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le)
        const want = h.buckets.reduce((acc, c, i) => acc + (i < m.pauseBounds.length && m.pauseBounds[i] <= le ? c : 0), 0)
        assert.equal(b.value, le === Infinity ? h.count : want, `${kind} le=${b.labels.le}`)
      }
      const series = (suffix) => p.samples.filter((s) => s.name === `memwatch_gc_pause_seconds_${suffix}` && s.labels.kind === kind)
      assert.deepEqual(series('count').map((s) => s.value), [h.count], kind)
      assert.deepEqual(series('sum').map((s) => s.value), [h.sum], kind)
    }
    assert.ok(m.gcPauses.markSweepCompact.count >= 5 && m.gcPauses.scavenge.count > 0)
  } finally {
    handle.unregister()
  }
  assert.equal(await registry.metrics(), '\n', 'unregister() removed every metric')
})

test('options: a prefix, chosen buckets, an OpenMetrics registry', async () => {
  const registry = new client.Registry(client.Registry.OPENMETRICS_CONTENT_TYPE)
  const handle = register(registry, { prefix: 'shop_', buckets: [0.001, 0.1] })
  try {
    memwatch.gc()
    const text = await registry.metrics()
    assert.ok(text.endsWith('# EOF\n'))
    const p = parse(text)
    assert.ok(Object.keys(p.type).every((n) => n.startsWith('shop_memwatch_')), Object.keys(p.type).join())
    // OpenMetrics: the counter's family has no _total, its sample has.
    assert.equal(p.type.shop_memwatch_leaks, 'counter')
    assert.equal(one(p, 'shop_memwatch_leaks_total'), 0)
    const les = p.samples.filter((s) => s.name === 'shop_memwatch_gc_pause_seconds_bucket' && s.labels.kind === 'mark_sweep_compact')
    assert.deepEqual(les.map((s) => s.labels.le), ['0.001', '0.1', '+Inf'])
  } finally {
    handle.unregister()
  }
  assert.deepEqual(registry.getMetricsAsArray(), [], 'unregister() removed them all, the renamed counter too')
})

test("without a registry: prom-client's default registry", async () => {
  const handle = register()
  try {
    assert.ok(client.register.getSingleMetric('memwatch_leak_suspected'))
    assert.match(await client.register.metrics(), /^memwatch_leak_suspected 0$/m)
  } finally {
    handle.unregister()
  }
  assert.equal(client.register.getSingleMetric('memwatch_leak_suspected'), undefined)
})

test('a second register() on one registry is an Error, not duplicate series; a taken name registers nothing', async () => {
  const registry = new client.Registry()
  const handle = register(registry)
  assert.throws(() => register(registry), { name: 'Error', message: /already registered in this registry; call unregister\(\)/ })
  assert.throws(() => register(registry, { prefix: 'other_' }), { name: 'Error' })
  const text = await registry.metrics()
  assert.equal(text.match(/^# TYPE memwatch_leak_suspected /gm).length, 1, 'one family')
  assert.equal(text.match(/^memwatch_leak_suspected /gm).length, 1, 'one series')
  handle.unregister()
  handle.unregister() // idempotent
  const again = register(registry) // and registering again works
  // A registry cleared under a registration (as test suites do between
  // tests) takes a new one; the old handle then touches nothing.
  registry.clear()
  assert.equal(memwatch.leakStatus().watching, true, 'still held: nothing has told the exporter')
  const fresh = register(registry)
  again.unregister()
  assert.ok(registry.getSingleMetric('memwatch_leak_suspected'), "the old handle does not remove the new registration's metrics")
  fresh.unregister()
  assert.equal(memwatch.leakStatus().watching, false, 'both holds released')

  const taken = new client.Registry()
  new client.Gauge({ name: 'memwatch_leaks_total', help: 'something else', registers: [taken] })
  assert.throws(() => register(taken), { name: 'Error', message: /already has a metric named memwatch_leaks_total; nothing was registered/ })
  assert.deepEqual(
    taken.getMetricsAsArray().map((m) => m.name),
    ['memwatch_leaks_total'],
    'none of the others were registered',
  )
  assert.equal(memwatch.leakStatus().watching, false, 'a refused register() holds nothing')
})

test('bad arguments: TypeError or RangeError naming the argument, nothing registered', () => {
  const registry = new client.Registry()
  const cases = [
    [[42], TypeError, /registry must be a prom-client Registry, got number 42/],
    [[null], TypeError, /registry must be a prom-client Registry, got null/],
    [[{}], TypeError, /registry must be a prom-client Registry, got an object/],
    [[registry, 'x'], TypeError, /options must be an object, got the string "x"/],
    [[registry, []], TypeError, /options must be an object, got an array/],
    [[registry, { prefx: 'a' }], TypeError, /unknown option "prefx" \(known: prefix, labels, buckets\)/],
    [[registry, { prefix: 5 }], TypeError, /prefix must be a string, got number 5/],
    [[registry, { prefix: '1app' }], RangeError, /prefix must be made of letters, digits, '_' and ':'/],
    [[registry, { prefix: 'a-b' }], RangeError, /prefix must be made of/],
    [[registry, { labels: 'env=prod' }], TypeError, /labels must be an object/],
    [[registry, { labels: { 'bad-name': 'x' } }], RangeError, /labels: "bad-name" is not a valid label name/],
    [[registry, { labels: { __reserved: 'x' } }], RangeError, /labels: "__reserved" is not a valid label name/],
    [[registry, { labels: { kind: 'x' } }], RangeError, /labels: "kind" is a label of memwatch_gc_pause_seconds itself/],
    [[registry, { labels: { le: 'x' } }], RangeError, /"le" is a label of memwatch_gc_pause_seconds/],
    [[registry, { labels: { env: {} } }], TypeError, /labels.env must be a string or a finite number, got an object/],
    [[registry, { labels: { env: NaN } }], TypeError, /labels.env must be a string or a finite number, got number NaN/],
    [[registry, { buckets: 0.1 }], TypeError, /buckets must be an array of numbers, got number 0.1/],
    [[registry, { buckets: ['0.1'] }], TypeError, /buckets\[0\] must be a number, got the string "0.1"/],
    [[registry, { buckets: [0.001, 0.3] }], RangeError, /buckets\[1\] is 0.3, which is not a bound memwatch-rs keeps \(seconds: 0.0001, 0.0002, .*, 10\)/],
    [[registry, { buckets: [0.1, 0.01] }], RangeError, /buckets must be in ascending order without repeats \(buckets\[1\] is 0.01\)/],
    [[registry, { buckets: [1, 1] }], RangeError, /ascending order without repeats/],
    [[registry, {}, 3], TypeError, /takes at most two arguments \(got 3\)/],
  ]
  for (const [args, type, message] of cases) {
    assert.throws(() => register(...args), { name: type.name, message }, JSON.stringify(args.slice(1)))
  }
  assert.equal(registry.getMetricsAsArray().length, 0, 'nothing registered')
  assert.equal(memwatch.leakStatus().watching, false, 'nothing held')
})

test('a real leak: memwatch_leak_suspected turns 1 with the leak event, with no leak listener attached', () => {
  // A fast leak, and settings that report it within seconds.
  const r = runChild(
    `const memwatch = require('memwatch-rs')
     const client = require('prom-client')
     const registry = new client.Registry()
     require('memwatch-rs/prometheus').register(registry)
     memwatch.configure({ graceMs: 5000, minDurationMs: 3000, probeMinIntervalMs: 500, probeSuspectIntervalMs: 1000 })
     const kept = []
     const leak = setInterval(() => { for (let i = 0; i < 500; i++) kept.push(new Array(120).fill(i)) }, 100)
     const started = Date.now()
     const poll = setInterval(async () => {
       const text = await registry.metrics()
       const listeners = memwatch.listenerCount('leak')
       if (/^memwatch_leak_suspected 1$/m.test(text) || Date.now() - started > 60000) {
         clearInterval(leak); clearInterval(poll)
         console.log(JSON.stringify({ text, listeners, seconds: (Date.now() - started) / 1000 }))
       }
     }, 250)`,
    { timeout: 90_000 },
  )
  assert.equal(r.status, 0, r.stderr)
  const { text, listeners } = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(listeners, 0)
  const p = parse(text)
  assert.equal(one(p, 'memwatch_leak_suspected'), 1, 'the leak was reported')
  assert.ok(one(p, 'memwatch_leaks_total') >= 1)
  const rate = one(p, 'memwatch_leak_rate_bytes_per_hour')
  assert.ok(rate > 1e9, `about 2 GB/h retained, rate ${rate}`)
  // The bounds need 4 full GCs at 0.95; a report near the heap limit can
  // come after 3 (at 0.8), a moment before the gauge has a sample.
  const low = p.samples.filter((s) => s.name === 'memwatch_leak_rate_low_bytes_per_hour')
  assert.ok(low.every((s) => s.value > 0), `lower bound ${JSON.stringify(low)}`)
  assert.ok(one(p, 'memwatch_heap_floor_bytes') > 10e6)
})
