'use strict'

// How long after a full GC ends does the `stats` listener run?

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'stats-latency.js')

module.exports = {
  title: '`stats` delivery latency (full GC end → listener)',
  run({ lib, runs }) {
    const candidates = [
      ['memwatch-rs', "memwatch-rs `stats`"],
      ['perf_hooks', "perf_hooks `gc` observer (major GCs)"],
      ['airbnb', '@airbnb/node-memwatch `stats`', '@airbnb/node-memwatch'],
    ]
    const notes = ['gc-stats: not measured (its events carry no timestamp to measure from)']
    const variants = []
    for (const [name, label] of lib.runnable(candidates, notes)) {
      variants.push({ name, label, script: SCRIPT, args: [name] })
    }
    const res = lib.interleave(variants, runs)
    const rows = variants.map((v) => {
      const r = res[v.name]
      const err = lib.firstError(r)
      if (err) return [v.label, 'error', err.slice(0, 80), '', '']
      return [
        v.label,
        lib.fmt(lib.med(r, 'p50Us'), 0),
        lib.fmt(lib.med(r, 'p95Us'), 0),
        v.name === 'memwatch-rs' ? '1.00' : lib.fmt(lib.pairedRatio(res['memwatch-rs'], r, 'p50Us'), 2),
        String(lib.med(r, 'n')),
      ]
    })
    return {
      what: 'A timer-driven workload (allocates every 1 ms, drops its retained set now and then) for 4 s; for each full GC, the delay from the GC\'s end to the listener call.',
      header: ['variant', 'median delay µs (p50)', 'p95 µs', 'memwatch-rs p50 vs this', 'full GCs seen'],
      rows,
      notes,
    }
  },
}
