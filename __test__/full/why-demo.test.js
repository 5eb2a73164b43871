'use strict'

// The README's way from a `leak` event to the code that leaks, run as a user
// would: `npm run demo:why` (examples/why-alive.js) under
// `memwatch-rs watch --sampling`. The demo samples allocations itself, so
// this also checks that a program's own startSampling() takes over the
// watcher's sampling instead of failing. test:full only (about a minute).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('../helpers')

const BIN = path.join(ROOT, 'bin', 'memwatch-rs.js')
const DEMO = path.join(ROOT, 'examples', 'why-alive.js')
// `handleRequests (/…/examples/why-alive.js:LINE:COL)`, the line where the demo defines it.
const LINE = fs.readFileSync(DEMO, 'utf8').split('\n').findIndex((l) => l.startsWith('function handleRequests(')) + 1
const SITE = new RegExp(`handleRequests \\(${DEMO.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:${LINE}:\\d+\\)`)
const PATH = /\d+× global → app \(Object\) → sessions \(Map\) → table → \[\d+\] \(Session\)\n/

const CHROMIUM = '/usr/bin/chromium'

test('demo:why under watch --sampling: the leak, what grew, the allocating function and line, who holds it', { timeout: 240_000 }, async () => {
  assert.ok(LINE > 0)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-why-demo-'))
  try {
    const json = path.join(tmp, 'why.json')
    const report = path.join(tmp, 'why.html')
    const r = spawnSync(process.execPath, [BIN, 'watch', '--sampling', '--quiet', '--report', report, '--json', json, '--', process.execPath, DEMO], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 170_000,
    })
    // The demo itself: it found the leak before giving up (exit code 1 after 120 s).
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /LEAK: heap growth over \d+ GCs/)
    // Its suspects: the census counts the Session objects among the three groups that grew most.
    assert.match(r.stdout, /what grew \(objects by constructor since the growth began\):\n(?: +[\d.]+ MB {2}\w+ \+\d+\n){0,2} +[\d.]+ MB {2}Session \+\d+\n/)
    assert.match(r.stdout, /allocated by \(live sampled bytes that grew since the detector started\):\n +[\d.]+ MB {2}/)
    assert.match(r.stdout, SITE, 'the leak event names the function that allocates the sessions')
    assert.match(r.stdout, /Session: \+\d+ /)
    assert.match(r.stdout, PATH, 'the heap diff says the sessions Map holds them')
    // The watcher: its sampling was taken over by the demo's, and its LEAK line names the same site.
    const leakLine = r.stderr.split('\n').find((l) => /why-alive\.js\[\d+\] LEAK /.test(l))
    assert.ok(leakLine, r.stderr)
    assert.match(leakLine, new RegExp(`\\| allocated by: ${SITE.source} \\+[\\d.]+ [KMG]?B`))
    const data = JSON.parse(fs.readFileSync(json, 'utf8'))
    assert.deepEqual(data.sampling, { requested: true })
    const [p] = data.processes
    assert.deepEqual(p.sampling, { interval_bytes: 524288, stack_depth: 64 })
    assert.equal(p.exit_code, 0)
    const site = p.leaks[0].sites[0]
    assert.equal(site.frames[0].function, 'handleRequests')
    assert.equal(site.frames[0].script, DEMO)
    assert.equal(site.frames[0].line, LINE)
    assert.ok(site.bytes > 1e6, `grew ${site.bytes} bytes`)
    // The HTML report, in a real browser, on a phone: the site and its line
    // in the leak's table, no error, no sideways scrolling.
    if (fs.existsSync(CHROMIUM)) {
      const { chromium } = require('playwright-core')
      const browser = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      })
      try {
        const page = await browser.newPage()
        await page.setViewportSize({ width: 390, height: 844 })
        const problems = []
        page.on('pageerror', (e) => problems.push(e.message))
        await page.goto(`file://${report}`)
        await page.waitForSelector('.leak table.sites')
        const first = await page.textContent('.leak table.sites tbody tr')
        assert.match(first, SITE)
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no sideways scrolling')
        assert.deepEqual(problems, [])
      } finally {
        await browser.close()
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
})
