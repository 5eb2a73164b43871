'use strict'

// The leak detector end to end: real leaking and non-leaking services in
// child processes, with memwatch-rs attached the way a user would.

const test = require('node:test')
const assert = require('node:assert/strict')
const memwatch = require('..')
const { runScenario, LEAK_REASON: REASON } = require('./helpers')

function leaks(run) {
  return run.events.filter((e) => e.type === 'leak')
}

function checkReport(l) {
  assert.match(l.reason, REASON)
  assert.ok(l.growth > 0 && Number.isSafeInteger(l.growth), `growth ${l.growth}`)
  assert.ok(l.start < l.t, 'start is before end')
  const rate = Number(/ - ([\d.]+) mb\/hr/.exec(l.reason)?.[1])
  if (rate) {
    const expected = l.growth / 1048576 / ((l.t - l.start) / 3_600_000)
    assert.ok(Math.abs(rate - expected) / expected < 0.05, `rate ${rate} vs growth/time ${expected.toFixed(2)}`)
  }
}

test('fires within 30 s on a 7 MB/s retention-chain leak and a 7 MB/s listener leak', async () => {
  const [chain, listeners] = await Promise.all([runScenario('leak-chain', 32), runScenario('leak-listeners', 32)])
  for (const [name, run] of [['leak-chain', chain], ['leak-listeners', listeners]]) {
    assert.equal(run.status, 0, `${name}: ${run.stderr}`)
    const l = leaks(run)
    assert.ok(l.length >= 1, `${name}: no leak event within 32 s (${run.events.length} stats events)`)
    assert.ok(l[0].t <= 30_000, `${name}: first leak at ${l[0].t} ms`)
    for (const report of l) checkReport(report)
    // growth is measured from the base before the growth began
    const stats = run.events.filter((e) => e.type === 'stats')
    const before = stats.filter((s) => s.t <= l[0].start + 1).pop()
    const atEnd = stats.filter((s) => s.t <= l[0].t + 1).pop()
    assert.ok(before && atEnd, `${name}: stats around the report`)
    assert.equal(l[0].growth, atEnd.base - before.base, `${name}: growth = base at end - base at start`)
  }
})

test('stays quiet on a bounded cache under churn, a sawtooth and bursty work', async () => {
  const runs = await Promise.all([runScenario('churn-cache', 45), runScenario('sawtooth', 45), runScenario('bursty', 45)])
  for (const [i, name] of ['churn-cache', 'sawtooth', 'bursty'].entries()) {
    const run = runs[i]
    assert.equal(run.status, 0, `${name}: ${run.stderr}`)
    const stats = run.events.filter((e) => e.type === 'stats')
    assert.ok(stats.length >= 3, `${name}: the detector saw only ${stats.length} full GCs`)
    assert.deepEqual(leaks(run), [], `${name}: false leak report`)
  }
})

test('the classic rule stays available and reports from the base before the streak', async () => {
  const run = await runScenario('leak-chain', 20, { env: { MEMWATCH_TEST_CONFIG: JSON.stringify({ rule: 'classic', classicStreak: 3 }) } })
  assert.equal(run.status, 0, run.stderr)
  const l = leaks(run)
  assert.ok(l.length >= 1, 'classic rule fired on a fast leak')
  assert.match(l[0].reason, /^heap growth over 3 consecutive GCs /)
  checkReport(l[0])
})

test('without a leak listener nothing probes: full GCs stay rare on a growing heap', async () => {
  const [watched, unwatched] = await Promise.all([
    runScenario('leak-chain', 20),
    runScenario('leak-chain', 20, { env: { MEMWATCH_TEST_CONFIG: JSON.stringify({ probe: false }) } }),
  ])
  const count = (r) => r.events.filter((e) => e.type === 'stats').length
  assert.ok(count(watched) >= 6, `probed run saw ${count(watched)} full GCs`)
  assert.ok(count(unwatched) < count(watched), `probe off: ${count(unwatched)} vs on: ${count(watched)}`)
})

test('configure(): defaults, changes and clear errors naming the option', () => {
  const defaults = memwatch.configure()
  assert.deepEqual(defaults, {
    rule: 'trend',
    minDurationMs: 12000,
    minGcs: 2,
    minGrowthBytes: 4194304,
    minGrowthPercent: 50,
    maxDeviation: 0.15,
    maxDip: 0.15,
    windowMs: 1800000,
    classicStreak: 5,
    probe: true,
    probeMinIntervalMs: 2000,
    probeMaxIntervalMs: 60000,
  })
  assert.equal(memwatch.configure({ minDurationMs: 5000 }).minDurationMs, 5000)
  assert.equal(memwatch.configure().minDurationMs, 5000, 'the change stuck')
  const bad = [
    [5, TypeError, /options must be an object/],
    [null, TypeError, /options must be an object/],
    [[1], TypeError, /options must be an object/],
    [{ minDuration: 1 }, TypeError, /unknown option "minDuration"/],
    [{ minGcs: 2.5 }, TypeError, /minGcs must be an integer/],
    [{ minGcs: 1 }, RangeError, /minGcs must be an integer from 2 to 1000/],
    [{ rule: 'fast' }, RangeError, /rule must be 'trend' or 'classic'/],
    [{ rule: 1 }, TypeError, /rule must be/],
    [{ maxDip: 1.5 }, RangeError, /maxDip/],
    [{ maxDeviation: -0.1 }, RangeError, /maxDeviation/],
    [{ windowMs: 2000, minDurationMs: 3000 }, RangeError, /windowMs .* at least minDurationMs/],
    [{ probe: 1 }, TypeError, /probe must be a boolean/],
    [{ probeMinIntervalMs: 10 }, RangeError, /probeMinIntervalMs/],
    [{ probeMaxIntervalMs: 100 }, RangeError, /probeMaxIntervalMs/],
    [{ minDurationMs: NaN }, TypeError, /minDurationMs must be a number/],
    [{ minDurationMs: '12s' }, TypeError, /minDurationMs must be a number/],
    [{ minGrowthBytes: -1 }, RangeError, /minGrowthBytes/],
    [{ classicStreak: 0 }, RangeError, /classicStreak/],
  ]
  for (const [opts, type, message] of bad) {
    assert.throws(() => memwatch.configure(opts), { name: type.name, message }, JSON.stringify(opts))
  }
  assert.equal(memwatch.configure().minDurationMs, 5000, 'rejected calls change nothing')
  assert.deepEqual(memwatch.configure(defaults), defaults)
})
