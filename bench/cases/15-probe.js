'use strict'

// What the leak detector's probe costs a big, busy, flat service.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'probe.js')

module.exports = {
  title: 'Leak detection and its probe on a flat 300 MB service with 20 MB/s churn',
  run({ lib, runs, quick }) {
    const measure = quick ? 20 : 60
    const env = { WARMUP_S: quick ? '10' : '20', MEASURE_S: String(measure) }
    const variants = [
      { name: 'none', label: 'no leak listener (baseline)', script: SCRIPT, args: ['none'], env },
      { name: 'leak-no-probe', label: '`leak` listener, `probe: false`', script: SCRIPT, args: ['leak-no-probe'], env },
      { name: 'leak-probe', label: '`leak` listener, probe on (default)', script: SCRIPT, args: ['leak-probe'], env },
    ]
    const res = lib.interleave(variants, runs)
    const base = res.none
    // Extra CPU over the baseline, as a share of one core over the window.
    const extraCore = (r) => {
      const shares = []
      for (let i = 0; i < Math.min(r.length, base.length); i++) {
        if (r[i].error || base[i].error) continue
        shares.push(((r[i].cpuMs - base[i].cpuMs) / r[i].wallMs) * 100)
      }
      return lib.median(shares)
    }
    const rows = variants.map((v) => {
      const r = res[v.name]
      const err = lib.firstError(r)
      if (err) return [v.label, 'error', err.slice(0, 80), '', '']
      return [
        v.label,
        lib.fmt(lib.med(r, 'cpuMs'), 0),
        lib.fmt(lib.pairedRatio(r, base, 'cpuMs'), 3),
        v.name === 'none' ? '' : `${lib.fmt(extraCore(r), 2)}%`,
        v.name === 'none' ? '–' : String(lib.med(r, 'fullGcs')),
      ]
    })
    return {
      what: `A service holding 300 MB of long-lived records and making 20 MB/s of request garbage, no leak (\`__test__/scenarios/big-heap-leak.js\` with \`LEAK_MB_MIN=0\`); CPU (user + system) over ${measure} s after a warm-up.`,
      header: ['variant', 'CPU ms (median)', 'vs baseline', 'extra CPU, % of one core', 'full GCs in the window'],
      rows,
      notes: ['Target for the probe: at most 1% of one core over the baseline on this service.'],
    }
  },
}
