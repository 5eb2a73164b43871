'use strict'

// `suspects` on `leak` events: the groups of objects that grew most between
// the census taken when the leak started (or when watching began) and the
// one taken for the report. End to end on a service leaking `Session`s into
// a Map, and in process with the classic rule for the details.

const test = require('node:test')
const assert = require('node:assert/strict')
const memwatch = require('..')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, runChild, runScenario, turns, variants } = require('./helpers')

const ORDER_GROWTH = path.join(__dirname, 'fixtures', 'order-growth.js')

const V8 = memwatch.backend === 'v8'
const onV8 = { skip: !V8 && 'a census needs the V8 backend' }

// Reports within seconds instead of minutes: a short grace period and
// frequent probes; repeats every 2 s.
const QUICK = {
  graceMs: 4000,
  minDurationMs: 2000,
  probeMinIntervalMs: 250,
  probeSuspectIntervalMs: 300,
  repeatMs: 2000,
}

function checkSuspects(suspects, what) {
  assert.ok(Array.isArray(suspects) && suspects.length >= 1 && suspects.length <= 10, `${what}: ${JSON.stringify(suspects)}`)
  let prev = null
  for (const s of suspects) {
    assert.deepEqual(Object.keys(s), ['what', 'count', 'size_bytes'])
    assert.ok(s.size_bytes > 0 || (s.size_bytes === 0 && s.count > 0), `${what}: ${s.what} grew`)
    if (prev) {
      assert.ok(prev.size_bytes > s.size_bytes || (prev.size_bytes === s.size_bytes && prev.count >= s.count), `${what}: largest growth first`)
    }
    prev = s
  }
}

for (const backend of variants(V8 ? ['v8', 'fallback'] : ['fallback'])) {
  test(`a service leaking Session objects into a Map: suspects[0] is Session (${backend} backend)`, async () => {
    const env = { LEAK_ONLY: '1', MEMWATCH_TEST_CONFIG: JSON.stringify(QUICK), MEMWATCH_FORCE_FALLBACK: backend === 'fallback' ? '1' : '' }
    const run = await runScenario('session-leak', 14, { env })
    assert.equal(run.status, 0, run.stderr)
    const leaks = run.events.filter((e) => e.type === 'leak')
    assert.ok(leaks.length >= 1, `no leak reported in 14 s: ${run.stderr}`)
    if (backend === 'fallback') {
      // No census on the fallback backend: no suspects, rather than wrong ones.
      for (const l of leaks) assert.equal(l.suspects, undefined)
      return
    }
    for (const l of leaks) {
      checkSuspects(l.suspects, `report ${l.repeat}`)
      assert.equal(l.suspects[0].what, 'Session', JSON.stringify(l.suspects))
      assert.ok(l.suspects[0].count > 1000)
    }
    // Repeats compare with the leak's first census, not with the previous
    // report: the growth they show only increases.
    for (let i = 1; i < leaks.length; i++) {
      assert.ok(leaks[i].suspects[0].count > leaks[i - 1].suspects[0].count, 'a repeat shows the growth since the leak began')
    }
  })
}

/** Runs `fn` with the classic rule reporting every growing full GC. */
async function everyGrowth(options, fn) {
  const defaults = memwatch.configure()
  // Finish whatever GC V8 has in progress first: a full GC of its own
  // between configure() and the test's first gc() would be the detector's
  // first sample, and the test's gc() a report with no reference census.
  memwatch.gc()
  memwatch.configure({ rule: 'classic', classicStreak: 1, ...options })
  try {
    return await fn()
  } finally {
    memwatch.removeAllListeners('leak')
    memwatch.configure(defaults)
  }
}

/** The used heap after a `memwatch.gc()`, for the messages of these tests. */
function base() {
  return memwatch.gc().used_heap_size
}

// Objects a test keeps alive, in a function of their own (no register of a
// running frame holds the last one). The classic rule reports a full GC
// whose used heap exceeds the previous one's. With nothing allocated
// between two gc() calls that figure still moves: by tens of KB, at times
// by ~170 KB either way (V8's own code and caches). 1,000 new Orders (~40
// KB) once failed to show as growth on Node 24; each step of growth here is
// at least 10,000 objects (0.3–0.5 MB), well over that noise.
const kept = (globalThis.suspectsTestKeep = [])
function grow(Cls, n) {
  for (let i = 0; i < n; i++) kept.push(new Cls(i))
}

class Order {
  constructor(i) {
    this.id = i
    this.total = i * 3
    this.items = null
  }
}
class Invoice {
  constructor(i) {
    this.id = i
  }
}

test('suspects in process: the growth since watching began, taken before the leak event', onV8, async () => {
  await everyGrowth({}, async () => {
    const seen = []
    memwatch.on('leak', (l) => seen.push(l.suspects))
    const bases = [base()] // watching begins: the reference census
    grow(Order, 30_000)
    bases.push(base()) // a leak: its census and suspects
    grow(Order, 10_000)
    grow(Invoice, 5000)
    bases.push(base())
    await turns(4)
    assert.equal(seen.length, 2, `two growing GCs, two reports; used heap after each gc(): ${bases}`)
    for (const s of seen) checkSuspects(s, 'in process')
    assert.deepEqual(seen[0][0].what, 'Order')
    assert.equal(seen[0][0].count, 30_000)
    // The classic rule reports each streak as a new leak, all compared with
    // the same reference while the heap has not been judged flat again.
    assert.equal(seen[1][0].what, 'Order')
    assert.equal(seen[1][0].count, 40_000)
    const invoice = seen[1].find((s) => s.what === 'Invoice')
    assert.deepEqual([invoice.count, invoice.size_bytes % 5000], [5000, 0])
  })
  kept.length = 0
})

test('suspects: off with configure({ suspects: false }); a new leak listener starts from a new census', onV8, async () => {
  await everyGrowth({ suspects: false }, async () => {
    const seen = []
    memwatch.on('leak', (l) => seen.push(l))
    const bases = [base()]
    grow(Order, 20_000)
    bases.push(base())
    await turns(4)
    assert.equal(seen.length, 1, `used heap after each gc(): ${bases}`)
    assert.equal(seen[0].suspects, undefined)
    assert.ok(!('suspects' in seen[0]), 'absent, not undefined-valued')
  })
  await everyGrowth({}, async () => {
    const first = []
    memwatch.on('leak', (l) => first.push(l.suspects))
    const bases = [base()]
    grow(Order, 10_000)
    bases.push(base())
    await turns(4)
    memwatch.removeAllListeners('leak')
    // Growth while nobody listens is not a suspect of the next listener.
    grow(Order, 20_000)
    const second = []
    memwatch.on('leak', (l) => second.push(l.suspects))
    // Watching begins again: this GC grew (the classic rule reports it),
    // but there is no reference yet, so no suspects rather than growth from
    // before the listener; its census becomes the reference.
    bases.push(base())
    grow(Invoice, 15_000)
    bases.push(base())
    await turns(4)
    assert.equal(first.length, 1, `used heap after each gc(): ${bases}`)
    assert.equal(first[0][0].count, 10_000)
    assert.equal(second.length, 2, `used heap after each gc(): ${bases}`)
    assert.equal(second[0], undefined)
    assert.equal(second[1][0].what, 'Invoice')
    assert.equal(second[1].find((s) => s.what === 'Order'), undefined, JSON.stringify(second[1]))
  })
  kept.length = 0
})

test('no census symbols: leak events carry no suspects, and nothing else changes', () => {
  const r = runChild(
    `
    const memwatch = require(${JSON.stringify(ROOT)})
    memwatch.configure({ rule: 'classic', classicStreak: 1 })
    const seen = []
    memwatch.on('leak', (l) => seen.push('suspects' in l))
    const keep = []
    for (let i = 0; i < 3; i++) { keep.push(new Array(300_000).fill(i)); memwatch.gc() }
    setTimeout(() => console.log(JSON.stringify({ seen, backend: memwatch.backend, suspects: memwatch.configure().suspects })), 50)
  `,
    { env: { MEMWATCH_HIDE_SYMBOLS: 'HasRealNamedProperty' } },
  )
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.seen, [false, false])
  assert.equal(out.suspects, true, 'the setting stays on; there is just no census to take')
})

// The censuses behind `suspects` run only on heaps up to
// `suspectsMaxHeapBytes`: over it, no census is taken (V8's full GCs of a
// census are missing from the GCs Node's perf_hooks see) and each report
// says why it has no suspects. The same child, same growth, three settings.
test('suspects over suspectsMaxHeapBytes: no census is taken and each leak says why', onV8, () => {
  const child = (config) => {
    const r = spawnSync(process.execPath, [ORDER_GROWTH, JSON.stringify(config)], { encoding: 'utf8', timeout: 120_000 })
    assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
    return JSON.parse(r.stdout)
  }
  const off = child({ suspects: false })
  const over = child({ suspectsMaxHeapBytes: 1024 })
  const under = child({ suspectsMaxHeapBytes: 2 ** 40 })
  assert.equal(over.config.suspectsMaxHeapBytes, 1024)
  assert.equal(memwatch.configure().suspectsMaxHeapBytes, 128 * 2 ** 20, 'the default: 128 MiB')
  for (const run of [off, over, under]) assert.equal(run.seen.length, 3, 'three growing GCs, three reports')
  // Under the bound: suspects, and the censuses' own full GCs.
  assert.deepEqual(
    under.seen.map((l) => [l.suspects[0].what, l.suspects[0].count]),
    [
      ['Order', 20000],
      ['Order', 40000],
      ['Order', 60000],
    ],
  )
  for (const l of under.seen) assert.ok(!('suspectsSkipped' in l), JSON.stringify(l))
  // Each census runs at least two full GCs (V8's CollectAllAvailableGarbage):
  // four censuses here (the reference, three reports). One full GC of V8's
  // own may come or go.
  assert.ok(under.majors >= off.majors + 2 * 4 - 1, `censuses run full GCs: ${under.majors} majors with them, ${off.majors} without`)
  // Over it: as many full GCs as with suspects off, and a reason.
  assert.ok(Math.abs(over.majors - off.majors) <= 1, `no census over the bound: ${over.majors} majors, ${off.majors} with suspects off`)
  for (const l of over.seen) {
    assert.ok(!('suspects' in l), 'absent, never guessed')
    assert.match(l.suspectsSkipped, /^no census for this report: the live heap \(\d+ MB\) is over suspectsMaxHeapBytes \(1 KB\): a census would pause this thread for (under|about) [\d.]+ s( \(at the \d+ ms per MB its last census took\))? and need about \d+ MB more memory; raise suspectsMaxHeapBytes to allow it, or startSampling\(\) for the allocation sites that grew, at a fraction of the cost$/)
  }
  // Off: neither suspects nor a reason (nobody asked for them).
  for (const l of off.seen) assert.deepEqual(['suspects' in l, 'suspectsSkipped' in l], [false, false])
})

// A skipped census names the pause it would have cost. Once this thread
// has timed a suspects' census of a heap big enough to say (32 MiB), the
// figure is that rate, and the message says where it comes from.
test('a skipped census names the pause rate this thread measured', onV8, async () => {
  const ballast = (globalThis.suspectsTestBallast = [])
  for (let i = 0; i < 400_000; i++) ballast.push({ id: i, name: 'b' + i, tags: [i, i] })
  try {
    await everyGrowth({ suspectsMaxHeapBytes: 2 ** 40 }, async () => {
      const seen = []
      memwatch.on('leak', (l) => seen.push(l))
      const before = memwatch.gc()
      assert.ok(before.used_heap_size >= 40 * 2 ** 20, `a heap of 40 MB or more: ${before.used_heap_size}`)
      grow(Order, 20_000)
      const after = base() // a report: both censuses taken and timed
      await turns(4)
      assert.equal(seen.length, 1, `used heap after each gc(): ${before.used_heap_size},${after}`)
      assert.equal(seen[0].suspects[0].what, 'Order')
      memwatch.configure({ suspectsMaxHeapBytes: 1024 })
      for (let i = 0; i < 3 && !seen.some((l) => l.suspectsSkipped); i++) {
        grow(Order, 20_000)
        memwatch.gc()
        await turns(4)
      }
      const skipped = seen.find((l) => l.suspectsSkipped)
      assert.ok(skipped, `a report over the bound: ${JSON.stringify(seen.map((l) => Object.keys(l)))}`)
      const m = /would pause this thread for (?:under 0\.1|about [\d.]+) s \(at the (\d+) ms per MB its last census took\) and need about/.exec(skipped.suspectsSkipped)
      assert.ok(m, skipped.suspectsSkipped)
      // Whatever the machine's load, a census of a 40 MB heap takes more
      // than a millisecond per MB (its full GCs alone do) and less than a
      // second per MB.
      assert.ok(Number(m[1]) >= 1 && Number(m[1]) < 1000, m[0])
    })
  } finally {
    ballast.length = 0
    kept.length = 0
  }
})

test('configure({ suspectsMaxHeapBytes }) takes a byte count', () => {
  const defaults = memwatch.configure()
  try {
    assert.equal(memwatch.configure({ suspectsMaxHeapBytes: 0 }).suspectsMaxHeapBytes, 0)
    assert.throws(() => memwatch.configure({ suspectsMaxHeapBytes: -1 }), { name: 'RangeError', message: 'memwatch.configure(): suspectsMaxHeapBytes must be an integer from 0 to 9007199254740991, got -1' })
    assert.throws(() => memwatch.configure({ suspectsMaxHeapBytes: 1.5 }), { name: 'TypeError', message: 'memwatch.configure(): suspectsMaxHeapBytes must be an integer, got number 1.5' })
    assert.throws(() => memwatch.configure({ suspectsMaxHeapBytes: '1GB' }), { name: 'TypeError', message: 'memwatch.configure(): suspectsMaxHeapBytes must be an integer, got the string "1GB"' })
    assert.equal(memwatch.configure().suspectsMaxHeapBytes, 0, 'a rejected call changes nothing')
  } finally {
    memwatch.configure(defaults)
  }
})
