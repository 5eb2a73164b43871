'use strict'

// memwatch-rs/testing: leak assertions for any test runner.
//
//   await expectCollected(() => makeThing())   // this object must be collectable
//   await assertNoLeak(() => useThing())       // live objects must not grow with the calls
//
// Both fail with a LeakError that carries the figures. The rule and the
// measurements live in lib/leak-rule.js and lib/heap-measure.js; this file
// checks arguments, orders the steps and words the verdict.

const util = require('node:util')
const { performance } = require('node:perf_hooks')
const memwatch = require('./memwatch.js')
const { describe } = require('./describe.js')
const rule = require('./leak-rule.js')
const measure = require('./heap-measure.js')
// Read once: fake timers (jest, vitest, sinon) replace the globals, not these.
const { setTimeout, clearTimeout, setImmediate, clearImmediate } = require('node:timers')

/** A leak found by expectCollected or assertNoLeak; the figures are properties. */
class LeakError extends Error {
  constructor(message, { suspects = [], retainers = [], target = null, calls = null } = {}) {
    super(message)
    this.code = 'MEMWATCH_LEAK'
    /** assertNoLeak: the groups that grew with the number of calls, most bytes per call first. */
    this.suspects = suspects
    /** Retainer paths found, `{ what, path, count }`; empty where none was found or recorded (expectCollected without `retainers`). */
    this.retainers = retainers
    /** expectCollected: the object that stayed alive, `{ what, gcs, waitedMs }`. */
    this.target = target
    /** assertNoLeak: `{ warmup, batches, runs, method }`, how it measured. */
    this.calls = calls
  }
}
Object.defineProperty(LeakError.prototype, 'name', { value: 'LeakError', writable: true, configurable: true })

// ---------------------------------------------------------------- options

const MAX_CALLS = 10_000_000
const MAX_TIMER_MS = 2 ** 31 - 1

/**
 * Reads `options` against `spec` ({ name: check }), each check returning
 * the value or throwing. Unknown options and a non-object throw TypeError.
 */
function readOptions(api, options, spec, defaults) {
  if (options === undefined) return { ...defaults }
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${api}: options must be an object, got ${describe(options)}`)
  }
  const out = { ...defaults }
  for (const key of Reflect.ownKeys(options)) {
    const name = typeof key === 'symbol' ? key.toString() : key
    if (!Object.prototype.hasOwnProperty.call(spec, key)) {
      throw new TypeError(`${api}: unknown option ${JSON.stringify(name).slice(0, 60)} (known: ${Object.keys(spec).join(', ')})`)
    }
    out[key] = spec[key](options[key], `${api}: options.${name}`)
  }
  return out
}

function integer(min, max) {
  return (value, what) => {
    if (typeof value !== 'number') throw new TypeError(`${what} must be an integer, got ${describe(value)}`)
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${what} must be an integer from ${min} to ${max.toLocaleString('en-US')}, got ${describe(value)}`)
    }
    return value
  }
}

function milliseconds(min, max) {
  return (value, what) => {
    if (typeof value !== 'number') throw new TypeError(`${what} must be a number of milliseconds, got ${describe(value)}`)
    if (!(value >= min && value <= max)) {
      throw new RangeError(`${what} must be from ${min} to ${max} ms, got ${describe(value)}`)
    }
    return value
  }
}

function boolean(value, what) {
  if (typeof value !== 'boolean') throw new TypeError(`${what} must be a boolean, got ${describe(value)}`)
  return value
}

function groupNames(value, what) {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError(`${what} must be an array of group names (strings), got ${describe(value)}`)
  }
  return value.slice()
}

// ------------------------------------------------------- expectCollected

const COLLECT_API = 'expectCollected(target, options)'
const COLLECT_SPEC = { timeoutMs: milliseconds(1, MAX_TIMER_MS), retainers: boolean }
const COLLECT_DEFAULTS = { timeoutMs: 5000, retainers: false }

/**
 * The group a heap diff files `object` under: its constructor's name
 * (from any realm: a vm context's objects included), `Closure` for a
 * function. Reads own data properties only, so no getter runs.
 */
function groupOf(object) {
  if (typeof object === 'function') return 'Closure'
  if (util.types.isProxy(object)) return 'Proxy'
  if (Array.isArray(object)) return 'Array'
  try {
    const proto = Object.getPrototypeOf(object)
    const ctor = proto && Object.getOwnPropertyDescriptor(proto, 'constructor')
    const name = ctor && typeof ctor.value === 'function' && Object.getOwnPropertyDescriptor(ctor.value, 'name')
    if (name && typeof name.value === 'string' && name.value) return name.value
  } catch {}
  return 'Object'
}

function describeTarget(object, what) {
  return typeof object === 'function' ? `the function ${object.name ? JSON.stringify(object.name.slice(0, 40)) : '(anonymous)'}` : `the ${what} object`
}

/** The trackGC callback: a function whose scope holds `state` and nothing else. */
function onCollected(state) {
  return () => {
    state.collected = true
    if (state.wake) state.wake()
  }
}

/**
 * Everything that sees the target, synchronously: it is tracked, named and
 * referenced weakly, and nothing returned holds it strongly.
 */
function watchTarget(target, options) {
  const fromFactory = typeof target === 'function'
  const diff = options.retainers ? startRetainerDiff(fromFactory) : null
  return watchObject(fromFactory ? target() : target, fromFactory, diff, options)
}

// Longest group name HeapDiff#end({ groups }) takes, as the addon defines it.
const { MAX_GROUP_NAME_CHARS: MAX_GROUP_CHARS } = require('./native.js')
// Distinct paths asked for: in a generic group (`Object`, `Closure`) some
// lead to the helper's own new objects, which retainerPathOf() passes over.
const PATHS = 20

function startRetainerDiff(fromFactory) {
  if (!fromFactory) {
    throw new TypeError(`${COLLECT_API}: options.retainers needs the factory form, expectCollected(() => target), so that the heap diff starts before the target exists`)
  }
  // end()'s options are made before the first snapshot, so that they are
  // no new objects of the target's group (an `Object` target's); the
  // target's group name is filled in once it is known.
  const ask = { retainers: PATHS, groups: [''] }
  const top = { retainers: PATHS }
  return { hd: new memwatch.HeapDiff(), ask, top }
}

/**
 * Ends the target's heap diff with a retainer path to the new objects of
 * its group (named, so the path is there however little the group grew),
 * or says why there is none.
 * @returns {{ path: string, count: number } | { none: string }}
 */
function retainerPath(diff, what) {
  let result
  try {
    if (what.length <= MAX_GROUP_CHARS) {
      diff.ask.groups[0] = what
      result = diff.hd.end(diff.ask)
    } else {
      result = diff.hd.end(diff.top)
    }
  } catch (err) {
    return { none: `the heap diff failed: ${String(err && err.message).slice(0, 200)}` }
  }
  return measure.retainerPathOf(result, what)
}

function watchObject(object, fromFactory, diff, options) {
  if (object === null || (typeof object !== 'object' && typeof object !== 'function')) {
    const whose = fromFactory ? "the factory's return value" : 'target'
    throw new TypeError(`${COLLECT_API}: ${whose} must be an object or a function (primitives are never collected), got ${describe(object)}`)
  }
  if (fromFactory && typeof object.then === 'function') {
    throw new TypeError(
      `${COLLECT_API}: the factory returned a promise; it must return the object itself, synchronously (create it first, then pass () => object)`,
    )
  }
  const what = groupOf(object)
  const state = { collected: false, wake: null }
  return {
    state,
    what,
    label: describeTarget(object, what),
    ref: new WeakRef(object),
    cancel: memwatch.trackGC(object, onCollected(state)),
    diff,
    timeoutMs: options.timeoutMs,
  }
}

/**
 * Resolves when `state` is collected or after a wait: `ms` of 0 waits two
 * loop turns (a finalizer's callback needs one to be delivered), otherwise
 * a timer of `ms`. Leaves no timer or immediate behind.
 */
function collectedOr(state, ms) {
  return new Promise((resolve) => {
    let timer = null
    let immediate = null
    const done = () => {
      if (state.wake !== done) return
      state.wake = null
      if (timer) clearTimeout(timer)
      if (immediate) clearImmediate(immediate)
      resolve()
    }
    state.wake = done
    if (ms > 0) timer = setTimeout(done, ms)
    else immediate = setImmediate(() => (immediate = setImmediate(done)))
  })
}

/** Whether the weakly held target is still alive (call only when no GC follows in this job). */
function alive(ref) {
  return ref.deref() !== undefined
}

const MIN_GCS = 3

async function waitCollected(watch) {
  const { state } = watch
  const started = Date.now()
  const deadline = started + watch.timeoutMs
  let gcs = 0
  try {
    // Let the caller's job end first: its temporaries (and the WeakRef's
    // hold, which lasts until the end of the job) let go of the target.
    await measure.turn()
    for (let round = 0; !state.collected; round++) {
      memwatch.gc()
      gcs++
      // A few GCs a loop turn apart, then backing off (1, 2, 4 … 100 ms)
      // for objects held by timers or I/O; woken at once by the callback.
      // Never fewer than MIN_GCS, however slow the GCs (a loaded machine).
      const backoff = round < MIN_GCS ? 0 : Math.min(2 ** (round - MIN_GCS), 100)
      const left = deadline - Date.now()
      if (left <= 0 && gcs >= MIN_GCS) break
      await collectedOr(state, Math.max(0, Math.min(backoff, left)))
    }
  } finally {
    watch.cancel()
  }
  if (state.collected || !alive(watch.ref)) return
  const waitedMs = Date.now() - started
  let found = null
  if (watch.diff) {
    // deref() keeps the target alive until this job ends (a strong root
    // named weak_refs_keep_during_job): the snapshot is taken in the next.
    await measure.turn()
    found = retainerPath(watch.diff, watch.what)
  }
  const lines = [
    `expectCollected: ${watch.label} was not garbage-collected within ${watch.timeoutMs} ms (${gcs} forced full GCs): something still references it`,
  ]
  if (!found) lines.push('  no retainer path: pass { retainers: true } with a factory to record one (two heap snapshots)')
  else if (found.none) lines.push(`  no retainer path: ${found.none}`)
  else lines.push(`  retained by: ${found.path}${found.count > 1 ? ` (one of ${found.count} new ${watch.what} objects held this way)` : ''}`)
  const err = new LeakError(lines.join('\n'), {
    target: { what: watch.what, gcs, waitedMs },
    retainers: found && found.path ? [{ what: watch.what, path: found.path, count: found.count }] : [],
  })
  // The stack starts at the caller's `await expectCollected(…)` line.
  Error.captureStackTrace(err, waitCollected)
  throw err
}

/**
 * Resolves once `target` has been garbage-collected; rejects with a
 * LeakError naming its group if it is still alive after `timeoutMs`.
 * `target` is an object, or a function that returns it (recommended: the
 * object then never lives in the caller's frame).
 */
function expectCollected(target, options) {
  if (arguments.length > 2) {
    return Promise.reject(new TypeError(`${COLLECT_API} takes at most two arguments (got ${arguments.length})`))
  }
  let watch
  try {
    watch = watchTarget(target, readOptions(COLLECT_API, options, COLLECT_SPEC, COLLECT_DEFAULTS))
  } catch (err) {
    return Promise.reject(err)
  }
  return waitCollected(watch)
}

// ---------------------------------------------------------- assertNoLeak

const NO_LEAK_API = 'assertNoLeak(fn, options)'
const NO_LEAK_SPEC = {
  iterations: integer(6, MAX_CALLS),
  warmup: integer(0, MAX_CALLS),
  settleMs: milliseconds(0, 60_000),
  ignore: groupNames,
  retainers: boolean,
}
const NO_LEAK_DEFAULTS = { iterations: 60, warmup: 30, settleMs: 1000, ignore: [], retainers: true }

let running = false

/** Node's resource-timing entries (one per fetch() request, kept until the buffer is full: 250 by default). */
function resourceTimings() {
  return performance.getEntriesByType('resource').length
}

const TIMING_STEP = 10
const TIMING_MAX_CALLS = 1000

/**
 * Node keeps a resource-timing entry for each fetch() request until its
 * buffer is full (250 entries unless changed): a bounded buffer, but one
 * larger than the measured calls. When the warm-up added entries, it goes
 * on, 10 calls at a time, until the buffer stops growing (at most 1,000
 * more calls). Returns the extra calls made.
 */
async function fillTimingBuffer(fn, before) {
  let entries = resourceTimings()
  if (entries === before) return 0
  let extra = 0
  while (extra < TIMING_MAX_CALLS) {
    await callN(fn, TIMING_STEP)
    extra += TIMING_STEP
    const now = resourceTimings()
    if (now === entries) break
    entries = now
  }
  return extra
}

/**
 * Calls `fn` `n` times, awaiting each call that returns a promise (or any
 * thenable). Resolves to whether any did.
 */
async function callN(fn, n) {
  let awaited = false
  for (let i = 0; i < n; i++) {
    const r = fn()
    if (r !== null && (typeof r === 'object' || typeof r === 'function') && typeof r.then === 'function') {
      awaited = true
      await r
    }
  }
  return awaited
}

/** Resolves after `ms` (a timer of node:timers, which fake timers leave alone). */
function pause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * One measured run: settle, start the probe, then each batch of calls,
 * settled and measured (`perBatch`), or all batches back to back and one
 * measurement at the end. Returns the growth by group, per batch. With
 * `patient`, the last measurement waits `settleMs` more first.
 */
async function measuredRun(fn, sizes, baseline, options, probe, { perBatch = true, keepGoing = null, patient = false } = {}) {
  const run = { groups: new Map(), retainers: [] }
  // A census runs V8's full GCs itself: no forced GC of ours before it
  // (lib/heap-measure.js, settle()).
  const gcs = probe.method === 'census' ? 0 : 2
  await measure.settle(memwatch, baseline, options.settleMs, gcs)
  probe.start()
  if (!perBatch) {
    for (const n of sizes) await callN(fn, n)
    if (patient) await pause(options.settleMs)
    await measure.settle(memwatch, baseline, options.settleMs, gcs)
    record(run, 1, 0, probe.point(true))
    return run
  }
  for (let b = 0; b < sizes.length; b++) {
    await callN(fn, sizes[b])
    const last = b === sizes.length - 1
    if (last && patient) await pause(options.settleMs)
    await measure.settle(memwatch, baseline, options.settleMs, gcs)
    record(run, sizes.length, b, probe.point(last))
    // Stop early once no group can still meet the rule.
    if (last || (keepGoing !== null && !keepGoing(run, b + 1))) break
    probe.next()
  }
  return run
}

/** Stores one point's growth by group (in a function of its own: nothing of the point stays on the async frame). */
function record(run, batches, b, point) {
  for (const [what, [count, size]] of point.growth) {
    let g = run.groups.get(what)
    if (!g) run.groups.set(what, (g = { counts: new Array(batches).fill(0), bytes: new Array(batches).fill(0) }))
    g.counts[b] = count
    g.bytes[b] = size
  }
  if (point.retainers.length) run.retainers = point.retainers
}

/**
 * A census records no retainer path. Once censuses have found a leak (a
 * failing test, so the cost is no pass's), one more batch of calls runs
 * inside an exact heap diff whose end() looks for the suspects' paths. It
 * decides nothing: the verdict is already the censuses'. `[]` if the diff
 * finds none or cannot run.
 */
async function explain(fn, sizes, baseline, options, suspects) {
  try {
    const run = await measuredRun(fn, sizes.slice(0, 1), baseline, options, measure.diffProbe(memwatch, { retainers: 3, groups: suspects }))
    return run.retainers
  } catch {
    return []
  }
}

/** The failure's text; `retainers` null when they were not looked for (`retainers: false`). */
function leakMessage(found, sizes, warmup, method, retainers) {
  const lines = [
    `assertNoLeak: live objects grew with the number of calls (${warmup} warm-up calls, then batches of ${sizes.join(', ')} calls; measured by ${method === 'census' ? 'heap census' : 'exact heap diffs'}):`,
  ]
  const width = Math.min(40, Math.max(...found.map((s) => s.what.length)))
  for (const s of found) {
    lines.push(
      `  ${s.what.slice(0, 60).padEnd(width)}  ${fmt(s.perIteration)} objects and ${fmt(s.bytesPerIteration)} bytes per call (per batch: ${s.counts.map(fmt).join(', ')} objects; ${s.bytes.map(fmt).join(', ')} bytes)`,
    )
  }
  const paths = (retainers || []).filter((r) => found.some((s) => s.what === r.what))
  if (paths.length) for (const r of paths) lines.push(`  ${r.what} retained by: ${r.path}`)
  else if (retainers === null) lines.push('  no retainer path: not looked for (retainers: false)')
  else lines.push(method === 'census' ? '  no retainer path: the heap diff after the censuses found none' : '  no retainer path: the heap diff found none')
  return lines.join('\n')
}

function fmt(x) {
  return (x > 0 ? '+' : '') + (Number.isInteger(x) ? String(x) : x.toFixed(2))
}

/**
 * Calls `fn` (sync or async) in batches and rejects with a LeakError when
 * live objects of some group grow with the number of calls. Resolves to
 * how it measured. See the README's "Leak tests" for the rule.
 */
async function assertNoLeak(fn, options) {
  if (arguments.length > 2) throw new TypeError(`${NO_LEAK_API} takes at most two arguments (got ${arguments.length})`)
  if (typeof fn !== 'function') throw new TypeError(`${NO_LEAK_API}: fn must be a function, got ${describe(fn)}`)
  const opts = readOptions(NO_LEAK_API, options, NO_LEAK_SPEC, NO_LEAK_DEFAULTS)
  if (running) {
    throw new Error(`${NO_LEAK_API}: another assertNoLeak is running in this thread; leak tests measure the whole heap and must run one at a time`)
  }
  running = true
  try {
    const sizes = rule.batchSizes(opts.iterations)
    await measure.turn()
    const timings = resourceTimings()
    const async = await callN(fn, opts.warmup)
    const warmup = opts.warmup + (await fillTimingBuffer(fn, timings))
    const baseline = await measure.resourceCounts()
    const calls = { warmup, batches: sizes, runs: 1, method: '' }
    // Run 1, cheap: a census after each batch where one works in this
    // thread (suspects by the rule), else one exact heap diff over the
    // whole run (groups that grew by half the floor or more). Nothing:
    // done. Async calls may leave objects that a periodic sweep frees
    // (undici's timers, for one): for them the last measurement waits
    // `settleMs` more.
    const census = measure.censusAvailable(memwatch)
    let candidates
    if (census) {
      calls.method = 'census'
      const first = await measuredRun(fn, sizes, baseline, opts, measure.censusProbe(memwatch), { patient: async })
      candidates = rule.suspects(sizes, first.groups, opts.ignore).map((s) => s.what)
    } else {
      calls.method = 'heapdiff'
      const first = await measuredRun(fn, sizes, baseline, opts, measure.wholeRunDiff(memwatch), { perBatch: false, patient: async })
      const totals = new Map([...first.groups].map(([what, g]) => [what, [g.counts[0], g.bytes[0]]]))
      candidates = rule.candidates(opts.iterations, totals, opts.ignore)
    }
    if (!candidates.length) return calls
    // Run 2, per batch (by census again where one works, else by exact
    // heap diffs), after run 1's calls as more warm-up (a
    // bounded cache still filling during run 1 is full by now): only
    // candidates that grow with the calls again are reported. Its last
    // measurement waits `settleMs` more: objects that a periodic sweep
    // frees (undici's fetch timers, for one) are then gone and their group
    // shrinks in the last batch; a leak's objects stay. Exact diffs end
    // with retainer paths to the candidates.
    const probe = census ? measure.censusProbe(memwatch) : measure.diffProbe(memwatch, { retainers: 3, groups: candidates })
    const keepGoing = (run, done) => candidates.some((what) => rule.growingSoFar(sizes, done, run.groups.get(what)))
    const second = await measuredRun(fn, sizes, baseline, opts, probe, { keepGoing, patient: true })
    const found = rule.suspects(sizes, second.groups, opts.ignore).filter((s) => candidates.includes(s.what))
    calls.runs = 2
    if (!found.length) return calls
    const names = found.map((s) => s.what)
    let retainers = second.retainers
    if (probe.method === 'census') retainers = opts.retainers ? await explain(fn, sizes, baseline, opts, names) : null
    const err = new LeakError(leakMessage(found, sizes, warmup, probe.method, retainers), {
      suspects: found,
      retainers: (retainers || []).filter((r) => names.includes(r.what)),
      calls,
    })
    Error.captureStackTrace(err, assertNoLeak)
    throw err
  } finally {
    running = false
  }
}

module.exports = { expectCollected, assertNoLeak, LeakError }
