'use strict'

// leakage (a leak-testing helper built on memwatch's gc() and HeapDiff) with
// memwatch-rs standing in for its memwatch dependency through npm overrides.
// The fixture is installed on first use; its override is a file: link to
// this package, so nothing is rebuilt.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, fullOnly } = require('./helpers')

const { installLeakage, MEMWATCH_DEP, DIR: FIXTURE } = require('./fixtures/leakage/install.js')

function install() {
  const failed = installLeakage()
  assert.equal(failed, null, failed)
}

function run(code) {
  const r = spawnSync(process.execPath, ['-e', code], { cwd: FIXTURE, encoding: 'utf8', timeout: 300_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const SCRIPT = `
  const { iterate, MemoryLeakError } = require('leakage')
  const verdict = (e) => (e instanceof MemoryLeakError ? 'MemoryLeakError' : 'error: ' + e.message)
  const out = { memwatch: require('fs').realpathSync(require.resolve(${JSON.stringify(MEMWATCH_DEP)})) }
  const leaked = []
  try {
    iterate(() => { leaked.push({ payload: new Array(64).fill(leaked.length) }) })
    out.leaky = 'passed'
  } catch (e) { out.leaky = verdict(e); out.message = e.message }
  try {
    iterate(() => { const x = { payload: new Array(64).fill(1) }; return x.payload.length })
    out.clean = 'passed'
  } catch (e) { out.clean = verdict(e); out.cleanMessage = e.message }
  const asyncLeaked = []
  iterate.async(async () => { asyncLeaked.push({ payload: new Array(64).fill(1) }) })
    .then(() => 'passed', verdict)
    .then((leakyAsync) => {
      out.leakyAsync = leakyAsync
      return iterate.async(async () => new Array(64).fill(1).length).then(() => 'passed', verdict)
    })
    .then((cleanAsync) => {
      out.cleanAsync = cleanAsync
      console.log(JSON.stringify(out))
    })
`

// Runs leakage's own iterate() (3-11 s a case): test:full.
test('leakage works with memwatch-rs as its memwatch: leaks throw, clean code passes', fullOnly, () => {
  install()
  const out = run(SCRIPT)
  assert.equal(out.memwatch, fs.realpathSync(path.join(ROOT, 'index.js')), 'leakage loads memwatch-rs')
  assert.equal(out.leaky, 'MemoryLeakError')
  assert.match(out.message, /Heap grew on \d+ subsequent garbage collections/)
  assert.match(out.message, /\] Array|\] Object/, 'the report names what grew')
  assert.equal(out.clean, 'passed', out.cleanMessage)
  assert.equal(out.leakyAsync, 'MemoryLeakError')
  assert.equal(out.cleanAsync, 'passed')
})
