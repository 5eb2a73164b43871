'use strict'

// `npm run soak`: a long run under real load. Reports, and exits 1 only if
// the service crashed, returned errors, or the addon broke (no stats events,
// no HeapDiffs, trackGC callbacks not keeping up). Memory growth is reported
// against the 10% bound, never asserted in `npm test`.
//
//   npm run soak                     5 minutes
//   SOAK_SECONDS=60 npm run soak     shorter
//
// The service (bench/scripts/soak-server.js) runs in its own process: an HTTP
// server on 127.0.0.1 with a `stats` and a `leak` listener, trackGC on every
// request object and a rolling HeapDiff every 30 s. autocannon (a real load
// generator, in this process) keeps CONNECTIONS connections busy against it.
// The service's RSS is sampled every 10 s; growth compares the median of
// minute 1 (after a minute of warm-up) with the median of the last minute.

const { fork } = require('node:child_process')
const os = require('node:os')
const path = require('node:path')
const autocannon = require('autocannon')

const SECONDS = Number(process.env.SOAK_SECONDS || 300)
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS || 20)
const SAMPLE_MS = 10_000
const WARMUP_S = Math.min(60, Math.floor(SECONDS / 5))

const mb = (b) => (b / 2 ** 20).toFixed(1)

async function main() {
  const server = fork(path.join(__dirname, 'scripts', 'soak-server.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let exited = null
  server.on('exit', (code, signal) => (exited = { code, signal }))

  const { port, backend } = await new Promise((resolve, reject) => {
    server.once('message', (m) => resolve({ port: m.listening, backend: m.backend }))
    server.once('exit', (code, signal) => reject(new Error(`service exited before listening (${code ?? signal})`)))
  })

  const samples = []
  const sample = () =>
    new Promise((resolve) => {
      if (exited) return resolve(null)
      server.once('message', (m) => resolve(m.sample))
      server.send('sample')
    })

  console.log(
    `soak: ${SECONDS} s, ${CONNECTIONS} connections, node ${process.version}, backend ${backend}, ` +
      `${os.cpus().length} × ${os.cpus()[0].model}, ${new Date().toISOString()}`,
  )
  const t0 = Date.now()
  const load = autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: SECONDS })
  const timer = setInterval(async () => {
    const s = await sample()
    if (!s) return
    s.t = Math.round((Date.now() - t0) / 1000)
    samples.push(s)
    console.log(
      `  ${String(s.t).padStart(4)} s  rss ${mb(s.rss).padStart(6)} MB  heap ${mb(s.heapUsed).padStart(6)} MB  ` +
        `requests ${s.requests}  collected ${s.collected}  stats ${s.stats}  heapdiffs ${s.heapDiffs}  errors ${s.errorCount}`,
    )
  }, SAMPLE_MS)
  const result = await load
  clearInterval(timer)
  const last = await sample()
  if (last) {
    last.t = Math.round((Date.now() - t0) / 1000)
    samples.push(last)
  }
  if (!exited) server.send('stop')
  await new Promise((resolve) => (exited ? resolve() : server.once('exit', resolve)))

  // RSS moves by tens of MB around each HeapDiff (its snapshots), so growth
  // compares the median of the samples in the minute after warm-up with the
  // median of the last minute's, not two single samples.
  const median = (xs) => {
    const v = xs.slice().sort((a, b) => a - b)
    return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : NaN
  }
  const span = Math.min(60, Math.max(10, Math.floor((SECONDS - WARMUP_S) / 2)))
  const early = samples.filter((s) => s.t >= WARMUP_S && s.t < WARMUP_S + span)
  const late = samples.filter((s) => s.t > SECONDS - span)
  const rssEarly = median(early.map((s) => s.rss))
  const rssLate = median(late.map((s) => s.rss))
  const growth = (rssLate - rssEarly) / rssEarly
  const end = samples[samples.length - 1]
  const crashed = exited && (exited.code !== 0 || exited.signal)
  const httpErrors = result.errors + result.timeouts + result.non2xx
  const problems = []
  if (crashed) problems.push(`service exited with ${exited.code ?? exited.signal}`)
  if (httpErrors) problems.push(`${httpErrors} HTTP errors (${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx)`)
  if (end && end.errorCount) problems.push(`${end.errorCount} errors in the service: ${end.errors.join('; ')}`)
  if (end && end.stats === 0) problems.push('no stats event')
  if (end && SECONDS >= 60 && end.heapDiffs === 0) problems.push('no HeapDiff ended')
  if (end && end.collected < end.requests * 0.5) problems.push(`only ${end.collected} of ${end.requests} request objects reported collected`)

  console.log('')
  console.log('| measure | value |')
  console.log('| --- | --- |')
  console.log(`| requests served | ${result.requests.total} (${Math.round(result.requests.average)}/s average, p99 latency ${result.latency.p99} ms) |`)
  console.log(`| HTTP errors, timeouts, non-2xx | ${result.errors}, ${result.timeouts}, ${result.non2xx} |`)
  console.log(`| service crashes | ${crashed ? 1 : 0} |`)
  if (end) console.log(`| connections reset by the load generator (when it stops) | ${end.resets} |`)
  if (end) {
    console.log(`| stats events / leak events | ${end.stats} / ${end.leaks} |`)
    console.log(`| HeapDiffs ended | ${end.heapDiffs} |`)
    console.log(`| trackGC callbacks / requests | ${end.collected} / ${end.requests} |`)
    console.log(
      `| service RSS, median of ${WARMUP_S}–${WARMUP_S + span} s → of the last ${span} s | ${mb(rssEarly)} → ${mb(rssLate)} MB (${(growth * 100).toFixed(1)}%, bound 10%) |`,
    )
    console.log(`| service RSS, lowest / highest sample | ${mb(Math.min(...samples.map((s) => s.rss)))} / ${mb(Math.max(...samples.map((s) => s.rss)))} MB |`)
    console.log(`| JS heap used, median of the same windows | ${mb(median(early.map((s) => s.heapUsed)))} → ${mb(median(late.map((s) => s.heapUsed)))} MB |`)
  }
  console.log('')
  if (problems.length) {
    console.log(`soak: FAILED: ${problems.join('; ')}`)
    process.exitCode = 1
  } else {
    console.log(`soak: ok, RSS growth after warm-up ${(growth * 100).toFixed(1)}% ${growth < 0.1 ? '(within 10%)' : '(OVER the 10% bound)'}`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})
