'use strict'

// memwatch.census() and census HeapDiffs: exact counts for known
// allocations, HeapDiff's group names, no user code run during a census,
// censuses from inside listeners and callbacks, workers, bad input, and
// where a census is not available. Leak `suspects`: census-suspects.test.js.

const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const memwatch = require('..')
const { ROOT, runChild, turns } = require('./helpers')

const V8 = memwatch.backend === 'v8'
const onV8 = { skip: !V8 && 'a census needs the V8 backend' }
const onFallback = { skip: V8 && 'runs on the fallback backend' }
const SIZE_RE = /^-?(\d+ bytes|\d+\.\d\d kb|\d+\.\d\d mb)$/
const OWN = new Set(['HeapDiff', 'NativeHeapDiff'])

// Objects the tests make, kept reachable from a global so that no optimizing
// compiler can consider them dead before a census runs.
const keep = (globalThis.censusTestKeep = [])

function group(census, what) {
  return census.groups.find((g) => g.what === what)
}

function detail(d, what) {
  return d.change.details.find((x) => x.what === what)
}

/**
 * Keeps `n` results of `make(i)`. A function of its own: a census diff
 * counts net changes, so the last object made must not linger in a
 * register of a frame that is still running (see the README's note on
 * baseline-compiled frames) when a test frees them all.
 */
function makeKept(n, make) {
  for (let i = 0; i < n; i++) keep.push(make(i))
}

async function waitFor(cond, what, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** census()'s shape and the invariants that tie its numbers together. */
function checkCensus(c, { t0, t1 }) {
  assert.deepEqual(Object.keys(c), ['time', 'objects', 'size_bytes', 'groups'])
  assert.ok(c.time instanceof Date)
  assert.ok(c.time.getTime() >= t0 && c.time.getTime() <= t1, 'taken during the call')
  assert.ok(Number.isInteger(c.objects) && c.objects > 1000)
  let count = 0
  let bytes = 0
  let prev = null
  for (const g of c.groups) {
    assert.deepEqual(Object.keys(g), ['what', 'count', 'size_bytes'])
    assert.equal(typeof g.what, 'string')
    assert.ok(g.what.length > 0)
    assert.ok(Number.isInteger(g.count) && g.count > 0, `${g.what}: count ${g.count}`)
    assert.ok(Number.isInteger(g.size_bytes) && g.size_bytes >= 0)
    if (prev) {
      assert.ok(
        prev.size_bytes > g.size_bytes || (prev.size_bytes === g.size_bytes && prev.count >= g.count),
        `largest first: ${prev.what} before ${g.what}`,
      )
    }
    prev = g
    count += g.count
    bytes += g.size_bytes
  }
  assert.equal(new Set(c.groups.map((g) => g.what)).size, c.groups.length, 'one entry per group')
  assert.equal(count, c.objects, 'groups add up to objects')
  assert.equal(bytes, c.size_bytes, 'groups add up to size_bytes')
}

/** A census diff has HeapDiff's shape, marked census: true, and adds up. */
function checkCensusDiff(d) {
  assert.deepEqual(Object.keys(d), ['before', 'after', 'change', 'census'])
  assert.equal(d.census, true)
  for (const side of [d.before, d.after]) {
    assert.deepEqual(Object.keys(side), ['nodes', 'size_bytes', 'size', 'time'])
    assert.ok(Number.isInteger(side.nodes) && side.nodes > 1000)
    assert.match(side.size, SIZE_RE)
    assert.ok(side.time instanceof Date)
  }
  assert.ok(d.before.time <= d.after.time)
  const c = d.change
  assert.deepEqual(Object.keys(c), ['size_bytes', 'size', 'freed_nodes', 'allocated_nodes', 'details'])
  assert.equal(c.size_bytes, d.after.size_bytes - d.before.size_bytes)
  assert.equal(d.before.nodes - c.freed_nodes + c.allocated_nodes, d.after.nodes)
  let sum = 0
  let prev = Infinity
  for (const x of c.details) {
    assert.deepEqual(Object.keys(x), ['what', 'size_bytes', 'size', '+', '-'])
    assert.ok(x['+'] === 0 || x['-'] === 0, `${x.what}: a net change is + or -, not both`)
    assert.ok(Math.abs(x.size_bytes) <= prev, 'details are sorted by absolute size')
    prev = Math.abs(x.size_bytes)
    sum += x.size_bytes
    assert.ok(!OWN.has(x.what), `the HeapDiff's own ${x.what} is counted`)
  }
  assert.equal(sum, c.size_bytes, 'details add up to the change')
  assert.equal(
    c.details.reduce((n, x) => n + x['+'], 0),
    c.allocated_nodes,
  )
  assert.equal(
    c.details.reduce((n, x) => n + x['-'], 0),
    c.freed_nodes,
  )
}

test('census(): every live object of a known class counted exactly, with its shallow size', onV8, () => {
  class Foo {
    constructor(i) {
      this.i = i
      this.j = -i
    }
  }
  const t0 = Date.now()
  const before = memwatch.census()
  for (let i = 0; i < 10_000; i++) keep.push(new Foo(i))
  const after = memwatch.census()
  const t1 = Date.now()
  checkCensus(before, { t0, t1 })
  checkCensus(after, { t0, t1 })
  assert.equal(group(before, 'Foo'), undefined)
  const foo = group(after, 'Foo')
  assert.equal(foo.count, 10_000)
  // A class instance with two fields: header (map, properties, elements)
  // plus its in-object fields, 8-byte words; the same for every instance.
  assert.equal(foo.size_bytes % 10_000, 0)
  const each = foo.size_bytes / 10_000
  assert.ok(each >= 40 && each % 8 === 0, `${each} bytes per Foo`)
  keep.length = 0
  assert.equal(group(memwatch.census(), 'Foo'), undefined, 'freed objects are not counted')
})

test('a census HeapDiff: 10,000 Foo are +10000, with the exact HeapDiff\'s bytes', onV8, () => {
  class Foo {
    constructor(i) {
      this.i = i
    }
  }
  const hd = new memwatch.HeapDiff({ census: true })
  makeKept(10_000, (i) => new Foo(i))
  const d = hd.end()
  checkCensusDiff(d)
  const foo = detail(d, 'Foo')
  assert.deepEqual([foo['+'], foo['-']], [10_000, 0])

  const exact = new memwatch.HeapDiff()
  makeKept(10_000, (i) => new Foo(i))
  const e = exact.end()
  assert.equal(foo.size_bytes, detail(e, 'Foo').size_bytes, 'census sizes are heap-snapshot self sizes')
  assert.equal(e.census, undefined, 'an exact HeapDiff is not marked')
  assert.deepEqual(Object.keys(e), ['before', 'after', 'change'])

  // Freed objects are net -N.
  const hd2 = new memwatch.HeapDiff({ census: true })
  keep.length = 0
  const d2 = hd2.end()
  checkCensusDiff(d2)
  assert.deepEqual([detail(d2, 'Foo')['+'], detail(d2, 'Foo')['-']], [0, 20_000])
  assert.throws(() => hd2.end(), { name: 'Error', message: /already called/ })
})

// Allocations whose group a census diff and an exact HeapDiff must name
// alike, in batches whose groups differ: [label, group, make(i), objects of
// the group per call]. N calls of each are made between the captures.
const N = 300
const wasmExport = new WebAssembly.Instance(
  new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 4, 1, 2, 0, 11])),
).exports.f
const wasmProto = { constructor: wasmExport }
const makeVmThings = vm.runInNewContext('class VmThing { constructor(i) { this.i = i } }; (i) => new VmThing(i)')
class Widget {
  constructor(i) {
    this.i = i
  }
}
class MyError extends Error {}
class GetterTag {
  get [Symbol.toStringTag]() {
    return 'FromGetter'
  }
}
class DataTag {}
DataTag.prototype[Symbol.toStringTag] = 'TagOnPrototype'
const BATCHES = [
  [
    ['arrays', 'Array', () => []],
    ['arrow functions', 'Closure', (i) => () => i],
    ['class instances', 'Widget', (i) => new Widget(i)],
    ['class instances from a vm context', 'VmThing', (i) => makeVmThings(i)],
    ['Error subclasses', 'MyError', () => new MyError('x')],
    ['Maps', 'Map', () => new Map()],
    ['Promises', 'Promise', () => Promise.resolve(1)],
    ['WeakRefs', 'WeakRef', () => new WeakRef(keep)],
    ['String wrappers', 'String', () => new String('s')],
    ['RegExps', 'RegExp', (i) => new RegExp(`a${i}`)],
    ['Dates', 'Date', () => new Date(0)],
    ['a getter @@toStringTag (ignored, as snapshots ignore it)', 'GetterTag', () => new GetterTag()],
  ],
  [
    ['bound functions (and the functions they bind)', 'Closure', (i) => function () {}.bind(null, i), 2],
    ['Object.create(null)', 'Object', () => Object.create(null)],
    // Named as V8 names it in a snapshot (null: whatever the exact diff says).
    ['a data @@toStringTag on the prototype', null, () => new DataTag()],
  ],
  [
    ['async functions', 'Closure', () => async function () {}],
    ['object literals', 'Object', (i) => ({ i })],
    ['a WebAssembly export as constructor', null, () => Object.create(wasmProto)],
  ],
]
// Groups the exact diff also fills with V8's internal objects.
const INTERNAL = ['Array', 'ObjectShape', 'Hidden', 'Object', 'Closure', 'String', 'Code', 'system / Context']

test('a census diff names groups as the exact HeapDiff does: arrays, closures, classes (vm contexts too), tags', onV8, () => {
  const makeAll = (batch) => {
    for (const [, , f] of batch) makeKept(N, f)
  }
  for (const batch of BATCHES) {
    const exact = new memwatch.HeapDiff()
    makeAll(batch)
    const e = exact.end()
    const census = new memwatch.HeapDiff({ census: true })
    makeAll(batch)
    const c = census.end()
    keep.length = 0
    for (const [label, what, , per = 1] of batch) {
      const name = what || e.change.details.find((x) => x['+'] === N && !INTERNAL.includes(x.what))?.what
      assert.ok(name, `${label}: the exact diff has a group with +${N}`)
      const ed = detail(e, name)
      assert.ok(ed && ed['+'] >= N * per, `${label}: exact diff ${name} ${ed && ed['+']}`)
      const cd = detail(c, name)
      assert.ok(cd, `${label}: the census diff has no ${name} group (${c.change.details.map((x) => x.what).join(', ')})`)
      // Busy groups may also see a few objects of the test runner come and
      // go; the others are exact, bytes included.
      if (['Object', 'Array', 'Closure'].includes(name)) {
        assert.ok(Math.abs(cd['+'] - N * per) <= 5, `${label}: census ${name} +${cd['+']}`)
      } else {
        assert.equal(cd['+'], N * per, `${label}: census ${name}`)
        if (ed['+'] === N * per) assert.equal(cd.size_bytes, ed.size_bytes, `${label}: ${name} bytes`)
      }
    }
  }
})

test('own @@toStringTag values name objects one by one, like a heap snapshot', onV8, () => {
  const hd = new memwatch.HeapDiff({ census: true })
  // One shape (one V8 map), three names.
  makeKept(90, (i) => ({ [Symbol.toStringTag]: ['TagA', 'TagB', 'TagC'][i % 3], v: i }))
  // A non-string tag does not name the object.
  makeKept(10, (i) => ({ [Symbol.toStringTag]: 42, w: i }))
  const d = hd.end()
  keep.length = 0
  for (const tag of ['TagA', 'TagB', 'TagC']) assert.equal(detail(d, tag)['+'], 30, tag)
  assert.equal(detail(d, '42'), undefined)
})

test('no user code runs during a census: getters, proxies with every trap, a name getter', onV8, () => {
  let ran = 0
  const count = () => ran++
  class TagGetter {
    get [Symbol.toStringTag]() {
      count()
      return 'no'
    }
  }
  class CtorGetter {}
  Object.defineProperty(CtorGetter.prototype, 'constructor', {
    get() {
      count()
      return Object
    },
  })
  class NameGetter {
    static get name() {
      count()
      return 'no'
    }
  }
  const traps = {}
  for (const t of Object.getOwnPropertyNames(Reflect)) {
    traps[t] = (...args) => {
      count()
      return Reflect[t](...args)
    }
  }
  const proxied = new Proxy({ constructor: function Hidden() {} }, traps)
  for (let i = 0; i < 100; i++) {
    keep.push(new TagGetter(), new CtorGetter(), new NameGetter(), Object.create(proxied), Object.create(Object.create(proxied)))
  }
  const c = memwatch.census()
  assert.equal(ran, 0, 'user code ran during the census')
  assert.equal(group(c, 'TagGetter').count, 100)
  assert.equal(group(c, 'CtorGetter').count, 100)
  assert.equal(group(c, 'NameGetter').count, 100)
  assert.equal(group(c, 'no'), undefined)
  assert.equal(group(c, 'Hidden'), undefined, 'a proxy is not looked through')
  keep.length = 0
})

test('a WebAssembly export as constructor on 300,000 objects: every one counted', onV8, () => {
  // Naming such an object allocates inside V8's heap walk; per object, that
  // would run a GC mid-walk and lose objects.
  const proto = { constructor: wasmExport }
  const many = []
  for (let i = 0; i < 300_000; i++) many.push(Object.create(proto))
  keep.push(many)
  const c = memwatch.census()
  const named = c.groups.filter((g) => g.count === 300_000)
  assert.equal(named.length, 1, c.groups.slice(0, 5).map((g) => `${g.what}:${g.count}`).join(', '))
  keep.length = 0
})

test('strings and proxies are not counted; small typed arrays move off-heap once, not per census', onV8, () => {
  class Target {}
  class Handler {}
  const c0 = memwatch.census()
  makeKept(5000, (i) => `string number ${i}`)
  makeKept(500, () => new Proxy(new Target(), new Handler()))
  makeKept(1000, () => new Uint8Array(8))
  const c1 = memwatch.census()
  const c2 = memwatch.census()
  keep.length = 0
  const n = (c, what) => group(c, what)?.count || 0
  assert.equal(n(c1, 'String') - n(c0, 'String'), 0, 'strings are not JS objects')
  // A proxy is not a JS object; its target and handler are.
  assert.deepEqual([n(c1, 'Target'), n(c1, 'Handler')], [500, 500])
  assert.ok(!c1.groups.some((g) => g.count === 500 && g.what !== 'Target' && g.what !== 'Handler'), 'no group for the proxies')
  assert.equal(n(c1, 'Uint8Array') - n(c0, 'Uint8Array'), 1000)
  assert.ok(n(c1, 'ArrayBuffer') - n(c0, 'ArrayBuffer') >= 1000, 'each small typed array got its ArrayBuffer')
  assert.equal(n(c2, 'ArrayBuffer'), n(c1, 'ArrayBuffer'), 'a second census moves nothing more')
})

test('census() inside stats and leak listeners and trackGC callbacks: exact counts, no stats events of its own', onV8, async () => {
  class Inside {}
  for (let i = 0; i < 1234; i++) keep.push(new Inside())
  const defaults = memwatch.configure()
  memwatch.configure({ rule: 'classic', classicStreak: 1 })
  const counts = { stats: [], leak: [], trackGC: [] }
  let statsEvents = 0
  const onStats = () => {
    statsEvents++
    counts.stats.push(group(memwatch.census(), 'Inside')?.count)
  }
  const onLeak = (l) => counts.leak.push([group(memwatch.census(), 'Inside')?.count, l.suspects !== undefined])
  memwatch.on('stats', onStats)
  memwatch.on('leak', onLeak)
  try {
    const gcsBefore = memwatch.leakStatus().gcs
    memwatch.gc()
    keep.push(new Array(500_000).fill(0))
    memwatch.gc()
    ;(() => memwatch.trackGC({}, () => counts.trackGC.push(group(memwatch.census(), 'Inside')?.count)))()
    memwatch.gc()
    await waitFor(() => counts.trackGC.length === 1 && counts.stats.length === 3 && counts.leak.length >= 1, 'the listeners and the callback')
    await turns(4)
    assert.deepEqual(counts.stats, [1234, 1234, 1234])
    assert.deepEqual(counts.trackGC, [1234])
    assert.ok(counts.leak.every(([n, suspects]) => n === 1234 && suspects), JSON.stringify(counts.leak))
    assert.equal(statsEvents, 3, 'three gc() calls, three stats events: the censuses caused none')
    assert.equal(memwatch.leakStatus().gcs - gcsBefore, 3, "the censuses' GCs were not fed to the detector")
  } finally {
    memwatch.off('stats', onStats)
    memwatch.off('leak', onLeak)
    memwatch.configure(defaults)
    keep.length = 0
  }
})

test('the memory a census frees into the allocator goes back to the system a second later, and a census diff reuses it first', onV8, () => {
  // V8's reachability filter takes ~40 bytes per live object (1M here)
  // and frees them into the C allocator when the census returns.
  const r = runChild(`
    const memwatch = require(${JSON.stringify(ROOT)})
    class Small { constructor(i) { this.i = i } }
    globalThis.keep = []
    for (let j = 0; j < 1000; j++) { const a = new Array(1000); for (let i = 0; i < 1000; i++) a[i] = new Small(i); keep.push(a) }
    const rss = () => process.memoryUsage().rss / 1048576
    memwatch.census()
    const after = rss()
    const d = new memwatch.HeapDiff({ census: true })
    const plus = d.end().change.details.filter((x) => x.what === 'Small').length
    const afterDiff = rss()
    setTimeout(() => console.log(JSON.stringify({ after, afterDiff, later: rss(), plus, glibc: Boolean(process.report.getReport().header.glibcVersionRuntime) })), 1500)
  `)
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  const out = JSON.parse(r.stdout)
  assert.equal(out.plus, 0, 'no Small was made or freed')
  if (!out.glibc) return
  assert.ok(out.later < out.afterDiff - 10, `RSS right after the censuses ${out.after.toFixed(0)} / ${out.afterDiff.toFixed(0)} MiB, 1.5 s later ${out.later.toFixed(0)} MiB`)
})

test("a worker's census sees only its own isolate, the main thread's only its own, side by side", onV8, () => {
  const r = runChild(`
    const { Worker } = require('node:worker_threads')
    const memwatch = require(${JSON.stringify(ROOT)})
    class MainOnly {}
    globalThis.main = Array.from({ length: 5000 }, () => new MainOnly())
    const count = (c, what) => (c.groups.find((g) => g.what === what) || { count: 0 }).count
    const w = new Worker(\`
      const memwatch = require(${JSON.stringify(ROOT)})
      const { parentPort } = require('node:worker_threads')
      class WorkerOnly {}
      globalThis.mine = Array.from({ length: 3000 }, () => new WorkerOnly())
      const count = (c, what) => (c.groups.find((g) => g.what === what) || { count: 0 }).count
      const seen = []
      for (let i = 0; i < 3; i++) { const c = memwatch.census(); seen.push([count(c, 'WorkerOnly'), count(c, 'MainOnly')]) }
      const d = new memwatch.HeapDiff({ census: true })
      globalThis.more = Array.from({ length: 700 }, () => new WorkerOnly())
      const plus = d.end().change.details.find((x) => x.what === 'WorkerOnly')['+']
      parentPort.postMessage({ seen, plus })
    \`, { eval: true })
    const seen = []
    let stop = false
    w.on('message', (m) => { stop = true; setTimeout(() => console.log(JSON.stringify({ worker: m, main: seen })), 10) })
    w.on('error', (e) => { console.error(e); process.exit(2) })
    const tick = () => {
      const c = memwatch.census()
      seen.push([count(c, 'MainOnly'), count(c, 'WorkerOnly')])
      if (!stop) setTimeout(tick, 1)
    }
    tick()
  `)
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  assert.equal(r.stderr, '')
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.worker.seen, [
    [3000, 0],
    [3000, 0],
    [3000, 0],
  ])
  assert.equal(out.worker.plus, 700)
  assert.ok(out.main.length >= 1)
  for (const s of out.main) assert.deepEqual(s, [5000, 0])
})

test('bad input: census() arguments, HeapDiff census option, and arguments that change nothing', () => {
  assert.throws(() => memwatch.census(1), { name: 'TypeError', message: 'memwatch.census() takes no arguments (got 1)' })
  assert.throws(() => new memwatch.census(), { name: 'TypeError', message: /not a constructor/ })
  for (const [value, shown] of [
    ['yes', 'the string "yes"'],
    [1, 'number 1'],
    [null, 'null'],
    [undefined, 'undefined'],
    [{}, 'an object'],
  ]) {
    assert.throws(() => new memwatch.HeapDiff({ census: value }), {
      name: 'TypeError',
      message: `new HeapDiff(options): options.census must be a boolean, got ${shown}`,
    })
  }
  // The option is read once; a getter's error propagates.
  let reads = 0
  const once = {
    get census() {
      reads++
      return reads === 1 ? false : 'changed'
    },
  }
  assert.equal(new memwatch.HeapDiff(once).end().census, undefined)
  assert.equal(reads, 1)
  assert.throws(
    () =>
      new memwatch.HeapDiff({
        get census() {
          throw new RangeError('from the getter')
        },
      }),
    { name: 'RangeError', message: 'from the getter' },
  )
  // Anything but an object with a census key is ignored, as memwatch ignored
  // its arguments: an exact diff.
  // (input.test.js checks other arguments.)
  for (const args of [[{}], [{ census: false }]]) {
    const d = new memwatch.HeapDiff(...args).end()
    assert.deepEqual(Object.keys(d), ['before', 'after', 'change'], JSON.stringify(args))
  }
  assert.throws(() => memwatch.configure({ suspects: 1 }), { name: 'TypeError', message: /suspects must be a boolean, got number 1/ })
  assert.equal(memwatch.configure().suspects, true)
})

test('the fallback backend: census() and census HeapDiffs throw an Error that says why', onFallback, () => {
  for (const f of [() => memwatch.census(), () => new memwatch.HeapDiff({ census: true })]) {
    assert.throws(f, (e) => {
      assert.equal(e.constructor, Error)
      assert.match(e.message, /a heap census is not available in this thread: memwatch-rs runs on its fallback backend/)
      assert.match(e.message, /v8\.queryObjects\(\) cannot make one/)
      assert.match(e.message, /Use new HeapDiff\(\) for an exact diff/)
      return true
    })
  }
  // The exact HeapDiff still works.
  assert.ok(new memwatch.HeapDiff().end().after.nodes > 0)
})

test('a node binary without QueryObjects: census() says which symbol is missing; the rest works', () => {
  const r = runChild(
    `
    const memwatch = require(${JSON.stringify(ROOT)})
    let message = null
    try { memwatch.census() } catch (e) { message = e.constructor.name + ': ' + e.message }
    const diff = new memwatch.HeapDiff().end()
    console.log(JSON.stringify({ backend: memwatch.backend, message, nodes: diff.after.nodes > 0, gc: memwatch.gc().forced }))
  `,
    { env: { MEMWATCH_HIDE_SYMBOLS: 'QueryObjects' } },
  )
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual([out.nodes, out.gc], [true, true])
  if (out.backend === 'v8') {
    assert.equal(r.stderr, '', 'a missing census symbol costs no warning: only census() is lost')
    assert.match(out.message, /^Error: memwatch\.census\(\): a heap census is not available in this thread: this node binary does not export _ZN2v812HeapProfiler12QueryObjects/)
  } else {
    assert.match(out.message, /^Error: .*fallback backend/)
  }
})

test('census is exported to ESM too', () => {
  const r = runChild(
    `import memwatch, { census } from 'memwatch-rs'
     console.log(census === memwatch.census && typeof census)`,
    { args: ['--input-type=module'] },
  )
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'function')
})
