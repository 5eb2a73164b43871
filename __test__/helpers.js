'use strict'

// Shared helpers for the JS tests: child processes (exit, worker and crash
// cases must not take the test runner down) and small waits.

const { spawnSync } = require('node:child_process')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')

/**
 * `npm test` runs each feature once on the running Node; `npm run
 * test:full` (MEMWATCH_TEST_FULL=1) adds the slow and repeated cases: the
 * other snapshot source and backend inside a test, the long churns.
 */
const FULL = /^(1|true|yes)$/i.test(process.env.MEMWATCH_TEST_FULL || '')

/**
 * Every `leak` reason the detector prints, rate and classic rule: the e2e
 * tests check real reports against it and docs.test.js checks the examples
 * in the docs against it. E.g. `heap growth over 14 GCs (9m 12s) - 118.20
 * mb/hr, heap limit in ~17h`, `heap growth over 5 consecutive GCs (20s) -
 * 11.67 mb/hr`.
 */
const LEAK_REASON =
  /^heap growth over \d+ (consecutive )?GCs \((\d+\.\ds|\d+s|\d+m \d+s|\d+h \d+m)\) - \d+\.\d\d mb(\/hr| at once)(, heap limit in (~\d+[smhd]|under 1s))?$/

/** Test options for a case that only `npm run test:full` runs. */
const fullOnly = { skip: !FULL && 'runs in npm run test:full' }

/** All of `variants` in test:full, only the first (the running configuration) otherwise. */
function variants(all) {
  return FULL ? all : all.slice(0, 1)
}

/**
 * Runs `code` in a fresh node (the same binary as the test runner) with
 * `require('memwatch-rs')` resolving to this package. Returns
 * { status, signal, stdout, stderr }.
 */
function runChild(code, { args = [], env = {}, timeout = 120_000 } = {}) {
  const res = spawnSync(process.execPath, [...args, '-e', code], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), ...env },
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  })
  return { status: res.status, signal: res.signal, stdout: res.stdout, stderr: res.stderr }
}

/** Resolves after `n` turns of the event loop. */
async function turns(n = 2) {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

module.exports = { ROOT, FULL, LEAK_REASON, fullOnly, variants, runChild, turns }

/**
 * Runs a leak scenario from __test__/scenarios with memwatch-rs attached
 * (watch.js), asynchronously so several can run side by side. Resolves to
 * { status, events } where events are the JSON lines watch.js printed.
 */
function runScenario(name, seconds, { env = {} } = {}) {
  const { spawn } = require('node:child_process')
  const dir = path.join(__dirname, 'scenarios')
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', path.join(dir, 'watch.js'), path.join(dir, `${name}.js`), String(seconds)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000)
    child.on('close', (status, signal) => {
      clearTimeout(killer)
      const events = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
      resolve({ status, signal, events, stderr: err })
    })
  })
}

module.exports.runScenario = runScenario

/** A TCP port free on 127.0.0.1 right now (for servers that need a port number up front). */
function freePort() {
  const net = require('node:net')
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

module.exports.freePort = freePort

/**
 * Collects a spawned child's output: `out.stdout` and `out.stderr` so far,
 * and `seen(pattern, stream = 'stdout')`, which resolves once that stream
 * holds `pattern` (a string, or a RegExp whose match it resolves with).
 */
function follow(child) {
  const out = { stdout: '', stderr: '' }
  const waiters = []
  const match = (text, pattern) => (typeof pattern === 'string' ? (text.includes(pattern) ? [pattern] : null) : text.match(pattern))
  const check = () => {
    for (const w of waiters.splice(0)) {
      const m = match(out[w.stream], w.pattern)
      if (m) w.resolve(m)
      else waiters.push(w)
    }
  }
  for (const stream of ['stdout', 'stderr']) {
    child[stream].on('data', (d) => {
      out[stream] += d
      check()
    })
  }
  const seen = (pattern, stream = 'stdout') =>
    new Promise((resolve) => {
      waiters.push({ pattern, stream, resolve })
      check()
    })
  return { out, seen }
}
module.exports.follow = follow
