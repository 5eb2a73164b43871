'use strict'

// What a census leaves behind: QueryObjects clears every function's type
// feedback, so hot code re-learns it. A hot function's speed before, right
// after, and 1 s and 5 s (of its own execution) after a census, against the
// same after a plain gc().

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'census-slowdown.js')
// "No lasting slowdown": at 1 s and at 5 s after a census, the workload runs
// at least this share of its speed at the same moment when nothing was done
// (the control takes out the workload's own drift). Against a plain gc() it
// is shown too: a gc() alone speeds this workload up for a while.
const LASTING = 0.9

module.exports = {
  title: 'Heap census: the slowdown it leaves (cleared type feedback), against a plain gc()',
  run({ lib, runs, quick }) {
    const variants = [{ name: 'slowdown', label: 'slowdown', script: SCRIPT, args: ['100000'], env: { CYCLES: quick ? '1' : '3' }, timeout: 900_000 }]
    const res = lib.interleave(variants, runs).slowdown
    const err = lib.firstError(res)
    if (err) return { header: ['error'], rows: [[err.slice(0, 200)]], notes: [] }
    const ok = res.filter((r) => !r.error)
    const windows = ok[0].windows
    const all = (action, w) => ok.flatMap((r) => r.results[action].map((c) => c[w]))
    // Census against gc() and against nothing in the same cycle (measured
    // a few seconds apart).
    const paired = (action, w, other = 'gc') => ok.flatMap((r) => r.results[action].map((c, i) => c[w] / r.results[other][i][w]))
    const rows = windows.map((label, w) => [
      label,
      lib.fmt(lib.median(all('none', w)), 2),
      lib.fmt(lib.median(all('gc', w)), 2),
      lib.fmt(lib.median(all('census', w)), 2),
      lib.fmt(lib.median(paired('census', w)), 2),
      lib.fmt(lib.median(paired('census', w, 'none')), 2),
    ])
    const pause = (a) => lib.median(ok.flatMap((r) => r.pauses[a]))
    const at = (label, other) => lib.median(paired('census', windows.indexOf(label), other))
    const lasting = ['at 1 s', 'at 5 s'].map((l) => [l, at(l, 'none')])
    const met = lasting.every(([, x]) => x >= LASTING)
    const vsGc = ['at 1 s', 'at 5 s'].map((l) => [l, at(l, 'gc')])
    const gcGain = lib.median(paired('gc', windows.indexOf('at 1 s'), 'none'))
    // How far the control alone spreads: single windows, 10th to 90th
    // percentile, at 1 s and 5 s.
    const spread = ['at 1 s', 'at 5 s'].flatMap((l) => all('none', windows.indexOf(l))).sort((a, b) => a - b)
    const pct = (p) => spread[Math.min(spread.length - 1, Math.floor(p * spread.length))]
    const pairs = ok.reduce((n, r) => n + r.results.census.length, 0)
    return {
      what:
        "One process per run keeps 100k objects live and runs a hot function (monomorphic and polymorphic loads, allocation, calls) in batches timed by its own thread's CPU time; cycles run nothing (the control), `gc()` and `census()` in turn. Each figure: the workload's speed in a window of its execution after the action, relative to its speed in the 300 ms before it (medians over runs and cycles).",
      header: ['window after the action', 'after nothing', 'after gc()', 'after census()', 'census ÷ gc()', 'census ÷ nothing'],
      rows,
      notes: [
        `Target: no lasting slowdown (at 1 s and 5 s, at least ${LASTING} of the speed at the same moment when nothing was done): ${lasting.map(([l, x]) => `${lib.fmt(x, 2)} ${l}`).join(', ')}, ${met ? 'met' : 'not met'} (medians of ${pairs} pairs).`,
        `Against a plain gc() at the same moments: ${vsGc.map(([l, x]) => `${lib.fmt(x, 2)} ${l}`).join(', ')}. A gc() alone makes this workload ${lib.fmt(gcGain, 2)}× as fast as doing nothing 1 s later (its full, compacting GC); a census runs the same GCs, and the feedback it clears takes part of that gain back.`,
        `The noise: with no action at all, one window's speed ranges ${lib.fmt(pct(0.1), 2)}–${lib.fmt(pct(0.9), 2)} of the 300 ms before it (10th–90th percentile at 1 s and 5 s). A single pair cannot resolve 10%; the medians can, roughly.`,
        "Every census throws type feedback away: V8's QueryObjects resets the inline caches of every function before it walks the heap, and no census through that API can avoid it. The dip right after is that cost, paid once per census while hot code re-learns its types; it is transient, not lasting.",
        `Pauses in this workload: gc() ${lib.fmt(pause('gc'), 0)} ms, census() ${lib.fmt(pause('census'), 0)} ms (medians).`,
        ok.every((r) => r.threadCpu) ? "Timed by /proc/thread-self/schedstat (this thread's CPU time)." : 'Timed by wall clock (no /proc/thread-self/schedstat).',
      ],
    }
  },
}
