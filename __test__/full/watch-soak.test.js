'use strict'

// `memwatch-rs watch` on the soak server (bench/scripts/soak-server.js: an
// HTTP service using every memwatch-rs feature) with a slow session leak,
// under real load from autocannon: the watcher reports the leak in the
// terminal, and its JSON and HTML reports, written when the service is
// stopped with Ctrl-C (SIGINT), show it with the suspects of the census the
// detector took. test:full only (about 2½ minutes, one fifth of a core).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const autocannon = require('autocannon')
const { ROOT, follow } = require('../helpers')

const BIN = path.join(ROOT, 'bin', 'memwatch-rs.js')
const SERVER = path.join(ROOT, 'bench', 'scripts', 'soak-server.js')
// 400 requests a second, every 4th keeping a ~1 KB Session: ~100 KB/s
// (about 350 MB/h) on a heap of about 10 MB; the rate rule's 2-minute grace
// period decides when it is reported.
const RATE = 400
const LEAK_EVERY = 4
const BOUND_S = 240

test('watch on the soak server with a session leak under load: the leak is reported, the reports show it', { timeout: (BOUND_S + 60) * 1000 }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-soak-watch-'))
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }))
  const report = path.join(tmp, 'soak.html')
  const json = path.join(tmp, 'soak.json')
  const child = spawn(process.execPath, [BIN, 'watch', '--quiet', '--report', report, '--json', json, '--', process.execPath, SERVER], {
    cwd: tmp,
    env: { ...process.env, SOAK_LEAK_EVERY: String(LEAK_EVERY), HEAPDIFF_MS: '30000' },
  })
  const { out, seen } = follow(child)
  const done = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal })))
  const killer = setTimeout(() => child.kill('SIGKILL'), (BOUND_S + 40) * 1000)
  t.after(() => clearTimeout(killer))

  const [, port] = await seen(/listening on 127\.0\.0\.1:(\d+)/, 'stdout')
  const started = Date.now()
  const load = autocannon({ url: `http://127.0.0.1:${port}/`, connections: 4, overallRate: RATE, duration: BOUND_S })
  let bound
  const leak = await Promise.race([
    seen(/soak-server\.js\[\d+\] LEAK [^\n]*/, 'stderr').then((m) => m[0]),
    new Promise((resolve) => (bound = setTimeout(resolve, BOUND_S * 1000, null))),
  ])
  clearTimeout(bound)
  const reportedS = (Date.now() - started) / 1000
  load.stop()
  const results = await new Promise((resolve) => load.on('done', resolve))
  child.kill('SIGINT')
  const { status, signal } = await done
  t.diagnostic(`leak line after ${reportedS.toFixed(0)} s of load: ${leak}`)
  t.diagnostic(`load: ${results.requests.total} requests, ${results.errors} errors, ${results.non2xx} non-2xx`)
  assert.ok(leak, `no LEAK line within ${BOUND_S} s of load; stderr:\n${out.stderr.slice(-2000)}`)
  assert.equal(results.errors, 0)
  assert.equal(results.non2xx, 0)
  // Ctrl-C reached the service once; the watcher exits with its code.
  assert.equal(status, 128 + os.constants.signals.SIGINT, `status ${status} signal ${signal}; stderr:\n${out.stderr.slice(-2000)}`)

  const data = JSON.parse(fs.readFileSync(json, 'utf8'))
  assert.equal(data.processes.length, 1)
  const [p] = data.processes
  assert.match(p.label, /^soak-server\.js\[\d+\]$/)
  assert.ok(p.leaks.length >= 1, 'a leak event in the report')
  const first = p.leaks[0]
  // ~100 KB/s: the detector's rate is of that order, and its growth real.
  const perS = first.rate / 3600
  assert.ok(perS > 30 * 1024 && perS < 300 * 1024, `rate ${perS} B/s`)
  assert.ok(p.summary.floor_growth > 5 * 2 ** 20, `floor growth ${p.summary.floor_growth}`)
  // The census the detector took names what leaks (V8 backend).
  if (p.backend === 'v8') {
    assert.ok(Array.isArray(first.suspects) && first.suspects.length > 0, JSON.stringify(first).slice(0, 500))
    assert.equal(first.suspects[0].what, 'Session', JSON.stringify(first.suspects.slice(0, 3)))
  }
  // The HeapDiffs every 30 s ran their snapshots' GCs: not reported as the program's.
  assert.ok(p.gcs.length >= 5, `${p.gcs.length} full GCs`)
  const html = fs.readFileSync(report, 'utf8')
  assert.ok(html.includes('soak-server.js'), 'the report names the program')
  assert.ok(html.includes(first.reason.slice(0, 40)), 'the report carries the leak')
})
