'use strict'

// trackGC at scale: register N targets, drop them, one gc(), until every
// callback has run. FinalizationRegistry is the floor; the async_hooks +
// WeakMap trick (gc-tracker) and weak-napi are the prior art.

const path = require('node:path')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'trackgc.js')

module.exports = {
  title: 'trackGC: register, collect and deliver N callbacks',
  run({ lib, runs, quick }) {
    const sizes = quick ? [100_000] : [100_000, 1_000_000]
    const candidates = [
      ['fr', 'FinalizationRegistry (floor)'],
      ['memwatch-rs', 'memwatch-rs trackGC (finalizers in the GC)'],
      ['memwatch-rs-deferred', 'memwatch-rs trackGC, `MEMWATCH_DEFERRED_FINALIZERS=1`'],
      ['async-hooks', 'async_hooks + WeakMap trick (gc-tracker)'],
      ['weak-napi', 'weak-napi', 'weak-napi'],
    ]
    const notes = []
    const available = lib.runnable(candidates, notes)
    const variants = []
    for (const N of sizes) {
      for (const [name, label] of available) {
        const deferred = name === 'memwatch-rs-deferred'
        variants.push({
          name: `${name}@${N}`,
          key: name,
          label,
          N,
          script: SCRIPT,
          args: [deferred ? 'memwatch-rs' : name, String(N)],
          nodeArgs: ['--expose-gc'],
          env: { MEMWATCH_DEFERRED_FINALIZERS: deferred ? '1' : '' },
        })
      }
    }
    const res = lib.interleave(variants, runs)
    const rows = variants.map((v) => {
      const r = res[v.name]
      const err = lib.firstError(r)
      const n = v.N.toLocaleString('en-US')
      if (err) return [v.label, n, 'error', err.slice(0, 80), '', '', '', '', '']
      const fr = res[`fr@${v.N}`]
      const mw = res[`memwatch-rs@${v.N}`]
      const faster = v.key === 'async-hooks' || v.key === 'weak-napi' ? lib.fmt(lib.pairedRatio(r, mw, 'totalMs'), 1) + '×' : ''
      return [
        v.label,
        n,
        lib.fmt(lib.med(r, 'registerMs'), 0),
        lib.fmt(lib.med(r, 'deliverMs'), 0),
        lib.fmt(lib.med(r, 'totalMs'), 0),
        lib.fmt(lib.med(r, 'peakRssMB'), 0),
        v.key === 'fr' ? '1.00' : lib.fmt(lib.pairedRatio(r, fr, 'totalMs'), 2),
        v.key === 'fr' ? '1.00' : lib.fmt(lib.pairedRatio(r, fr, 'peakRssMB'), 2),
        faster,
      ]
    })
    notes.push(
      'Targets for memwatch-rs (finalizers in the GC): total ≤ 2× and peak RSS ≤ 1.5× FinalizationRegistry; ≥ 10× faster than weak-napi and the async_hooks trick.',
      'Peak RSS includes the process baseline and the N targets themselves, the same for every variant.',
    )
    return {
      what:
        'Each variant offers `trackGC(target, callback) → cancel` with the same argument checks. N targets `{ i }` are created (not timed); ' +
        '**register** = one call per target; the targets are dropped; **deliver** = from one `gc()` (`--expose-gc`) until the last callback has run; ' +
        '**total** = register + deliver; **peak RSS** = the process\'s maxRSS. FinalizationRegistry is used in its cheapest form (cancel only drops the callback).',
      header: ['variant', 'N', 'register ms', 'deliver ms', 'total ms', 'peak RSS MB', 'total / FR', 'RSS / FR', 'memwatch-rs faster by'],
      rows,
      notes,
    }
  },
}
