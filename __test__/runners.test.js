'use strict'

// memwatch-rs/testing inside the real test runners: node:test, jest, vitest
// and mocha each run a clean and a leaky fixture file
// (__test__/fixtures/runners/) in a child process, and their own reports
// and exit codes must give the right verdicts. jest runs each file in a vm
// context, so its fixtures track and name objects of that context. The
// README's "Leak tests" examples are run as written, by the runners they
// are written for. node:test runs in npm test; the other runners (seconds
// to start, and a bigger heap to diff) in npm run test:full.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, fullOnly } = require('./helpers')

const FIXTURES = path.join(__dirname, 'fixtures', 'runners')
const BIN = {
  jest: path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
  vitest: path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
  mocha: path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js'),
}

/** Runs `node args…` (the node running this test) in `cwd`; { status, stdout, stderr }. */
function node(args, cwd = FIXTURES) {
  // A node --test child learns from NODE_TEST_CONTEXT that it reports to a
  // parent runner; these runs report to us in their own formats.
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true' }
  delete env.NODE_TEST_CONTEXT
  const r = spawnSync(process.execPath, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 600_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  assert.equal(r.signal, null, `killed by ${r.signal}: ${r.stderr}`)
  return r
}

/** The last JSON object a runner printed (jest --json, mocha --reporter json). */
function json(text) {
  const start = text.indexOf('{')
  assert.ok(start >= 0, `no JSON report in: ${text.slice(0, 2000)}`)
  return JSON.parse(text.slice(start))
}

const LEAK_COLLECT = /expectCollected: the Session object was not garbage-collected within 300 ms/
// ... and names who holds the sessions (by census, one more batch measured by an exact heap diff).
const LEAK_GROWTH =
  /assertNoLeak: live objects grew with the number of calls[^\n]*\n(?: {2}[^\n]*\n)*? {2}Session +\+1 objects and \+\d+(?:\.\d+)? bytes per call \(per batch: \+10, \+20, \+30 objects;[\s\S]*\n {2}Session retained by: [^\n]* → \[\d+\] \(Session\)/

/**
 * Verdicts from a runner's report: `{ title: { ok, message } }`, checked
 * against `expected`: title → true (passes) or a RegExp its failure matches.
 */
function check(verdicts, expected, report) {
  assert.deepEqual(Object.keys(verdicts).sort(), Object.keys(expected).sort(), report)
  for (const [title, want] of Object.entries(expected)) {
    const got = verdicts[title]
    if (want === true) assert.equal(got.ok, true, `${title} should pass:\n${got.message}`)
    else {
      assert.equal(got.ok, false, `${title} should fail`)
      assert.match(got.message, want, `${title}: ${got.message}`)
    }
  }
}

/** node --test's TAP report: `{ title: { ok, message } }`. */
function tapVerdicts(tap) {
  const out = {}
  const lines = tap.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^(not ok|ok) \d+ - (.*)$/.exec(lines[i])
    if (!m) continue
    let message = ''
    for (let j = i + 1; j < lines.length && !/^(not ok|ok) \d+ - |^# Subtest/.test(lines[j]); j++) message += lines[j].replace(/^ {4}/, '') + '\n'
    out[m[2]] = { ok: m[1] === 'ok', message }
  }
  return out
}

test('node:test: the clean file passes, the leaky file fails with LeakErrors naming Session', () => {
  const clean = node(['--test', '--test-reporter=tap', 'node-test-clean.test.js'])
  assert.equal(clean.status, 0, clean.stdout + clean.stderr)
  check(tapVerdicts(clean.stdout), {
    'a closed session is collected': true,
    'opening and closing sessions does not leak': true,
    'async fetches with timers do not leak': true,
    'a bounded cache does not leak': true,
  })
  const leaky = node(['--test', '--test-reporter=tap', 'node-test-leaky.test.js'])
  assert.equal(leaky.status, 1, leaky.stdout + leaky.stderr)
  check(tapVerdicts(leaky.stdout), {
    'a kept session is not collected': LEAK_COLLECT,
    'opening sessions leaks': LEAK_GROWTH,
  })
})

/** jest --json: `{ title: { ok, message } }`. */
function jestVerdicts(report) {
  const out = {}
  for (const file of report.testResults) {
    for (const a of file.assertionResults) out[a.title] = { ok: a.status === 'passed', message: a.failureMessages.join('\n') }
  }
  return out
}

function jest(file) {
  const r = node([BIN.jest, '--ci', '--json', '--rootDir', FIXTURES, '--testMatch', `**/${file}`], FIXTURES)
  return { status: r.status, report: json(r.stdout), stderr: r.stderr }
}

test('jest: vm-context objects are tracked and named; the clean file passes, the leaky one fails', fullOnly, () => {
  const clean = jest('jest-clean.test.js')
  assert.equal(clean.status, 0, clean.stderr)
  check(jestVerdicts(clean.report), {
    'a vm-context object is collected': true,
    'opening and closing sessions does not leak': true,
    'async fetches with timers do not leak': true,
    'the helpers keep working while jest fakes every timer': true,
  })
  const leaky = jest('jest-leaky.test.js')
  assert.equal(leaky.status, 1, leaky.stderr)
  check(jestVerdicts(leaky.report), {
    'a kept session is not collected': LEAK_COLLECT,
    'opening sessions leaks': LEAK_GROWTH,
    'the LeakError is one of this context': true,
  })
})

/** vitest --reporter=json: the same shape as jest's. */
function vitest(filter) {
  const out = path.join(FIXTURES, `.vitest-${process.pid}.json`)
  try {
    const r = node([BIN.vitest, 'run', '--root', FIXTURES, '--reporter=json', `--outputFile=${out}`, filter], FIXTURES)
    return { status: r.status, report: JSON.parse(fs.readFileSync(out, 'utf8')), stderr: r.stderr + r.stdout }
  } finally {
    fs.rmSync(out, { force: true })
  }
}

test('vitest: ESM in a worker; the clean file passes, the leaky one fails', fullOnly, () => {
  const clean = vitest('vitest-clean')
  assert.equal(clean.status, 0, clean.stderr)
  check(jestVerdicts(clean.report), {
    'a closed session is collected': true,
    'opening and closing sessions does not leak': true,
    'async fetches with timers do not leak': true,
  })
  const leaky = vitest('vitest-leaky')
  assert.equal(leaky.status, 1, leaky.stderr)
  check(jestVerdicts(leaky.report), {
    'a kept session is not collected': LEAK_COLLECT,
    'opening sessions leaks': LEAK_GROWTH,
    'the LeakError names Session': true,
  })
})

/** mocha --reporter json: `{ title: { ok, message } }`. */
function mocha(file) {
  const r = node([BIN.mocha, '--reporter', 'json', file])
  const report = json(r.stdout)
  const out = {}
  for (const t of report.passes) out[t.title] = { ok: true, message: '' }
  for (const t of report.failures) out[t.title] = { ok: false, message: t.err.message || '' }
  return { status: r.status, verdicts: out, stderr: r.stderr }
}

test('mocha: the clean file passes, the leaky file fails with LeakErrors naming Session', fullOnly, () => {
  const clean = mocha('mocha-clean.spec.js')
  assert.equal(clean.status, 0, clean.stderr)
  check(clean.verdicts, {
    'a closed session is collected': true,
    'opening and closing sessions does not leak': true,
    'async fetches with timers do not leak': true,
  })
  const leaky = mocha('mocha-leaky.spec.js')
  assert.equal(leaky.status, 2, leaky.stderr) // mocha exits with the number of failures
  check(leaky.verdicts, {
    'a kept session is not collected': LEAK_COLLECT,
    'opening sessions leaks': LEAK_GROWTH,
  })
})

// ------------------------------------------------------ README examples

/** The code block after `<!-- example: name -->` in the README. */
function readmeExample(name) {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const at = readme.indexOf(`<!-- example: ${name} -->`)
  assert.ok(at >= 0, `README has no example ${name}`)
  const m = /```js\n([\s\S]*?)```/.exec(readme.slice(at))
  return m[1]
}

/** Writes `files` into a fresh folder inside the package (so `memwatch-rs/testing` resolves to it) and runs `fn(dir)`. */
function inScratch(files, fn) {
  const dir = fs.mkdtempSync(path.join(FIXTURES, '.tmp-'))
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text)
    return fn(dir)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test("the README's node:test example passes as written, and fails once its code leaks", () => {
  const code = readmeExample('node:test')
  assert.match(code, /require\('node:test'\)/)
  assert.match(code, /require\('memwatch-rs\/testing'\)/)
  inScratch({ 'sessions.test.js': code }, (dir) => {
    const r = node(['--test', '--test-reporter=tap', 'sessions.test.js'], dir)
    assert.equal(r.status, 0, r.stdout + r.stderr)
    const verdicts = tapVerdicts(r.stdout)
    assert.ok(Object.keys(verdicts).length >= 2 && Object.values(verdicts).every((v) => v.ok), r.stdout)
  })
  // The same file with logout() forgetting to drop the session: both helpers fail.
  const leaky = code.replace('sessions.delete(session)', '')
  assert.notEqual(leaky, code, 'the example has the line the leaky variant removes')
  inScratch({ 'sessions.test.js': leaky }, (dir) => {
    const r = node(['--test', '--test-reporter=tap', 'sessions.test.js'], dir)
    assert.equal(r.status, 1, r.stdout + r.stderr)
    const verdicts = Object.values(tapVerdicts(r.stdout))
    assert.ok(verdicts.length >= 2 && verdicts.every((v) => !v.ok && /LeakError|MEMWATCH_LEAK/.test(v.message)), r.stdout)
    // assertNoLeak names who holds the leaked sessions, by census or by exact diffs alike.
    assert.ok(
      verdicts.some((v) => /Session retained by: .*→ sessions \(Set\) → table → \[\d+\] \(Session\)/.test(v.message)),
      r.stdout,
    )
  })
})

test("the README's jest example passes as written, and fails once its code leaks", fullOnly, () => {
  const code = readmeExample('jest')
  assert.match(code, /require\('memwatch-rs\/testing'\)/)
  const run = (text) =>
    inScratch({ 'sessions.test.js': text }, (dir) => {
      const r = node([BIN.jest, '--ci', '--json', '--rootDir', dir], dir)
      return { status: r.status, verdicts: jestVerdicts(json(r.stdout)), stderr: r.stderr }
    })
  const clean = run(code)
  assert.equal(clean.status, 0, clean.stderr)
  assert.ok(Object.keys(clean.verdicts).length >= 2 && Object.values(clean.verdicts).every((v) => v.ok), JSON.stringify(clean.verdicts))
  const leaky = run(code.replace('sessions.delete(session)', ''))
  assert.equal(leaky.status, 1, leaky.stderr)
  assert.ok(Object.values(leaky.verdicts).every((v) => !v.ok && /LeakError/.test(v.message)), JSON.stringify(leaky.verdicts))
})
