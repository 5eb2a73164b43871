'use strict'

// What one census costs per MB of live heap on heaps of the sizes the leak
// detector watches (mixed records, 128 and 512 MiB), against two plain
// gc() in the same run: the figures behind suspectsMaxHeapBytes.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'census.js')

module.exports = {
  title: 'Heap census: what one census costs per MB of live heap',
  run({ lib, runs, quick }) {
    const sizes = quick ? [128] : [128, 512]
    const rows = []
    for (const mb of sizes) {
      const variants = [
        { name: 'census', label: 'one `memwatch.census()`', script: SCRIPT, args: ['census', '0'], env: { HEAP_MB: String(mb) }, timeout: 900_000 },
        { name: 'gc', label: 'two `memwatch.gc()`', script: SCRIPT, args: ['gc', '0'], env: { HEAP_MB: String(mb) }, timeout: 900_000 },
      ]
      console.error(`bench: one census on a ${mb} MiB heap ...`)
      const res = lib.interleave(variants, runs)
      for (const v of variants) {
        const r = res[v.name]
        const err = lib.firstError(r)
        if (err) {
          rows.push([v.label, String(mb), 'error', err.slice(0, 80), '', '', '', ''])
          continue
        }
        const ok = r.filter((x) => !x.error)
        rows.push([
          v.label,
          lib.fmt(lib.med(r, 'heapMB'), 0),
          lib.fmt(lib.med(r, 'wallMs'), 0),
          lib.fmt(lib.median(ok.map((x) => x.wallMs / x.heapMB)), 1),
          lib.fmt(lib.med(r, 'extraPeakMB'), 0),
          lib.fmt(lib.median(ok.map((x) => x.extraPeakMB / x.heapMB)), 2),
          v.name === 'census' ? lib.fmt(lib.pairedRatio(res.census, res.gc, 'wallMs'), 1) : '1.0',
          v.name === 'census' ? lib.fmt(lib.med(r, 'objects'), 0) : '–',
        ])
      }
    }
    return {
      what:
        'A fresh process grows a heap of mixed records (`{ id, name, tags: [..], meta: {..} }`) until the given MiB are live, settles it with `gc()`, then times one variant. Extra peak RSS: the peak during the variant above the RSS before (VmHWM reset).',
      header: ['variant', 'live heap MB', 'time ms', 'ms per MB of heap', 'extra peak RSS MB', 'extra MB per MB of heap', 'time ÷ two gc()', 'JS objects counted'],
      rows,
      notes: [
        '`suspectsMaxHeapBytes` (128 MiB by default) bounds the censuses nobody asked for, those behind `suspects`: over it they are skipped and each `leak` says why. `census()`, census HeapDiffs and `watch --census` run at any size.',
        'The extra memory is V8\'s QueryObjects marking every reachable heap object into a hash set; it grows with the live heap.',
      ],
    }
  },
}
