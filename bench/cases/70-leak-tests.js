'use strict'

// Leak tests: memwatch-rs/testing's assertNoLeak against leakage 0.5's
// iterate() (memwatch-rs standing in for its memwatch, as in
// __test__/leakage.test.js) on leakage's own README examples, clean and
// leaky: time per check and verdicts, then a flakiness count over many runs
// of each clean case.

const path = require('node:path')
const { installLeakage } = require('../../__test__/fixtures/leakage/install.js')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'leak-tests.js')
const EXAMPLES = {
  sync: '`myLib.createInstance(); instance.doStuff(\'foo\', \'bar\')`',
  async: '`await fetch(url); await response.json()` (a local server)',
}
const TOOLS = {
  'memwatch-rs': 'memwatch-rs `assertNoLeak(fn)`',
  leakage: 'leakage 0.5 `iterate(fn)` / `iterate.async(fn)`',
}

/** Verdicts of all runs of a variant: `5/5 pass`, `3/5 leak`, … */
function verdicts(results, expected) {
  const ok = results.filter((r) => !r.error)
  const right = ok.filter((r) => r.verdicts.every((v) => v === expected)).length
  return `${right}/${results.length} ${expected}`
}

module.exports = {
  title: 'Leak tests: assertNoLeak and leakage on leakage\'s README examples',
  run({ lib, runs, quick }) {
    const notes = []
    const failed = installLeakage()
    const tools = Object.keys(TOOLS).filter((tool) => {
      if (tool === 'leakage' && failed) {
        notes.push(`leakage: skipped (${failed.split('\n')[0]})`)
        return false
      }
      return true
    })
    const variants = []
    for (const example of Object.keys(EXAMPLES)) {
      for (const code of ['clean', 'leaky']) {
        for (const tool of tools) {
          variants.push({ name: `${tool}/${example}/${code}`, tool, example, code, script: SCRIPT, args: [tool, example, code, '1'] })
        }
      }
    }
    const res = lib.interleave(variants, runs)
    const rows = variants.map((v) => {
      const r = res[v.name]
      const expected = v.code === 'clean' ? 'pass' : 'leak'
      const err = lib.firstError(r)
      if (err) return [EXAMPLES[v.example], v.code, TOOLS[v.tool], 'error', err.slice(0, 80), '']
      const ours = res[`memwatch-rs/${v.example}/${v.code}`]
      const ratio = v.tool === 'leakage' ? `${lib.fmt(lib.pairedRatio(r, ours, 'ms'), 1)}×` : ''
      return [EXAMPLES[v.example], v.code, TOOLS[v.tool], verdicts(r, expected), lib.fmt(lib.med(r, 'ms') / 1000, 2), ratio]
    })

    // Flakiness: each clean case checked `total` times by assertNoLeak (10
    // checks in a row per fresh process).
    const total = quick ? 10 : 50
    const perProcess = 10
    for (const example of Object.keys(EXAMPLES)) {
      let wrong = 0
      let exact = 0
      let done = 0
      const errors = []
      for (let p = 0; p < total / perProcess; p++) {
        const r = lib.runOnce({ script: SCRIPT, args: ['memwatch-rs', example, 'clean', String(perProcess)] })
        if (r.error) {
          errors.push(r.error)
          continue
        }
        done += r.verdicts.length
        wrong += r.verdicts.filter((v) => v !== 'pass').length
        exact += r.runs.filter((n) => n === 2).length
      }
      notes.push(
        `flakiness, ${example} clean, memwatch-rs: ${wrong} wrong verdicts in ${done} checks (${exact} of them needed the exact second run)` +
          (errors.length ? `; ${errors.length} processes failed: ${errors[0].slice(0, 120)}` : ''),
      )
    }
    notes.push(
      'Time is the check alone (the calls, forced GCs and heap snapshots), not the process start or the server start. leakage: 30 calls between 6 heap diffs (181 calls, 12 snapshots, 12 forced GCs; the async calls run 30 at a time). memwatch-rs: 30 warm-up calls, then 60 calls in batches of 10, 20, 30, with a census before and after each batch (4 in all, each running V8\'s full GCs; no snapshot when nothing grows) or, where no census works, two heap snapshots; a second run per batch when something grows; when the censuses find a leak, one more batch of 10 calls inside an exact heap diff (two snapshots) for the suspects\' retainer paths. Node\'s fetch keeps a resource-timing entry per request until 250 are buffered: assertNoLeak warms up until that buffer is full; leakage reports it as a leak.',
    )
    return {
      what:
        'leakage\'s README examples, with a `myLib` whose leaky version keeps every instance and a fetch whose leaky version keeps every body. ' +
        'Each check runs in a fresh process; verdicts are those of all runs; leakage / memwatch-rs is the median of run-by-run time ratios (above 1: memwatch-rs is faster).',
      header: ['example', 'code', 'tool', 'verdicts', 'time s (median)', 'leakage / memwatch-rs'],
      rows,
      notes,
    }
  },
}
