'use strict'

// How the leak helpers (lib/testing.js) wait for the heap to settle and
// measure it: forced GCs with loop turns between them, the handles that
// calls left behind, and per-group live objects from a census (where this
// build has `memwatch.census()`) or from exact heap diffs otherwise.
//
// Timers come from node:timers, read once at load: a test that installs
// fake timers (jest, vitest, sinon) replaces the globals, not these.

const { setImmediate, setTimeout, clearTimeout } = require('node:timers')

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
 * `baseline` (waiting at most `settleMs`), then two forced full GCs, each
 * after a loop turn (objects held until the next macrotask, promise
 * reactions, finalizers and FinalizationRegistry callbacks that free more
 * objects get their turn), then one more turn.
 */
async function settle(memwatch, baseline, settleMs) {
  if (baseline) await handlesClosed(baseline, settleMs)
  for (let round = 0; round < 2; round++) {
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
 * implementations, chosen by `groupProbe()`.
 */

/** From `memwatch.census()`: live counts and bytes per group, no snapshot. */
function censusProbe(memwatch) {
  let previous = null
  const read = () => {
    const out = new Map()
    for (const g of memwatch.census().groups) out.set(g.what, [g.count, g.size_bytes])
    return out
  }
  return {
    method: 'census',
    start() {
      // Read twice: every later census then counts exactly one earlier
      // reading of ours as alive, as this one does.
      previous = read()
      previous = read()
    },
    point() {
      const now = read()
      const growth = new Map()
      for (const [what, [count, bytes]] of now) {
        const before = previous.get(what) || [0, 0]
        growth.set(what, [count - before[0], bytes - before[1]])
      }
      for (const [what, [count, bytes]] of previous) {
        if (!now.has(what)) growth.set(what, [-count, -bytes])
      }
      previous = now
      return { growth, retainers: [] }
    },
    next() {},
  }
}

/**
 * From exact heap diffs (two snapshots per batch): objects new minus
 * objects freed per group, matched by V8 object id. The last diff is ended
 * with `{ retainers }` so that a build with retainer paths reports them.
 * `next()` starts the following diff once the caller has stored this
 * point's figures, so that nothing stored is born between its snapshots.
 */
function diffProbe(memwatch, retainers = 3) {
  let diff = null
  return {
    method: 'heapdiff',
    start() {
      diff = new memwatch.HeapDiff()
    },
    point(last) {
      const result = last ? diff.end({ retainers }) : diff.end()
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
 * at the end. Two snapshots in all.
 */
function wholeRunDiff(memwatch) {
  return diffProbe(memwatch)
}

/** The per-group probe this build supports: a census where there is one, exact diffs otherwise. */
function groupProbe(memwatch) {
  return typeof memwatch.census === 'function' ? censusProbe(memwatch) : diffProbe(memwatch)
}

/**
 * Retainer paths a HeapDiff result carries (`hd.end({ retainers })` adds
 * `retainers: [{ path, count }]` to its top groups, in builds that have
 * them) as `[{ what, path, count }]`; `[]` where it carries none.
 */
function retainersOf(result) {
  const out = []
  for (const d of result.change.details) {
    if (!Array.isArray(d.retainers)) continue
    for (const r of d.retainers) out.push({ what: d.what, path: String(r.path), count: Number(r.count) || 0 })
  }
  return out
}

/**
 * expectCollected's retainer path: the first path `result` (a HeapDiff
 * started before the object existed and ended after the wait) carries for
 * the object's group `what`, or why there is none.
 * @returns {{ path: string, count: number } | { none: string }}
 */
function retainerPathOf(result, what) {
  const all = retainersOf(result)
  if (!all.length && !result.change.details.some((d) => 'retainers' in d)) return { none: 'this build has none' }
  const mine = all.find((r) => r.what === what)
  if (mine) return { path: mine.path, count: mine.count }
  return { none: `the heap diff shows no path to a new ${what}` }
}

module.exports = {
  turn,
  resourceCounts,
  handlesClosed,
  settle,
  censusProbe,
  diffProbe,
  wholeRunDiff,
  groupProbe,
  retainersOf,
  retainerPathOf,
}
