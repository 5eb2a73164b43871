'use strict'
// Preload (`node -r ./record.js scenario.js SECONDS`): records every full
// (mark-sweep-compact) GC the way memwatch-rs's fallback backend sees it,
// from perf_hooks `gc` entries and `v8.getHeapStatistics()`, and writes
// `[[t_ms, base_bytes, heap_limit_bytes], ...]` (t from process start) to
// RECORD_OUT at exit, for the detector's unit tests (src/leak/fixtures).
// Needs nothing from memwatch-rs. While it runs it also probes like a
// leak listener would: when no full GC came for PROBE_MS (10000), an
// asynchronous full GC (the fallback backend's probe); PROBE_MS=0 records V8's
// own full GCs only.

const fs = require('node:fs')
const v8 = require('node:v8')
const vm = require('node:vm')
const { PerformanceObserver, performance, constants } = require('node:perf_hooks')

const OUT = process.env.RECORD_OUT
const PROBE_MS = Number(process.env.PROBE_MS ?? 10000)
const rows = []
let lastFull = 0

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')
v8.setFlagsFromString('--no-expose-gc')

const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = e.detail ? e.detail.kind : e.kind
    if (kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue
    const h = v8.getHeapStatistics()
    lastFull = performance.now()
    rows.push([Math.round(e.startTime + e.duration), h.used_heap_size, h.heap_size_limit])
  }
})
obs.observe({ entryTypes: ['gc'] })

if (PROBE_MS > 0) {
  const probe = setInterval(() => {
    if (performance.now() - lastFull >= PROBE_MS) {
      lastFull = performance.now()
      gc({ type: 'major', execution: 'async' })
    }
  }, 500)
  probe.unref()
}

process.on('exit', () => {
  obs.disconnect()
  const text = '[\n' + rows.map((r) => '  [' + r.join(', ') + ']').join(',\n') + '\n]\n'
  if (OUT) fs.writeFileSync(OUT, text)
  else process.stdout.write(text)
})
