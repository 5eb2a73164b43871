'use strict'

// Retainer paths: HeapDiff#end({ retainers: n }) on known retention chains,
// on a million-deep list, in a worker, from both snapshot sources. Each case
// runs in a fresh process (__test__/fixtures/retainers-cases.js).

const test = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { ROOT, variants } = require('./helpers')

const CASES = path.join(__dirname, 'fixtures', 'retainers-cases.js')
const SOURCES = { v8: '', json: 'json' }
const MAJOR = Number(process.versions.node.split('.')[0])
// The V8 source needs the V8 backend: a Node major outside the verified
// table runs the JSON source only.
const skip = (source) => source === 'v8' && ![20, 22, 24, 26].includes(MAJOR) && `Node ${MAJOR} is not in the verified V8 table`

function run(name, source) {
  return runCase(name, source).explained
}

/** Everything the case printed. */
function runCase(name, source) {
  const r = spawnSync(process.execPath, [CASES, name], {
    cwd: ROOT,
    env: { ...process.env, MEMWATCH_FORCE_FALLBACK: '', MEMWATCH_HEAPDIFF_SOURCE: SOURCES[source] },
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  assert.deepEqual([r.status, r.signal], [0, null], `${name} (${source}): ${r.stderr}`)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(out.source, source)
  return out
}

/** The shape every explained detail has, whatever the heap. */
function checkExplained(explained, n) {
  assert.ok(explained.length >= 1 && explained.length <= 5, `${explained.length} groups explained`)
  for (const d of explained) {
    assert.deepEqual(Object.keys(d), ['what', 'size_bytes', 'size', '+', '-', 'retainers'])
    assert.ok(d['+'] > 0, `${d.what} has new nodes`)
    assert.ok(d.retainers.length <= n, `${d.what}: ${d.retainers.length} paths for n = ${n}`)
    let prev = Infinity
    for (const r of d.retainers) {
      assert.deepEqual(Object.keys(r), ['path', 'count'])
      assert.ok(typeof r.path === 'string' && r.path.length > 0)
      assert.ok(Number.isInteger(r.count) && r.count >= 1 && r.count <= 256 && r.count <= d['+'])
      assert.ok(r.count <= prev, 'most common first')
      prev = r.count
    }
  }
  // The groups with the most new nodes are the ones explained, in that order.
  for (let i = 1; i < explained.length; i++) assert.ok(explained[i - 1]['+'] >= explained[i]['+'] || explained[i - 1].size_bytes > explained[i].size_bytes)
}

function find(explained, what) {
  const d = explained.find((x) => x.what === what)
  assert.ok(d, `${what} explained (got ${explained.map((x) => x.what).join(', ')})`)
  return d
}

for (const source of ['v8', 'json']) {
  test(`known retention chains read from the global object (${source} source)`, { skip: skip(source) }, () => {
    const explained = run('chains', source)
    checkExplained(explained, 3)
    const sessions = find(explained, 'Session')
    assert.equal(sessions['+'], 3000)
    // 48 samples (16 per path asked for), all held by the Map behind `app`.
    assert.equal(sessions.retainers.length, 1)
    assert.match(sessions.retainers[0].path, /^global → app \(Object\) → sessions \(Map\) → table → \[\d+\] \(Session\)$/)
    assert.equal(sessions.retainers[0].count, 48)
    const entries = find(explained, 'Entry')
    assert.match(entries.retainers[0].path, /^global → handlers \(Array\) → \[0\] \(onRequest\) → context( \(system \/ Context\))? → cache \(Array\) → \[\d+\] \(Entry\)$/)
    assert.equal(entries.retainers[0].count, 48)
  })
}

for (const source of variants(['v8', 'json'])) {
  test(`a million-deep list: no recursion, one collapsed run (${source} source)`, { skip: skip(source) }, () => {
    const explained = run('deep', source)
    checkExplained(explained, 2)
    const links = find(explained, 'Link')
    assert.equal(links['+'], 1_000_000)
    assert.equal(explained[0].what, 'Link', 'the group with the most new nodes comes first')
    // 32 samples spread over the list: one the head itself, the others deep.
    const total = links.retainers.reduce((a, r) => a + r.count, 0)
    assert.equal(total, 32)
    const deep = links.retainers.find((r) => r.path.includes('×'))
    assert.ok(deep, JSON.stringify(links.retainers))
    const m = /^global → list \(Object\) → head \(Link\) → next \(Link\) ×(\d+)$/.exec(deep.path)
    assert.ok(m, deep.path)
    assert.ok(Number(m[1]) > 10_000 && Number(m[1]) < 1_000_000, deep.path)
  })
}

for (const source of variants(['v8', 'json'])) {
  test(`a worker's HeapDiff explains the worker's heap (${source} source)`, { skip: skip(source) }, () => {
    const explained = run('worker', source)
    checkExplained(explained, 3)
    assert.match(find(explained, 'Session').retainers[0].path, /^global → app \(Object\) → sessions \(Map\) → table → \[\d+\] \(Session\)$/)
  })
}

for (const source of ['v8', 'json']) {
  test(`end({ retainers, groups }) explains exactly the groups named, far from the top five or not (${source} source)`, { skip: skip(source) }, () => {
    const { top, explained } = runCase('named', source)
    checkExplained(top, 2)
    assert.equal(top.length, 5, 'without groups: the five that grew most')
    assert.ok(!top.some((d) => d.what === 'Lone'), `one new Lone is not among the top five: ${top.map((d) => d.what)}`)
    // Named: those with new nodes, ranked as the top five are; NoSuchGroup has none.
    assert.deepEqual(
      explained.map((d) => d.what),
      ['Session', 'Lone'],
    )
    checkExplained(explained, 2)
    const lone = find(explained, 'Lone')
    assert.equal(lone['+'], 1)
    assert.deepEqual(lone.retainers.length, 1)
    assert.match(lone.retainers[0].path, /^global → registry \(Map\) → table → \[\d+\] \(Lone\)$/)
    assert.equal(lone.retainers[0].count, 1)
    const sessions = find(explained, 'Session')
    assert.equal(sessions['+'], 3000)
    assert.match(sessions.retainers[0].path, /^global → app \(Object\) → sessions \(Map\) → table → \[\d+\] \(Session\)$/)
    assert.equal(sessions.retainers[0].count, 32)
  })
}
