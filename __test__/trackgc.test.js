'use strict'

// memwatch.trackGC(target, callback). Tests named "... [both modes]" are run
// a second time in a child process with deferred finalizers
// (MEMWATCH_DEFERRED_FINALIZERS=1) by the last test of this file; CI also
// runs the whole file in that mode. Exit, worker and throw cases run in
// child processes (__test__/fixtures/trackgc-cases.js).

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const memwatch = require('..')
const native = require('../binding.js')
const { ROOT, FULL, runChild } = require('./helpers')

const DEFERRED = /^(1|true|yes)$/i.test(process.env.MEMWATCH_DEFERRED_FINALIZERS || '')
const CASES = path.join(__dirname, 'fixtures', 'trackgc-cases.js')

const fullGC = () => memwatch.gc()

const turn = () => new Promise((r) => setImmediate(r))

/** Resolves once `cond()` holds; fails after `ms`. */
async function waitFor(cond, what, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; counts ${JSON.stringify(native.trackGcCounts())}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Enough loop turns and GCs that any delivery due would have happened. */
async function settle() {
  for (let i = 0; i < 3; i++) {
    fullGC()
    for (let j = 0; j < 4; j++) await turn()
  }
  await new Promise((r) => setTimeout(r, 20))
}

/** Runs a case of the fixture in a fresh node with --expose-gc. */
function runCase(name, env = {}) {
  const r = spawnSync(process.execPath, ['--expose-gc', CASES, name], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim(), stderr: r.stderr.trim() }
}

function assertClean(r, what) {
  assert.deepEqual([r.status, r.signal], [0, null], `${what}: ${r.stderr}`)
  assert.equal(r.stderr, '', `${what} wrote to stderr`)
}

test('the seed scenario: two big objects tracked, dropped, one gc(): both callbacks, heap drops [both modes]', async () => {
  const fired = []
  let first = { name: 'first', payload: new Array(1_000_000).fill(1) }
  let second = { name: 'second', payload: new Array(1_000_000).fill(2) }
  memwatch.trackGC(first, () => fired.push('first'))
  memwatch.trackGC(second, () => fired.push('second'))
  const before = fullGC()
  assert.ok(first.payload.length && second.payload.length)
  first = null
  second = null
  const after = fullGC()
  await waitFor(() => fired.length === 2, 'both callbacks')
  assert.deepEqual(fired.sort(), ['first', 'second'])
  const freed = before.current_base - after.current_base
  assert.ok(freed > 12e6, `expected the two 8 MB arrays freed, got ${(freed / 1e6).toFixed(1)} MB`)
})

test('examples/track-gc.js prints both callbacks and a smaller heap', () => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'examples', 'track-gc.js')], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.trim().split('\n')
  assert.ok(lines.includes('first was garbage-collected'), r.stdout)
  assert.ok(lines.includes('second was garbage-collected'), r.stdout)
  const m = /heap used: ([\d.]+) MB with both objects, ([\d.]+) MB without/.exec(r.stdout)
  assert.ok(m, r.stdout)
  assert.ok(Number(m[1]) - Number(m[2]) > 12, r.stdout)
})

test('never while the target is alive, once after it is collected, never twice [both modes]', async () => {
  let calls = 0
  let target = { alive: true }
  memwatch.trackGC(target, () => calls++)
  await settle()
  assert.equal(calls, 0, 'called while the target was alive')
  assert.ok(target.alive)
  target = null
  fullGC()
  await waitFor(() => calls === 1, 'the callback')
  await settle()
  assert.equal(calls, 1, 'called twice')
})

test('callbacks run on the event loop, after gc() has returned, in batches [both modes]', async () => {
  const N = 10_000
  let inGc = false
  let ranInGc = 0
  let fired = 0
  let batches = 0
  let open = false
  const cb = () => {
    if (inGc) ranInGc++
    fired++
    // Microtasks run once the batch's native callback returns: one per batch.
    if (!open) {
      open = true
      batches++
      queueMicrotask(() => (open = false))
    }
  }
  ;(() => {
    for (let i = 0; i < N; i++) memwatch.trackGC({ i }, cb)
  })()
  inGc = true
  fullGC()
  inGc = false
  assert.equal(fired, 0, 'a callback ran synchronously inside gc()')
  await waitFor(() => fired === N, 'all callbacks')
  assert.equal(ranInGc, 0)
  assert.ok(batches <= 2, `${N} targets collected by one gc() were delivered in ${batches} batches`)
})

test('all N of 100,000 callbacks fire exactly once, also when ids are reused [both modes]', async () => {
  const N = 100_000
  for (const round of [1, 2]) {
    const hits = new Uint8Array(N)
    ;(() => {
      for (let i = 0; i < N; i++) memwatch.trackGC({ i }, () => hits[i]++)
    })()
    fullGC()
    const total = () => hits.reduce((a, b) => a + b, 0)
    await waitFor(() => total() >= N, `round ${round}: ${N} callbacks`, 60_000)
    await settle()
    assert.equal(total(), N, `round ${round}: some callback fired twice`)
    assert.ok(hits.every((h) => h === 1), `round ${round}: not every callback fired exactly once`)
  }
  const c = native.trackGcCounts()
  assert.equal(c.pending, 0)
})

test('only collected targets fire; live ones wait until they are dropped [both modes]', async () => {
  const N = 2000
  const live = []
  const fired = new Set()
  ;(() => {
    for (let i = 0; i < N; i++) {
      const o = { i }
      memwatch.trackGC(o, () => fired.add(i))
      if (i % 2 === 0) live.push(o)
    }
  })()
  fullGC()
  await waitFor(() => fired.size === N / 2, 'the dropped half')
  await settle()
  assert.equal(fired.size, N / 2)
  assert.ok([...fired].every((i) => i % 2 === 1), 'a live target fired')
  live.length = 0
  fullGC()
  await waitFor(() => fired.size === N, 'the other half')
})

test('any kind of object or function can be a target [both modes]', async () => {
  const fired = new Set()
  const kinds = {
    frozen: () => Object.freeze({ a: 1 }),
    sealed: () => Object.seal({ a: 1 }),
    nonExtensible: () => Object.preventExtensions({}),
    nullPrototype: () => Object.create(null),
    array: () => [1, 2, 3],
    map: () => new Map([[1, 2]]),
    weakMap: () => new WeakMap(),
    proxy: () => new Proxy({}, {}),
    revokedProxy: () => {
      const p = Proxy.revocable({}, {})
      p.revoke()
      return p.proxy
    },
    promise: () => new Promise(() => {}),
    buffer: () => Buffer.alloc(16),
    arrayBuffer: () => new ArrayBuffer(8),
    typedArray: () => new Float64Array(4),
    date: () => new Date(),
    regexp: () => /x/g,
    error: () => new Error('e'),
    classInstance: () => new (class Thing {})(),
    boxedPrimitive: () => Object(42),
    arrow: () => () => {},
    asyncFunction: () => async function () {},
    generatorFunction: () => function* () {},
    boundFunction: () => function () {}.bind(null),
    classConstructor: () => class {},
  }
  ;(() => {
    for (const [kind, make] of Object.entries(kinds)) memwatch.trackGC(make(), () => fired.add(kind))
  })()
  fullGC()
  await waitFor(() => fired.size === Object.keys(kinds).length, `every kind (missing: ${Object.keys(kinds).filter((k) => !fired.has(k))})`)
})

test('tracking keeps nothing alive: targets, function targets, and delivered callbacks are collected [both modes]', async () => {
  let target = { big: new Array(1000).fill(0) }
  let fn = function namedTarget() {}
  const refs = [new WeakRef(target), new WeakRef(fn)]
  let calls = 0
  // The callback closes over an object nothing else holds.
  const callbackRef = (() => {
    const captured = { note: 'only the callback holds this' }
    memwatch.trackGC(target, () => {
      calls++
      return captured
    })
    return new WeakRef(captured)
  })()
  memwatch.trackGC(fn, () => calls++)
  target = null
  fn = null
  await turn() // WeakRefs created in this turn keep their targets until it ends
  fullGC()
  await waitFor(() => calls === 2, 'both callbacks')
  assert.equal(refs[0].deref(), undefined)
  assert.equal(refs[1].deref(), undefined)
  // Once delivered, a callback is dropped too, with what it closes over.
  fullGC()
  assert.equal(callbackRef.deref(), undefined, 'a delivered callback is still held')
})

test('cancel: a cancelled tracking never fires; cancel after the callback is a no-op [both modes]', async () => {
  let cancelledCalls = 0
  let calls = 0
  let t1 = {}
  let t2 = {}
  const cancel1 = memwatch.trackGC(t1, () => cancelledCalls++)
  const cancel2 = memwatch.trackGC(t2, () => calls++)
  assert.equal(typeof cancel1, 'function')
  assert.equal(cancel1(), undefined)
  cancel1() // twice is fine
  t1 = null
  t2 = null
  fullGC()
  await waitFor(() => calls === 1, 'the uncancelled callback')
  await settle()
  assert.equal(cancelledCalls, 0, 'a cancelled callback ran')

  // After its callback ran, cancel does nothing, and in particular does not
  // cancel a newer registration that reuses the same id.
  assert.equal(cancel2(), undefined)
  let later = 0
  let t3 = {}
  memwatch.trackGC(t3, () => later++)
  cancel2()
  cancel1()
  t3 = null
  fullGC()
  await waitFor(() => later === 1, 'the newer registration')
  assert.equal(calls, 1)
})

test('a cancelled target that is later collected: neither its callback nor its finalizer runs [both modes]', async () => {
  await settle()
  const N = 1000
  const before = native.trackGcCounts()
  let calls = 0
  ;(() => {
    for (let i = 0; i < N; i++) memwatch.trackGC({ i }, () => calls++)()
  })()
  const cancelled = native.trackGcCounts()
  assert.equal(cancelled.cancelled - before.cancelled, N, 'cancel() did not remove the registrations')
  assert.equal(cancelled.live, before.live, 'cancelled registrations are still held by Node')
  fullGC()
  await settle()
  const after = native.trackGcCounts()
  assert.equal(calls, 0, 'a cancelled callback ran')
  assert.equal(after.collected, before.collected, 'the finalizer of a cancelled registration ran')
  assert.equal(after.pending, 0)
})

test('cancel() while the callback is pending (target collected, not yet delivered): it never runs [both modes]', async () => {
  await settle()
  const N = 1000
  const before = native.trackGcCounts()
  const hits = new Uint8Array(2 * N)
  const cancels = (() => {
    const list = []
    for (let i = 0; i < 2 * N; i++) list.push(memwatch.trackGC({ i }, () => hits[i]++))
    return list
  })()
  fullGC()
  // Right after the GC: with finalizers in the GC they have run and the ids
  // wait in a batch; deferred, the finalizers are still queued in Node.
  for (let i = 0; i < N; i++) cancels[i]()
  // Then, once the finalizers have run and the batch waits for its wake-up
  // (in either mode), the other half.
  while (native.trackGcCounts().pending === 0) await turn()
  assert.equal(hits.reduce((a, b) => a + b, 0), 0, 'delivered before the batch was seen pending')
  for (let i = N; i < 2 * N; i++) cancels[i]()
  await settle()
  assert.equal(hits.reduce((a, b) => a + b, 0), 0, 'a callback cancelled while pending ran')
  const after = native.trackGcCounts()
  assert.equal(after.pending, 0)
  assert.equal(after.live, before.live)
  // Deferred, the first half was cancelled before its finalizers ran: they
  // never run. In the GC, every finalizer had run: cancel only dropped the
  // callbacks.
  assert.equal(after.cancelled - before.cancelled, DEFERRED ? N : 0)
  assert.equal(after.collected - before.collected, DEFERRED ? N : 2 * N)

  // The ids freed either way are reused cleanly (each freed once: twice as
  // many new registrations as were cancelled would meet a double): each new
  // callback fires exactly once.
  const again = new Uint8Array(4 * N)
  ;(() => {
    for (let i = 0; i < 4 * N; i++) memwatch.trackGC({ i }, () => again[i]++)
  })()
  fullGC()
  await waitFor(() => again.reduce((a, b) => a + b, 0) >= 4 * N, 'the new registrations')
  await settle()
  assert.ok(again.every((h) => h === 1), 'a reused id fired twice or not at all')
  assert.equal(hits.reduce((a, b) => a + b, 0), 0)
})

test('tracking and cancelling the same long-lived object 1,000,000 times leaves nothing behind [both modes]', () => {
  const r = runCase('cancel-churn')
  assertClean(r, 'cancel-churn')
  const { rssGrowthMB, heapGrowthMB, counts, hits, targetAlive } = JSON.parse(r.stdout)
  assert.equal(counts.registered, 1_010_000)
  assert.equal(counts.cancelled, counts.registered, 'not every cancel removed its registration')
  assert.equal(counts.live, 0, 'Node still holds records of cancelled registrations')
  assert.equal(counts.collected, 0)
  assert.equal(hits, 0)
  assert.equal(targetAlive, true)
  // Before cancel() removed the registration, the same loop grew RSS by
  // ~127 MB (Node's records) and the heap by ~20 MB (ids never reused).
  assert.ok(rssGrowthMB < 16, `RSS grew by ${rssGrowthMB} MB over 1,000,000 track-and-cancel`)
  assert.ok(heapGrowthMB < 4, `heap grew by ${heapGrowthMB} MB over 1,000,000 track-and-cancel`)
})

test('a callback that captures its target keeps it alive (as documented); cancel releases it [both modes]', async () => {
  const counter = { calls: 0 }
  // The mistake the docs warn about: the callback closes over `target`.
  function trackCapturing() {
    const target = { payload: new Array(1000).fill(1) }
    const cancel = memwatch.trackGC(target, () => {
      counter.calls++
      return target.payload.length
    })
    return { ref: new WeakRef(target), cancel }
  }
  const { ref, cancel } = trackCapturing()
  await turn() // a WeakRef keeps its target until the end of the turn that made it
  await settle()
  assert.notEqual(ref.deref(), undefined, 'a target captured by its own callback was collected')
  assert.equal(counter.calls, 0)
  // Cancelling drops the callback, and with it the only path to the target.
  cancel()
  await waitFor(() => {
    fullGC()
    return ref.deref() === undefined
  }, 'the target after cancel')
  await settle()
  assert.equal(counter.calls, 0)
})

test('tracking the same object twice fires both callbacks [both modes]', async () => {
  const fired = []
  ;(() => {
    const o = {}
    memwatch.trackGC(o, () => fired.push('one'))
    memwatch.trackGC(o, () => fired.push('two'))
    memwatch.trackGC(o, () => fired.push('cancelled'))()
  })()
  fullGC()
  await waitFor(() => fired.length === 2, 'both callbacks')
  await settle()
  assert.deepEqual(fired.sort(), ['one', 'two'])
})

test('a callback may call trackGC and gc() itself: one level per batch, no recursion [both modes]', async () => {
  const DEPTH = 30
  const fired = []
  let nesting = 0
  let maxNesting = 0
  function chain(level) {
    memwatch.trackGC({ level }, () => {
      maxNesting = Math.max(maxNesting, ++nesting)
      fired.push(level)
      if (level < DEPTH) {
        chain(level + 1)
        fullGC() // collects the new target while this batch is being delivered
      }
      nesting--
    })
  }
  chain(1)
  fullGC()
  await waitFor(() => fired.length === DEPTH, `${DEPTH} chained callbacks`)
  await settle()
  assert.deepEqual(fired, Array.from({ length: DEPTH }, (_, i) => i + 1))
  assert.equal(maxNesting, 1, 'a callback ran inside another')
})

test('bad input: TypeError naming the argument, and nothing changes [both modes]', async () => {
  const before = native.trackGcCounts()
  const badTargets = [undefined, null, 42, 'str', true, Symbol('s'), 10n]
  for (const bad of badTargets) {
    assert.throws(() => memwatch.trackGC(bad, () => {}), {
      name: 'TypeError',
      message: /^memwatch\.trackGC\(target, callback\): target must be an object or a function, got /,
    }, String(typeof bad))
  }
  for (const bad of [undefined, null, 42, 'str', {}, Symbol('s')]) {
    assert.throws(() => memwatch.trackGC({}, bad), {
      name: 'TypeError',
      message: /^memwatch\.trackGC\(target, callback\): callback must be a function, got /,
    }, String(typeof bad))
  }
  assert.throws(() => memwatch.trackGC(), { name: 'TypeError', message: /target must be/ })
  assert.deepEqual(native.trackGcCounts().registered, before.registered, 'a bad call registered something')
  // Still works afterwards.
  let calls = 0
  ;(() => memwatch.trackGC({}, () => calls++))()
  fullGC()
  await waitFor(() => calls === 1, 'a good registration after bad ones')
})

test('index.js evaluated again in the same thread keeps the same trackGC and its registrations', async () => {
  let calls = 0
  let target = {}
  memwatch.trackGC(target, () => calls++)
  // The package's own modules (not the native addon) evaluated again.
  const files = ['..', '../lib/memwatch.js', '../lib/track-gc.js'].map((f) => require.resolve(f))
  const saved = files.map((f) => require.cache[f])
  for (const f of files) delete require.cache[f]
  try {
    const again = require('..')
    assert.notEqual(again, memwatch)
    assert.equal(again.trackGC, memwatch.trackGC)
  } finally {
    files.forEach((f, i) => (require.cache[f] = saved[i]))
  }
  target = null
  fullGC()
  await waitFor(() => calls === 1, 'the earlier registration')
})

test('finalizers run inside the GC by default; MEMWATCH_DEFERRED_FINALIZERS=1 defers them', () => {
  const inGc = runCase('modes', { MEMWATCH_DEFERRED_FINALIZERS: '' })
  assertClean(inGc, 'default mode')
  const a = JSON.parse(inGc.stdout)
  assert.equal(a.afterGc.collected, a.afterGc.registered, 'finalizers had not run by the time gc() returned')
  assert.equal(a.afterGc.pending, a.afterGc.registered)
  assert.equal(a.hits, a.afterGc.registered)

  const deferred = runCase('modes', { MEMWATCH_DEFERRED_FINALIZERS: '1' })
  assertClean(deferred, 'deferred mode')
  const d = JSON.parse(deferred.stdout)
  assert.equal(d.afterGc.collected, 0, 'finalizers ran inside gc() in deferred mode')
  assert.equal(d.hits, d.final.registered)
  assert.equal(d.final.pending, 0)
})

test('a throwing callback is an uncaught exception; the rest of its batch still runs [both modes]', () => {
  const handled = runCase('throw-handled')
  assertClean(handled, 'throw-handled')
  assert.deepEqual(JSON.parse(handled.stdout), { seen: [0, 1, 2, 3, 4], errors: ['boom1', 'boom3'] })

  const unhandled = runCase('throw-exit')
  assert.deepEqual([unhandled.status, unhandled.signal], [1, null], unhandled.stderr)
  assert.match(unhandled.stderr, /Error: expected/)
  assert.doesNotMatch(unhandled.stderr, /FATAL|Segmentation|Assertion|LATE/)
})

test('process exit is clean: live, cancelled and pending registrations, exit inside a callback [both modes]', () => {
  const live = runCase('exit-live')
  assertClean(live, 'exit with live and cancelled tracked objects')
  assert.equal(live.stdout, 'exit-live: 100000 registered, 50000 cancelled, 50000 live, 0 fired')

  const afterGc = runCase('exit-after-gc')
  assertClean(afterGc, 'process.exit() right after gc()')
  assert.match(afterGc.stdout, /^exit-after-gc: exiting with /)
  const c = JSON.parse(afterGc.stdout.replace(/^exit-after-gc: exiting with /, ''))
  // The retained targets; deferred, also the collected ones whose finalizer
  // is still queued and that were not cancelled.
  assert.equal(c.live, DEFERRED ? 75_000 : 50_000)

  const natural = runCase('natural-after-gc')
  assertClean(natural, 'natural exit after gc()')
  assert.equal(natural.stdout, 'natural-after-gc: 50000 of 50000 delivered')

  const inCallback = runCase('exit-in-callback')
  assertClean(inCallback, 'process.exit() inside a callback')
})

test('workers: each isolate tracks on its own [both modes]', () => {
  const r = runCase('isolated')
  assertClean(r, 'isolated')
  assert.deepEqual(JSON.parse(r.stdout), { worker: 3000, mainBeforeDrop: 0, main: 1000 })
})

test('workers with live, cancelled and pending registrations: terminated, busy, exiting, ending: all clean, nothing left [both modes]', () => {
  for (const name of ['worker-live', 'worker-pending', 'worker-busy', 'worker-exit', 'worker-natural']) {
    const r = runCase(name)
    assertClean(r, name)
    // Once the workers have ended, only the main thread's tracker is alive
    // (a registration nobody finalized would hold its worker's), and no
    // tracker was freed with a reference still alive.
    assert.match(r.stdout, new RegExp(`^${name}: \\d+ workers ok, main 1000 of 1000, trackers 1, left behind 0$`))
  }
})

test('the fallback backend tracks the same way (no V8 symbols involved) [both modes]', () => {
  const r = runCase('fallback', { MEMWATCH_FORCE_FALLBACK: '1' })
  assertClean(r, 'fallback')
  assert.deepEqual(JSON.parse(r.stdout), { backend: 'fallback', fired: ['a', 'b'], hits: 50000, freedAtLeast12MB: true })
})

test('finalizers of the addon\'s own classes are legal inside the GC [both modes]', { skip: typeof memwatch.HeapDiff !== 'function' && 'this build has no #[napi] class' }, () => {
  // A #[napi] class's finalizer runs inside the GC too (in the default mode):
  // it must make only basic Node-API calls, or this child aborts. The live
  // count proves the native objects were really finalized.
  const r = runChild(`
    const memwatch = require(${JSON.stringify(ROOT)})
    const native = require(${JSON.stringify(path.join(ROOT, 'binding.js'))})
    ;(() => {
      for (let i = 0; i < 3; i++) { const d = new memwatch.HeapDiff(); if (i) d.end() }
    })()
    const before = native.NativeHeapDiff.live().count
    memwatch.gc(); memwatch.gc()
    setImmediate(() => setImmediate(() => {
      memwatch.gc()
      console.log(JSON.stringify({ before, after: native.NativeHeapDiff.live().count }))
    }))
  `)
  assert.deepEqual([r.status, r.signal], [0, null], r.stderr)
  const { before, after } = JSON.parse(r.stdout)
  // (In-GC mode, the snapshots' own GCs may already have finalized some.)
  assert.ok(before >= 1, `expected live native HeapDiffs before the GCs, got ${before}`)
  assert.equal(after, 0, 'native HeapDiffs were not finalized')
})

test('the [both modes] cases pass with deferred finalizers', { skip: (DEFERRED && 'already running with deferred finalizers') || (!FULL && 'runs in npm run test:full') }, () => {
  // Without NODE_TEST_CONTEXT the child reports TAP instead of talking to
  // this test runner.
  const env = { ...process.env, MEMWATCH_DEFERRED_FINALIZERS: '1' }
  delete env.NODE_TEST_CONTEXT
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', '--test-concurrency=1', '--test-name-pattern', '\\[both modes\\]', __filename], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 600_000,
  })
  const summary = r.stdout.split('\n').filter((l) => /^# (tests|pass|fail)/.test(l)).join(', ')
  assert.equal(r.status, 0, `deferred mode: ${summary}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`)
  assert.match(r.stdout, /^# fail 0$/m)
  assert.doesNotMatch(r.stdout, /^# pass 0$/m, 'no case ran')
})
