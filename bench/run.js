'use strict'

// `npm run bench`: every case in bench/cases, each variant in fresh
// processes, interleaved, medians of at least 5 runs, one markdown report.
// Usage: node bench/run.js [--runs N] [--only name[,name]] [--quick]

const fs = require('node:fs')
const path = require('node:path')
const lib = require('./lib')

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const runs = Math.max(5, Number(opt('--runs', 5)))
const only = opt('--only', '')
  .split(',')
  .filter(Boolean)
const quick = argv.includes('--quick')

const casesDir = path.join(__dirname, 'cases')
const cases = fs
  .readdirSync(casesDir)
  .filter((f) => f.endsWith('.js'))
  .sort()
  .map((f) => ({ file: f, ...require(path.join(casesDir, f)) }))
  .filter((c) => !only.length || only.some((o) => c.file.includes(o)))

const m = lib.machine()
const out = []
out.push(`# memwatch-rs benchmark`)
out.push('')
out.push(`${m.date} · Node ${m.node} · ${m.cpu} · ${m.cores} cores · ${m.memGiB} GiB · ${m.kernel}`)
out.push(`Each figure is the median of ${runs} fresh-process runs, variants interleaved; ratios are medians of run-by-run ratios.`)
for (const c of cases) {
  console.error(`bench: ${c.title} ...`)
  const res = c.run({ lib, runs, quick })
  out.push('')
  out.push(`## ${c.title}`)
  // A case reports one table, or several (`tables`, each with a title).
  for (const t of res.tables || [res]) {
    out.push('')
    if (t.title) out.push(`### ${t.title}`, '')
    if (t.what) out.push(t.what, '')
    out.push(lib.table(t.header, t.rows))
    if (t.notes && t.notes.length) out.push('', ...t.notes.map((n) => `- ${n}`))
  }
}
const report = out.join('\n') + '\n'
process.stdout.write(report)
fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true })
fs.writeFileSync(path.join(__dirname, 'results', 'latest.md'), report)
