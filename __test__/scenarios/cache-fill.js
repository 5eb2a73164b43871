'use strict'
// Warm-up, not a leak: a cache that fills by FILL_MB (100) over FILL_S (60)
// seconds from process start (~1.7 MB/s) and then stays at that size, under
// request churn of CHURN_MB_S (10) MB/s throughout.
// usage: node cache-fill.js [seconds=300]
const churn = require('./churn')
const DURATION_S = Number(process.argv[2] || 300)
const FILL_MB = Number(process.env.FILL_MB || 100)
const FILL_S = Number(process.env.FILL_S || 60)
const CHURN_MB_S = Number(process.env.CHURN_MB_S ?? 10)
const RECORD_BYTES = 1100

const cache = new Map()
const target = (FILL_MB * 1048576) / RECORD_BYTES
const t0 = performance.now()
const stop = churn(CHURN_MB_S)
const fill = setInterval(() => {
  const want = Math.min(target, Math.floor((target * (performance.now() - t0)) / (FILL_S * 1000)))
  for (let i = cache.size; i < want; i++) cache.set('k' + i, { id: i, at: Date.now(), samples: new Array(118).fill(i & 0x3fff) })
  if (cache.size >= target) clearInterval(fill)
}, 100)

setTimeout(() => {
  clearInterval(fill)
  const sink = stop()
  console.error(`cache-fill: ${cache.size} entries, sink ${sink % 1000}`)
}, DURATION_S * 1000)
