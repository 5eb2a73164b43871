#!/usr/bin/env node
'use strict'

// `npm run package`: the release tarballs, the napi-rs way, into dist/.
//
//   1. `napi build --release --use-napi-cross` for every target in package.json's
//      `napi.targets` (linux-x64-gnu: built against glibc 2.17, so the binary
//      loads wherever an official Node binary does), into dist/.artifacts;
//   2. `napi create-npm-dirs` (npm/<platform>/package.json with os, cpu, libc);
//   3. `napi artifacts` (copies each binary into its platform package);
//   4. `napi pre-publish --skip-optional-publish` (checks the platform packages
//      and keeps the main package's optionalDependencies at the same version);
//   5. `npm pack` of the main package and of each platform package into dist/.
//
// What `npm publish` would upload is exactly those tarballs: publish them
// (platform packages first) with `npm publish ./dist/<file>.tgz`. Publishing the
// folder itself is refused (prepublishOnly runs this script with
// --refuse-publish), since a folder publish would skip these steps.
//
// Options: --native-toolchain builds with this machine's own toolchain instead
// of the glibc 2.17 one (the binary then needs this machine's glibc or newer).

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const DIST = path.join(ROOT, 'dist')
const ARTIFACTS = path.join(DIST, '.artifacts')
const pkg = require(path.join(ROOT, 'package.json'))

// The oldest glibc an official Node 20+ binary runs on is 2.28; the cross
// toolchain targets 2.17. A binary needing more than this is not shipped.
const MAX_GLIBC = [2, 17]

function run(cmd, args, opts = {}) {
  console.log(`$ ${[cmd, ...args].join(' ')}`)
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', ...opts })
  if (r.error) throw r.error
  if (r.status !== 0) {
    console.error(`\nnpm run package: \`${[cmd, ...args].join(' ')}\` failed (exit ${r.status})`)
    process.exit(1)
  }
  return r
}

function napi(...args) {
  return run(path.join(ROOT, 'node_modules', '.bin', 'napi'), args)
}

function refusePublish() {
  const files = [...platformPackages().map((p) => p.name), pkg.name].map((n) => `dist/${n}-${pkg.version}.tgz`)
  console.error(
    [
      'memwatch-rs is published from the tarballs `npm run package` writes, not from this folder',
      '(a folder publish would skip the platform packages and the release build). Run:',
      '  npm run package',
      ...files.map((f) => `  npm publish ./${f}`),
    ].join('\n'),
  )
  process.exit(1)
}

/** The platform packages as `napi create-npm-dirs` names them. */
function platformPackages() {
  const npmDir = path.join(ROOT, 'npm')
  if (!fs.existsSync(npmDir)) return []
  return fs
    .readdirSync(npmDir)
    .filter((d) => fs.existsSync(path.join(npmDir, d, 'package.json')))
    .map((d) => ({ dir: path.join(npmDir, d), ...require(path.join(npmDir, d, 'package.json')) }))
}

/** Highest GLIBC_x.y version the ELF file at `file` needs, or null if unknown. */
function neededGlibc(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8' })
  if (r.status !== 0) return null
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])])
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  return versions.pop() || [0, 0]
}

function main() {
  if (process.argv.includes('--refuse-publish')) refusePublish()
  const native = process.argv.includes('--native-toolchain')
  fs.rmSync(DIST, { recursive: true, force: true })
  fs.mkdirSync(ARTIFACTS, { recursive: true })

  // 1. Release binaries, plus the loader and types the build generates: they
  // must be the ones committed (the main package ships the committed files).
  for (const target of pkg.napi.targets) {
    napi(
      'build',
      '--platform',
      '--release',
      '--no-const-enum',
      ...(native ? [] : ['--use-napi-cross']),
      '--target',
      target,
      '--output-dir',
      ARTIFACTS,
      '--js',
      'binding.js',
      '--dts',
      'binding.d.ts',
    )
  }
  for (const generated of ['binding.js', 'binding.d.ts']) {
    const built = fs.readFileSync(path.join(ARTIFACTS, generated), 'utf8')
    if (built !== fs.readFileSync(path.join(ROOT, generated), 'utf8')) {
      console.error(`npm run package: ${generated} is out of date; run \`npm run build\` and commit it`)
      process.exit(1)
    }
    fs.rmSync(path.join(ARTIFACTS, generated))
  }

  // 2-4. The napi CLI's release flow.
  napi('create-npm-dirs')
  napi('artifacts', '--output-dir', ARTIFACTS)
  napi('pre-publish', '--tag-style', 'npm', '--skip-optional-publish')

  // The platform packages must be what the main package asks for.
  const platforms = platformPackages()
  for (const p of platforms) {
    if (pkg.optionalDependencies?.[p.name] !== pkg.version || p.version !== pkg.version) {
      console.error(`npm run package: ${p.name}@${p.version} is not in optionalDependencies at ${pkg.version}`)
      process.exit(1)
    }
    for (const file of p.files) {
      const binary = path.join(p.dir, file)
      if (!fs.existsSync(binary)) {
        console.error(`npm run package: ${binary} is missing`)
        process.exit(1)
      }
      const glibc = (p.libc || []).includes('glibc') ? neededGlibc(binary) : null
      if (glibc) {
        console.log(`${file} needs glibc ${glibc.join('.')}`)
        if (!native && (glibc[0] > MAX_GLIBC[0] || (glibc[0] === MAX_GLIBC[0] && glibc[1] > MAX_GLIBC[1]))) {
          console.error(`npm run package: ${file} needs glibc ${glibc.join('.')}, more than ${MAX_GLIBC.join('.')}`)
          process.exit(1)
        }
      }
    }
  }

  // 5. The tarballs. Scripts are not run: the build above is the release one.
  for (const dir of [...platforms.map((p) => p.dir), ROOT]) {
    run('npm', ['pack', '--ignore-scripts', '--pack-destination', DIST, dir], { stdio: ['ignore', 'ignore', 'inherit'] })
  }
  fs.rmSync(ARTIFACTS, { recursive: true, force: true })
  for (const f of fs.readdirSync(DIST)) {
    console.log(`dist/${f}  ${(fs.statSync(path.join(DIST, f)).size / 1024).toFixed(1)} KiB`)
  }
}

main()
