'use strict'

// The whole path with real components: Debian's Prometheus server scrapes
// the example service (examples/metrics-service.js) twice, once leaking and
// once not, every second, with the README's alerting rule file loaded; its
// HTTP API must show memwatch_leak_suspected at 1 and the MemwatchLeak
// alert firing for the leaking one, and the other at 0 with no alert all
// along. Takes about two minutes: test:full only.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { ROOT, FULL, freePort } = require('./helpers')

const PROMETHEUS = '/usr/bin/prometheus'
const RULES = path.join(ROOT, 'examples', 'prometheus', 'memwatch.rules.yml')
const SERVICE = path.join(ROOT, 'examples', 'metrics-service.js')
// The detector's grace period shortened from 2 minutes (both services get it).
const CONFIG = JSON.stringify({ graceMs: 30000 })
const DEADLINE_MS = 5 * 60_000

const skip = !FULL ? 'runs in npm run test:full' : !fs.existsSync(PROMETHEUS) ? `${PROMETHEUS} is absent (apt-get install prometheus)` : false

/** Starts a child; resolves once a line of its stdout matches `ready`. */
function start(file, args, ready, children) {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (err += d))
  child.log = () => `${path.basename(args[0] || file)} stdout:\n${out.slice(-2000)}\nstderr:\n${err.slice(-4000)}`
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready in 30 s: ${child.log()}`)), 30_000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`exited early (${code ?? signal}): ${child.log()}`))
    })
    const check = () => {
      const m = ready.exec(out + err)
      if (m) {
        clearTimeout(timer)
        child.removeAllListeners('exit')
        resolve({ child, match: m })
      } else setTimeout(check, 100)
    }
    check()
  })
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The README's PromQL for the hours until the heap limit (its one `promql` block). */
function readmeHoursQuery() {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/```promql\n([\s\S]*?)```/g)].map((m) => m[1].trim())
  assert.equal(blocks.length, 1, 'one promql block in the README')
  return blocks[0]
}

test('Prometheus scrapes the example service: the leaking one fires MemwatchLeak, the other stays at 0', { skip, timeout: DEADLINE_MS + 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-prometheus-'))
  const children = []
  try {
    const url = /http:\/\/127\.0\.0\.1:(\d+)\/metrics/
    const serviceArgs = (leak) => [SERVICE, '--port', '0', '--leak', leak, '--config', CONFIG]
    const [leaking, flat] = await Promise.all([
      start(process.execPath, serviceArgs('3'), url, children),
      start(process.execPath, serviceArgs('0'), url, children),
    ])
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${JSON.stringify(RULES)}`,
        'scrape_configs:',
        '  - job_name: memwatch-example',
        '    static_configs:',
        `      - targets: ["127.0.0.1:${leaking.match[1]}"]`,
        '        labels: { variant: leak }',
        `      - targets: ["127.0.0.1:${flat.match[1]}"]`,
        '        labels: { variant: flat }',
        '',
      ].join('\n'),
    )
    const prometheus = await start(
      PROMETHEUS,
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      /Server is ready to receive web requests/,
      children,
    )
    const api = async (endpoint, query) => {
      const qs = query === undefined ? '' : `?query=${encodeURIComponent(query)}`
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/${endpoint}${qs}`)
      const body = await res.json()
      assert.equal(body.status, 'success', `${endpoint} ${query}: ${JSON.stringify(body)}`)
      return body.data
    }
    const query = async (q) => (await api('query', q)).result

    // The rule file loaded and evaluates.
    let rule
    for (let i = 0; i < 30 && !(rule && rule.health === 'ok'); i++) {
      await sleep(1000)
      const groups = (await api('rules')).groups
      rule = groups.flatMap((g) => g.rules).find((r) => r.name === 'MemwatchLeak')
    }
    assert.ok(rule, 'the MemwatchLeak rule is loaded')
    assert.equal(rule.health, 'ok', JSON.stringify(rule))

    const started = Date.now()
    let suspectedAt = null
    let firingAt = null
    while (firingAt === null) {
      assert.ok(Date.now() - started < DEADLINE_MS, `no firing alert within ${DEADLINE_MS / 1000} s (leak reported: ${suspectedAt !== null})\n${leaking.child.log()}\n${prometheus.child.log()}`)
      await sleep(1000)
      const flatNow = await query('memwatch_leak_suspected{variant="flat"}')
      assert.ok(flatNow.every((s) => s.value[1] === '0'), `the flat service is suspected: ${JSON.stringify(flatNow)}`)
      if (suspectedAt === null && (await query('memwatch_leak_suspected{variant="leak"} == 1')).length) {
        suspectedAt = Date.now()
      }
      if ((await query('ALERTS{alertname="MemwatchLeak",alertstate="firing"}')).length) firingAt = Date.now()
    }
    const elapsedS = Math.ceil((Date.now() - started) / 1000) + 30
    assert.ok(suspectedAt !== null, 'memwatch_leak_suspected was 1 before the alert fired')

    const firing = await query('ALERTS{alertname="MemwatchLeak",alertstate="firing"}')
    assert.deepEqual(firing.map((s) => s.metric.variant), ['leak'], 'only the leaking service alerts')
    assert.equal(firing[0].metric.severity, 'warning')
    assert.deepEqual(await query('ALERTS{alertname="MemwatchLeak",variant="flat"}'), [], 'never even pending for the flat one')

    // The flat service was scraped as long and as often, and never suspected.
    const samples = await query(`count_over_time(memwatch_leak_suspected[${elapsedS}s])`)
    const count = Object.fromEntries(samples.map((s) => [s.metric.variant, Number(s.value[1])]))
    assert.ok(count.flat >= (elapsedS - 30) * 0.7 && count.leak >= (elapsedS - 30) * 0.7, `samples over ${elapsedS} s: ${JSON.stringify(count)}`)
    assert.equal((await query(`max_over_time(memwatch_leak_suspected{variant="flat"}[${elapsedS}s])`))[0].value[1], '0')
    assert.equal((await query('memwatch_leaks_total{variant="flat"}'))[0].value[1], '0')
    assert.ok(Number((await query('memwatch_leaks_total{variant="leak"}'))[0].value[1]) >= 1)

    // The README's "hours until the heap limit", evaluated by Prometheus.
    const hours = await query(readmeHoursQuery())
    const leakHours = hours.filter((s) => s.metric.variant === 'leak').map((s) => Number(s.value[1]))
    assert.equal(leakHours.length, 1, `the README query gives the leaking service a figure: ${JSON.stringify(hours)}`)
    assert.ok(leakHours[0] > 0 && leakHours[0] < 24, `hours until the limit: ${leakHours[0]}`)

    // The pause histogram answers the usual questions.
    const p99 = await query('histogram_quantile(0.99, sum by (le) (rate(memwatch_gc_pause_seconds_bucket{variant="leak",kind="scavenge"}[30s])))')
    assert.ok(p99.length === 1 && Number(p99[0].value[1]) > 0, `p99 scavenge pause: ${JSON.stringify(p99)}`)
    const up = await query('up')
    assert.deepEqual(up.map((s) => s.value[1]), ['1', '1'])
    t.diagnostic(
      `leak reported (memwatch_leak_suspected = 1) after ${((suspectedAt - started) / 1000).toFixed(0)} s, MemwatchLeak firing after ${((firingAt - started) / 1000).toFixed(0)} s; ` +
        `the flat service: 0 over ${count.flat} samples; hours until the heap limit: ${leakHours[0].toFixed(2)}`,
    )
  } finally {
    await Promise.all(children.map(stop))
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
