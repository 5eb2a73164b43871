'use strict'

// HeapDiff: time and peak RSS of construct + end() around 10k new objects on
// a heap of N small objects, against @airbnb/node-memwatch, the floor (two
// bare V8 snapshots, taken and deleted) and the JS path (getHeapSnapshot +
// JSON.parse, twice, diffed by id).

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'heapdiff.js')

module.exports = {
  title: 'HeapDiff (construct + end) on a heap of small objects',
  run({ lib, runs, quick }) {
    const sizes = quick ? [100_000] : [100_000, 1_000_000]
    const candidates = [
      ['memwatch-rs', 'memwatch-rs (V8 source)'],
      ['memwatch-rs-json', 'memwatch-rs (JSON source)', null, { MEMWATCH_HEAPDIFF_SOURCE: 'json' }],
      ['airbnb', '@airbnb/node-memwatch 3.0', '@airbnb/node-memwatch'],
      ['floor', 'floor: two bare V8 snapshots'],
      ['js', 'JS: getHeapSnapshot + JSON.parse'],
    ]
    const notes = []
    const available = lib.runnable(candidates, notes)
    const rows = []
    for (const n of sizes) {
      const variants = []
      for (const [name, label, , env = {}] of available) {
        variants.push({ name, label, script: SCRIPT, args: [name, String(n)], env, timeout: 900_000 })
      }
      console.error(`bench: heapdiff with ${n} objects ...`)
      const res = lib.interleave(variants, runs)
      const ratio = (r, other, key) => (res[other] ? lib.fmt(lib.pairedRatio(r, res[other], key), 2) : 'n/a')
      for (const v of variants) {
        const r = res[v.name]
        const err = lib.firstError(r)
        if (err) {
          rows.push([v.label, n.toLocaleString('en-US'), 'error', err.slice(0, 80), '', '', '', '', ''])
          continue
        }
        rows.push([
          v.label,
          n.toLocaleString('en-US'),
          lib.fmt(lib.med(r, 'wallMs') / 1000, 2),
          ratio(r, 'airbnb', 'wallMs'),
          ratio(r, 'floor', 'wallMs'),
          lib.fmt(lib.med(r, 'peakRssMB'), 0),
          ratio(r, 'airbnb', 'peakRssMB'),
          ratio(r, 'floor', 'peakRssMB'),
          v.name === 'floor' ? '–' : String(lib.med(r, 'found')),
        ])
      }
    }
    notes.push(
      'Peak RSS is the whole process (the heap itself included: about 55 MB at 100k objects, 125 MB at 1M).',
      'found = `+` reported for the 10k new objects (must be 10000).',
    )
    return {
      what:
        'A fresh process builds N small objects, then times `new HeapDiff()`, 10k new objects, `end()`. Ratios are medians of run-by-run ratios (below 1 is better for the first column).',
      header: ['variant', 'objects', 'time s', 'time vs airbnb', 'time vs floor', 'peak RSS MB', 'RSS vs airbnb', 'RSS vs floor', 'found'],
      rows,
      notes,
    }
  },
}
