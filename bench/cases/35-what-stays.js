'use strict'

// What a heap snapshot and a census cost the process's memory, during and
// after: an exact HeapDiff, Node's own v8.writeHeapSnapshot() and a census
// on 1M small objects in four heap shapes; then a heap snapshot taken while
// the sampling heap profiler runs, as memwatch-rs and as @datadog/pprof
// leave it. The figures behind the README's HeapDiff and census memory notes.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'what-stays.js')
const DDPPROF = '@datadog/pprof@5.20.0'
const N = 1_000_000

const SHAPES = [
  ['array', 'one array'],
  ['chunks', '1,000 arrays of 1,000'],
  ['list', 'a linked list'],
  ['map', 'one `Map`'],
]

module.exports = {
  title: 'What stays in memory: heap snapshots and censuses, during and after',
  run({ lib, runs, quick }) {
    const shapes = quick ? SHAPES.filter(([s]) => s === 'array' || s === 'map') : SHAPES
    const mb = (x) => lib.fmt(x, 0).replace(/^-0$/, '0')
    const variant = (name, shape, label) => ({
      name: `${name}-${shape}`,
      label,
      script: SCRIPT,
      nodeArgs: ['--expose-gc'],
      args: [name, shape, String(N)],
      timeout: 900_000,
    })

    const rows = []
    for (const [shape, shapeLabel] of shapes) {
      const variants = [
        variant('heapdiff', shape, 'memwatch-rs `new HeapDiff()` + `end()`'),
        variant('node-snapshot', shape, "Node's `v8.writeHeapSnapshot()`"),
        variant('census', shape, 'memwatch-rs `census()`'),
      ]
      console.error(`bench: what stays, ${shapeLabel} ...`)
      const res = lib.interleave(variants, runs)
      const node = res[`node-snapshot-${shape}`]
      for (const v of variants) {
        const r = res[v.name]
        const err = lib.firstError(r)
        if (err) {
          rows.push([v.label, shapeLabel, 'error', err.slice(0, 80), '', '', '', ''])
          continue
        }
        rows.push([
          v.label,
          shapeLabel,
          lib.fmt(lib.med(r, 'wallMs') / 1000, 2),
          mb(lib.med(r, 'extraPeakMB')),
          v.name === `node-snapshot-${shape}` ? '1.00' : lib.fmt(lib.pairedRatio(r, node, 'extraPeakMB'), 2),
          mb(lib.med(r, 'nowMB')),
          mb(lib.med(r, 'laterMB')),
          v.name.startsWith('heapdiff') ? mb(lib.med(r, 'clearedMB')) : '–',
        ])
      }
    }

    const notes = []
    const dd = lib.jsPeer(DDPPROF, '@datadog/pprof')
    if (!dd.ok) notes.push(`${DDPPROF}: skipped (${dd.reason})`)
    const sampling = [variant('sampling', 'array', 'memwatch-rs: `startSampling()`, a HeapDiff, `stopSampling()`')]
    if (dd.ok) sampling.push(variant('ddpprof-sampling', 'array', '@datadog/pprof: `heap.start()`, `v8.writeHeapSnapshot()`, `heap.stop()`'))
    console.error('bench: what stays, a heap snapshot while sampling ...')
    const sres = lib.interleave(sampling, runs)
    const srows = []
    for (const v of sampling) {
      const r = sres[v.name]
      const err = lib.firstError(r)
      if (err) {
        srows.push([v.label, 'error', err.slice(0, 80), '', '', ''])
        continue
      }
      const peer = sres['ddpprof-sampling-array']
      srows.push([
        v.label,
        mb(lib.med(r, 'extraPeakMB')),
        mb(lib.med(r, 'laterMB')),
        lib.fmt(lib.med(r, 'stopMs'), 0),
        mb(lib.med(r, 'stoppedMB')),
        peer && v.name !== 'ddpprof-sampling-array' ? lib.fmt(lib.pairedRatio(r, peer, 'stoppedMB'), 2) : '–',
      ])
    }
    notes.push(
      'Both sequences leave V8\'s snapshot names behind while the sampler runs (V8 frees its name store only when there is neither a snapshot nor a sampler); memwatch-rs warns once per thread (`MEMWATCH_SNAPSHOT_WHILE_SAMPLING`) and hands the memory back to the system when sampling stops.',
    )

    return {
      tables: [
        {
          title: `1M small objects by heap shape (${N.toLocaleString('en-US')} objects)`,
          what:
            'A fresh process (`--expose-gc`) builds the heap, settles it (a census, whose trim a second later hands back what the allocator kept from building the heap, then `gc()`), then runs one variant. MB are RSS above the RSS before the variant: the peak during it (VmHWM reset), right after it and a `gc()`, 1.5 s later, and (HeapDiff only) after `memwatch.clearHeapSnapshotIds()`. A HeapDiff takes two snapshots, Node\'s call one. Peak vs Node is the median of run-by-run ratios.',
          header: ['variant', 'heap shape', 'time s', 'extra peak MB', 'peak vs Node\'s snapshot', 'right after MB', '1.5 s later MB', 'after clearHeapSnapshotIds MB'],
          rows,
          notes: [
            'The peak of a snapshot grows with the slot count of the largest container, not with the number of objects: V8 names each element index it walks and keeps a 1 KB buffer per distinct name while the snapshot lives.',
            'What stays after a snapshot is V8\'s object-id table (every object ever put in a snapshot, for the thread\'s lifetime), plus, where nothing trims, what the C allocator keeps of the freed snapshot; memwatch-rs trims after each HeapDiff, and a second after each census.',
          ],
        },
        {
          title: 'A heap snapshot while the sampling heap profiler runs (1M objects in one array)',
          what:
            'Held: RSS above the RSS before, 1.5 s after the snapshot, the sampler still running. After stop: once the sampler is stopped. Both at V8\'s sampling interval of 512 KiB.',
          header: ['sequence', 'extra peak MB', 'held while sampling MB', 'stop ms', 'after stop MB', 'after stop vs @datadog/pprof'],
          rows: srows,
          notes,
        },
      ],
    }
  },
}
