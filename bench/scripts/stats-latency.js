'use strict'
// One measurement: delay from the end of a full GC to the moment the
// listener runs, over the full GCs of a timer-driven retaining workload.
// argv[2]: memwatch-rs | perf_hooks | airbnb

const { performance } = require('node:perf_hooks')
const variant = process.argv[2]
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000
const delays = []

if (variant === 'memwatch-rs') {
  require(process.env.MEMWATCH_RS).on('stats', (s) => delays.push(nowUs() - s.gc_ts))
} else if (variant === 'airbnb') {
  // @airbnb's gc_ts is taken when its GC callback runs (µs since the epoch).
  require('@airbnb/node-memwatch').on('stats', (s) => delays.push(nowUs() - s.gc_ts))
} else if (variant === 'perf_hooks') {
  const { PerformanceObserver, constants } = require('node:perf_hooks')
  new PerformanceObserver((list) => {
    const t = performance.now()
    for (const e of list.getEntries()) {
      if (e.detail ? e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR : e.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        delays.push((t - (e.startTime + e.duration)) * 1000)
      }
    }
  }).observe({ entryTypes: ['gc'] })
} else {
  throw new Error(`unknown variant ${variant}`)
}

// A service-like workload: every millisecond allocate and retain a little,
// dropping the retained set now and then so full GCs keep coming.
let keep = []
const timer = setInterval(() => {
  for (let i = 0; i < 3000; i++) keep.push({ i, s: 'v' + i })
  if (keep.length > 600_000) keep = []
}, 1)
setTimeout(() => {
  clearInterval(timer)
  const sorted = delays.slice().sort((a, b) => a - b)
  const q = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN)
  console.log(JSON.stringify({ n: delays.length, p50Us: q(0.5), p95Us: q(0.95) }))
}, 4000)
