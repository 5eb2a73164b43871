'use strict'

// Heap census: what a census diff costs against the exact HeapDiff in the
// same run (time, extra peak RSS), and the pause of one census per 100k
// live objects.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'census.js')

const TIME_TARGET = 5 // × faster than new HeapDiff() + end()
const TIME_AIM = 10
const RSS_TARGET = 5 // % of the process's RSS
// The class whose instances a variant's "found" counts, where it is not Fresh.
const FOUND_CLASS = { census: 'Small ', 'v8-query': 'Lone ' }

module.exports = {
  title: 'Heap census: census diff vs HeapDiff, and the pause of one census',
  run({ lib, runs, quick }) {
    const sizes = quick ? [100_000] : [100_000, 1_000_000]
    const kinds = [
      ['heapdiff', '`new HeapDiff()` + `end()` (exact)'],
      ['census-diff', '`new HeapDiff({ census: true })` + `end()`'],
      ['census', 'one `memwatch.census()`'],
      ['gc', 'two `memwatch.gc()` (GC work alone)'],
      ['v8-query', "Node's `v8.queryObjects(Lone, { format: 'count' })`, 1 match (V8's same walk)"],
    ]
    const rows = []
    const notes = []
    const speedups = []
    const shares = []
    const pauses = []
    const perHeapMB = []
    const floors = []
    for (const n of sizes) {
      // --no-warnings: v8.queryObjects() prints an ExperimentalWarning.
      const variants = kinds.map(([name, label]) => ({ name, label, script: SCRIPT, args: [name, String(n)], nodeArgs: ['--no-warnings'], timeout: 900_000 }))
      console.error(`bench: census with ${n} objects ...`)
      const res = lib.interleave(variants, runs)
      const share = (r) => lib.median(r.filter((x) => !x.error).map((x) => (x.extraPeakMB / x.rssBeforeMB) * 100))
      for (const v of variants) {
        const r = res[v.name]
        const err = lib.firstError(r)
        if (err) {
          rows.push([v.label, n.toLocaleString('en-US'), 'error', err.slice(0, 80), '', '', '', ''])
          continue
        }
        const faster = v.name === 'heapdiff' ? '1.00' : lib.fmt(lib.pairedRatio(res.heapdiff, r, 'wallMs'), 2)
        rows.push([
          v.label,
          n.toLocaleString('en-US'),
          lib.fmt(lib.med(r, 'wallMs'), 0),
          faster,
          lib.fmt(lib.med(r, 'extraPeakMB'), 1),
          `${lib.fmt(share(r), 1)}%`,
          lib.fmt(lib.med(r, 'rssBeforeMB'), 0),
          v.name === 'gc' ? '–' : `${FOUND_CLASS[v.name] || ''}${lib.med(r, 'found')}`,
        ])
      }
      if (!lib.firstError(res['census-diff']) && !lib.firstError(res.heapdiff)) {
        speedups.push([n, lib.pairedRatio(res.heapdiff, res['census-diff'], 'wallMs')])
        shares.push([n, share(res['census-diff'])])
      }
      if (!lib.firstError(res['v8-query']) && !lib.firstError(res.census)) {
        floors.push({
          size: n,
          walkMB: lib.med(res['v8-query'], 'extraPeakMB'),
          walkShare: share(res['v8-query']),
          walkMs: lib.med(res['v8-query'], 'wallMs'),
          censusPerWalkMB: lib.pairedRatio(res.census, res['v8-query'], 'extraPeakMB'),
          censusPerWalkMs: lib.pairedRatio(res.census, res['v8-query'], 'wallMs'),
          heapdiffPerTwoWalks: lib.pairedRatio(res.heapdiff, res['v8-query'], 'wallMs') / 2,
        })
      }
      const census = res.census.filter((x) => !x.error && x.objects > 0)
      if (census.length) {
        pauses.push([n, lib.median(census.map((x) => x.wallMs / (x.objects / 1e5))), lib.median(census.map((x) => x.objects))])
        perHeapMB.push([n, lib.median(census.map((x) => x.heapMB)), lib.median(census.map((x) => x.wallMs / x.heapMB)), lib.median(census.map((x) => x.extraPeakMB / x.heapMB))])
      }
      if (res.census.some((x) => !x.error && !x.hwmReset)) notes.push('Peak RSS could not be reset (/proc/self/clear_refs): extra peak = maxRSS - RSS before, an upper bound.')
    }
    const n = (x) => x.toLocaleString('en-US')
    const met = (ok) => (ok ? 'met' : 'not met')
    for (const [size, x] of speedups) {
      notes.push(
        `Target: a census diff at least ${TIME_TARGET}× faster than \`new HeapDiff()\` + \`end()\` (aim ${TIME_AIM}×): ${lib.fmt(x, 1)}× at ${n(size)} objects, ${met(x >= TIME_TARGET)}${x >= TIME_AIM ? ', aim met' : ''}.`,
      )
    }
    for (const [size, s] of shares) {
      notes.push(`Target: a census diff's extra peak RSS at most ${RSS_TARGET}% of the process's RSS: ${lib.fmt(s, 1)}% at ${n(size)} objects, ${met(s <= RSS_TARGET)}.`)
    }
    for (const f of floors) {
      notes.push(
        `What the speed target is up against, at ${n(f.size)} objects: a census diff is two of V8's heap walks (QueryObjects), and one walk through Node's own \`v8.queryObjects()\` takes ${lib.fmt(f.walkMs, 0)} ms (a census: ${lib.fmt(f.censusPerWalkMs, 2)}× that, run by run): \`new HeapDiff()\` + \`end()\` ÷ two such walks = ${lib.fmt(f.heapdiffPerTwoWalks, 1)}×.`,
      )
    }
    for (const f of floors) {
      notes.push(
        `The floor under that target, at ${n(f.size)} objects: Node's own \`v8.queryObjects()\`, the one other user of V8's heap walk, asked for a class with one instance, needs ${lib.fmt(f.walkMB, 1)} MB (${lib.fmt(f.walkShare, 1)}% of RSS); one census needs ${lib.fmt(f.censusPerWalkMB, 2)}× that (run by run). No exported V8 API walks the heap for less.`,
      )
    }
    for (const [size, ms, objects] of pauses) {
      notes.push(`Pause of one census on a heap of ${n(objects)} live JS objects: ${lib.fmt((ms * objects) / 1e5, 0)} ms, ${lib.fmt(ms, 0)} ms per 100k objects (the census of the \`suspects\` on \`leak\` costs the same).`)
    }
    if (pauses.length === 2) {
      const [[, a, na], [, b, nb]] = pauses
      const marginal = ((b * nb - a * na) / 1e5) / ((nb - na) / 1e5)
      notes.push(`Each further 100k live JS objects adds ${lib.fmt(marginal, 0)} ms to a census (from the two heaps above); the rest is a fixed cost (V8's full GCs of the whole heap).`)
    }
    for (const [size, heapMB, ms, mb] of perHeapMB) {
      notes.push(
        `Per MB of live heap (${n(size)} objects, ${lib.fmt(heapMB, 0)} MB live): one census pauses ${lib.fmt(ms, 1)} ms and needs ${lib.fmt(mb, 2)} MB of extra memory; \`suspectsMaxHeapBytes\` (128 MiB by default) bounds the censuses nobody asked for, those of \`suspects\`.`,
      )
    }
    notes.push(
      "The extra peak RSS of a census is V8's: QueryObjects marks every reachable heap object into a hash set (about 40 bytes per object, freed when the census returns), so it grows with the live heap, not with the number of groups; memwatch-rs's own memory is per V8 map and per group.",
      'A census runs V8\'s full GCs first (`CollectAllAvailableGarbage`, like the "gc" row) and then two walks of the reachable heap, all inside V8\'s QueryObjects; the `v8.queryObjects` row is the same call with Node\'s per-object check instead of memwatch-rs\'s.',
      'found = `+` reported for the 10k new objects (must be 10000); for one census, the N objects counted; for `v8.queryObjects`, the instances of its class `Lone` (one).',
    )
    return {
      what:
        'A fresh process builds N small objects and settles the heap with `gc()`, then times one variant. "HeapDiff ÷ this": median of run-by-run time ratios (above 1: faster than the exact HeapDiff). Extra peak RSS: the process\'s peak during the variant above its RSS before (VmHWM reset), also as a share of that RSS.',
      header: ['variant', 'objects', 'time ms', 'HeapDiff ÷ this', 'extra peak RSS MB', 'extra peak, % of RSS', 'process RSS MB', 'found'],
      rows,
      notes,
    }
  },
}
