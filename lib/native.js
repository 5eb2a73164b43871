'use strict'

// Loads the native addon through the loader the napi CLI generates
// (binding.js: a local build first, then the platform package), and turns a
// failure into one Error that says what was looked for, why it failed and
// what to do, instead of the loader's generic advice.

const path = require('node:path')

const PACKAGE = require('../package.json')
// The platforms a prebuilt package is published for (package.json `napi.targets`).
const PREBUILT = Object.keys(PACKAGE.optionalDependencies || {}).map((name) => name.slice(PACKAGE.name.length + 1))
const LOADER = path.join(__dirname, '..', 'binding.js')

/** `{ os, arch, libc }` of this process, libc as napi-rs names it. */
function platform() {
  let libc = null
  if (process.platform === 'linux') {
    const header = process.report?.getReport?.()?.header
    libc = header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl'
  }
  return { os: process.platform, arch: process.arch, libc }
}

/** napi-rs's platform-arch-abi name, e.g. `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
function triple({ os, arch, libc }) {
  if (os === 'linux') return `${os}-${arch}-${libc && libc.startsWith('glibc') ? 'gnu' : 'musl'}`
  if (os === 'win32') return `${os}-${arch}-msvc`
  return `${os}-${arch}`
}

/** The messages of an error and its causes (the loader chains one per attempt). */
function reasons(err) {
  const out = []
  for (let e = err, depth = 0; e && depth < 8; e = e.cause, depth++) {
    const message = String(e && e.message !== undefined ? e.message : e)
    // The loader's own summary, and its WebAssembly attempts (this addon needs
    // V8 itself and has no WebAssembly build), say nothing about this failure.
    if (/npm has a bug related to optional dependencies|^Cannot find native binding|wasi/i.test(message)) continue
    out.push(message.split('\n')[0].slice(0, 300))
  }
  return out
}

function loadError(cause) {
  const p = platform()
  const name = triple(p)
  const wanted = `${PACKAGE.name}-${name}`
  const where = `${p.os} ${p.arch}${p.libc ? ` (${p.libc})` : ''}, Node ${process.version}`
  const looked = PREBUILT.includes(name)
    ? `the package ${wanted} (installed with ${PACKAGE.name} as an optional dependency) and a local build memwatch.${name}.node`
    : `a local build memwatch.${name}.node; no prebuilt package exists for ${name} (prebuilt: ${PREBUILT.join(', ')})`
  const because = reasons(cause)
  const message = [
    `${PACKAGE.name} could not load its native addon on ${where}.`,
    `It looked for ${looked}.`,
    `The load failed with: ${because.length ? because.join('; ') : String(cause)}`,
    'Ways out:',
    `  - run on a platform with a prebuilt package (${PREBUILT.join(', ')}), installed with optional dependencies (not --omit=optional);`,
    `  - or build it from source with a Rust toolchain (https://rustup.rs): clone the repository, run \`npm install\` there (it compiles the addon), and install that folder or the tarball \`npm pack\` makes from it.`,
  ].join('\n')
  const error = new Error(message)
  error.code = 'MEMWATCH_NO_BINARY'
  error.platform = { ...p, target: name, package: wanted }
  error.cause = cause
  return error
}

let binding
try {
  binding = require(LOADER)
} catch (err) {
  throw loadError(err)
}

module.exports = binding
