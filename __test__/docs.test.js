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
      assert.match(example.trim(), LEAK_REASON, `${file}: ${example}`)
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
