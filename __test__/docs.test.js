'use strict'

// The docs show what the code prints: every `leak` reason quoted in the
// README, the public types and the generated bindings has the format the
// detector's real reports have (leak.test.js checks those), and the README's
// option tables name exactly the options configure() knows.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const memwatch = require('..')
const { ROOT, LEAK_REASON } = require('./helpers')

const DOCS = ['README.md', 'index.d.ts', 'binding.d.ts', 'src/payload.rs', 'docs/trackgc.md']

test('every leak reason quoted in the docs has the format real reports have', () => {
  let quoted = 0
  for (const file of DOCS) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
    for (const [example] of text.matchAll(/heap growth over [^`'\n]*/g)) {
      quoted++
      // `memwatch-rs watch` prints the reason, then ` | rate …` and more.
      assert.match(example.split(' | ')[0].trim(), LEAK_REASON, `${file}: ${example}`)
    }
  }
  assert.ok(quoted >= 2, `only ${quoted} examples found`)
})

test("the README's settings table lists exactly the options configure() knows", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('| option | default | range | meaning |'))
  const rows = table.split('\n').slice(2)
  const names = []
  for (const row of rows) {
    const m = /^\| `(\w+)` \| `?([^|`]+)`? \|/.exec(row)
    if (!m) break
    names.push(m[1])
  }
  assert.deepEqual(names.sort(), Object.keys(memwatch.configure()).sort())
})

test("the README quotes the alerting rule file exactly, and its metric tables name exactly what the exporters register", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const rules = fs.readFileSync(path.join(ROOT, 'examples', 'prometheus', 'memwatch.rules.yml'), 'utf8')
  const section = readme.slice(readme.indexOf('## Monitoring a fleet'), readme.indexOf('## Reliability'))
  const yaml = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1])
  assert.deepEqual(yaml, [rules], 'one yaml block: the rule file, verbatim')
  assert.match(rules, /- alert: MemwatchLeak\n(\s+#.*\n)*\s+expr: memwatch_leak_suspected == 1\n/)

  const { Registry } = require('prom-client')
  const handle = require('memwatch-rs/prometheus').register(new Registry())
  handle.unregister()
  const rows = (header) => {
    const table = section.slice(section.indexOf(header)).split('\n').slice(2)
    const names = []
    for (const row of table) {
      if (!row.startsWith('| `')) break
      names.push(...[...row.split(' | ')[0].matchAll(/`([\w.]+)`/g)].map((m) => m[1]))
    }
    return names.sort()
  }
  assert.deepEqual(rows('| metric | type | unit | meaning |'), [...handle.metricNames].sort())
  // The instruments memwatch-rs/otel creates, as a meter sees them.
  const created = []
  const instrument = (name) => (created.push(name), {})
  const meter = {
    createHistogram: instrument,
    createObservableGauge: instrument,
    createObservableCounter: instrument,
    createObservableUpDownCounter: instrument,
    addBatchObservableCallback() {},
    removeBatchObservableCallback() {},
  }
  require('memwatch-rs/otel').register({ meterProvider: { getMeter: () => meter } }).unregister()
  assert.deepEqual(rows('| instrument | kind | unit | meaning |'), created.sort())
})
