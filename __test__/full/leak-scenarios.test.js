'use strict'

// The leak detector's scenario table, end to end at real speed with the
// default settings, on the V8 and on the fallback backend: real programs in
// child processes with memwatch-rs attached the way a user would
// (__test__/scenarios/watch.js). Leaks must be reported within the bound
// (the run stops at the first report); quiet shapes must stay quiet for
// QUIET_S seconds, past their warm-up and the 2-minute grace period. The
// longer claims (quiet for 10 minutes, 1 GB at 100 MB/h within an hour, a
// flat service for 6 hours) are checked on recordings and in simulated time
// by the detector's unit tests (src/gc/leak/). test:full only.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { LEAK_REASON } = require('../helpers')

const SCENARIOS = path.join(__dirname, '..', 'scenarios')
const QUIET_S = Number(process.env.MEMWATCH_QUIET_S || 200)
// Each row says about how much of a core it keeps busy, and rows are started
// while the running ones fit in CORES. Starving them changes what they
// measure (a CPU-starved process marks its heap slowly and its bases scatter
// more), so the machine is not overbooked. The figures are twice the CPU
// each used on the V8 backend (Node 20, all six at once on 2 cores, process
// CPU over its whole run: 300 MB leak 34.7 s in 240 s, listener leak 15.3 s
// in 190 s, LRU 89 s in 200 s, build-and-drop 19.2 s, cache fill 12.2 s,
// closure leak 0.9 s), rounded up: the V8 table runs at once on 2 cores.
const CORES = Number(process.env.MEMWATCH_SCENARIO_CORES || require('node:os').availableParallelism())

const ALL_BACKENDS = { v8: { MEMWATCH_FORCE_FALLBACK: '' }, fallback: { MEMWATCH_FORCE_FALLBACK: '1' } }
// Which backends run the table (comma-separated; default both). CI's
// test:full runs the V8 backend only, to stay within its time budget.
const wanted = (process.env.MEMWATCH_SCENARIO_BACKENDS || 'v8,fallback').split(',').map((b) => b.trim())
for (const b of wanted) if (!ALL_BACKENDS[b]) throw new Error(`MEMWATCH_SCENARIO_BACKENDS: unknown backend ${JSON.stringify(b)} (v8, fallback)`)
const BACKENDS = Object.fromEntries(wanted.map((b) => [b, ALL_BACKENDS[b]]))

/** Rows of the table: a leak (reported within `within` s of its start) or quiet for QUIET_S. */
const ROWS = [
  { name: '300 MB live, 20 MB/s churn, 2 MB/min leak', script: 'big-heap-leak.js', within: 300, cores: 0.3 },
  { name: '200 KB/s listener leak under 20 MB/s churn', script: 'listener-leak-churn.js', within: 180, cores: 0.2 },
  { name: 'LRU at capacity (50 MB) under heavy churn', script: 'churn-cache.js', quiet: true, env: { CAPACITY: '46000' }, cores: 0.9 },
  { name: '150 MB built and dropped every 20 s', script: 'build-drop.js', quiet: true, cores: 0.2 },
  { name: 'cache filling 100 MB over 60 s, then flat', script: 'cache-fill.js', quiet: true, cores: 0.15 },
  { name: '3 MB heap, closure leak every 100 ms', script: 'closure-leak.js', within: 300, cores: 0.05 },
]

/** Runs one scenario; stops it at its first leak report. */
function run(row, backendEnv) {
  const seconds = row.quiet ? QUIET_S : row.within + 10
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', path.join(SCENARIOS, 'watch.js'), path.join(SCENARIOS, row.script), String(seconds)], {
      env: { ...process.env, ...backendEnv, ...(row.env || {}), LEAK_ONLY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const events = []
    let buffered = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      buffered += d
      const lines = buffered.split('\n')
      buffered = lines.pop()
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        const e = JSON.parse(line)
        events.push(e)
        if (e.type === 'leak' && !row.quiet) child.kill('SIGTERM')
      }
    })
    child.stderr.on('data', (d) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
    child.on('close', (status, signal) => {
      clearTimeout(killer)
      resolve({ status, signal, events, stderr })
    })
  })
}

/** Runs every (row, backend) pair, heaviest first, as many at a time as fit in CORES. */
function runAll() {
  const waiting = []
  for (const row of ROWS) {
    for (const [backend, env] of Object.entries(BACKENDS)) {
      waiting.push({ row, backend, env })
    }
  }
  const done = []
  let busy = 0
  let running = 0
  return new Promise((resolve) => {
    function fill() {
      // The first waiting job that fits; one always starts when none runs.
      for (let i = 0; i < waiting.length; i++) {
        const job = waiting[i]
        if (running > 0 && busy + job.row.cores > CORES + 1e-9) continue
        waiting.splice(i--, 1)
        busy += job.row.cores
        running++
        run(job.row, job.env).then((result) => {
          busy -= job.row.cores
          running--
          done.push({ ...job, result })
          if (waiting.length === 0 && running === 0) resolve(done)
          else fill()
        })
      }
    }
    fill()
  })
}

test('the scenario table with the default settings, on the V8 and the fallback backend', async (t) => {
  const outcomes = await runAll()
  const failures = []
  for (const { row, backend, result } of outcomes) {
    const label = `${row.name} [${backend}]`
    const leaks = result.events.filter((e) => e.type === 'leak')
    const stats = result.events.filter((e) => e.type === 'stats')
    const ok = result.signal === 'SIGTERM' || result.status === 0
    if (!ok) failures.push(`${label}: exited ${result.status} ${result.signal}: ${result.stderr.slice(-500)}`)
    if (row.quiet) {
      t.diagnostic(`${label}: ${stats.length} full GCs in ${QUIET_S} s, ${leaks.length} leak reports`)
      if (leaks.length > 0) failures.push(`${label}: false report at ${leaks[0].t} ms: ${leaks[0].reason}`)
      if (stats.length < 5) failures.push(`${label}: the detector saw only ${stats.length} full GCs`)
    } else {
      const first = leaks[0]
      t.diagnostic(`${label}: ${first ? `reported at ${(first.t / 1000).toFixed(0)} s: ${first.reason}` : 'no report'} (${stats.length} full GCs)`)
      if (!first) failures.push(`${label}: no report within ${row.within} s`)
      else {
        if (first.t > row.within * 1000) failures.push(`${label}: reported at ${first.t} ms, bound ${row.within} s`)
        if (!LEAK_REASON.test(first.reason)) failures.push(`${label}: reason ${first.reason}`)
        if (!(first.rateLow > 0 && first.rateLow <= first.rate && first.rate <= first.rateHigh)) {
          failures.push(`${label}: rate ${first.rate} outside [${first.rateLow}, ${first.rateHigh}]`)
        }
      }
    }
  }
  assert.deepEqual(failures, [])
})
