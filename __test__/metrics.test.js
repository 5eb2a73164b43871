'use strict'

// memwatch.metrics(): the pause histograms count real GCs by kind, agree
// with the stats' tallies, and the exporters' hold keeps the leak detector
// running without a `leak` listener. Both backends (the fallback in a child).

const test = require('node:test')
const assert = require('node:assert/strict')
const memwatch = require('..')
const { HOLD } = require('../lib/internal.js')
const { runChild, turns } = require('./helpers')

const KINDS = ['scavenge', 'minorMarkSweep', 'markSweepCompact', 'incrementalMarking', 'processWeakCallbacks']
const STATS_NAME = {
  scavenge: 'Scavenge',
  minorMarkSweep: 'MinorMarkSweep',
  markSweepCompact: 'MarkSweepCompact',
  incrementalMarking: 'IncrementalMarking',
  processWeakCallbacks: 'ProcessWeakCallbacks',
}

/** Short-lived garbage: many scavenges. */
function churn(n = 3e6) {
  let keep = []
  for (let i = 0; i < n; i++) {
    keep.push({ i, s: 'x' + (i & 1023) })
    if (keep.length > 1000) keep = []
  }
  return keep.length
}

/** Lets perf_hooks deliver its GC entries (the fallback counts from them). */
async function settle() {
  await new Promise((r) => setTimeout(r, 50))
  await turns(3)
}

/** The invariants of one kind's histogram against the bounds. */
function checkHistogram(h, bounds, kind) {
  assert.equal(h.buckets.length, bounds.length + 1, kind)
  assert.ok(h.buckets.every((c) => Number.isSafeInteger(c) && c >= 0), kind)
  assert.equal(h.count, h.buckets.reduce((a, b) => a + b, 0), `${kind}: count is the sum of the buckets`)
  // Each pause lies in its bucket, so the total lies between the buckets'
  // lower and upper ends (the last bucket has no upper end).
  let low = 0
  let high = 0
  for (let i = 0; i < h.buckets.length; i++) {
    if (h.buckets[i] === 0) continue
    low += h.buckets[i] * (i ? bounds[i - 1] : 0)
    high += h.buckets[i] * (i < bounds.length ? bounds[i] : Infinity)
  }
  assert.ok(h.sum >= low * (1 - 1e-9) && h.sum <= high * (1 + 1e-9), `${kind}: sum ${h.sum} outside [${low}, ${high}]`)
}

test('metrics(): GC pauses by kind, counted and timed like the stats tallies, in 1-2-5 buckets from 0.1 ms to 10 s', async () => {
  const release = memwatch[HOLD]() // the fallback counts GCs only while watched
  try {
    churn()
    await settle()
    const before = memwatch.metrics()
    churn()
    await settle()
    const s = memwatch.gc()
    const m = memwatch.metrics()
    assert.deepEqual(m.pauseBounds, [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10])
    assert.deepEqual(Object.keys(m.gcPauses).sort(), [...KINDS].sort())
    for (const kind of KINDS) {
      const h = m.gcPauses[kind]
      checkHistogram(h, m.pauseBounds, kind)
      assert.equal(h.count, s[`gc${STATS_NAME[kind]}Count`], `${kind}: as many pauses as the stats count`)
      assert.ok(Math.abs(h.sum * 1e9 - s[`gc${STATS_NAME[kind]}Time`]) < 1000, `${kind}: sum ${h.sum} s, stats ${s[`gc${STATS_NAME[kind]}Time`]} ns`)
    }
    assert.ok(m.gcPauses.scavenge.count > before.gcPauses.scavenge.count, 'the churn scavenged')
    assert.ok(m.gcPauses.markSweepCompact.count > before.gcPauses.markSweepCompact.count, 'gc() is a full GC')
    assert.ok(m.gcPauses.scavenge.sum > before.gcPauses.scavenge.sum)
    assert.equal(m.heapSizeLimit, require('node:v8').getHeapStatistics().heap_size_limit)
    assert.equal(m.leak.watching, true)
    assert.equal(m.leak.lastBase, s.current_base, "the base after gc()'s full GC")
  } finally {
    release()
  }
})

test('metrics() takes no arguments', () => {
  assert.throws(() => memwatch.metrics(1), { name: 'TypeError', message: 'memwatch.metrics() takes no arguments (got 1)' })
})

test("an exporter's hold runs the detector without a leak listener, and removeAllListeners() does not stop it", () => {
  assert.equal(memwatch.leakStatus().watching, false)
  const release = memwatch[HOLD]()
  assert.equal(memwatch.listenerCount('leak'), 0, 'no listener shows')
  assert.equal(memwatch.leakStatus().watching, true)
  memwatch.removeAllListeners('leak')
  memwatch.removeAllListeners()
  assert.equal(memwatch.leakStatus().watching, true, "a user's removeAllListeners() leaves the hold")
  const listener = () => {}
  memwatch.on('leak', listener)
  release()
  release() // idempotent: the second call does not take another holder's share
  assert.equal(memwatch.leakStatus().watching, true, 'the listener still watches')
  memwatch.off('leak', listener)
  assert.equal(memwatch.leakStatus().watching, false)
  const a = memwatch[HOLD]()
  const b = memwatch[HOLD]()
  a()
  a()
  assert.equal(memwatch.leakStatus().watching, true, 'one holder left')
  b()
  assert.equal(memwatch.leakStatus().watching, false)
})

test('fallback backend: the histograms are fed from perf_hooks entries while an exporter is registered, not otherwise', () => {
  const r = runChild(
    `const memwatch = require('memwatch-rs')
     const { Registry } = require('prom-client')
     const { register } = require('memwatch-rs/prometheus')
     const churn = ${churn.toString()}
     const total = (m) => Object.values(m.gcPauses).reduce((a, h) => a + h.count, 0)
     const wait = () => new Promise((r) => setTimeout(r, 100))
     ;(async () => {
       churn(); await wait()
       const idle = total(memwatch.metrics())
       const handle = register(new Registry())
       churn(); await wait()
       const s = memwatch.gc()
       const m = memwatch.metrics()
       handle.unregister()
       churn(); await wait()
       const after = total(memwatch.metrics())
       console.log(JSON.stringify({ backend: memwatch.backend, idle, m, s, after, watching: memwatch.leakStatus().watching }))
     })()`,
    { env: { MEMWATCH_FORCE_FALLBACK: '1' } },
  )
  assert.equal(r.status, 0, r.stderr)
  const { backend, idle, m, s, after, watching } = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(backend, 'fallback')
  assert.equal(idle, 0, 'nothing observed before an exporter or a listener')
  assert.ok(m.gcPauses.scavenge.count > 0, 'scavenges observed while registered')
  assert.ok(m.gcPauses.markSweepCompact.count >= 1, "gc()'s full GC")
  for (const kind of KINDS) {
    checkHistogram(m.gcPauses[kind], m.pauseBounds, kind)
    assert.equal(m.gcPauses[kind].count, s[`gc${STATS_NAME[kind]}Count`], `${kind}: as the stats count`)
  }
  assert.equal(m.heapSizeLimit > 0, true, 'the heap limit, from v8.getHeapStatistics()')
  assert.equal(after, Object.values(m.gcPauses).reduce((a, h) => a + h.count, 0), 'unregistered: the observer is off again')
  assert.equal(watching, false)
})
