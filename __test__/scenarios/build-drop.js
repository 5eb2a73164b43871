'use strict'
// Cycling, not leaking: a report job builds a BUILD_MB (150) table every
// EVERY_S (20) seconds (in 10 ms slices over ~BUILD_S (2) s), keeps it until
// the next run, and drops it; the service holds BASE_MB (50) of long-lived
// data and makes CHURN_MB_S (10) MB/s of request garbage.
// usage: node build-drop.js [seconds=300]
const churn = require('./churn')
const DURATION_S = Number(process.argv[2] || 300)
const BUILD_MB = Number(process.env.BUILD_MB || 150)
const EVERY_S = Number(process.env.EVERY_S || 20)
const BUILD_S = Number(process.env.BUILD_S || 2)
const BASE_MB = Number(process.env.BASE_MB ?? 50)
const CHURN_MB_S = Number(process.env.CHURN_MB_S ?? 10)
const RECORD_BYTES = 1100

const row = (i) => ({ id: i, at: Date.now(), region: 'r' + (i % 17), samples: new Array(118).fill(i & 0x3fff) })
const base = []
for (let i = 0; i < (BASE_MB * 1048576) / RECORD_BYTES; i++) base.push(row(i))

const rows = (BUILD_MB * 1048576) / RECORD_BYTES
let table = null
let runs = 0
let started = 0
const stop = churn(CHURN_MB_S)
const job = setInterval(() => {
  const now = performance.now()
  if (!table || now - started >= EVERY_S * 1000) {
    table = [] // the previous table is dropped here
    started = now
    runs++
  }
  const want = Math.min(rows, Math.ceil((rows * (now - started)) / (BUILD_S * 1000)))
  for (let i = table.length; i < want; i++) table.push(row(i))
}, 10)

setTimeout(() => {
  clearInterval(job)
  table = null
  const sink = stop()
  console.error(`build-drop: ${runs} runs, base ${base.length}, sink ${sink % 1000}`)
}, DURATION_S * 1000)
