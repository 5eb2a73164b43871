'use strict'
// A big service with a slow leak: LIVE_MB (300) of long-lived data built at
// start (a lookup table of ~1 KiB records), request churn at CHURN_MB_S (20)
// MB/s of short-lived garbage, and a "sessions" Map that gains ~1.1 KiB
// records at LEAK_MB_MIN (2) MB per minute and is never trimmed.
// LEAK_MB_MIN=0 gives the same service without the leak (a flat heap).
// usage: node big-heap-leak.js [seconds=300]
const churn = require('./churn')
const DURATION_S = Number(process.argv[2] || 300)
const LIVE_MB = Number(process.env.LIVE_MB ?? 300)
const CHURN_MB_S = Number(process.env.CHURN_MB_S ?? 20)
const LEAK_MB_MIN = Number(process.env.LEAK_MB_MIN ?? 2)
const RECORD_BYTES = 1100 // measured retained size of one record

function record(i) {
  return { id: i, at: Date.now(), user: 'user-' + (i % 5000), samples: new Array(118).fill(i & 0x3fff) }
}

const table = []
for (let i = 0; i < (LIVE_MB * 1048576) / RECORD_BYTES; i++) table.push(record(i))

const stop = churn(CHURN_MB_S)
const sessions = new Map()
const perMs = (LEAK_MB_MIN * 1048576) / RECORD_BYTES / 60000
const t0 = performance.now()
let made = 0
// Paced by elapsed time, not by ticks (a busy loop delays timers).
const leak = setInterval(() => {
  const due = Math.floor((performance.now() - t0) * perMs)
  while (made < due) sessions.set('s-' + made, record(made++))
}, 100)

setTimeout(() => {
  clearInterval(leak)
  const sink = stop()
  console.error(`big-heap-leak: table ${table.length}, sessions ${sessions.size}, sink ${sink % 1000}`)
}, DURATION_S * 1000)
