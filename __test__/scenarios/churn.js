'use strict'
// Shared by the scenario programs: steady request churn, short-lived garbage
// at about `mbPerSec` MB/s (parse a body, build a response, drop both), on a
// 10 ms timer. Returns a function that stops it.
// usage: const stop = require('./churn')(20)

const ROW_BYTES = 242 // measured (--trace-gc scavenges): one row, its share of the body and the JSON text

module.exports = function churn(mbPerSec) {
  if (!(mbPerSec > 0)) return () => {}
  const rowsPerMs = (mbPerSec * 1048576) / ROW_BYTES / 1000
  const t0 = performance.now()
  let made = 0 // requests
  let rowsMade = 0
  let sink = 0
  const timer = setInterval(() => {
    const due = Math.min(Math.floor((performance.now() - t0) * rowsPerMs) - rowsMade, 400000)
    for (let n = 0; n < due; ) {
      const body = JSON.parse('{"q":"item-' + made + '","limit":20,"tags":["a","b","c"]}')
      const rows = []
      for (let k = 0; k < body.limit; k++) rows.push({ id: made * 100 + k, name: body.q + '/' + k, score: (made * 31 + k) % 97 })
      sink += JSON.stringify({ ok: true, rows }).length
      n += body.limit
      rowsMade += body.limit
      made++
    }
  }, 10)
  return () => {
    clearInterval(timer)
    return sink
  }
}
