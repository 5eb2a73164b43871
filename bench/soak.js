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
// The service's RSS is sampled every 10 s; growth is measured from minute 1
// (after warm-up) to the end.

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

  const atWarmup = samples.find((s) => s.t >= WARMUP_S) || samples[0]
  const end = samples[samples.length - 1]
  const growth = atWarmup && end ? (end.rss - atWarmup.rss) / atWarmup.rss : NaN
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
  if (end) {
    console.log(`| stats events / leak events | ${end.stats} / ${end.leaks} |`)
    console.log(`| HeapDiffs ended | ${end.heapDiffs} |`)
    console.log(`| trackGC callbacks / requests | ${end.collected} / ${end.requests} |`)
    console.log(`| service RSS at ${atWarmup.t} s → ${end.t} s | ${mb(atWarmup.rss)} → ${mb(end.rss)} MB (${(growth * 100).toFixed(1)}%, bound 10%) |`)
    console.log(`| JS heap used at ${atWarmup.t} s → ${end.t} s | ${mb(atWarmup.heapUsed)} → ${mb(end.heapUsed)} MB |`)
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
