'use strict'

// The soak's watched service: an HTTP server on 127.0.0.1 with every
// memwatch-rs feature in use the way a production service would use them:
// a `stats` listener, a `leak` listener, trackGC on every request object, and
// a HeapDiff every HEAPDIFF_MS (a rolling one: each ends the previous).
// Reports to the parent over IPC. Run without one (under `memwatch-rs
// watch`, for one) it prints `listening on 127.0.0.1:PORT` and nothing else.
// SOAK_LEAK_EVERY=N makes it leak: every Nth request keeps a `Session` (about
// 1 KB) in a Map forever, the way a session store that is never pruned does.

const http = require('node:http')
const path = require('node:path')
const memwatch = require(path.join(__dirname, '..', '..'))

const HEAPDIFF_MS = Number(process.env.HEAPDIFF_MS || 30_000)
const LEAK_EVERY = Number(process.env.SOAK_LEAK_EVERY || 0)

class Session {
  constructor(id, url) {
    this.id = id
    this.url = url
    this.created = Date.now()
    this.data = `${url}:${id}:`.padEnd(1000, '.')
  }
}
const sessions = new Map()

const counts = {
  requests: 0,
  collected: 0,
  stats: 0,
  leaks: 0,
  heapDiffs: 0,
  resets: 0,
  errors: [],
}
let lastStats = null

memwatch.on('stats', (s) => {
  counts.stats++
  lastStats = s
})
memwatch.on('leak', (info) => {
  counts.leaks++
  counts.lastLeak = info.reason
})

const onCollected = () => counts.collected++

const server = http.createServer((req, res) => {
  counts.requests++
  memwatch.trackGC(req, onCollected)
  if (LEAK_EVERY > 0 && counts.requests % LEAK_EVERY === 0) sessions.set(counts.requests, new Session(counts.requests, req.url))
  // A little work per request, so the heap churns like a real handler's.
  const body = JSON.stringify({ url: req.url, at: Date.now(), items: Array.from({ length: 20 }, (_, i) => ({ i })) })
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(body)
})
server.on('clientError', (e, socket) => {
  // The load generator resets its connections when it stops: counted, not errors.
  if (e.code === 'ECONNRESET') counts.resets++
  else counts.errors.push(`clientError: ${e.message}`)
  socket.destroy()
})

let hd = new memwatch.HeapDiff()
const lastDiff = { size_bytes: 0, allocated_nodes: 0, freed_nodes: 0 }
setInterval(() => {
  try {
    const d = hd.end()
    counts.heapDiffs++
    lastDiff.size_bytes = d.change.size_bytes
    lastDiff.allocated_nodes = d.change.allocated_nodes
    lastDiff.freed_nodes = d.change.freed_nodes
  } catch (e) {
    counts.errors.push(`HeapDiff: ${e.stack}`)
  }
  hd = new memwatch.HeapDiff()
}, HEAPDIFF_MS).unref()

process.on('message', (m) => {
  if (m === 'sample') {
    const mu = process.memoryUsage()
    process.send({
      sample: {
        rss: mu.rss,
        heapUsed: mu.heapUsed,
        external: mu.external,
        base: lastStats ? lastStats.current_base : null,
        ...counts,
        errors: counts.errors.slice(0, 5),
        errorCount: counts.errors.length,
        lastDiff,
      },
    })
  } else if (m === 'stop') {
    server.close()
    process.disconnect()
  }
})

server.listen(0, '127.0.0.1', () => {
  if (process.send) process.send({ listening: server.address().port, backend: memwatch.backend })
  else process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`)
})
