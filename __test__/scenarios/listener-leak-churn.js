'use strict'
// A slow listener leak under heavy churn: LEAK_KB_S (200) KB/s of request
// contexts stay subscribed to a long-lived emitter (never removed), while
// the service makes CHURN_MB_S (20) MB/s of short-lived garbage.
// usage: node listener-leak-churn.js [seconds=180]
const { EventEmitter } = require('node:events')
const churn = require('./churn')
const DURATION_S = Number(process.argv[2] || 180)
const LEAK_KB_S = Number(process.env.LEAK_KB_S || 200)
const CHURN_MB_S = Number(process.env.CHURN_MB_S ?? 20)
const CTX_BYTES = 7300 // measured retained size of one context + listener

const bus = new EventEmitter()
bus.setMaxListeners(0)
const perMs = (LEAK_KB_S * 1024) / CTX_BYTES / 1000
const t0 = performance.now()
let made = 0
const stop = churn(CHURN_MB_S)
// Paced by elapsed time, not by ticks (a busy loop delays timers).
const leak = setInterval(() => {
  const due = Math.floor((performance.now() - t0) * perMs)
  while (made < due) {
    const ctx = { id: made++, started: Date.now(), buffer: new Array(880).fill(made & 0x3fff), stale: false }
    bus.on('change', () => {
      ctx.stale = true
    })
  }
}, 100)

setTimeout(() => {
  clearInterval(leak)
  const sink = stop()
  console.error(`listener-leak-churn: ${bus.listenerCount('change')} listeners, sink ${sink % 1000}`)
}, DURATION_S * 1000)
