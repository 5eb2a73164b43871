'use strict'
// One measurement: CPU time of a scavenge-heavy workload with one GC hook
// variant installed. Run with --max-semi-space-size=1.
// argv[2]: none | memwatch-rs-loaded | memwatch-rs | prometheus | prometheus-noprobe |
//          prom-client-gc | prom-client-default | perf_hooks | gc-stats | airbnb
// The Prometheus variants scrape their registry once at the end (as a
// scraper would); `events` is then the GCs the registry's histogram counted.

const path = require('node:path')
const variant = process.argv[2]
let events = 0
let scrape = null
if (variant === 'prometheus' || variant === 'prometheus-noprobe') {
  const memwatch = require(process.env.MEMWATCH_RS)
  if (variant === 'prometheus-noprobe') memwatch.configure({ probe: false })
  const { Registry } = require('prom-client')
  const registry = new Registry()
  require(path.join(process.env.MEMWATCH_RS, 'lib', 'prometheus.js')).register(registry)
  scrape = async () => {
    const text = await registry.metrics()
    return [...text.matchAll(/^memwatch_gc_pause_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0)
  }
} else if (variant === 'prom-client-gc' || variant === 'prom-client-default') {
  const client = require('prom-client')
  const registry = new client.Registry()
  // prom-client's own GC histogram (a perf_hooks observer), alone or with
  // every default metric as collectDefaultMetrics() installs them.
  if (variant === 'prom-client-gc') require('prom-client/lib/metrics/gc')(registry)
  else client.collectDefaultMetrics({ register: registry })
  scrape = async () => {
    const text = await registry.metrics()
    return [...text.matchAll(/^nodejs_gc_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0)
  }
} else if (variant === 'memwatch-rs-loaded') {
  require(process.env.MEMWATCH_RS)
} else if (variant === 'memwatch-rs') {
  require(process.env.MEMWATCH_RS).on('stats', () => events++)
} else if (variant === 'perf_hooks') {
  const { PerformanceObserver } = require('node:perf_hooks')
  new PerformanceObserver((list) => (events += list.getEntries().length)).observe({ entryTypes: ['gc'] })
} else if (variant === 'gc-stats') {
  require('gc-stats')().on('stats', () => events++)
} else if (variant === 'airbnb') {
  require('@airbnb/node-memwatch').on('stats', () => events++)
} else if (variant !== 'none') {
  throw new Error(`unknown variant ${variant}`)
}

// Short-lived objects with a small ring of survivors: thousands of scavenges.
const ring = new Array(1024)
let sink = 0
function burst(n) {
  for (let i = 0; i < n; i++) {
    const o = { a: i, b: [i, i + 1], c: 'k' + (i & 1023) }
    if ((i & 255) === 0) ring[(i >> 8) & 1023] = o
    sink += o.b.length
  }
}

const before = process.cpuUsage()
const t0 = process.hrtime.bigint()
// Yield to the event loop between bursts so GC events are delivered as in a service.
let left = 400
function step() {
  burst(75_000)
  if (--left > 0) return setImmediate(step)
  finish()
}

async function finish() {
  if (scrape) events = await scrape()
  const cpu = process.cpuUsage(before)
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs, events, sink: sink > 0 }))
  process.exit(0)
}
step()
