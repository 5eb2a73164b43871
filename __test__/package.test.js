'use strict'

// What users install: the package holds what runs (no install script, no
// Rust sources, tests, fixtures or benchmarks), the platform package is the
// napi-rs kind, and a missing or broken binary gives one honest Error.
// Installing the real tarballs on every Node major is `full/install.test.js`.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT } = require('./helpers')

const pkg = require('../package.json')

/** The files `npm pack` would put in the tarball of `dir`. */
function packed(dir) {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts', dir], { cwd: ROOT, encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)[0].files.map((f) => f.path).sort()
}

const platformDirs = () =>
  fs
    .readdirSync(path.join(ROOT, 'npm'))
    .filter((d) => fs.existsSync(path.join(ROOT, 'npm', d, 'package.json')))
    .map((d) => path.join(ROOT, 'npm', d))

test('the main tarball holds what runs, the README and the LICENSE: no sources, tests, fixtures or bench', () => {
  const files = packed(ROOT)
  const allowed = [
    /^(README\.md|LICENSE|package\.json)$/,
    /^index\.(js|mjs|d\.ts|d\.mts)$/,
    /^binding\.(js|d\.ts)$/,
    /^lib\/[\w/.-]+\.(js|mjs|cjs|d\.ts|d\.mts|html)$/,
    /^bin\/[\w.-]+\.js$/,
  ]
  const extra = files.filter((f) => !allowed.some((re) => re.test(f)))
  assert.deepEqual(extra, [], `files that do not run: ${extra.join(', ')}`)
  for (const must of ['README.md', 'LICENSE', 'package.json', 'index.js', 'index.mjs', 'index.d.ts', 'binding.js', 'lib/native.js']) {
    assert.ok(files.includes(must), `${must} is missing from the tarball`)
  }
  // Every file the hand-written JS loads is in the tarball (binding.js, the
  // generated loader, also tries local builds for every platform).
  for (const f of files.filter((f) => f.endsWith('.js') && f !== 'binding.js')) {
    const source = fs.readFileSync(path.join(ROOT, f), 'utf8')
    for (const [, rel] of source.matchAll(/require\((?:'|")(\.{1,2}\/[^'"]+)(?:'|")\)/g)) {
      const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(f), rel))
      const candidates = [target, `${target}.js`, path.join(target, 'index.js')]
      assert.ok(
        candidates.some((c) => files.includes(c)),
        `${f} requires ${rel}, which is not in the tarball`,
      )
    }
  }
})

test("every entry point in package.json's exports is in the tarball, and the metrics peers are optional", () => {
  const files = packed(ROOT)
  const targets = []
  const walk = (v) => (typeof v === 'string' ? targets.push(v) : Object.values(v).forEach(walk))
  walk(pkg.exports)
  for (const t of targets) assert.ok(files.includes(t.replace(/^\.\//, '')), `${t} is exported but not packed`)
  assert.ok(targets.includes('./lib/prometheus.js') && targets.includes('./lib/otel.d.ts'), 'the exporters are entry points')
  for (const peer of Object.keys(pkg.peerDependencies)) {
    assert.equal(pkg.peerDependenciesMeta[peer].optional, true, `${peer} is an optional peer`)
  }
})

test('no install script: installing the package never compiles', () => {
  for (const script of ['preinstall', 'install', 'postinstall']) {
    assert.equal(pkg.scripts[script], undefined, `package.json has a ${script} script`)
  }
  assert.ok(pkg.scripts.prepare, 'a clone still compiles on npm install (prepare)')
})

test('each platform package is the napi-rs kind and is an optional dependency at the same version', () => {
  const dirs = platformDirs()
  assert.equal(dirs.length, pkg.napi.targets.length, 'one npm/ folder per napi target')
  const names = []
  for (const dir of dirs) {
    const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
    names.push(p.name)
    const platform = path.basename(dir)
    assert.equal(p.name, `${pkg.name}-${platform}`)
    assert.equal(p.version, pkg.version)
    assert.equal(pkg.optionalDependencies[p.name], pkg.version, `${p.name} in optionalDependencies`)
    const [osName, cpu, abi] = platform.split('-')
    assert.deepEqual(p.os, [osName])
    assert.deepEqual(p.cpu, [cpu])
    if (abi === 'gnu') assert.deepEqual(p.libc, ['glibc'])
    if (abi === 'musl') assert.deepEqual(p.libc, ['musl'])
    assert.equal(p.main, `${pkg.napi.binaryName}.${platform}.node`)
    assert.deepEqual(p.files, [p.main])
    assert.equal(p.scripts, undefined, 'no scripts')
    assert.ok(fs.existsSync(path.join(dir, 'LICENSE')), 'a LICENSE')
    if (fs.existsSync(path.join(dir, p.main))) {
      assert.deepEqual(packed(dir), ['LICENSE', 'README.md', p.main, 'package.json'])
    }
  }
  assert.deepEqual(Object.keys(pkg.optionalDependencies).sort(), names.sort(), 'no other optional dependency')
})

// A copy of the package's JS in a temp folder: the loader finds no binary
// there unless the test puts one in.
function copyWithoutBinary() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-nobin-'))
  for (const f of ['index.js', 'binding.js', 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(dir, f))
  fs.cpSync(path.join(ROOT, 'lib'), path.join(dir, 'lib'), { recursive: true })
  return dir
}

function load(dir, preload = '') {
  const code = `${preload};try { require(${JSON.stringify(dir)}); console.log(JSON.stringify({ loaded: true })) }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message, platform: e.platform, cause: !!e.cause })) }`
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

function assertHonest(e, { target, libc }) {
  assert.equal(e.name, 'Error')
  assert.equal(e.code, 'MEMWATCH_NO_BINARY')
  assert.ok(e.cause, 'the underlying error is the cause')
  assert.ok(e.message.includes(target), `names the platform ${target}: ${e.message}`)
  if (libc) assert.match(e.message, /\(glibc \d+\.\d+\)/, 'names the libc')
  assert.ok(e.message.includes(`${pkg.name}-${target}`), 'names the package it looked for')
  assert.match(e.message, /The load failed with: \S/, 'gives the underlying load error')
  assert.match(e.message, /platform with a prebuilt package \(linux-x64-gnu\)/, 'first way out: a supported platform')
  assert.match(e.message, /build it from source with a Rust toolchain/, 'second way out: build from source')
  assert.doesNotMatch(e.message, /npm has a bug|package-lock/, 'no advice about npm bugs')
  assert.ok(e.message.length < 2000, 'bounded')
}

test('no binary for this platform: one Error naming the platform, the package, the cause and the ways out', () => {
  const dir = copyWithoutBinary()
  try {
    const e = load(dir)
    assertHonest(e, { target: 'linux-x64-gnu', libc: true })
    assert.match(e.message, /Cannot find module 'memwatch-rs-linux-x64-gnu'/)
    assert.deepEqual(e.platform, { os: 'linux', arch: 'x64', libc: e.platform.libc, target: 'linux-x64-gnu', package: 'memwatch-rs-linux-x64-gnu' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a binary that fails to load: the Error carries the loader error', () => {
  const dir = copyWithoutBinary()
  try {
    fs.writeFileSync(path.join(dir, `${pkg.napi.binaryName}.linux-x64-gnu.node`), 'not an ELF file')
    const e = load(dir)
    assertHonest(e, { target: 'linux-x64-gnu', libc: true })
    assert.match(e.message, /memwatch\.linux-x64-gnu\.node: (file too short|invalid ELF header)/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('another platform: the Error says no prebuilt package exists for it', () => {
  const dir = copyWithoutBinary()
  try {
    const pretend = `Object.defineProperty(process, 'platform', { value: 'darwin' }); Object.defineProperty(process, 'arch', { value: 'arm64' })`
    const e = load(dir, pretend)
    assert.equal(e.code, 'MEMWATCH_NO_BINARY')
    assert.match(e.message, /on darwin arm64, Node v\d+/)
    assert.match(e.message, /no prebuilt package exists for darwin-arm64 \(prebuilt: linux-x64-gnu\)/)
    assert.match(e.message, /build it from source with a Rust toolchain/)
    assert.doesNotMatch(e.message, /npm has a bug/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
