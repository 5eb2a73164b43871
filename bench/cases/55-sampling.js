'use strict'

// What allocation sampling costs: V8's sampling heap profiler, as
// memwatch.startSampling() starts it, on two allocation-heavy loops.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'sampling.js')
const DEFAULT = 512 * 1024
const DENSE = 4096

module.exports = {
  title: 'Allocation sampling: what it costs the main thread',
  run({ lib, runs, quick }) {
    const samplingRuns = quick ? runs : Math.max(runs, 15)
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
    }
    console.error(`bench: sampling cost, ${samplingRuns} interleaved runs of ${variants.length} variants ...`)
    const res = lib.interleave(variants, samplingRuns)
    const rows = []
    const notes = []
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
      ],
    }
  },
}
