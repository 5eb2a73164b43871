'use strict'

// Backends: a missing V8 symbol or an unverified Node major switches the
// feature that needs it to the fallback with one warning, and every feature
// keeps working. MEMWATCH_HIDE_SYMBOLS makes symbols look missing on a
// complete node binary; MEMWATCH_UNVERIFIED_NODE (set by CI) names a real
// node binary whose major is outside the verified table.

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

// Exercises every feature and reports what happened, as JSON.
const PROBE = `
  const warnings = []
  process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }))
  const memwatch = require(${JSON.stringify(ROOT)})
  class Marker {}
  let stats = 0
  memwatch.on('stats', () => stats++)
  const gcStats = memwatch.gc()
  const hd = new memwatch.HeapDiff()
  const keep = []
  for (let i = 0; i < 250; i++) keep.push(new Marker())
  const diff = hd.end()
  const marker = diff.change.details.find((d) => d.what === 'Marker')
  let collected = 0
  ;(() => { memwatch.trackGC({ big: new Array(1000).fill(1) }, () => collected++) })()
  memwatch.gc()
  setTimeout(() => console.log(JSON.stringify({
    backend: memwatch.backend, source: memwatch.HeapDiff.source, warnings,
    gcOk: gcStats.num_full_gc >= 1 && gcStats.current_base > 0, stats,
    marker: marker ? marker['+'] : 0, collected,
  })), 100)
`

function probe(env = {}, node = process.execPath) {
  const r = spawnSync(node, ['-e', PROBE], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function worksFully(out) {
  assert.ok(out.gcOk, 'gc() returns stats')
  assert.ok(out.stats >= 2, `stats events: ${out.stats}`)
  assert.equal(out.marker, 250, 'HeapDiff counts exactly')
  assert.equal(out.collected, 1, 'trackGC fires')
}

const major = Number(process.versions.node.split('.')[0])
const verified = [20, 22, 24, 26].includes(major)

test('the default backend on a verified Node is V8, silently', { skip: !verified && `Node ${major} is not verified` }, () => {
  const out = probe({ MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HIDE_SYMBOLS: '' })
  assert.equal(out.backend, 'v8')
  assert.equal(out.source, 'v8')
  assert.deepEqual(out.warnings, [])
  worksFully(out)
})

test('MEMWATCH_FORCE_FALLBACK=1 switches every feature, without a warning', () => {
  const out = probe({ MEMWATCH_FORCE_FALLBACK: '1' })
  assert.equal(out.backend, 'fallback')
  assert.equal(out.source, 'json')
  assert.deepEqual(out.warnings, [])
  worksFully(out)
})

test('a missing GC symbol: fallback backend, one warning naming it', { skip: !verified && `Node ${major} is not verified` }, () => {
  const out = probe({ MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HIDE_SYMBOLS: 'LowMemoryNotification' })
  assert.equal(out.backend, 'fallback')
  assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings))
  assert.equal(out.warnings[0].code, 'MEMWATCH_FALLBACK')
  assert.match(out.warnings[0].message, /_ZN2v87Isolate21LowMemoryNotificationEv/)
  worksFully(out)
})

test('a missing heap-profiler symbol: only HeapDiff falls back, one warning naming it', { skip: !verified && `Node ${major} is not verified` }, () => {
  const out = probe({ MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HIDE_SYMBOLS: 'HeapSnapshot13GetNodesCount' })
  assert.equal(out.backend, 'v8', 'GC hooks are unaffected')
  assert.equal(out.source, 'json')
  assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings))
  assert.match(out.warnings[0].message, /HeapDiff .*JSON snapshot source.*GetNodesCount/)
  worksFully(out)
})

test('a Node major outside the verified table: fallback with one warning, all features work', (t) => {
  const node = verified ? process.env.MEMWATCH_UNVERIFIED_NODE : process.execPath
  if (!node) return t.skip('set MEMWATCH_UNVERIFIED_NODE to a node binary of an unverified major (CI does)')
  const out = probe({ MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HIDE_SYMBOLS: '' }, node)
  assert.equal(out.backend, 'fallback')
  assert.equal(out.warnings.length, 1, JSON.stringify(out.warnings))
  assert.match(out.warnings[0].message, /Node \d+ is not in the verified V8 table/)
  worksFully(out)
})
