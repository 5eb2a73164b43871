'use strict'

// How the leak helpers (lib/testing.js) wait for the heap to settle and
// measure it: forced GCs with loop turns between them, the handles that
// calls left behind, and per-group live objects from a census (where
// `memwatch.census()` works in this thread) or from exact heap diffs
// otherwise.
//
// Timers come from node:timers, read once at load: a test that installs
// fake timers (jest, vitest, sinon) replaces the globals, not these.

const { setImmediate, setTimeout, clearTimeout } = require('node:timers')
const { CENSUS_UNAVAILABLE } = require('./internal.js')

// What HeapDiff#end({ groups }) takes, as the addon defines it.
const { MAX_RETAINER_GROUPS: MAX_GROUPS, MAX_GROUP_NAME_CHARS: MAX_GROUP_CHARS } = require('./native.js')

/** Resolves on the next turn of the event loop (after pending I/O and immediates). */
function turn() {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * The process's active handles and requests by type (`Timeout`,
 * `TCPSocketWrap`, `FSReqCallback`, …), counted inside a timer callback of
 * our own so that our own timer is always counted the same way.
 */
function resourceCounts() {
  return new Promise((resolve) => {
    setTimeout(() => resolve(countResources()), 0)
  })
}

function countResources() {
  const counts = new Map()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) || 0) + 1)
  return counts
}

function above(counts, baseline) {
  for (const [type, n] of counts) if (n > (baseline.get(type) || 0)) return true
  return false
}

/**
 * Waits until the handles and requests the calls started are gone again
 * (no type above `baseline`), polling once a millisecond, at most `ms`.
 * Resolves to whether they were.
 */
function handlesClosed(baseline, ms) {
  return new Promise((resolve) => {
    const deadline = Date.now() + ms
    const poll = () => {
      const open = above(countResources(), baseline)
      if (!open) resolve(true)
      else if (Date.now() >= deadline) resolve(false)
      else setTimeout(poll, 1)
    }
    setTimeout(poll, 0)
  })
}

/**
 * Lets what the calls left behind finish and be collected: handles back to
 * `baseline` (waiting at most `settleMs`), then `gcs` forced full GCs (2),
 * each after a loop turn (objects held until the next macrotask, promise
 * reactions, finalizers and FinalizationRegistry callbacks that free more
 * objects get their turn), then one more turn. Before a census none is
 * needed (`gcs` 0: only the turn): the census runs V8's full GCs itself, so
 * a GC of ours would only repeat them. What a finalizer or
 * FinalizationRegistry callback frees is then counted by one census more
 * (its callback runs after the census whose GC queued it): a lag of one
 * measurement, which makes such objects grow by the same amount in every
 * batch, not with the calls, so the rule never reports them (and a second
 * run starts with the first run's largest batch still pending: its first
 * batch shrinks).
 */
async function settle(memwatch, baseline, settleMs, gcs = 2) {
  if (baseline) await handlesClosed(baseline, settleMs)
  for (let round = 0; round < gcs; round++) {
    await turn()
    memwatch.gc()
  }
  await turn()
}

/**
 * Per-group live objects between measurements: `start()` once; after each
 * batch `point(last)` returns the growth since the previous point as
 * Map(what → [count, bytes]), and `next()` (but after the last) starts the
 * next measurement. Whatever the caller keeps from a point must exist
 * before `next()`; whatever it drops is garbage by then. Two
 * implementations; assertNoLeak picks one with `censusAvailable()`.
 */

/**
 * A census reading: live count and bytes by group name. Its JS objects are
 * one Object and two Maps whatever the groups (names are strings and
 * figures numbers, which a census does not count), so a census taken while
 * one reading is alive always counts the same three objects of ours.
 */
function reading() {
  return { counts: new Map(), bytes: new Map() }
}

/** From `memwatch.census()`: live counts and bytes per group, no snapshot. */
function censusProbe(memwatch) {
  let previous = null
  const read = () => {
    const out = reading()
    for (const g of memwatch.census().groups) {
      out.counts.set(g.what, g.count)
      out.bytes.set(g.what, g.size_bytes)
    }
    return out
  }
  return {
    method: 'census',
    start() {
      // Every census counts exactly one reading of ours as alive, the
      // previous one: the first counts an empty one of the same shape.
      previous = reading()
      previous = read()
    },
    point() {
      const now = read()
      const growth = new Map()
      for (const [what, count] of now.counts) {
        growth.set(what, [count - (previous.counts.get(what) || 0), now.bytes.get(what) - (previous.bytes.get(what) || 0)])
      }
      for (const [what, count] of previous.counts) {
        if (!now.counts.has(what)) growth.set(what, [-count, -previous.bytes.get(what)])
      }
      previous = now
      return { growth, retainers: [] }
    },
    next() {},
  }
}

/**
 * From exact heap diffs (two snapshots per batch): objects new minus
 * objects freed per group, matched by V8 object id. With `retainers`, the
 * last diff is ended with `{ retainers, groups }`: paths to the groups
 * named (up to 10, e.g. the candidates), or to the 5 that grew most.
 * `next()` starts the following diff once the caller has stored this
 * point's figures, so that nothing stored is born between its snapshots.
 */
function diffProbe(memwatch, { retainers = null, groups = [] } = {}) {
  // end()'s options, made before any snapshot.
  const named = groups.filter((g) => typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_CHARS).slice(0, MAX_GROUPS)
  const ask = retainers === null ? undefined : named.length ? { retainers, groups: named } : { retainers }
  let diff = null
  return {
    method: 'heapdiff',
    start() {
      diff = new memwatch.HeapDiff()
    },
    point(last) {
      const result = last && ask ? diff.end(ask) : diff.end()
      diff = null
      const growth = new Map()
      for (const d of result.change.details) growth.set(d.what, [d['+'] - d['-'], d.size_bytes])
      return { growth, retainers: last ? retainersOf(result) : [] }
    },
    next() {
      diff = new memwatch.HeapDiff()
    },
  }
}

/**
 * One exact heap diff over a whole run: `start()`, then `point(true)` once
 * at the end. Two snapshots in all, no retainer paths.
 */
function wholeRunDiff(memwatch) {
  return diffProbe(memwatch)
}

/**
 * Whether `memwatch.census()` works in this thread: it exists on every
 * backend but throws where a census cannot be made (the fallback backend,
 * a Node major without a verified object layout). Asked of the addon, which
 * knows without taking one (a census runs several full GCs).
 */
function censusAvailable(memwatch) {
  if (typeof memwatch.census !== 'function') return false
  return memwatch[CENSUS_UNAVAILABLE]() === null
}

/**
 * Retainer paths a HeapDiff result carries (`hd.end({ retainers })` adds
 * `retainers: [{ path, count }]` to the groups it explains) as
 * `[{ what, path, count }]`; `[]` where it carries none.
 */
function retainersOf(result) {
  const out = []
  for (const d of result.change.details) {
    if (!Array.isArray(d.retainers)) continue
    for (const r of d.retainers) out.push({ what: d.what, path: String(r.path), count: Number(r.count) || 0 })
  }
  return out
}

/** What a retainer path reads when the sampled objects have no strong path (src/heap_diff/retainers.rs, ONLY_WEAK). */
const ONLY_WEAK = '(reachable only through weak references)'
/** How a path from the running frames' locals starts. */
const STACK = '(GC roots) → (Stack roots)'

/**
 * expectCollected's retainer path: the most common strong path `result` (a
 * HeapDiff started before the object existed and ended after the wait with
 * `{ retainers, groups: [what] }`) carries for the object's group `what`,
 * or why there is none.
 * @returns {{ path: string, count: number } | { none: string }}
 */
function retainerPathOf(result, what) {
  const detail = result.change.details.find((d) => d.what === what)
  if (!detail || !(detail['+'] > 0)) {
    return { none: `the heap diff shows no new ${what} object (it files some objects under another group than their constructor's name)` }
  }
  const paths = Array.isArray(detail.retainers) ? detail.retainers : []
  const strong = paths.filter((r) => String(r.path) !== ONLY_WEAK)
  // Paths from the stack lead to objects of the frames running the heap
  // diff (the helper's own, in a generic group such as `Object`): a path
  // from anywhere else comes first.
  const best = strong.find((r) => !String(r.path).startsWith(STACK)) || strong[0]
  if (best) return { path: String(best.path), count: Number(best.count) || 0 }
  if (paths.length) return { none: `the new ${what} objects sampled are reachable only through weak references` }
  return { none: `the heap diff has no path to the new ${what} objects (a group without stable object ids gets none)` }
}

module.exports = {
  turn,
  resourceCounts,
  handlesClosed,
  settle,
  censusProbe,
  diffProbe,
  wholeRunDiff,
  censusAvailable,
  retainersOf,
  retainerPathOf,
  ONLY_WEAK,
}
