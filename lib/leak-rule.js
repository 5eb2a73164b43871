'use strict'

// assertNoLeak's rule, on plain numbers: which groups of live objects grew
// with the number of calls. No heap, no timers: the figures come from
// lib/heap-measure.js, the verdict from here (tested on its own in
// __test__/testing.test.js).
//
// A run measures the heap after warm-up, then after each of three batches
// of calls whose sizes are in the ratio 1 : 2 : 3. For one group (or for
// the heap's total bytes), `growth[b]` is how much it grew during batch b.
// The group grows with the number of calls when
//   1. it grew in every batch by at least half of what `floor` (a rate per
//      call) predicts for that batch's size, and
//   2. the growth rises with the batch size: the least-squares slope of
//      growth against batch size is at least `floor`.
// A leak of r ≥ floor objects per call meets both (growth r·n, 2r·n,
// 3r·n). A one-time growth (a cache filled in one batch) fails 1; growth
// that is the same in every batch whatever its size (a fixed number of
// objects per measurement) fails 2; noise fails one or the other unless it
// happens to rise with the batch size by `floor` per call.

/** The batch sizes for `calls` measured calls: 1 : 2 : 3, summing to `calls` (≥ 6). */
function batchSizes(calls) {
  const small = Math.floor(calls / 6)
  const middle = Math.floor(calls / 3)
  return [small, middle, calls - small - middle]
}

/** Least-squares slope of `ys` against `xs`. */
function slope(xs, ys) {
  const n = xs.length
  let mx = 0
  let my = 0
  for (let i = 0; i < n; i++) {
    mx += xs[i] / n
    my += ys[i] / n
  }
  let sxy = 0
  let sxx = 0
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my)
    sxx += (xs[i] - mx) ** 2
  }
  return sxx === 0 ? 0 : sxy / sxx
}

/**
 * Whether a series grows with the number of calls at `floor` per call or
 * more (the rule above).
 * @param {number[]} sizes calls per batch
 * @param {number[]} growth growth per batch (same length)
 * @param {number} floor the smallest rate per call counted as growth
 */
function growsWithCalls(sizes, growth, floor) {
  for (let b = 0; b < sizes.length; b++) {
    if (!(growth[b] >= (floor * sizes[b]) / 2) || growth[b] <= 0) return false
  }
  return slope(sizes, growth) >= floor
}

/**
 * Whether group `g` ({ counts, bytes } per batch) still meets condition 1
 * of the rule after the first `done` batches: if not, no later batch can
 * make it a suspect.
 */
function growingSoFar(sizes, done, g) {
  if (!g) return false
  const meets = (series, floor) => {
    for (let b = 0; b < done; b++) if (!(series[b] > 0 && series[b] >= (floor * sizes[b]) / 2)) return false
    return true
  }
  return meets(g.counts, FLOOR.objects) || meets(g.bytes, FLOOR.bytes)
}

/** The smallest leak assertNoLeak reports, per call: objects of one group, or bytes. */
const FLOOR = Object.freeze({ objects: 0.5, bytes: 16 })

/**
 * The groups a first, cheap run hands to the exact run: those whose live
 * count or bytes grew over the whole run by at least half of what the
 * floor predicts for `calls` calls. Anything the per-batch rule could
 * report over the same number of calls grows at least this much.
 * @param {number} calls calls in the run
 * @param {Map<string, [number, number]>} totals growth by group: [count, bytes]
 * @param {string[]} ignore more group names to leave out
 */
function candidates(calls, totals, ignore = []) {
  const out = []
  for (const [what, [count, bytes]] of totals) {
    if (isNoise(what, ignore)) continue
    if (count >= (FLOOR.objects * calls) / 2 || bytes >= (FLOOR.bytes * calls) / 2) out.push(what)
  }
  return out
}

/**
 * Groups V8 grows and shrinks by itself as code runs, compiles and
 * optimises (compiled code, feedback and other internals, object shapes,
 * snapshot roots), never a leak of the code under test on their own: a
 * leaked closure or object is reported under its own group.
 */
const NOISE = [/^Code$/, /^Hidden$/, /^ObjectShape$/, /^Synthetic$/, /^\(.*\)$/, /^Type /, /^system \/ /]

function isNoise(what, ignore) {
  return NOISE.some((re) => re.test(what)) || ignore.includes(what)
}

/**
 * The suspects of one run: groups whose live count or bytes grow with the
 * number of calls, largest bytes per call first.
 * @param {number[]} sizes calls per batch
 * @param {Map<string, { counts: number[], bytes: number[] }>} groups growth per batch by group
 * @param {string[]} ignore more group names to leave out
 */
function suspects(sizes, groups, ignore = []) {
  const calls = sizes.reduce((a, b) => a + b, 0)
  const out = []
  for (const [what, g] of groups) {
    if (isNoise(what, ignore)) continue
    const byCount = growsWithCalls(sizes, g.counts, FLOOR.objects)
    const byBytes = growsWithCalls(sizes, g.bytes, FLOOR.bytes)
    if (!byCount && !byBytes) continue
    const count = g.counts.reduce((a, b) => a + b, 0)
    const bytes = g.bytes.reduce((a, b) => a + b, 0)
    out.push({
      what,
      perIteration: round(count / calls),
      bytesPerIteration: round(bytes / calls),
      counts: g.counts.slice(),
      bytes: g.bytes.slice(),
      rule: byCount ? 'objects' : 'bytes',
    })
  }
  return out.sort((a, b) => b.bytesPerIteration - a.bytesPerIteration || b.perIteration - a.perIteration)
}

function round(x) {
  return Math.round(x * 100) / 100
}

module.exports = { batchSizes, growsWithCalls, growingSoFar, candidates, suspects, slope, isNoise, FLOOR, NOISE }
