'use strict'

// memwatch-rs/testing: expectCollected, assertNoLeak and LeakError, on real
// objects and real GCs in this process (the runners' own tests are in
// runners.test.js). The rule's arithmetic is tested on plain numbers first.

const test = require('node:test')
const assert = require('node:assert/strict')
const vm = require('node:vm')
const memwatch = require('..')
const native = require('../binding.js')
const { expectCollected, assertNoLeak, LeakError } = require('memwatch-rs/testing')
const rule = require('../lib/leak-rule.js')
const measure = require('../lib/heap-measure.js')
const { snapshotCensus } = require('./fixtures/snapshot-census.js')
const { fullOnly } = require('./helpers')

class Foo {
  constructor(i) {
    this.i = i
  }
}

// ------------------------------------------------------------------ rule

test('rule: batches of 1 : 2 : 3 that add up to the calls', () => {
  assert.deepEqual(rule.batchSizes(60), [10, 20, 30])
  assert.deepEqual(rule.batchSizes(6), [1, 2, 3])
  for (const n of [7, 13, 100, 1001]) {
    const s = rule.batchSizes(n)
    assert.equal(s[0] + s[1] + s[2], n)
    assert.ok(s[0] >= 1 && s[0] < s[1] && s[1] < s[2], `${n}: ${s}`)
  }
})

test('rule: growth proportional to the calls at the floor or above is growth; one-time, constant and noisy growth is not', () => {
  const sizes = [10, 20, 30]
  const floor = rule.FLOOR.objects
  assert.equal(rule.growsWithCalls(sizes, [10, 20, 30], floor), true, 'one object per call')
  assert.equal(rule.growsWithCalls(sizes, [5, 10, 15], floor), true, 'one object every other call')
  assert.equal(rule.growsWithCalls(sizes, [60, 70, 80], floor), true, 'a leak plus a constant per batch')
  assert.equal(rule.growsWithCalls(sizes, [3, 6, 9], floor), false, 'below the floor')
  assert.equal(rule.growsWithCalls(sizes, [40, 0, 0], floor), false, 'a cache filled in the first batch')
  assert.equal(rule.growsWithCalls(sizes, [40, 40, 40], floor), false, 'the same growth whatever the batch size')
  assert.equal(rule.growsWithCalls(sizes, [1, 0, 3], floor), false, 'noise')
  assert.equal(rule.growsWithCalls(sizes, [10, -5, 30], floor), false, 'shrank in one batch')
  assert.equal(rule.growsWithCalls(sizes, [30, 20, 10], floor), false, 'growth that slows down with bigger batches')
  assert.equal(rule.growsWithCalls(sizes, [NaN, 20, 30], floor), false)
})

test('rule: suspects by count or bytes, V8 internals and ignored groups left out, most bytes first', () => {
  const sizes = [10, 20, 30]
  const groups = new Map([
    ['Foo', { counts: [10, 20, 30], bytes: [320, 640, 960] }],
    ['Array', { counts: [0, 0, 0], bytes: [800, 1600, 2400] }], // one array growing in place
    ['Code', { counts: [10, 20, 30], bytes: [1000, 2000, 3000] }],
    ['Hidden', { counts: [10, 20, 30], bytes: [1000, 2000, 3000] }],
    ['(system)', { counts: [10, 20, 30], bytes: [1000, 2000, 3000] }],
    ['Bar', { counts: [10, 20, 30], bytes: [160, 320, 480] }],
    ['Cache', { counts: [40, 0, 0], bytes: [4000, 0, 0] }],
  ])
  const found = rule.suspects(sizes, groups, ['Bar'])
  assert.deepEqual(
    found.map((s) => [s.what, s.perIteration, s.bytesPerIteration, s.rule]),
    [
      ['Array', 0, 80, 'bytes'],
      ['Foo', 1, 32, 'objects'],
    ],
  )
  assert.deepEqual(found[1].counts, [10, 20, 30])
  assert.deepEqual(found[1].bytes, [320, 640, 960])
})

test('rule: candidates of a whole run need half the floor; growingSoFar stops a run early', () => {
  const totals = new Map([
    ['Foo', [30, 960]],
    ['Bar', [14, 100]],
    ['Big', [0, 480]],
    ['Code', [1000, 100000]],
  ])
  assert.deepEqual(rule.candidates(60, totals), ['Foo', 'Big'])
  assert.deepEqual(rule.candidates(60, totals, ['Big']), ['Foo'])
  const sizes = [10, 20, 30]
  assert.equal(rule.growingSoFar(sizes, 1, { counts: [5, 0, 0], bytes: [0, 0, 0] }), true)
  assert.equal(rule.growingSoFar(sizes, 1, { counts: [2, 0, 0], bytes: [79, 0, 0] }), false)
  assert.equal(rule.growingSoFar(sizes, 1, { counts: [0, 0, 0], bytes: [80, 0, 0] }), true)
  assert.equal(rule.growingSoFar(sizes, 2, { counts: [5, 4, 0], bytes: [0, 0, 0] }), false)
  assert.equal(rule.growingSoFar(sizes, 1, undefined), false)
})

// ------------------------------------------------------- expectCollected

const held = []

test('expectCollected resolves once a factory-made object is collected', async () => {
  const registered = native.trackGcCounts().registered
  assert.equal(await expectCollected(() => new Foo(1)), undefined)
  assert.equal(native.trackGcCounts().registered, registered + 1, 'it tracked the object')
})

test('expectCollected waits for an object a timer holds, without a fixed sleep', async () => {
  let fired = false
  await expectCollected(() => {
    const f = new Foo(2)
    setTimeout(() => (fired = f.i === 2), 150)
    return f
  })
  assert.equal(fired, true, 'resolved only after the timer let go')
})

test('expectCollected on an object passed directly, never held in the awaiting frame', async () => {
  await expectCollected(new Foo(3))
})

test('expectCollected rejects with a LeakError naming the group of an object still referenced', async () => {
  const err = await expectCollected(
    () => {
      const f = new Foo(4)
      held.push(f)
      return f
    },
    { timeoutMs: 200 },
  ).catch((e) => e)
  assert.ok(err instanceof LeakError && err instanceof Error, String(err))
  assert.equal(err.name, 'LeakError')
  assert.equal(err.code, 'MEMWATCH_LEAK')
  assert.match(err.message, /^expectCollected: the Foo object was not garbage-collected within 200 ms \(\d+ forced full GCs\)/)
  assert.match(err.message, /\n {2}no retainer path: pass \{ retainers: true \}/)
  assert.equal(err.target.what, 'Foo')
  assert.ok(err.target.gcs >= 3, `at least three GCs, however long they take: ${err.target.gcs}`)
  assert.ok(err.target.waitedMs >= 200)
  assert.deepEqual(err.suspects, [])
  assert.deepEqual(err.retainers, [])
  assert.equal(err.calls, null)
  assert.match(err.stack.split('\n').slice(1).join('\n'), /testing\.test\.js/, 'the stack shows the caller')
  assert.doesNotMatch(err.stack.split('\n').slice(0, 4).join('\n'), /lib\/testing\.js/, 'no frame of the helper first')
})

test('expectCollected { retainers: true }: a heap diff around the object; this build reports no paths and says so', async () => {
  const err = await expectCollected(
    () => {
      const f = new Foo(5)
      held.push(f)
      return f
    },
    { timeoutMs: 100, retainers: true },
  ).catch((e) => e)
  assert.ok(err instanceof LeakError, String(err))
  assert.match(err.message, /\n {2}no retainer path: this build has none$/)
  assert.deepEqual(err.retainers, [])
  // Collected objects never cost the second snapshot.
  await expectCollected(() => new Foo(6), { retainers: true })
})

test("retainer hooks read a HeapDiff result's retainers, and say when there are none", async () => {
  const hd = new memwatch.HeapDiff()
  const kept = [new Foo(7), new Foo(8)]
  const real = hd.end({ retainers: 1 })
  assert.ok(kept.length === 2 && real.change.details.some((d) => d.what === 'Foo' && d['+'] === 2), 'the diff saw the new objects')
  // This build's HeapDiff reports no retainer paths.
  assert.deepEqual(measure.retainersOf(real), [])
  assert.deepEqual(measure.retainerPathOf(real, 'Foo'), { none: 'this build has none' })
  // The shape a build with retainer paths adds to its top groups.
  const withPaths = {
    change: {
      details: [
        { what: 'Foo', '+': 2, '-': 0, size_bytes: 64, retainers: [{ path: '(GC roots) → kept → [0] → Foo', count: 2 }] },
        { what: 'Array', '+': 1, '-': 0, size_bytes: 32, retainers: [] },
        { what: 'Code', '+': 1, '-': 0, size_bytes: 8 },
      ],
    },
  }
  assert.deepEqual(measure.retainersOf(withPaths), [{ what: 'Foo', path: '(GC roots) → kept → [0] → Foo', count: 2 }])
  assert.deepEqual(measure.retainerPathOf(withPaths, 'Foo'), { path: '(GC roots) → kept → [0] → Foo', count: 2 })
  assert.deepEqual(measure.retainerPathOf(withPaths, 'Bar'), { none: 'the heap diff shows no path to a new Bar' })
})

test('expectCollected tracks and names objects of another realm (a vm context, as jest runs tests in)', async () => {
  const ctx = vm.createContext({})
  vm.runInContext('class Widget { constructor() { this.parts = [1, 2, 3] } }; globalThis.make = () => new Widget()', ctx)
  assert.notEqual(Object.getPrototypeOf(Object.getPrototypeOf(ctx.make())), Object.prototype, 'another realm')
  await expectCollected(() => ctx.make())
  const err = await expectCollected(() => vm.runInContext('globalThis.kept = make()', ctx), { timeoutMs: 100 }).catch((e) => e)
  assert.ok(err instanceof LeakError, String(err))
  assert.equal(err.target.what, 'Widget')
  assert.match(err.message, /the Widget object was not garbage-collected/)
})

test('expectCollected on functions: a closure is collected; one still referenced is named', async () => {
  await expectCollected(() => function handler() {})
  const err = await expectCollected(
    () => {
      const fn = function onRequest() {}
      held.push(fn)
      return fn
    },
    { timeoutMs: 100 },
  ).catch((e) => e)
  assert.equal(err.target.what, 'Closure')
  assert.match(err.message, /the function "onRequest" was not garbage-collected/)
})

test('expectCollected: bad input rejects with a TypeError or RangeError naming it, and never throws synchronously', async () => {
  const cases = [
    [[42], TypeError, /target must be an object or a function .*got number 42/],
    [['abc'], TypeError, /target must be an object or a function .*got the string "abc"/],
    [[null], TypeError, /target must be .*got null/],
    [[undefined], TypeError, /target must be .*got undefined/],
    [[Symbol('s')], TypeError, /target must be .*got a symbol/],
    [[() => 7], TypeError, /the factory's return value must be an object or a function .*got number 7/],
    [[async () => ({})], TypeError, /the factory returned a promise/],
    [[{}, null], TypeError, /options must be an object, got null/],
    [[{}, 'fast'], TypeError, /options must be an object, got the string "fast"/],
    [[{}, []], TypeError, /options must be an object, got an array/],
    [[{}, { timeout: 5 }], TypeError, /unknown option "timeout" \(known: timeoutMs, retainers\)/],
    [[{}, { timeoutMs: 0 }], RangeError, /options\.timeoutMs must be from 1 to 2147483647 ms, got number 0/],
    [[{}, { timeoutMs: -5 }], RangeError, /options\.timeoutMs/],
    [[{}, { timeoutMs: NaN }], RangeError, /options\.timeoutMs .*got number NaN/],
    [[{}, { timeoutMs: 2 ** 31 }], RangeError, /options\.timeoutMs/],
    [[{}, { timeoutMs: '5000' }], TypeError, /options\.timeoutMs must be a number of milliseconds, got the string "5000"/],
    [[{}, { retainers: 'yes' }], TypeError, /options\.retainers must be a boolean/],
    [[{}, { retainers: true }], TypeError, /options\.retainers needs the factory form/],
    [[{}, {}, 3], TypeError, /takes at most two arguments \(got 3\)/],
  ]
  for (const [args, type, message] of cases) {
    let pending
    assert.doesNotThrow(() => (pending = expectCollected(...args)))
    await assert.rejects(pending, (err) => err instanceof type && message.test(err.message), `${String(args[0])}: ${message}`)
  }
  const boom = new Error('factory failed')
  await assert.rejects(
    expectCollected(() => {
      throw boom
    }),
    (err) => err === boom,
  )
})

/** What a helper could leave behind: handles, listeners, trackGC registrations, a `gc` global. */
async function leftovers() {
  await measure.turn()
  return {
    resources: [...(await measure.resourceCounts())].sort(),
    memwatchListeners: ['stats', 'leak'].map((e) => memwatch.listenerCount(e)),
    processListeners: ['exit', 'beforeExit', 'uncaughtException', 'unhandledRejection', 'warning'].map((e) => process.listenerCount(e)),
    trackGcLive: native.trackGcCounts().live,
    gcGlobal: [typeof globalThis.gc, vm.runInNewContext('typeof gc')],
  }
}

test('expectCollected leaves no timer, listener, trackGC registration or forced-GC setting behind', async () => {
  const before = await leftovers()
  await expectCollected(() => new Foo(9))
  await expectCollected(() => {
    const f = new Foo(10)
    held.push(f)
    return f
  }, { timeoutMs: 50 }).catch(() => {})
  assert.deepEqual(await leftovers(), before)
  assert.deepEqual(before.gcGlobal, ['undefined', 'undefined'])
})

// ---------------------------------------------------------- assertNoLeak

test('assertNoLeak: bad input rejects with a TypeError or RangeError naming it', async () => {
  const fn = () => {}
  const cases = [
    [[undefined], TypeError, /fn must be a function, got undefined/],
    [[{}], TypeError, /fn must be a function, got an object/],
    [[fn, null], TypeError, /options must be an object, got null/],
    [[fn, { iterations: 0 }], RangeError, /options\.iterations must be an integer from 6 to 10,000,000, got number 0/],
    [[fn, { iterations: -3 }], RangeError, /options\.iterations .*got number -3/],
    [[fn, { iterations: 2.5 }], RangeError, /options\.iterations .*got number 2\.5/],
    [[fn, { iterations: 5 }], RangeError, /options\.iterations/],
    [[fn, { iterations: Infinity }], RangeError, /options\.iterations/],
    [[fn, { iterations: '60' }], TypeError, /options\.iterations must be an integer, got the string "60"/],
    [[fn, { warmup: -1 }], RangeError, /options\.warmup must be an integer from 0/],
    [[fn, { warmup: 1.5 }], RangeError, /options\.warmup/],
    [[fn, { settleMs: -1 }], RangeError, /options\.settleMs must be from 0 to 60000 ms/],
    [[fn, { ignore: 'Code' }], TypeError, /options\.ignore must be an array of group names/],
    [[fn, { ignore: [1] }], TypeError, /options\.ignore/],
    [[fn, { iteration: 60 }], TypeError, /unknown option "iteration" \(known: iterations, warmup, settleMs, ignore\)/],
    [[fn, {}, 3], TypeError, /takes at most two arguments \(got 3\)/],
  ]
  for (const [args, type, message] of cases) {
    let pending
    assert.doesNotThrow(() => (pending = assertNoLeak(...args)))
    await assert.rejects(pending, (err) => err instanceof type && message.test(err.message), `${message}`)
  }
})

const leaked = []

test('assertNoLeak fails on a leak with the growing group, its figures per call and per batch', async () => {
  const err = await assertNoLeak(() => {
    leaked.push(new Foo(leaked.length))
  }).catch((e) => e)
  assert.ok(err instanceof LeakError, String(err && err.stack))
  const foo = err.suspects.find((s) => s.what === 'Foo')
  assert.ok(foo, `Foo among the suspects: ${err.message}`)
  assert.deepEqual(foo.counts, [10, 20, 30], 'exactly one Foo per call, per batch')
  assert.equal(foo.perIteration, 1)
  assert.ok(foo.bytesPerIteration >= 16, `bytes per call: ${foo.bytesPerIteration}`)
  assert.equal(foo.rule, 'objects')
  assert.deepEqual(err.calls, { warmup: 30, batches: [10, 20, 30], runs: 2, method: 'heapdiff' })
  assert.deepEqual(err.retainers, [])
  assert.match(err.message, /^assertNoLeak: live objects grew with the number of calls \(30 warm-up calls, then batches of 10, 20, 30 calls; measured by exact heap diffs\):/)
  assert.match(err.message, /\n {2}Foo +\+1 objects and \+\d+(\.\d+)? bytes per call \(per batch: \+10, \+20, \+30 objects;/)
  assert.match(err.message, /\n {2}no retainer path: this build has none$/)
  assert.ok(!err.suspects.some((s) => /^(Code|Hidden|ObjectShape)$/.test(s.what)), 'V8 internals are not suspects')
  assert.match(err.stack.split('\n').slice(1).join('\n'), /testing\.test\.js/, 'the stack shows the caller')
})

test('assertNoLeak passes on code that allocates and frees', async () => {
  const calls = await assertNoLeak(() => {
    const tmp = [new Foo(1), new Foo(2), { nested: new Map([[1, new Foo(3)]]) }]
    return tmp.length
  })
  assert.equal(calls.method, 'heapdiff')
  assert.deepEqual(calls.batches, [10, 20, 30])
})

test('assertNoLeak passes on async code whose garbage lives until a later turn, timer or GC', async () => {
  const registry = new FinalizationRegistry((token) => parked.delete(token))
  const parked = new Set()
  let n = 0
  await assertNoLeak(async () => {
    const f = new Foo(n++)
    // Held until the next macrotask, by a promise chain and a timer that clears itself.
    await new Promise((resolve) => setImmediate(resolve))
    const t = setTimeout(() => f.i, 20)
    await Promise.resolve(f).then((x) => x.i)
    void t
    // Freed only by a finalizer that runs after a GC: needs a second GC.
    const token = { n }
    parked.add(token)
    registry.register(new Foo(-1), token)
    return f.i
  })
})

test('assertNoLeak fails on an async leak', async () => {
  const sink = []
  const err = await assertNoLeak(async () => {
    await new Promise((resolve) => setImmediate(resolve))
    sink.push({ at: sink.length })
  }).catch((e) => e)
  assert.ok(err instanceof LeakError, String(err))
  const grown = err.suspects.find((s) => s.what === 'Object')
  assert.ok(grown && grown.perIteration >= 0.9, err.message)
})

test('assertNoLeak passes on a bounded cache, whether warm-up fills it or the first run does', async () => {
  const cache = new Map()
  const lookup = (i) => {
    const key = i % 40
    if (!cache.has(key)) cache.set(key, new Foo(key))
    return cache.get(key)
  }
  let i = 0
  // 40 entries, 30 warm-up calls: the first run sees the cache grow, the second one does not.
  const calls = await assertNoLeak(() => lookup(i++))
  assert.equal(calls.runs, 2, 'the first run named candidates, the second cleared them')
  assert.equal(cache.size, 40)
  const filled = new Map()
  await assertNoLeak(() => (filled.has(i % 40) ? null : filled.set(i % 40, new Foo(i++ % 40))), { warmup: 100 })
})

test('assertNoLeak: a call that throws rejects with that error; one test at a time', async () => {
  const boom = new Error('boom')
  let n = 0
  await assert.rejects(
    assertNoLeak(() => {
      if (++n === 35) throw boom
    }),
    (err) => err === boom,
  )
  const first = assertNoLeak(() => {}, { iterations: 6, warmup: 0 })
  await assert.rejects(assertNoLeak(() => {}), /another assertNoLeak is running in this thread/)
  await first
  await assertNoLeak(() => {}, { iterations: 6, warmup: 0 }) // the guard was released
})

test('assertNoLeak with a census (a real one, computed from snapshots in JS, slow): the census path finds and clears the same', fullOnly, async () => {
  assert.equal(typeof memwatch.census, 'undefined', 'this build has no native census')
  memwatch.census = snapshotCensus
  try {
    const kept = []
    const err = await assertNoLeak(() => kept.push(new Foo(kept.length)), { iterations: 12, warmup: 5 }).catch((e) => e)
    assert.ok(err instanceof LeakError, String(err))
    assert.equal(err.calls.method, 'census')
    const foo = err.suspects.find((s) => s.what === 'Foo')
    assert.ok(foo && foo.perIteration === 1, err.message)
    assert.deepEqual(foo.counts, [2, 4, 6])
    assert.match(err.message, /measured by heap census/)
    assert.match(err.message, /no retainer path: a census records none/)
    const calls = await assertNoLeak(() => [new Foo(1)].length, { iterations: 12, warmup: 5 })
    assert.equal(calls.method, 'census')
  } finally {
    delete memwatch.census
  }
})

test('assertNoLeak leaves no timer, listener, trackGC registration or forced-GC setting behind', async () => {
  const before = await leftovers()
  await assertNoLeak(() => setTimeout(() => {}, 5), { iterations: 6, warmup: 2 })
  await assertNoLeak(() => leaked.push({}), { iterations: 6, warmup: 2 }).catch(() => {})
  assert.deepEqual(await leftovers(), before)
})
