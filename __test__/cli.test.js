'use strict'

// The `memwatch-rs` command: watch (a real program under the watcher, its
// events, signals, exit codes and report), diff (real snapshot files, and
// every kind of bad file), --help, and the report in a real browser.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, follow, fullOnly, runChild } = require('./helpers')

const BIN = path.join(ROOT, 'bin', 'memwatch-rs.js')
const PROGRAM = path.join(__dirname, 'fixtures', 'cli', 'program.js')
const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.join(ROOT, 'artifacts')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-cli-test-'))
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }))
let files = 0
const tmpFile = (name) => path.join(tmp, `${++files}-${name}`)

/** Runs the command to its end: { status, signal, stdout, stderr }. */
function cli(args, { timeout = 120_000, cwd = tmp, env = process.env } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout, env })
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

/** Starts the command; resolves `waitFor(text)` once stdout holds `text`, `done` at its end. */
function start(args) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp })
  const { out, seen } = follow(child)
  const done = new Promise((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout: out.stdout, stderr: out.stderr })))
  const waitFor = (text, stream = 'stdout') => seen(text, stream).then(() => undefined)
  return { child, done, waitFor }
}

const watchArgs = (report, json, ...program) => ['watch', '--report', report, '--json', json, '--', process.execPath, '--expose-gc', PROGRAM, ...program]

// --- help and usage ---------------------------------------------------------

test('--help for the command and each subcommand', () => {
  for (const [args, want] of [
    [['--help'], /memwatch-rs watch \[options\] -- <command>/],
    [['help'], /Commands:/],
    [['watch', '--help'], /SIGUSR2[\s\S]*--report FILE\.html[\s\S]*--json FILE[\s\S]*--census[\s\S]*--sampling[\s\S]*--suspects-max-heap MB[\s\S]*--quiet/],
    [['help', 'watch'], /Usage: memwatch-rs watch/],
    [['diff', '--help'], /Usage: memwatch-rs diff[\s\S]*--top N[\s\S]*--retainers N[\s\S]*--group NAME[\s\S]*Exit codes/],
    [['diff', '-h'], /Usage: memwatch-rs diff/],
  ]) {
    const r = cli(args)
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stdout, want, args.join(' '))
  }
  const v = cli(['--version'])
  assert.equal(v.stdout.trim(), require('../package.json').version)
})

test('usage errors: one clear message, a pointer to --help, exit code 2', () => {
  for (const [args, want] of [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['--frob'], /unknown option '--frob'/],
    [['watch', '--frob', '--', 'node', '-e', '0'], /watch: unknown option '--frob'/],
    [['watch'], /no program to run/],
    [['watch', '--report'], /argument missing/],
    [['diff', 'only-one'], /expected two snapshot files/],
    [['diff', '--top', 'x', 'a', 'b'], /--top needs a whole number/],
    [['diff', '--json', 'a', 'b', 'c'], /expected two snapshot files \(BEFORE AFTER\), got 3/],
    [['diff', '--retainers', '0', 'a', 'b'], /--retainers needs a whole number of paths per group, 1 to 100, got '0'/],
    [['diff', '--retainers', '101', 'a', 'b'], /--retainers needs .*got '101'/],
    [['diff', '--retainers', '2.5', 'a', 'b'], /--retainers needs .*got '2\.5'/],
    [['diff', '--group', '', 'a', 'b'], /--group needs a group name of 1 to 1024 characters, got 0/],
    [['diff', '--group', 'x'.repeat(1025), 'a', 'b'], /--group needs a group name of 1 to 1024 characters, got 1025/],
    [['diff', ...Array.from({ length: 11 }, (_, i) => ['--group', `G${i}`]).flat(), 'a', 'b'], /--group can be given at most 10 times, got 11/],
    [['watch', '--suspects-max-heap', '1.5', '--', 'node', '-e', '0'], /--suspects-max-heap needs a whole number of megabytes \(0 = never\), got '1\.5'/],
    [['watch', '--suspects-max-heap', '8589934592', '--', 'node', '-e', '0'], /--suspects-max-heap needs .*got '8589934592'/],
    [['help', 'nothing'], /no help for 'nothing'/],
  ]) {
    const r = cli(args)
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, want, args.join(' '))
    assert.match(r.stderr, /--help/)
    assert.equal(r.stdout, '')
  }
})

test('watch: a program that cannot start gives a clear message and exit code 127', () => {
  const r = cli(['watch', '--report', tmpFile('r.html'), '--', 'no-such-program-memwatch'])
  assert.equal(r.status, 127)
  assert.match(r.stderr, /cannot start 'no-such-program-memwatch': no such program/)
})

test('watch: an unwritable report path is refused before the program starts', () => {
  const r = cli(['watch', '--report', path.join(tmp, 'no', 'such', 'dir', 'r.html'), '--', process.execPath, '-e', 'console.log("ran")'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--report .*cannot write there \(its folder does not exist\)/)
  assert.doesNotMatch(r.stdout, /ran/)
})

test('watch --census: a census of the program at its start and at the report, the change per group', () => {
  const program = 'globalThis.keep = []; class Widget {}; for (let i = 0; i < 20000; i++) keep.push(new Widget()); console.log("ran")'
  const run = (env) => {
    const json = tmpFile('census.json')
    const r = cli(['watch', '--census', '--quiet', '--report', tmpFile('census.html'), '--json', json, '--', process.execPath, '-e', program], { env: { ...process.env, ...env } })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'ran\n')
    const data = JSON.parse(fs.readFileSync(json, 'utf8'))
    assert.deepEqual(data.census, { requested: true })
    return data.processes[0].census
  }
  // V8 backend: the 20,000 Widgets the program made are the change.
  const c = run({ MEMWATCH_FORCE_FALLBACK: '' })
  const widget = c.groups.find((g) => g.what === 'Widget')
  assert.ok(widget, JSON.stringify(c.groups.slice(0, 5)))
  assert.deepEqual([widget.count_start, widget.count_now, widget.count_change], [0, 20000, 20000])
  assert.ok(widget.bytes_change >= 20000 * 16, `Widget bytes ${widget.bytes_change}`)
  assert.ok(c.now.objects >= c.start.objects + 20000)
  // Fallback backend: no census, the report says why, the program is untouched.
  const f = run({ MEMWATCH_FORCE_FALLBACK: '1' })
  assert.match(f.error, /fallback/)
  assert.deepEqual(f.groups, [])
})

test('watch --suspects-max-heap: over it, each LEAK line, the JSON and the report say why there are no suspects', { skip: require('..').backend !== 'v8' && 'a census needs the V8 backend' }, () => {
  // The program reports every growing full GC (it configures the preloaded
  // memwatch-rs; the bound set by the watcher stays).
  const program = path.join(__dirname, 'fixtures', 'order-growth.js')
  const run = (...flags) => {
    const json = tmpFile('suspects.json')
    const report = tmpFile('suspects.html')
    const r = cli(['watch', ...flags, '--quiet', '--report', report, '--json', json, '--', process.execPath, program], { env: { ...process.env, MEMWATCH_FORCE_FALLBACK: '' } })
    assert.equal(r.status, 0, r.stderr)
    return { r, config: JSON.parse(r.stdout).config, leaks: JSON.parse(fs.readFileSync(json, 'utf8')).processes[0].leaks, html: fs.readFileSync(report, 'utf8') }
  }
  const over = run('--suspects-max-heap', '0')
  assert.equal(over.config.suspectsMaxHeapBytes, 0, 'the bound reached the program, in bytes')
  assert.equal(over.leaks.length, 3, over.r.stderr)
  const why = /no census for this report: the live heap \(\d+ MB\) is over suspectsMaxHeapBytes \(0 KB\): a census would pause this thread for (under|about) [\d.]+ s( \(at the \d+ ms per MB its last census took\))? and need about \d+ MB more memory; raise suspectsMaxHeapBytes to allow it, or startSampling\(\) for the allocation sites that grew/
  for (const l of over.leaks) {
    assert.equal(l.suspects, undefined)
    assert.match(l.suspects_skipped, why)
  }
  assert.equal(over.r.stderr.match(/ LEAK .* \| no suspects: no census for this report: the live heap .* allow it with watch --suspects-max-heap MB, or watch --sampling for the allocation sites that grew, at a fraction of the cost$/gm).length, 3, over.r.stderr)
  assert.ok(over.html.includes('"suspects_skipped":"no census for this report: the live heap'), "the report's data says why")
  // The default bound (128 MiB) lets this small heap's censuses run.
  const under = run()
  assert.equal(under.config.suspectsMaxHeapBytes, 128 * 2 ** 20)
  assert.deepEqual(
    under.leaks.map((l) => [l.suspects[0].what, l.suspects[0].count, 'suspects_skipped' in l]),
    [
      ['Order', 20000, false],
      ['Order', 40000, false],
      ['Order', 60000, false],
    ],
  )
  assert.match(under.r.stderr, / LEAK .* \| suspects: Order ×20000 /)
})

test('watch --sampling: sampling runs in the program, lent: its own startSampling() takes over; the fallback says why', () => {
  // The program checks that sampling runs before it asks (its profile reads),
  // then starts its own with other settings, which must not throw.
  // (In a timer: the preload's socket connects first, so the report sees the process.)
  const program = [
    `const memwatch = require(${JSON.stringify(ROOT)})`,
    'setTimeout(() => {',
    '  try {',
    '    const lent = memwatch.samplingProfile()',
    '    const own = memwatch.startSampling({ intervalBytes: 8192 })',
    '    console.log(`lent ${lent.intervalBytes}, own ${own.intervalBytes}, stopped ${memwatch.stopSampling()}`)',
    '  } catch (e) {',
    '    console.log(`error: ${e.message}`)',
    '  }',
    '}, 200)',
  ].join('\n')
  const run = (env) => {
    const json = tmpFile('sampling.json')
    const r = cli(['watch', '--sampling', '--quiet', '--report', tmpFile('sampling.html'), '--json', json, '--', process.execPath, '-e', program], {
      env: { ...process.env, ...env },
    })
    assert.equal(r.status, 0, r.stderr)
    return { r, data: JSON.parse(fs.readFileSync(json, 'utf8')) }
  }
  const v8 = run({ MEMWATCH_FORCE_FALLBACK: '' })
  assert.equal(v8.r.stdout, 'lent 524288, own 8192, stopped true\n')
  assert.deepEqual(v8.data.sampling, { requested: true })
  assert.deepEqual(v8.data.processes[0].sampling, { interval_bytes: 524288, stack_depth: 64 })
  // Fallback backend: no sampling; the report says why, and the program gets the error it gets unwatched.
  const fb = run({ MEMWATCH_FORCE_FALLBACK: '1' })
  assert.match(fb.r.stdout, /^error: allocation sampling is not running in this thread/)
  assert.match(fb.data.processes[0].sampling.error, /V8 backend/)
})

test('watch: the program exits with its own code; every full GC is a line and a report entry', () => {
  const report = tmpFile('exit.html')
  const json = tmpFile('exit.json')
  const r = cli(watchArgs(report, json, 'exit', '3'))
  assert.equal(r.status, 3, r.stderr)
  const lines = r.stderr.split('\n').filter((l) => /^memwatch-rs: program\.js\[\d+\] full GC #\d+ {2}base /.test(l))
  assert.ok(lines.length >= 3, r.stderr)
  assert.match(r.stderr, /exited with code 3; report: /)
  const data = JSON.parse(fs.readFileSync(json, 'utf8'))
  const [p] = data.processes
  assert.equal(p.gcs.length, lines.length, 'one report entry per printed GC')
  assert.equal(p.exit_code, 3)
  assert.deepEqual(data.exit.code, 3)
  assert.ok(fs.readFileSync(report, 'utf8').startsWith('<!doctype html>'))
})

test('watch: a crashing program keeps its error output and its exit code', () => {
  const json = tmpFile('crash.json')
  const r = cli(watchArgs(tmpFile('crash.html'), json, 'crash'))
  assert.equal(r.status, 1)
  assert.match(r.stderr, /Error: boom from the program/)
  assert.match(r.stderr, /exited with code 1; report: /)
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).processes[0].exit_code, 1)
})

test('watch: the program stdout is its own (events go to stderr)', () => {
  const r = cli(['watch', '--report', tmpFile('o.html'), '--', process.execPath, '--expose-gc', '-e', 'gc(); gc(); console.log("only this")'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'only this\n')
  assert.match(r.stderr, /full GC #1/)
})

test('watch: worker threads are watched, each under its own label', () => {
  const json = tmpFile('worker.json')
  const r = cli(watchArgs(tmpFile('worker.html'), json, 'worker'))
  assert.equal(r.status, 0, r.stderr)
  const data = JSON.parse(fs.readFileSync(json, 'utf8'))
  const worker = data.processes.find((p) => p.main === false)
  const main = data.processes.find((p) => p.main === true)
  assert.ok(worker && main, JSON.stringify(data.processes.map((p) => p.label)))
  assert.equal(worker.pid, main.pid)
  assert.match(worker.label, /^program\.js\[\d+\] worker \d+$/)
  assert.ok(worker.gcs.length >= 3, `worker GCs: ${worker.gcs.length}`)
  assert.match(r.stderr, /program\.js\[\d+\] worker \d+ full GC #3/)
})

test('watch: SIGINT and SIGTERM reach the program once each; SIGUSR2 writes the report without reaching it', async () => {
  const report = tmpFile('signals.html')
  const json = tmpFile('signals.json')
  const run = start(watchArgs(report, json, 'wait'))
  await run.waitFor('ready')
  await run.waitFor('watching', 'stderr')
  run.child.kill('SIGUSR2')
  await run.waitFor('report written (SIGUSR2)', 'stderr')
  assert.ok(fs.existsSync(report) && fs.existsSync(json), 'on-demand report written')
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).exit, null, 'written while the program runs')
  run.child.kill('SIGINT')
  await run.waitFor('SIGINT 1')
  await run.waitFor('report written (Ctrl-C)', 'stderr')
  run.child.kill('SIGTERM')
  const r = await run.done
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^ready\nSIGINT 1\nSIGTERM after 1 SIGINT\n$/)
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8')).exit.code, 0)
})

test('watch: a program ended by a signal gives 128 + its number', async () => {
  const run = start(watchArgs(tmpFile('plain.html'), tmpFile('plain.json'), 'plain'))
  await run.waitFor('ready')
  run.child.kill('SIGTERM')
  const r = await run.done
  assert.equal(r.status, 128 + os.constants.signals.SIGTERM, r.stderr)
  assert.match(r.stderr, /was ended by SIGTERM/)
})

test("watch: the program's own SIGUSR2 still works", () => {
  const r = cli(watchArgs(tmpFile('usr2.html'), tmpFile('usr2.json'), 'own-usr2'))
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'own SIGUSR2 handled\n')
})

test('watch in a terminal: Ctrl-C reaches the program once, not twice', { skip: !fs.existsSync('/usr/bin/script') && 'no /usr/bin/script (util-linux) to make a terminal' }, async () => {
  // script(1) runs the watcher on a pseudo-terminal; the ^C byte written to
  // it becomes a SIGINT to the terminal's foreground group.
  const log = tmpFile('tty.log')
  // `exec`: script(1) runs the command through $SHELL -c, and a shell left
  // waiting in the foreground group gets the SIGINT too (dash then exits
  // 130 whatever the watcher does). The same /bin/sh everywhere.
  const command = 'exec ' + [process.execPath, BIN, ...watchArgs(tmpFile('tty.html'), tmpFile('tty.json'), 'wait')].map((a) => `'${a}'`).join(' ')
  const child = spawn('/usr/bin/script', ['-qfec', command, log], { cwd: tmp, env: { ...process.env, SHELL: '/bin/sh' } })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  const until = (text) =>
    new Promise((resolve) => {
      const poll = setInterval(() => {
        if (out.includes(text)) {
          clearInterval(poll)
          resolve()
        }
      }, 50)
    })
  await until('ready')
  child.stdin.write('\x03')
  await until('report written (Ctrl-C)')
  await until('SIGINT 1')
  // The watcher is still running: end the program through it.
  const watcherPid = Number(/kill -USR2 (\d+)/.exec(out)[1])
  process.kill(watcherPid, 'SIGTERM')
  const status = await new Promise((resolve) => child.on('close', resolve))
  assert.equal(status, 0, out)
  assert.match(out, /SIGTERM after 1 SIGINT/)
  assert.doesNotMatch(out, /SIGINT 2/)
})

// --- the report -------------------------------------------------------------

let demo = null
/** Watches examples/demo.js once (a leak reported within about 15 s); shared by the tests below. */
function demoRun() {
  if (!demo) {
    const report = tmpFile('demo.html')
    const json = tmpFile('demo.json')
    const r = cli(['watch', '--report', report, '--json', json, '--', process.execPath, path.join(ROOT, 'examples', 'demo.js')], { timeout: 90_000 })
    demo = { r, report, json, data: r.status === 0 ? JSON.parse(fs.readFileSync(json, 'utf8')) : null }
  }
  return demo
}

test('watch on the leaky demo: the report shows the leak', () => {
  const { r, data, report } = demoRun()
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stderr, /demo\.js\[\d+\] LEAK heap growth over \d+ GCs/)
  const [p] = data.processes
  assert.equal(data.processes.length, 1)
  assert.ok(p.leaks.length >= 1, 'a leak event')
  assert.ok(p.gcs.length >= 3)
  // The floor rose by tens of MB, and the leak event says how much it grew.
  assert.ok(p.summary.floor_growth > 20 * 2 ** 20, `floor growth ${p.summary.floor_growth}`)
  assert.ok(p.leaks[0].growth > 20 * 2 ** 20)
  assert.ok(p.leaks[0].end >= p.leaks[0].start)
  const html = fs.readFileSync(report, 'utf8')
  assert.ok(html.includes('uPlot'), 'uPlot inlined')
  assert.ok(html.includes('The MIT License'), "uPlot's licence travels with it")
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i, 'no external resource')
})

test('watch --json: the documented schema', () => {
  const { data } = demoRun()
  assert.equal(data.schema, 'memwatch-rs/watch-report@1')
  assert.equal(data.memwatch_rs, require('../package.json').version)
  assert.deepEqual(data.command.slice(1), [path.join(ROOT, 'examples', 'demo.js')])
  for (const k of ['started', 'written']) assert.equal(typeof data[k], 'number', k)
  assert.equal(data.reason, 'exit')
  assert.deepEqual(Object.keys(data.exit).sort(), ['code', 'signal', 't'])
  assert.deepEqual(data.census, { requested: false })
  assert.deepEqual(data.sampling, { requested: false })
  const [p] = data.processes
  for (const k of ['label', 'pid', 'thread', 'main', 'argv', 'node', 'backend', 'error', 'started', 'ended', 'exit_code', 'summary', 'gcs', 'leaks', 'census', 'sampling']) {
    assert.ok(k in p, `process.${k}`)
  }
  assert.equal(p.sampling, null)
  assert.deepEqual(Object.keys(p.summary).sort(), ['first_base', 'floor_growth', 'gcs', 'heap_limit', 'last_base', 'leaks', 'max_pause_ms'])
  for (const g of p.gcs) {
    for (const k of ['t', 'n', 'base', 'floor', 'pause_ms', 'heap_limit']) assert.equal(typeof g[k], 'number', `gcs[].${k}`)
    assert.ok(g.floor <= g.base)
  }
  // The floor is the lowest base from each GC on.
  p.gcs.forEach((g, i) => assert.equal(g.floor, Math.min(...p.gcs.slice(i).map((x) => x.base))))
  for (const k of ['t', 'start', 'end', 'growth']) assert.equal(typeof p.leaks[0][k], 'number', `leaks[].${k}`)
  assert.equal(typeof p.leaks[0].reason, 'string')
})

test('the report in headless Chromium: one point per full GC, no error, narrow and wide', { skip: !fs.existsSync(CHROMIUM) && `no ${CHROMIUM} (apt-get install chromium)` }, async () => {
  const { data, report } = demoRun()
  assert.ok(data, 'the demo ran')
  const { chromium } = require('playwright-core')
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-chromium-'))
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  try {
    for (const [name, viewport] of [
      ['narrow', { width: 390, height: 844 }],
      ['wide', { width: 1280, height: 900 }],
    ]) {
      const page = await browser.newPage()
      await page.setViewportSize(viewport)
      const problems = []
      const requests = []
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`)
      })
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
      page.on('request', (req) => requests.push(req.url()))
      await page.goto(`file://${report}`)
      await page.waitForFunction(() => window.memwatchReport && window.memwatchReport.charts.length === 2)
      const charts = await page.evaluate(() =>
        window.memwatchReport.charts.map((c) => ({ kind: c.kind, points: c.points, data: c.plot.data[1].length, width: c.plot.width })),
      )
      const dom = await page.$$eval('[data-chart]', (els) => els.map((e) => Number(e.getAttribute('data-points'))))
      const gcs = data.processes[0].gcs.length
      assert.deepEqual(
        charts.map((c) => [c.kind, c.points, c.data]),
        [
          ['heap', gcs, gcs],
          ['pauses', gcs, gcs],
        ],
        name,
      )
      assert.deepEqual(dom, [gcs, gcs])
      // The plot fits the window (no sideways scrolling on a phone).
      for (const c of charts) assert.ok(c.width <= viewport.width, `${name}: plot ${c.width}px in a ${viewport.width}px window`)
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth)
      assert.ok(scroll <= viewport.width, `${name}: page is ${scroll}px wide`)
      const leakText = await page.textContent('.leak')
      assert.match(leakText, /heap growth over/)
      assert.deepEqual(problems, [], name)
      assert.deepEqual(requests, [`file://${report}`], 'no request but the file itself')
      await page.screenshot({ path: path.join(ARTIFACTS, `report-${name}.png`), fullPage: true })
      await page.close()
    }
  } finally {
    await browser.close()
    fs.rmSync(profile, { recursive: true, force: true })
  }
})

// --- diff -------------------------------------------------------------------

/**
 * Two real snapshot files around 1234 new `CliMarker` objects (200 of 500 old ones freed), and an in-process HeapDiff of the same change.
 * A CliMarker has eight fields, so its growth (about 90 KB) outranks the code V8 compiles between the snapshots (up to about 40 KB on Node 26):
 * the tables' first row is CliMarker.
 */
function snapshots() {
  const before = tmpFile('before.heapsnapshot')
  const after = tmpFile('after.heapsnapshot')
  const r = runChild(`
    const v8 = require('node:v8')
    const memwatch = require(${JSON.stringify(ROOT)})
    class CliMarker { constructor(i) { this.i = i; this.a = i; this.b = i; this.c = i; this.d = i; this.e = i; this.f = i; this.g = i } }
    globalThis.old = Array.from({ length: 500 }, (_, i) => new CliMarker(i))
    function change() {
      globalThis.old.length = 300
      globalThis.kept = Array.from({ length: 1234 }, (_, i) => new CliMarker(i))
    }
    v8.writeHeapSnapshot(${JSON.stringify(before)})
    const hd = new memwatch.HeapDiff()
    change()
    const d = hd.end()
    v8.writeHeapSnapshot(${JSON.stringify(after)})
    console.log(JSON.stringify(d.change.details.find((x) => x.what === 'CliMarker')))
  `)
  assert.equal(r.status, 0, r.stderr)
  return { before, after, inProcess: JSON.parse(r.stdout.trim().split('\n').pop()) }
}
let snaps = null
const snapFiles = () => (snaps ||= snapshots())

test('diff: two real snapshots give the same counts as an in-process HeapDiff', () => {
  const { before, after, inProcess } = snapFiles()
  assert.equal(inProcess['+'], 1234)
  assert.equal(inProcess['-'], 200)
  const r = cli(['diff', '--json', '--top', '0', before, after])
  assert.equal(r.status, 0, r.stderr)
  const d = JSON.parse(r.stdout)
  const marker = d.change.details.find((x) => x.what === 'CliMarker')
  assert.deepEqual([marker['+'], marker['-'], marker.size_bytes], [inProcess['+'], inProcess['-'], inProcess.size_bytes])
  assert.equal(d.before.nodes - d.change.freed_nodes + d.change.allocated_nodes, d.after.nodes)
  assert.equal(d.change.size_bytes, d.after.size_bytes - d.before.size_bytes)
  assert.equal(d.change.details.reduce((s, x) => s + x.size_bytes, 0), d.change.size_bytes)
  assert.equal(new Date(d.before.time).getTime(), fs.statSync(before).mtime.getTime())
})

test('diff: the table, largest change first, --top rows', () => {
  const { before, after } = snapFiles()
  const r = cli(['diff', '--top', '3', before, after])
  assert.equal(r.status, 0, r.stderr)
  assert.match(r.stdout, /^before: [\d,]+ nodes, /)
  assert.match(r.stdout, /^CliMarker +\+1,234 +-200 +\+/m)
  const rows = r.stdout.split('\n\n')[1].trim().split('\n')
  assert.equal(rows.length, 1 + 3 + 1, r.stdout) // header, 3 rows, "… and N more"
  assert.match(rows[4], /and \d+ more groups/)
})

test('diff --retainers: who holds the new objects, the same paths in the table and in JSON', () => {
  const { before, after } = snapFiles()
  const PATH = /^global → kept \(Array\) → \[\d+\] \(CliMarker\)$/
  const j = cli(['diff', '--json', '--top', '0', '--retainers', '2', before, after])
  assert.equal(j.status, 0, j.stderr)
  const d = JSON.parse(j.stdout)
  const marker = d.change.details.find((x) => x.what === 'CliMarker')
  assert.equal(marker['+'], 1234)
  assert.ok(marker.retainers.length >= 1 && marker.retainers.length <= 2, JSON.stringify(marker.retainers))
  assert.match(marker.retainers[0].path, PATH)
  assert.ok(d.change.details.filter((x) => x.retainers).length <= 5, 'the 5 groups that grew most at most')
  const t = cli(['diff', '--top', '0', '--retainers', '2', before, after])
  assert.equal(t.status, 0, t.stderr)
  const lines = t.stdout.split('\n')
  const row = lines.findIndex((l) => /^CliMarker +\+1,234/.test(l))
  assert.ok(row > 0, t.stdout)
  assert.match(lines[row + 1], new RegExp(`^ +${marker.retainers[0].count}× global → kept \\(Array\\) → \\[\\d+\\] \\(CliMarker\\)$`))
})

test('diff --group: only the named groups are explained; a name with nothing new says so', () => {
  const { before, after } = snapFiles()
  const j = cli(['diff', '--json', '--top', '0', '--group', 'CliMarker', before, after])
  assert.equal(j.status, 0, j.stderr)
  const explained = JSON.parse(j.stdout).change.details.filter((x) => x.retainers)
  assert.deepEqual(explained.map((x) => x.what), ['CliMarker'])
  assert.ok(explained[0].retainers.length <= 3, '--group alone means --retainers 3')
  // One row shown (CliMarker, with its paths under it); Array's paths come after the table.
  const t = cli(['diff', '--top', '1', '--group', 'CliMarker', '--group', 'Array', '--group', 'NoSuchClass', before, after])
  assert.equal(t.status, 0, t.stderr)
  assert.match(t.stdout, /\nCliMarker +\+1,234 .*\n +\d+× global → kept \(Array\) → \[\d+\] \(CliMarker\)\n/)
  assert.match(t.stdout, /\nArray \(not in the rows above\):\n( +\d+× .+\n)+/)
  assert.match(t.stdout, /\(no path for NoSuchClass: the after snapshot has no new object of that group\)/)
})

test('diff: malformed, truncated and non-snapshot files: one line naming the file, exit code 2', () => {
  const { before } = snapFiles()
  const text = fs.readFileSync(before, 'utf8')
  const nodesAt = text.indexOf('"nodes":')
  const write = (name, content) => {
    const f = tmpFile(name)
    fs.writeFileSync(f, content)
    return f
  }
  const cases = [
    [write('empty.heapsnapshot', ''), /empty file, not a heap snapshot/],
    [write('package.json', JSON.stringify(require('../package.json'))), /not a valid V8 heap snapshot/],
    [write('text.heapsnapshot', 'hello, world\n'), /not a valid V8 heap snapshot/],
    [write('cut.heapsnapshot', text.slice(0, nodesAt + Math.floor((text.indexOf('"edges":') - nodesAt) / 2))), /truncated heap snapshot/],
    [path.join(tmp, 'missing.heapsnapshot'), /no such file/],
    [tmp, /is a directory/],
  ]
  for (const [file, want] of cases) {
    for (const args of [
      [file, before],
      [before, file],
    ]) {
      const r = cli(['diff', ...args])
      assert.equal(r.status, 2, `${args}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      assert.ok(lines[0].startsWith(`memwatch-rs diff: ${file}: `), lines[0])
      assert.match(lines[0], want)
    }
  }
})

test('diff of a large snapshot pair: memory stays a fraction of the files', fullOnly, () => {
  // 1M small objects: about 120 MB per file.
  const dir = fs.mkdtempSync(path.join(tmp, 'big-'))
  const r = runChild(`
    const v8 = require('node:v8')
    class Small { constructor(i) { this.i = i } }
    globalThis.keep = Array.from({ length: 1_000_000 }, (_, i) => new Small(i))
    v8.writeHeapSnapshot(${JSON.stringify(path.join(dir, 'a.heapsnapshot'))})
    globalThis.more = Array.from({ length: 10_000 }, (_, i) => new Small(i))
    v8.writeHeapSnapshot(${JSON.stringify(path.join(dir, 'b.heapsnapshot'))})
  `)
  assert.equal(r.status, 0, r.stderr)
  const out = runChild(`
    const { diffFiles } = require(${JSON.stringify(path.join(ROOT, 'lib', 'cli', 'diff.js'))})
    const d = diffFiles(${JSON.stringify(path.join(dir, 'a.heapsnapshot'))}, ${JSON.stringify(path.join(dir, 'b.heapsnapshot'))})
    console.log(JSON.stringify({ small: d.change.details.find((x) => x.what === 'Small'), rss: process.resourceUsage().maxRSS * 1024 }))
  `)
  assert.equal(out.status, 0, out.stderr)
  const { small, rss } = JSON.parse(out.stdout)
  assert.equal(small['+'], 10_000)
  const size = fs.statSync(path.join(dir, 'a.heapsnapshot')).size
  assert.ok(rss < size, `peak RSS ${rss} for a ${size}-byte file (holding it would take more)`)
})
