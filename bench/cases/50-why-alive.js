'use strict'

// Why is it alive: what retainer paths add to a HeapDiff, and memlab's leak
// analysis of the same heap (in process and from snapshot files). What
// allocation sampling costs is 55-sampling.js.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'why-alive.js')
const MEMLAB = 'memlab@2.0.5'

module.exports = {
  title: 'Why is it alive: retainer paths against memlab',
  run({ lib, runs, quick }) {
    const n = quick ? 100_000 : 1_000_000
    const objects = n.toLocaleString('en-US')
    const tables = []
    const v = (name, label, args, extra = {}) => ({ name, label, script: SCRIPT, args, timeout: 1_800_000, ...extra })
    const ratio = (a, b, key) => lib.fmt(lib.pairedRatio(a, b, key), 2)

    // (a) HeapDiff with and without retainer paths.
    {
      const variants = [v('plain', 'HeapDiff, end()', ['plain', String(n)]), v('retainers', 'HeapDiff, end({ retainers: 5 })', ['retainers', String(n)])]
      console.error(`bench: retainer paths on ${objects} objects ...`)
      const res = lib.interleave(variants, runs)
      const rows = variants.map((x) => {
        const r = res[x.name]
        const err = lib.firstError(r)
        if (err) return [x.label, objects, 'error', err.slice(0, 80), '', '', '']
        return [x.label, objects, lib.fmt(lib.med(r, 'wallMs') / 1000, 2), ratio(r, res.plain, 'wallMs'), lib.fmt(lib.med(r, 'peakRssMB'), 0), ratio(r, res.plain, 'peakRssMB'), String(lib.med(r, 'found'))]
      })
      tables.push({
        title: 'Retainer paths: HeapDiff (construct + end) with and without them',
        what: `A fresh process keeps ${objects} small objects, then times \`new HeapDiff()\`, 10k new \`Fresh\` objects put in a Map behind \`globalThis.app\`, \`end()\`. With \`retainers: 5\` the 5 groups with the most new nodes get up to 5 paths each from the same "after" snapshot (V8 source).`,
        header: ['variant', 'objects', 'time s', 'time vs end()', 'peak RSS MB', 'RSS vs end()', 'found'],
        rows,
        notes: ['Target: retainer paths cost at most 1.5× the time of the same HeapDiff without them.', 'found = 1 when `Fresh` has `+10000` and, with retainers, its first path is `global → app (Object) → cache (Map) → table → [i] (Fresh)`.'],
      })
    }

    // (b) Against memlab, on the same heap.
    {
      const notes = []
      const memlab = lib.jsPeer(MEMLAB, '@memlab/api', { PUPPETEER_SKIP_DOWNLOAD: '1' })
      if (!memlab.ok) notes.push(`memlab: skipped (${memlab.reason})`)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-bench-snapshots-'))
      const memlabRuns = quick ? Math.min(runs, 2) : Math.min(runs, 3)
      try {
        console.error(`bench: writing three ${objects}-object snapshots into ${dir} ...`)
        const made = lib.runOnce(v('make', 'make', ['make-snapshots', String(n), dir]))
        if (made.error) throw new Error(`writing the snapshots: ${made.error}`)
        const sizeMB = fs.statSync(path.join(dir, 'final.heapsnapshot')).size / 2 ** 20
        const variants = [
          v('ours-live', 'memwatch-rs: HeapDiff + retainers, in process (2 snapshots + paths)', ['retainers', String(n)]),
          ...(memlab.ok ? [v('memlab-live', 'memlab: in process (3 snapshots + leak analysis)', ['memlab-inprocess', String(n)])] : []),
          v('ours-live-chunks', 'memwatch-rs: the same, in process, objects in arrays of 1,000', ['retainers', String(n)], { env: { WHY_HEAP: 'chunks' } }),
          ...(memlab.ok
            ? [v('memlab-live-chunks', 'memlab: the same, in process, objects in arrays of 1,000', ['memlab-inprocess', String(n)], { env: { WHY_HEAP: 'chunks' } })]
            : []),
          v('ours-files', 'memwatch-rs: `memwatch-rs diff --retainers 5` of 2 snapshot files (diff + paths)', ['ours-files', dir]),
          ...(memlab.ok ? [v('memlab-files', 'memlab: leak analysis of 3 snapshot files', ['memlab-files', dir])] : []),
          v('floor', 'floor of any in-process route: one V8 snapshot of the heap (`v8.getHeapSnapshot()`, unread)', ['v8-snapshot', String(n)]),
          v('floor-chunks', 'the same floor, objects in arrays of 1,000', ['v8-snapshot', String(n)], { env: { WHY_HEAP: 'chunks' } }),
        ]
        console.error(`bench: against memlab, ${memlabRuns} interleaved runs ...`)
        const res = lib.interleave(variants, memlabRuns)
        const pair = { 'memlab-live': 'ours-live', 'memlab-live-chunks': 'ours-live-chunks', 'memlab-files': 'ours-files' }
        const rows = variants.map((x) => {
          const r = res[x.name]
          const err = lib.firstError(r)
          if (err) return [x.label, 'error', err.slice(0, 80), '', '', '', '']
          const ours = res[pair[x.name]]
          const speed = ours ? lib.pairedRatio(r, ours, 'wallMs') : NaN
          const rss = ours ? lib.pairedRatio(ours, r, 'peakRssMB') : NaN
          const verdict = ours ? `${speed >= 10 ? 'met' : 'not met'} / ${rss <= 0.5 ? 'met' : 'not met'}` : ''
          return [x.label, lib.fmt(lib.med(r, 'wallMs') / 1000, 2), lib.fmt(lib.med(r, 'peakRssMB'), 0), ours ? lib.fmt(speed, 2) : '', ours ? lib.fmt(rss, 2) : '', verdict, x.name.startsWith('floor') ? '–' : String(lib.med(r, 'found'))]
        })
        // What the in-process targets can reach at best: retainer paths read
        // the graph of the heap after the leak, which V8 gives only as a
        // heap snapshot, so no in-process route costs less than generating
        // one (memwatch-rs generates two: the "before" ids are its exact diff).
        for (const [floor, memlabRow, shape] of [
          ['floor', 'memlab-live', 'one array'],
          ['floor-chunks', 'memlab-live-chunks', 'arrays of 1,000'],
        ]) {
          if (!res[memlabRow] || lib.firstError(res[memlabRow]) || lib.firstError(res[floor])) continue
          const speed = lib.pairedRatio(res[memlabRow], res[floor], 'wallMs')
          const rss = lib.pairedRatio(res[floor], res[memlabRow], 'peakRssMB')
          notes.push(
            `The best any in-process route could reach (${shape}): one V8 snapshot alone takes ${lib.fmt(lib.med(res[floor], 'wallMs') / 1000, 2)} s and peaks at ${lib.fmt(lib.med(res[floor], 'peakRssMB'), 0)} MB, so memlab time / floor = ${lib.fmt(speed, 2)}× (target 10×: ${speed >= 10 ? 'reachable' : 'out of reach'}) and floor RSS / memlab = ${lib.fmt(rss, 2)} (target 0.5: ${rss <= 0.5 ? 'reachable' : 'out of reach'}).`,
          )
        }
        notes.push(
          `Medians of ${memlabRuns} interleaved fresh-process runs (memlab's in-process route takes tens of seconds per run at 1M objects); ratios are run by run, each memlab row against the memwatch-rs row above it.`,
          "Issue 13's targets, per pair: memwatch-rs at least 10× faster (memlab time / ours ≥ 10) and at most 0.5× memlab's peak RSS. The verdict column says which hold.",
          `memlab gets a leak filter for \`Fresh\` (its default rules target browser heaps and report nothing on a Node heap); memwatch-rs reads baseline and final, memlab baseline, target and final (${sizeMB.toFixed(0)} MB each). found = 1 when the report names the leak and its path.`,
          'The in-process rows are dominated by V8 writing snapshots (memlab: 3 files; memwatch-rs: 2 in-memory snapshots, whose generation is its peak RSS); the file rows measure the analysis alone.',
          `The heap's shape sets V8's share: V8 names each element index a snapshot walks and keeps 1 KB per distinct name while it lives, so ${objects} objects in one array cost its snapshot about 1 KB each, and the same objects in arrays of 1,000 (the "arrays of 1,000" rows; the files are of the one-array heap) a fraction of that.`,
        )
        tables.push({
          title: `Against memlab: the same ${objects}-object heap`,
          what: 'In process: from a live heap to the leak and its retainer path. From files: the same question answered from snapshot files already on disk (memwatch-rs: `diffSnapshotFiles` with retainers, the JSON reader behind `memwatch-rs diff`).',
          header: ['variant', 'time s', 'peak RSS MB', 'memlab time / ours', 'ours RSS / memlab', 'targets (10× / 0.5×)', 'found'],
          rows,
          notes,
        })
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    }

    return { tables }
  },
}
