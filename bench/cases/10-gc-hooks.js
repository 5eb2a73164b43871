'use strict'

// CPU cost of GC hooks on a scavenge-heavy workload (--max-semi-space-size=1).

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'gc-hooks.js')

module.exports = {
  title: 'GC-hook CPU overhead (scavenge-heavy workload)',
  run({ lib, runs }) {
    const candidates = [
      ['none', 'no hooks (baseline)'],
      ['memwatch-rs-loaded', 'memwatch-rs loaded, no listener'],
      ['memwatch-rs', "memwatch-rs `stats` listener"],
      ['prometheus', 'memwatch-rs/prometheus registered (detector and probe on), one scrape'],
      ['prometheus-noprobe', 'memwatch-rs/prometheus registered, `probe: false`, one scrape'],
      ['prom-client-gc', "prom-client's GC histogram (perf_hooks observer), one scrape"],
      ['prom-client-default', "prom-client `collectDefaultMetrics()`, one scrape"],
      ['perf_hooks', "perf_hooks `gc` observer"],
      ['gc-stats', 'gc-stats listener', 'gc-stats'],
      ['airbnb', '@airbnb/node-memwatch `stats` listener', '@airbnb/node-memwatch'],
    ]
    const notes = []
    const variants = []
    for (const [name, label] of lib.runnable(candidates, notes)) {
      variants.push({ name, label, script: SCRIPT, args: [name], nodeArgs: ['--max-semi-space-size=1'] })
    }
    const res = lib.interleave(variants, runs)
    const base = res.none
    const mw = res['memwatch-rs']
    const rows = variants.map((v) => {
      const r = res[v.name]
      const err = lib.firstError(r)
      if (err) return [v.label, 'error', err.slice(0, 80), '', '']
      return [
        v.label,
        lib.fmt(lib.med(r, 'cpuMs'), 0),
        lib.fmt(lib.pairedRatio(r, base, 'cpuMs'), 3),
        v.name === 'memwatch-rs' ? '1.000' : lib.fmt(lib.pairedRatio(mw, r, 'cpuMs'), 3),
        String(lib.med(r, 'events')),
      ]
    })
    return {
      what:
        'The same allocation-heavy loop (about 30M short-lived objects, `--max-semi-space-size=1`), with each GC hook installed. CPU = user + system ms of the whole run. The Prometheus variants register on a prom-client registry and scrape it once at the end; their events are the GCs their histogram counted.',
      header: ['variant', 'CPU ms (median)', 'vs no hooks', 'memwatch-rs listener vs this', 'events'],
      rows,
      notes,
    }
  },
}
