'use strict'

// An HTTP service that leaks on purpose, watched through Prometheus: prom-client's
// default metrics and memwatch-rs's metrics on /metrics. It serves its own
// traffic (about 2000 requests a second, each leaving short-lived garbage), and
// one session in so many is kept forever: the leak.
//
//   npm run example:metrics                      # leaks 1 MB/s, on http://127.0.0.1:9464/metrics
//   node examples/metrics-service.js --leak 0    # the same service without the leak
//   node examples/metrics-service.js --port 0 --leak 3 --config '{"graceMs":20000}'
//
// Options: --port (default 9464; 0 picks a free one), --host (127.0.0.1),
// --leak MB per second (default 1; 0 for none), --config JSON for
// memwatch.configure() (e.g. a shorter grace period for a demo).
// Point Prometheus at it with examples/prometheus/memwatch.rules.yml loaded
// (see README, "Monitoring a fleet").

const http = require('node:http')
const { parseArgs } = require('node:util')
const client = require('prom-client')
const memwatch = require('memwatch-rs')
const prometheus = require('memwatch-rs/prometheus')

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '9464' },
    host: { type: 'string', default: '127.0.0.1' },
    leak: { type: 'string', default: '1' },
    config: { type: 'string' },
  },
})
const leakMbPerS = Number(args.leak)
if (!(leakMbPerS >= 0)) throw new RangeError(`--leak must be a number of MB per second, got ${args.leak}`)
if (args.config) memwatch.configure(JSON.parse(args.config))

// Metrics: prom-client's own (heap, event loop, its GC histogram) and
// memwatch-rs's (the heap's base after GCs, the leak detector's verdict).
client.collectDefaultMetrics()
prometheus.register()

// The service's work: a request builds a response and throws it away.
const REQUESTS_PER_S = 2000
const TICK_MS = 10
const SESSION_BYTES = 700 // what one kept session holds in the heap, measured (see below)
const keepEvery = leakMbPerS > 0 ? Math.max(1, Math.round((REQUESTS_PER_S * SESSION_BYTES) / (leakMbPerS * 1048576))) : 0
const sessions = new Map() // the bug: sessions are added and never expired
let served = 0

function handle(path) {
  const i = served++
  const rows = []
  for (let k = 0; k < 10; k++) rows.push({ id: i * 10 + k, name: `item-${i}-${k}`, score: (i * 31 + k) % 97 })
  const body = JSON.stringify({ path, rows })
  if (keepEvery && i % keepEvery === 0) {
    // An object, 112 small integers and a map entry: about 700 bytes of heap.
    sessions.set(i, { id: i, path, seen: Date.now(), history: new Array(112).fill(i & 0xffff) })
  }
  return body
}

const started = performance.now()
setInterval(() => {
  const due = Math.min(Math.floor(((performance.now() - started) * REQUESTS_PER_S) / 1000) - served, REQUESTS_PER_S)
  for (let n = 0; n < due; n++) handle('/internal')
}, TICK_MS)

const server = http.createServer(async (req, res) => {
  if (req.url === '/metrics') {
    try {
      const text = await client.register.metrics()
      res.writeHead(200, { 'content-type': client.register.contentType })
      res.end(text)
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' })
      res.end(String(err && err.stack))
    }
    return
  }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(handle(req.url))
})

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address()
  const what = keepEvery ? `leaking about ${leakMbPerS} MB/s` : 'not leaking'
  console.log(`memwatch-rs example service on http://${args.host}:${port}/metrics (${what}, backend ${memwatch.backend})`)
})
