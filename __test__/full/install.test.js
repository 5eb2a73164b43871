'use strict'

// The package as users get it: the tarballs `npm run package` writes,
// installed into a fresh project with --ignore-scripts and no cargo or rustc
// on PATH, then every feature and both CLI commands (through npx) used once,
// on each Node major in MEMWATCH_NODE_BINS (colon-separated node binaries;
// default: this node).
// And leakage, with npm overrides pointing its memwatch at these tarballs.
// Slow (a release build if dist/ is empty, two npm installs): test:full only.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('../helpers')

const pkg = require('../../package.json')
const DIST = path.join(ROOT, 'dist')
const NODES = (process.env.MEMWATCH_NODE_BINS || process.execPath).split(':').filter(Boolean)

/** dist/ tarballs: the main one and the platform ones (built if missing). */
function tarballs() {
  const main = path.join(DIST, `${pkg.name}-${pkg.version}.tgz`)
  const platforms = Object.keys(pkg.optionalDependencies).map((name) => path.join(DIST, `${name}-${pkg.version}.tgz`))
  if (![main, ...platforms].every((f) => fs.existsSync(f))) {
    const r = spawnSync('npm', ['run', 'package'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000 })
    assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`)
  }
  return { main, platforms }
}

/** PATH without any folder that holds cargo or rustc. */
function pathWithoutRust() {
  const dirs = (process.env.PATH || '').split(path.delimiter)
  const kept = dirs.filter((d) => !['cargo', 'rustc'].some((exe) => fs.existsSync(path.join(d, exe))))
  const env = { ...process.env, PATH: kept.join(path.delimiter), npm_config_audit: 'false', npm_config_fund: 'false' }
  delete env.CARGO
  delete env.RUSTC
  delete env.CARGO_HOME
  delete env.RUSTUP_HOME
  return env
}

function npmInstall(dir, args) {
  const env = pathWithoutRust()
  const which = spawnSync('sh', ['-c', 'command -v cargo || command -v rustc || true'], { env, encoding: 'utf8' })
  assert.equal(which.stdout.trim(), '', 'cargo is hidden from PATH')
  const r = spawnSync('npm', ['install', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 600_000 })
  assert.equal(r.status, 0, `npm install ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`)
  assert.doesNotMatch(r.stdout + r.stderr, /napi build|cargo|Compiling /, 'nothing compiled')
  return r
}

function project(name, manifest) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `memwatch-${name}-`))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `memwatch-${name}`, private: true, ...manifest }, null, 2))
  return dir
}

// Every feature once, printed as one JSON line.
const SMOKE = `
  const memwatch = require('memwatch-rs')
  const out = { backend: memwatch.backend }
  out.binary = Object.keys(require.cache).filter((f) => f.endsWith('.node')).map((f) => require('path').relative(process.cwd(), f))
  let stats = 0
  memwatch.on('stats', () => stats++)
  memwatch.on('leak', () => {})
  const s = memwatch.gc()
  out.gc = s.num_full_gc >= 1 && s.current_base > 0
  out.streak = memwatch.configure({ classicStreak: 3 }).classicStreak
  class Marker {}
  const hd = new memwatch.HeapDiff()
  const keep = []
  for (let i = 0; i < 1000; i++) keep.push(new Marker())
  const d = hd.end()
  out.markers = (d.change.details.find((x) => x.what === 'Marker') || {})['+']
  out.census = (memwatch.census().groups.find((g) => g.what === 'Marker') || {}).count
  memwatch.clearHeapSnapshotIds()
  const again = new memwatch.HeapDiff()
  for (let i = 0; i < 500; i++) keep.push(new Marker())
  out.afterClear = (again.end().change.details.find((x) => x.what === 'Marker') || {})['+']
  memwatch.startSampling()
  out.sampling = Array.isArray(memwatch.samplingProfile().sites)
  memwatch.stopSampling()
  out.metrics = typeof memwatch.metrics().heapSizeLimit
  out.testing = typeof require('memwatch-rs/testing').assertNoLeak
  let collected = 0
  ;(() => { memwatch.trackGC({ big: new Array(1000).fill(1) }, () => collected++) })()
  memwatch.gc()
  setTimeout(() => {
    memwatch.removeAllListeners('leak')
    out.stats = stats
    out.collected = collected
    console.log(JSON.stringify(out))
  }, 100)
`
const SMOKE_ESM = `
  import memwatch, { gc, HeapDiff, trackGC, configure } from 'memwatch-rs'
  const d = new HeapDiff()
  console.log(JSON.stringify({ same: memwatch.gc === gc && memwatch.HeapDiff === HeapDiff && memwatch.trackGC === trackGC && memwatch.configure === configure,
    backend: memwatch.backend, gc: gc().num_full_gc >= 1, diff: typeof d.end().change.size_bytes }))
`

// The CLI as users run it: npx memwatch-rs watch -- node app.js, and
// memwatch-rs diff on two snapshots that app wrote. The app keeps 4,000
// CliSession objects reachable to the end, so the exit census counts them
// exactly, and grows them between its two snapshots.
const CLI_APP = `
  const v8 = require('node:v8')
  class CliSession { constructor(i) { this.id = i; this.data = new Array(16).fill(i) } }
  globalThis.kept = []
  v8.writeHeapSnapshot('before.heapsnapshot')
  for (let i = 0; i < 4000; i++) globalThis.kept.push(new CliSession(i))
  v8.writeHeapSnapshot('after.heapsnapshot')
`

/** The installed CLI through npx, with `node` on PATH being `node`. */
function npx(dir, node, args) {
  const env = pathWithoutRust()
  env.PATH = `${path.dirname(node)}${path.delimiter}${env.PATH}`
  const r = spawnSync('npx', ['--no-install', 'memwatch-rs', ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, `npx memwatch-rs ${args.join(' ')}: ${r.stdout}\n${r.stderr}`)
  return r
}

function cliWorks(dir, node, version) {
  fs.writeFileSync(path.join(dir, 'app.js'), CLI_APP)
  for (const f of ['r.json', 'r.html']) fs.rmSync(path.join(dir, f), { force: true })
  const w = npx(dir, node, ['watch', '--census', '--json', 'r.json', '--report', 'r.html', '--', 'node', 'app.js'])
  assert.match(w.stderr, /memwatch-rs: watching 'node app\.js'/, `${version}: watch's first line`)
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'r.json'), 'utf8'))
  const proc = report.processes.find((p) => p.main)
  assert.equal(proc.node, version, `${version}: the watched program ran on this Node`)
  assert.equal(proc.backend, 'v8', `${version}: watched backend`)
  assert.equal(proc.exit_code, 0, `${version}: watched exit code`)
  const grew = proc.census.groups.find((g) => g.what === 'CliSession')
  assert.equal(grew && grew.count_change, 4000, `${version}: watch --census counts the kept objects`)
  assert.match(fs.readFileSync(path.join(dir, 'r.html'), 'utf8'), /<html/i, `${version}: the HTML report`)
  const d = npx(dir, node, ['diff', '--json', '--top', '0', 'before.heapsnapshot', 'after.heapsnapshot'])
  const row = JSON.parse(d.stdout).change.details.find((x) => x.what === 'CliSession')
  assert.equal(row && row['+'], 4000, `${version}: diff of the app's snapshots`)
}

function runIn(dir, node, args) {
  const r = spawnSync(node, args, { cwd: dir, env: pathWithoutRust(), encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, `${node} ${args[0]}: ${r.stderr}`)
  assert.equal(r.stderr, '', 'no warning')
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

test('the tarballs install with --ignore-scripts and no Rust, and every feature and the CLI work on each Node', () => {
  const { main, platforms } = tarballs()
  const dir = project('install', {})
  try {
    npmInstall(dir, ['--ignore-scripts', main, ...platforms])
    const installed = path.join(dir, 'node_modules', pkg.name)
    assert.deepEqual(
      fs.readdirSync(installed, { recursive: true }).filter((f) => f.endsWith('.node')),
      [],
      'the main package carries no binary',
    )
    for (const node of NODES) {
      const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
      const out = runIn(dir, node, ['-e', SMOKE])
      assert.equal(out.backend, 'v8', `${version}: backend`)
      assert.deepEqual(out.binary, [`node_modules/${pkg.name}-linux-x64-gnu/${pkg.napi.binaryName}.linux-x64-gnu.node`], `${version}: loaded from the platform package`)
      assert.equal(out.gc, true, `${version}: gc()`)
      assert.equal(out.streak, 3, `${version}: configure()`)
      assert.equal(out.census, 1000, `${version}: census()`)
      assert.equal(out.sampling, true, `${version}: allocation sampling`)
      assert.equal(out.metrics, 'number', `${version}: metrics()`)
      assert.equal(out.testing, 'function', `${version}: memwatch-rs/testing`)
      assert.equal(out.markers, 1000, `${version}: HeapDiff`)
      assert.equal(out.afterClear, 500, `${version}: clearHeapSnapshotIds(), then an exact HeapDiff`)
      assert.equal(out.collected, 1, `${version}: trackGC`)
      assert.ok(out.stats >= 2, `${version}: stats events (${out.stats})`)
      const esm = runIn(dir, node, ['--input-type=module', '-e', SMOKE_ESM])
      assert.deepEqual(esm, { same: true, backend: 'v8', gc: true, diff: 'number' }, `${version}: ESM import`)
      cliWorks(dir, node, version)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('leakage with npm overrides onto the tarballs: nothing compiles, leaks throw, clean code passes', () => {
  const { main, platforms } = tarballs()
  const file = (f) => `file:${f}`
  const overrides = {
    // leakage@0.5.0 depends on @aidemaster/node-memwatch; older releases on the other two.
    '@aidemaster/node-memwatch': file(main),
    '@airbnb/node-memwatch': file(main),
    'memwatch-next': file(main),
  }
  for (const p of platforms) overrides[path.basename(p).replace(`-${pkg.version}.tgz`, '')] = file(p)
  // Install scripts are allowed here: there must be none to run.
  const dir = project('leakage', { dependencies: { leakage: '0.5.0' }, overrides })
  try {
    npmInstall(dir, [])
    const code = `
      const { iterate, MemoryLeakError } = require('leakage')
      const verdict = (f) => { try { f(); return 'passed' } catch (e) { return e instanceof MemoryLeakError ? 'MemoryLeakError' : 'error: ' + e.message } }
      const leaked = []
      console.log(JSON.stringify({
        memwatch: require('@aidemaster/node-memwatch/package.json').name,
        leaky: verdict(() => iterate(() => { leaked.push({ payload: new Array(64).fill(leaked.length) }) })),
        clean: verdict(() => iterate(() => new Array(64).fill(1).length)),
      }))
    `
    for (const node of NODES) {
      const out = runIn(dir, node, ['-e', code])
      assert.deepEqual(out, { memwatch: pkg.name, leaky: 'MemoryLeakError', clean: 'passed' })
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
