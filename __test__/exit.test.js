'use strict'

// How a process using memwatch-rs ends: with a HeapDiff un-ended, with
// trackGC callbacks and events pending, from inside each kind of listener,
// in the middle of a probe window, and with an uncaught throw from a
// listener. Each case runs in its own process (__test__/fixtures/exit-cases.js)
// on both backends; clean cases must exit 0 with nothing on stderr, throws
// must exit 1 with the error and no crash.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const CASES = path.join(__dirname, 'fixtures', 'exit-cases.js')

const BACKENDS = {
  v8: { MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HEAPDIFF_SOURCE: '' },
  fallback: { MEMWATCH_FORCE_FALLBACK: '1', MEMWATCH_HEAPDIFF_SOURCE: '' },
}
// HeapDiff cases also run with the JSON snapshot source on the V8 backend.
const SOURCES = { ...BACKENDS, 'v8, json source': { MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HEAPDIFF_SOURCE: 'json' } }
// trackGC cases also run with Node's deferred finalizers.
const FINALIZERS = { ...BACKENDS, 'v8, deferred finalizers': { MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_DEFERRED_FINALIZERS: '1' } }

const CRASH = /FATAL|Segmentation|Aborted|core dumped|Assertion|napi_|panicked|LATE/

/** Runs a case with a temporary directory of its own; `left` is what it left there. */
function run(name, env) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-exit-'))
  try {
    const r = spawnSync(process.execPath, [CASES, name], {
      cwd: ROOT,
      env: { ...process.env, MEMWATCH_DEFERRED_FINALIZERS: '', TMPDIR: tmp, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    })
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, left: fs.readdirSync(tmp) }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
}

/** Exit code 0, no signal, nothing on stderr, and the case got where it meant to. */
function assertClean(name, envs, expected) {
  for (const [label, env] of Object.entries(envs)) {
    const r = run(name, env)
    const what = `${name} (${label})`
    assert.deepEqual([r.status, r.signal], [0, null], `${what}: ${r.stderr}`)
    assert.equal(r.stderr, '', `${what} wrote to stderr`)
    assert.match(r.stdout, expected, `${what}: stdout ${JSON.stringify(r.stdout)}`)
    assert.doesNotMatch(r.stdout, CRASH, what)
    assert.deepEqual(r.left, [], `${what} left files in its temporary directory`)
  }
}

/** Node's exit for an uncaught exception: code 1 and the error, nothing worse. */
function assertUncaught(name, envs, message) {
  for (const [label, env] of Object.entries(envs)) {
    const r = run(name, env)
    const what = `${name} (${label})`
    assert.deepEqual([r.status, r.signal], [1, null], `${what}: ${r.stderr}`)
    assert.match(r.stderr, new RegExp(`^Error: ${message}$`, 'm'), what)
    assert.doesNotMatch(r.stderr, CRASH, what)
    assert.equal(r.stdout, '', what)
  }
}

test('exit with an un-ended HeapDiff: natural, process.exit(), after its trim helper ran', () => {
  assertClean('heapdiff-unended-natural', SOURCES, /^reached: un-ended (v8|json) HeapDiff, natural exit\n$/)
  assertClean('heapdiff-unended-exit', SOURCES, /^reached: un-ended (v8|json) HeapDiff, process\.exit\(\)\n$/)
  assertClean('heapdiff-unended-late', SOURCES, /^reached: un-ended (v8|json) HeapDiff after 1\.5 s\n$/)
})

test('workers ending by themselves, by process.exit() and terminated, each with an un-ended HeapDiff', () => {
  assertClean('heapdiff-unended-workers', SOURCES, /^reached: 3 workers ended with un-ended (v8|json) HeapDiffs\n$/)
})

const MAJOR = Number(process.versions.node.split('.')[0])
const SAMPLING = { skip: ![20, 22, 24, 26].includes(MAJOR) && `Node ${MAJOR} is not in the verified V8 table: no sampling` }
const CENSUS = { skip: ![20, 22, 24, 26].includes(MAJOR) && `Node ${MAJOR} is not in the verified V8 table: no census` }

test('exit with allocation sampling on: natural, process.exit() in a leak listener, workers', SAMPLING, () => {
  const v8 = { v8: BACKENDS.v8 }
  assertClean('sampling-on-natural', v8, /^reached: sampling on, natural exit\n$/)
  assertClean('sampling-on-exit', v8, /^reached: sampling on, process\.exit\(\) in a leak listener with sites\n$/)
  assertClean('sampling-on-workers', v8, /^reached: 3 workers ended with sampling on\n$/)
})

test('process.exit() with trackGC callbacks, stats and leak events pending and a HeapDiff un-ended', () => {
  // A listener or callback that ran after exit would print LATE.
  assertClean('pending-everything', FINALIZERS, /^reached: exit with callbacks and events pending\n$/)
})

test('a natural exit delivers pending trackGC callbacks first', () => {
  assertClean('pending-trackgc-natural', FINALIZERS, /^reached: natural exit, 20000 of 20000 callbacks delivered\n$/)
})

test('process.exit() inside a stats listener, a leak listener and a trackGC callback', () => {
  assertClean('exit-in-stats', BACKENDS, /^reached: exit inside a stats listener \(forced: true\)\n$/)
  assertClean('exit-in-leak', BACKENDS, /^reached: exit inside a leak listener\n$/)
  assertClean('exit-in-trackgc', FINALIZERS, /^reached: exit inside a trackGC callback\n$/)
})

test('process.exit() during a probe window: from timers at several moments and from a natural GC', () => {
  for (const ms of [600, 1300]) {
    const envs = Object.fromEntries(Object.entries(BACKENDS).map(([k, env]) => [`${k}, exit at ${ms} ms`, { ...env, PROBE_EXIT_MS: String(ms) }]))
    assertClean('probe-window-timer', envs, /^reached: exit from a timer while probing a growing heap\n$/)
  }
  assertClean('probe-window-stats', BACKENDS, /^reached: exit inside the stats listener of a natural GC while probing\n$/)
})

test('heap censuses: exit after one, inside a leak listener, with one due, and workers ending mid-census', CENSUS, () => {
  const v8 = { v8: BACKENDS.v8 }
  assertClean('census-unended-exit', v8, /^reached: un-ended census HeapDiff, exit after a census of the heap\n$/)
  assertClean('census-exit-in-leak', v8, /^reached: exit inside a leak listener after a census \(suspects: true, objects: true\)\n$/)
  assertClean('census-pending-exit', v8, /^reached: exit with a census due\n$/)
  assertClean('census-workers', v8, /^reached: 3 workers ended: exit-in-leak 0, natural 0, terminate 1\n$/)
})

test('an uncaught throw from a listener or callback exits 1 with the error, no crash', () => {
  assertUncaught('throw-in-stats', BACKENDS, 'thrown from a stats listener')
  assertUncaught('throw-in-leak', BACKENDS, 'thrown from a leak listener')
  assertUncaught('throw-in-trackgc', FINALIZERS, 'thrown from a trackGC callback')
  assertUncaught('throw-in-probe-window', BACKENDS, 'thrown from a stats listener while probing')
})
