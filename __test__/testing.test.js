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
const { runChild } = require('./helpers')

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
// What the tests leak on purpose, where a retainer path can name it.
globalThis.leakRegistry = new Map()

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

test('expectCollected { retainers: true }: the message and err.retainers give the path to the object, through what holds it', async () => {
  const leak = (make, key) =>
    expectCollected(
      () => {
        const x = make()
        leakRegistry.set(key, x)
        return x
      },
      { timeoutMs: 100, retainers: true },
    ).catch((e) => e)
  const err = await leak(() => new Foo(5), 'foo')
  assert.ok(err instanceof LeakError, String(err))
  const path = /^global → leakRegistry \(Map\) → table → \[\d+\] \(Foo\)$/
  assert.match(err.message, /\n {2}retained by: global → leakRegistry \(Map\) → table → \[\d+\] \(Foo\)$/)
  assert.equal(err.retainers.length, 1)
  assert.deepEqual([err.retainers[0].what, err.retainers[0].count], ['Foo', 1])
  assert.match(err.retainers[0].path, path)
  // A module's variable: the path reaches it through the module's scope.
  const inModule = await expectCollected(
    () => {
      const f = new Foo(6)
      held.push(f)
      return f
    },
    { timeoutMs: 100, retainers: true },
  ).catch((e) => e)
  assert.match(inModule.message, /\n {2}retained by: .*\bheld \(Array\) → \[\d+\] \(Foo\)$/)
  // Held in this test's own scope, out of the global object's reach: the
  // path goes through the suspended test, not through the helper's own
  // WeakRef (which keeps the object during the job that reads it).
  const local = new Set()
  const inScope = await expectCollected(
    () => {
      const f = new Foo(6)
      local.add(f)
      return f
    },
    { timeoutMs: 100, retainers: true },
  ).catch((e) => e)
  assert.match(inScope.message, /\n {2}retained by: .*\blocal \(Set\) → table → \[\d+\] \(Foo\)$/)
  assert.doesNotMatch(inScope.message, /weak_refs_keep_during_job/)
  assert.equal(local.size, 1)
  // Groups where the helper's own new objects live too (its state, its
  // callbacks): the path shown is still the target's.
  const plain = await leak(() => ({ tag: 'plain' }), 'plain')
  assert.match(plain.message, /\n {2}retained by: global → leakRegistry \(Map\) → table → \[\d+\] \(Object\)$/)
  const fn = await leak(() => function onRequest() {}, 'fn')
  assert.equal(fn.retainers[0].what, 'Closure')
  assert.match(fn.message, /\n {2}retained by: global → leakRegistry \(Map\) → table → \[\d+\] \(onRequest\)$/)
  // Collected objects never cost the second snapshot.
  await expectCollected(() => new Foo(7), { retainers: true })
})

test('expectCollected { retainers: true } says why when the heap diff has no path to the group: a Proxy is filed under no group of its name', async () => {
  const err = await expectCollected(
    () => {
      const p = new Proxy(new Foo(8), {})
      leakRegistry.set('proxy', p)
      return p
    },
    { timeoutMs: 100, retainers: true },
  ).catch((e) => e)
  assert.ok(err instanceof LeakError, String(err))
  assert.equal(err.target.what, 'Proxy')
  assert.match(err.message, /\n {2}no retainer path: the heap diff shows no new Proxy object \(it files some objects under another group/)
  assert.deepEqual(err.retainers, [])
})

test('expectCollected { retainers: true } on the fallback backend (JSON snapshot source) gives the same path', () => {
  const r = runChild(
    `const memwatch = require('memwatch-rs')
     const { expectCollected } = require('memwatch-rs/testing')
     class Foo {}
     globalThis.leakRegistry = new Map()
     expectCollected(() => { const f = new Foo(); leakRegistry.set('f', f); return f }, { timeoutMs: 100, retainers: true })
       .catch((e) => console.log(JSON.stringify({ backend: memwatch.backend, source: memwatch.HeapDiff.source, message: e.message, retainers: e.retainers })))`,
    { env: { MEMWATCH_FORCE_FALLBACK: '1' } },
  )
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.deepEqual([out.backend, out.source], ['fallback', 'json'])
  assert.match(out.message, /\n {2}retained by: global → leakRegistry \(Map\) → table → \[\d+\] \(Foo\)$/)
  assert.deepEqual(out.retainers.map((r) => [r.what, r.count]), [['Foo', 1]])
})

test("retainer hooks read a HeapDiff result's paths, pass over paths from the running frames, and say why there is none", () => {
  const hd = new memwatch.HeapDiff()
  leakRegistry.set('kept', [new Foo(9), new Foo(10)])
  const real = hd.end({ retainers: 2, groups: ['Foo', 'Bar'] })
  assert.deepEqual(
    real.change.details.filter((d) => 'retainers' in d).map((d) => [d.what, d['+']]),
    [['Foo', 2]],
  )
  const paths = measure.retainersOf(real)
  assert.equal(paths.length, 1, JSON.stringify(paths))
  assert.equal(paths[0].what, 'Foo')
  assert.match(paths[0].path, /^global → leakRegistry \(Map\) → table → \[\d+\] \(Array\) → \[\d+\] \(Foo\)$/)
  assert.equal(paths[0].count, 2)
  assert.deepEqual(measure.retainerPathOf(real, 'Foo'), { path: paths[0].path, count: 2 })
  assert.match(measure.retainerPathOf(real, 'Bar').none, /^the heap diff shows no new Bar object/)
  // A group that grew, in a diff ended without retainer paths.
  const hd2 = new memwatch.HeapDiff()
  leakRegistry.set('kept2', new Foo(11))
  const plain = hd2.end()
  assert.match(measure.retainerPathOf(plain, 'Foo').none, /^the heap diff has no path to the new Foo objects/)
  // Paths from the stack (the frames running the diff) come after any other;
  // samples held only weakly are said to be.
  const shaped = {
    change: {
      details: [
        {
          what: 'Object',
          '+': 3,
          '-': 0,
          size_bytes: 96,
          retainers: [
            { path: '(GC roots) → (Stack roots) → [3] (Object)', count: 2 },
            { path: 'global → cache (Map) → table → [1] (Object)', count: 1 },
          ],
        },
        { what: 'Weak', '+': 1, '-': 0, size_bytes: 32, retainers: [{ path: measure.ONLY_WEAK, count: 1 }] },
        { what: 'Stacked', '+': 1, '-': 0, size_bytes: 32, retainers: [{ path: '(GC roots) → (Stack roots) → [3] (Stacked)', count: 1 }] },
      ],
    },
  }
  assert.deepEqual(measure.retainerPathOf(shaped, 'Object'), { path: 'global → cache (Map) → table → [1] (Object)', count: 1 })
  assert.deepEqual(measure.retainerPathOf(shaped, 'Weak'), { none: 'the new Weak objects sampled are reachable only through weak references' })
  assert.deepEqual(measure.retainerPathOf(shaped, 'Stacked'), { path: '(GC roots) → (Stack roots) → [3] (Stacked)', count: 1 })
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
  await expectCollected(() => new Foo(12))
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
    [[fn, { retainers: 'yes' }], TypeError, /options\.retainers must be a boolean, got the string "yes"/],
    [[fn, { iteration: 60 }], TypeError, /unknown option "iteration" \(known: iterations, warmup, settleMs, ignore, retainers\)/],
    [[fn, {}, 3], TypeError, /takes at most two arguments \(got 3\)/],
  ]
  for (const [args, type, message] of cases) {
    let pending
    assert.doesNotThrow(() => (pending = assertNoLeak(...args)))
    await assert.rejects(pending, (err) => err instanceof type && message.test(err.message), `${message}`)
  }
})

const leaked = []

/** Runs `fn` with `memwatch.census` hidden: assertNoLeak then measures by exact heap diffs, as where no census works. */
async function withoutCensus(fn) {
  const census = memwatch.census
  memwatch.census = undefined
  try {
    return await fn()
  } finally {
    memwatch.census = census
  }
}

// Where no census can run (the fallback backend, a Node major outside the
// verified table), assertNoLeak measures by exact heap diffs from the start.
const CENSUS_WORKS = (() => {
  try {
    memwatch.census()
    return true
  } catch {
    return false
  }
})()
const FIRST_METHOD = CENSUS_WORKS ? 'census' : 'heapdiff'

function checkLeak(err) {
  assert.ok(err instanceof LeakError, String(err && err.stack))
  const foo = err.suspects.find((s) => s.what === 'Foo')
  assert.ok(foo, `Foo among the suspects: ${err.message}`)
  assert.deepEqual(foo.counts, [10, 20, 30], 'exactly one Foo per call, per batch')
  assert.equal(foo.perIteration, 1)
  assert.ok(foo.bytesPerIteration >= 16, `bytes per call: ${foo.bytesPerIteration}`)
  assert.equal(foo.rule, 'objects')
  assert.match(err.message, /\n {2}Foo +\+1 objects and \+\d+(\.\d+)? bytes per call \(per batch: \+10, \+20, \+30 objects;/)
  assert.ok(!err.suspects.some((s) => /^(Code|Hidden|ObjectShape)$/.test(s.what)), 'V8 internals are not suspects')
  assert.match(err.stack.split('\n').slice(1).join('\n'), /testing\.test\.js/, 'the stack shows the caller')
}

test('assertNoLeak fails on a leak with the growing group, its figures per call and per batch (by heap census, where one works)', { skip: !CENSUS_WORKS && 'no census in this thread: the exact-diff case below covers it' }, async () => {
  const err = await assertNoLeak(() => {
    leaked.push(new Foo(leaked.length))
  }).catch((e) => e)
  checkLeak(err)
  assert.deepEqual(err.calls, { warmup: 30, batches: [10, 20, 30], runs: 2, method: 'census' })
  assert.match(err.message, /^assertNoLeak: live objects grew with the number of calls \(30 warm-up calls, then batches of 10, 20, 30 calls; measured by heap census\):/)
  // A census records no path: after its verdict, one batch inside an exact
  // heap diff names who holds the suspects (here the module's `leaked`).
  assert.ok(err.retainers.length >= 1, err.message)
  for (const r of err.retainers) assert.equal(r.what, 'Foo')
  assert.match(err.retainers[0].path, /→ leaked \(Array\) → \[\d+\] \(Foo\)$/)
  assert.ok(err.retainers[0].count >= 1)
  assert.match(err.message, /\n {2}Foo retained by: .*→ leaked \(Array\) → \[\d+\] \(Foo\)$/m)
  // retainers: false: the same verdict, no exact-diff batch, and the message says so.
  const quick = await assertNoLeak(
    () => {
      leaked.push(new Foo(leaked.length))
    },
    { retainers: false },
  ).catch((e) => e)
  checkLeak(quick)
  assert.deepEqual(quick.retainers, [])
  assert.match(quick.message, /\n {2}no retainer path: not looked for \(retainers: false\)$/)
})

test('assertNoLeak by exact heap diffs (no census): the same figures, and the retainer path of the suspect', async () => {
  const err = await withoutCensus(() =>
    assertNoLeak(() => {
      leaked.push(new Foo(leaked.length))
    }).catch((e) => e),
  )
  checkLeak(err)
  assert.deepEqual(err.calls, { warmup: 30, batches: [10, 20, 30], runs: 2, method: 'heapdiff' })
  assert.match(err.message, /^assertNoLeak: live objects grew with the number of calls \(30 warm-up calls, then batches of 10, 20, 30 calls; measured by exact heap diffs\):/)
  // `leaked` is this module's variable: the path reaches it through the module's scope.
  assert.match(err.message, /\n {2}Foo retained by: .*\bleaked \(Array\) → \[\d+\] \(Foo\)$/m)
  const foo = err.retainers.filter((r) => r.what === 'Foo')
  assert.ok(foo.length >= 1 && foo.every((r) => r.count >= 1), JSON.stringify(err.retainers))
  assert.ok(err.retainers.every((r) => err.suspects.some((s) => s.what === r.what)), 'paths of suspects only')
})

test('assertNoLeak passes on code that allocates and frees, by census and by exact heap diffs', async () => {
  const fn = () => {
    const tmp = [new Foo(1), new Foo(2), { nested: new Map([[1, new Foo(3)]]) }]
    return tmp.length
  }
  const calls = await assertNoLeak(fn)
  assert.equal(calls.method, FIRST_METHOD)
  assert.deepEqual(calls.batches, [10, 20, 30])
  const exact = await withoutCensus(() => assertNoLeak(fn))
  assert.equal(exact.method, 'heapdiff')
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
  // 40 entries, 30 warm-up calls: the cache grows in the first batch of
  // the first run only. A census after each batch sees that at once.
  const calls = await assertNoLeak(() => lookup(i++))
  if (CENSUS_WORKS) assert.deepEqual([calls.method, calls.runs], ['census', 1], 'no batch but the first grew')
  else assert.deepEqual([calls.method, calls.runs], ['heapdiff', 2], 'the first run named candidates, the second cleared them')
  assert.equal(cache.size, 40)
  // One exact diff over the first run sees only its total: the cache's
  // growth makes it a candidate, and the second run, per batch, clears it.
  const exactCache = new Map()
  let k = 0
  const exact = await withoutCensus(() =>
    assertNoLeak(() => {
      const key = k++ % 40
      if (!exactCache.has(key)) exactCache.set(key, new Foo(key))
      return exactCache.get(key)
    }),
  )
  assert.deepEqual([exact.method, exact.runs], ['heapdiff', 2], 'the first run named candidates, the second cleared them')
  assert.equal(exactCache.size, 40)
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

test('assertNoLeak where no census works (the fallback backend): exact heap diffs, not an error', () => {
  const r = runChild(
    `const memwatch = require('memwatch-rs')
     const { assertNoLeak } = require('memwatch-rs/testing')
     class Foo {}
     const kept = []
     ;(async () => {
       const clean = await assertNoLeak(() => [new Foo()].length, { iterations: 12, warmup: 5 })
       const err = await assertNoLeak(() => kept.push(new Foo()), { iterations: 12, warmup: 5 }).catch((e) => e)
       const foo = (err.suspects || []).find((s) => s.what === 'Foo')
       console.log(JSON.stringify({ backend: memwatch.backend, clean, name: err.name, calls: err.calls, counts: foo && foo.counts, message: err.message }))
     })()`,
    { env: { MEMWATCH_FORCE_FALLBACK: '1' } },
  )
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop())
  assert.equal(out.backend, 'fallback')
  assert.equal(out.clean.method, 'heapdiff')
  assert.equal(out.name, 'LeakError', out.message)
  assert.equal(out.calls.method, 'heapdiff')
  assert.deepEqual(out.counts, [2, 4, 6], out.message)
  assert.match(out.message, /measured by exact heap diffs/)
  assert.match(out.message, /\n {2}Foo retained by: .*\bkept \(Array\) → \[\d+\] \(Foo\)/)
})

test('assertNoLeak leaves no timer, listener, trackGC registration or forced-GC setting behind', async () => {
  const before = await leftovers()
  await assertNoLeak(() => setTimeout(() => {}, 5), { iterations: 6, warmup: 2 })
  await assertNoLeak(() => leaked.push({}), { iterations: 6, warmup: 2 }).catch(() => {})
  assert.deepEqual(await leftovers(), before)
})
