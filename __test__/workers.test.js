'use strict'

// Worker threads coming and going while using the whole API. The churn runs
// in child processes (__test__/fixtures/workers-churn.js), one per backend,
// side by side.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, FULL, runChild } = require('./helpers')

const CHURN = path.join(__dirname, 'fixtures', 'workers-churn.js')
// npm test churns 10 workers per backend; test:full 200, with the RSS
// checkpoints.
const WORKERS = FULL ? 200 : 10

// Main-thread RSS may differ between the checkpoints at 100 and 200 workers
// by allocator noise (measured: at most +28 MB over 400 workers, Node 20-26,
// both backends); a worker's isolate, or even its HeapDiff records (~1 MB),
// leaked each time would add 100 MB or more over 100 workers.
const RSS_GROWTH_BOUND_MB = 75

/** Runs the churn with a temporary directory of its own; `left` is what it left there. */
function runChurn(env) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-workers-'))
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHURN], {
      cwd: ROOT,
      env: { ...process.env, WORKERS: String(WORKERS), CONCURRENCY: '4', TMPDIR: tmp, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), 300_000)
    child.on('close', (status, signal) => {
      clearTimeout(killer)
      const left = fs.readdirSync(tmp)
      fs.rmSync(tmp, { recursive: true, force: true })
      resolve({ status, signal, stdout, stderr, left })
    })
  })
}

test(`${WORKERS} workers started and terminated, each using stats, leak, trackGC, HeapDiff and gc(), on both backends`, async (t) => {
  const backends = { v8: { MEMWATCH_FORCE_FALLBACK: '' }, fallback: { MEMWATCH_FORCE_FALLBACK: '1' } }
  const runs = await Promise.all(Object.values(backends).map((env) => runChurn(env)))
  for (const [i, name] of Object.keys(backends).entries()) {
    const r = runs[i]
    assert.deepEqual([r.status, r.signal], [0, null], `${name}: ${r.stderr.slice(-3000)}`)
    assert.equal(r.stderr, '', `${name} wrote to stderr`)
    // Workers terminated mid-HeapDiff (JSON source on the fallback) leave no snapshot file.
    assert.deepEqual(r.left, [], `${name} left files in its temporary directory`)
    const out = JSON.parse(r.stdout)
    const rss = out.rssMB
    t.diagnostic(
      `${name} (${out.backend}): main-thread RSS ${rss.start} MB at start, ` +
        Object.keys(rss)
          .filter((k) => k !== 'start')
          .map((k) => `${rss[k]} MB after ${k}`)
          .join(', ') +
        ` workers (${out.done} ran to the end, ${out.midWork} terminated mid-work)`,
    )
    if (name === 'fallback') assert.equal(out.backend, 'fallback')
    assert.deepEqual(out.errors, [], name)
    assert.equal(out.workers, WORKERS)
    assert.equal(out.done + out.midWork, WORKERS)
    assert.equal(out.midWork, WORKERS / 5)
    assert.equal(out.made, 300 * out.done, `${name}: every finished worker's HeapDiff saw its 300 objects`)
    if (FULL) {
      assert.ok(
        rss[200] <= rss[100] + RSS_GROWTH_BOUND_MB,
        `${name}: RSS grew from ${rss[100]} MB (100 workers) to ${rss[200]} MB (200 workers), more than ${RSS_GROWTH_BOUND_MB} MB`,
      )
    }
  }
})

test('fallback backend: workers calling gc() at the same moment all get a working gc()', () => {
  // V8 flags are per process: the fallback sets --expose-gc, creates a
  // context and clears the flag; without a process-wide lock another thread
  // could clear it in between and gc() threw "gc is not defined".
  const r = runChild(
    `const { Worker } = require('node:worker_threads')
     const N = 40
     let done = 0
     const errors = []
     for (let i = 0; i < N; i++) {
       const w = new Worker(\`
         const memwatch = require(${JSON.stringify(ROOT)})
         for (let i = 0; i < 3; i++) memwatch.gc()
         require('node:worker_threads').parentPort.postMessage(memwatch.backend)
       \`, { eval: true })
       w.on('error', (e) => errors.push(String(e)))
       w.on('exit', () => {
         if (++done === N) console.log(JSON.stringify({ errors, gcGlobal: require('node:vm').runInNewContext('typeof gc') }))
       })
     }`,
    { env: { MEMWATCH_FORCE_FALLBACK: '1' } },
  )
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  assert.equal(r.stderr, '')
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.errors, [])
  assert.equal(out.gcGlobal, 'undefined', 'the flag was left on: new contexts get a gc global')
})
