'use strict'
// One measurement: CPU time of a scavenge-heavy workload with one GC hook
// variant installed. Run with --max-semi-space-size=1.
// argv[2]: none | memwatch-rs-loaded | memwatch-rs | perf_hooks | gc-stats | airbnb

const variant = process.argv[2]
let events = 0
if (variant === 'memwatch-rs-loaded') {
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
  const cpu = process.cpuUsage(before)
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs, events, sink: sink > 0 }))
}
step()
