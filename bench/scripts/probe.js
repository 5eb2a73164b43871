'use strict'
// One measurement: the CPU a flat 300 MB service with 20 MB/s of request
// churn (__test__/scenarios/big-heap-leak.js, LEAK_MB_MIN=0) uses over
// MEASURE_S seconds after WARMUP_S, with memwatch-rs's leak detector off,
// on without probing, or on with its probe.
// argv[2]: none | leak-no-probe | leak-probe

const path = require('node:path')
const variant = process.argv[2]
const WARMUP_S = Number(process.env.WARMUP_S || 20)
const MEASURE_S = Number(process.env.MEASURE_S || 60)

let fullGcs = 0
if (variant !== 'none') {
  const memwatch = require(process.env.MEMWATCH_RS)
  if (variant === 'leak-no-probe') memwatch.configure({ probe: false })
  else if (variant !== 'leak-probe') throw new Error(`unknown variant ${variant}`)
  memwatch.on('leak', () => {})
  // Counted natively in any case: reading the counter costs nothing per GC.
  process.on('exit', () => {})
  globalThis.__fullGcs = () => memwatch.leakStatus().gcs
}

process.env.LEAK_MB_MIN = '0'
process.argv[2] = String(WARMUP_S + MEASURE_S + 5)
require(path.join(__dirname, '..', '..', '__test__', 'scenarios', 'big-heap-leak.js'))

setTimeout(() => {
  const before = process.cpuUsage()
  const t0 = performance.now()
  const gcs0 = globalThis.__fullGcs ? globalThis.__fullGcs() : 0
  setTimeout(() => {
    const cpu = process.cpuUsage(before)
    const wallMs = performance.now() - t0
    fullGcs = globalThis.__fullGcs ? globalThis.__fullGcs() - gcs0 : 0
    console.log(JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000, wallMs, fullGcs }))
    process.exit(0)
  }, MEASURE_S * 1000)
}, WARMUP_S * 1000)
