'use strict'

// What allocation sampling costs: V8's sampling heap profiler, as
// memwatch.startSampling() starts it, on two allocation-heavy loops, and the
// same profiler as @datadog/pprof (the heap profiler Node services run in
// production) starts it, at the same interval, in the same run.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'sampling.js')
const DEFAULT = 512 * 1024
const DENSE = 4096
const DDPPROF = '@datadog/pprof@5.20.0'

module.exports = {
  title: 'Allocation sampling: what it costs the main thread',
  run({ lib, runs, quick }) {
    const samplingRuns = quick ? runs : Math.max(runs, 15)
    const peerNotes = []
    const dd = lib.jsPeer(DDPPROF, '@datadog/pprof')
    if (!dd.ok) peerNotes.push(`${DDPPROF}: skipped (${dd.reason})`)
    const workloads = [
      ['mixed', 'mixed: 1.5M objects (a string and an array each) into a 200k-slot ring'],
      ['alloc', 'allocation only: the same objects into a 2k-slot ring'],
    ]
    const variants = []
    for (const [w] of workloads) {
      for (const [iv, label] of [
        [0, 'no sampling'],
        [DEFAULT, 'every 512 KiB (default)'],
        [DENSE, 'every 4 KiB'],
      ]) {
        variants.push({ name: `${w}-${iv}`, label, script: SCRIPT, args: [w, String(iv)], timeout: 600_000 })
      }
      if (dd.ok) {
        for (const iv of [DEFAULT, DENSE]) {
          variants.push({ name: `${w}-dd-${iv}`, label: `@datadog/pprof every ${iv}`, script: SCRIPT, args: [w, String(iv), 'ddpprof'], timeout: 600_000 })
        }
      }
    }
    console.error(`bench: sampling cost, ${samplingRuns} interleaved runs of ${variants.length} variants ...`)
    const res = lib.interleave(variants, samplingRuns)
    const rows = []
    const notes = []
    const peerRows = []
    for (const [w, what] of workloads) {
      const off = res[`${w}-0`]
      const def = res[`${w}-${DEFAULT}`]
      const dense = res[`${w}-${DENSE}`]
      const err = lib.firstError(off) || lib.firstError(def) || lib.firstError(dense)
      if (err) {
        rows.push([what, 'error', err.slice(0, 80), '', '', '', '', ''])
        continue
      }
      const offCpu = lib.med(off, 'cpuMs')
      const mb = lib.med(off, 'allocatedMB')
      // The cost is per sample and samples come one per interval of
      // allocation: the 4 KiB row, 128× the samples and well above the
      // noise, gives the cost of one sample, hence the cost at 512 KiB.
      const extraDense = lib.pairedRatio(dense, off, 'cpuMs') - 1
      const estimate = (extraDense * DENSE) / DEFAULT
      const samples = Number.isFinite(mb) ? (mb * 2 ** 20) / DENSE : NaN
      const perSampleUs = (extraDense * offCpu * 1000) / samples
      const rate = (mb / 1024) / (offCpu / 1000)
      rows.push([
        what,
        lib.fmt(offCpu, 0),
        Number.isFinite(rate) ? lib.fmt(rate, 2) : 'n/a',
        lib.fmt(lib.pairedRatio(def, off, 'cpuMs'), 3),
        `+${lib.fmt(estimate * 100, 2)}%`,
        lib.fmt(lib.pairedRatio(dense, off, 'cpuMs'), 2),
        Number.isFinite(perSampleUs) ? lib.fmt(perSampleUs, 1) : 'n/a',
        String(lib.med(def, 'sites')),
      ])
      if (dd.ok) {
        const ddDef = res[`${w}-dd-${DEFAULT}`]
        const ddDense = res[`${w}-dd-${DENSE}`]
        const ddErr = lib.firstError(ddDef) || lib.firstError(ddDense)
        if (ddErr) {
          peerRows.push([what, 'error', ddErr.slice(0, 80), '', '', ''])
        } else {
          // The same estimate for the peer: its 4 KiB row against the same
          // no-sampling runs, scaled to 512 KiB.
          const ddExtraDense = lib.pairedRatio(ddDense, off, 'cpuMs') - 1
          peerRows.push([
            what,
            `+${lib.fmt(estimate * 100, 2)}%`,
            `+${lib.fmt(((ddExtraDense * DENSE) / DEFAULT) * 100, 2)}%`,
            lib.fmt(lib.pairedRatio(dense, ddDense, 'cpuMs'), 3),
            lib.fmt(lib.pairedRatio(def, ddDef, 'cpuMs'), 3),
            `${lib.med(def, 'sites')} / ${lib.med(ddDef, 'sites')}`,
          ])
        }
      }
      if (Number.isFinite(perSampleUs)) {
        // One GiB allocated at 512 KiB is 2048 samples.
        notes.push(`${w}: at 512 KiB, each GiB/s the program allocates costs about ${lib.fmt((perSampleUs * 2048) / 1e4, 2)}% of a core (${lib.fmt(perSampleUs, 1)} µs per sample × 2048 samples per GiB).`)
      }
    }
    notes.unshift(
      `Medians of ${samplingRuns} interleaved fresh-process runs; ratios run by run. Each run times the loop 3 times after 2 untimed runs. CPU is the main thread's (\`/proc/thread-self/schedstat\`).`,
      'The direct 512 KiB ratio is within this machine\'s run-to-run noise (single runs spread ±15%); the estimate from the 4 KiB row (128× the samples: the cost is per sample) is the figure to read. Target: at most 2% at the default interval.',
      'GiB allocated per CPU-second and µs per sample need V8\'s `total_allocated_bytes` (Node 26 on); "n/a" on older Node.',
    )
    return {
      tables: [
        {
          title: 'Allocation sampling: main-thread CPU against no sampling',
          what: 'The same loop in every variant, optimised by two untimed runs, with sampling off, at the default 512 KiB interval, or every 4 KiB (stack depth 64).',
          header: ['workload', 'CPU ms, off', 'GiB allocated per CPU-s', '512 KiB: CPU vs off (measured)', '512 KiB: extra CPU (from the 4 KiB row)', '4 KiB: CPU vs off', 'µs per sample', 'sites'],
          rows,
          notes,
        },
        {
          title: 'Allocation sampling: against @datadog/pprof',
          what: `The same loops, with V8's sampler started by ${DDPPROF} (\`heap.start(interval, 64)\`, the heap profiler of Datadog's Node profiling) instead of memwatch-rs, interleaved with the variants above.`,
          header: ['workload', 'memwatch-rs: extra CPU at 512 KiB (from 4 KiB)', '@datadog/pprof: extra CPU at 512 KiB (from 4 KiB)', '4 KiB: memwatch-rs CPU / @datadog/pprof CPU', '512 KiB: memwatch-rs CPU / @datadog/pprof CPU', 'sites (memwatch-rs / @datadog/pprof)'],
          rows: peerRows,
          notes: [
            ...peerNotes,
            'Both drive the same V8 sampling heap profiler; a ratio near 1.00 says the cost is V8\'s per sample, not the driver\'s. Below 1: memwatch-rs costs less.',
            'Sites: distinct allocation stacks in each profile at the end of the run (@datadog/pprof: pprof samples), a check that both sampled.',
          ],
        },
      ],
    }
  },
}
