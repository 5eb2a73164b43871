'use strict'

// Shared machinery for `npm run bench`: fresh child processes, interleaved
// variants, medians, peer installation and markdown output. Reports only:
// nothing here asserts or fails on a number.

const { spawnSync, execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..')
const PEERS_DIR = path.join(__dirname, '.peers')

/** The native peers compared against, by npm spec. */
const NATIVE_PEERS = {
  '@airbnb/node-memwatch': '@airbnb/node-memwatch@3.0.0',
  'gc-stats': 'gc-stats@1.4.1',
  'weak-napi': 'weak-napi@2.0.2',
}

let peerState = null

/**
 * Installs the native peers into bench/.peers on first use (npm, with their
 * build scripts approved) and reports which ones load. Never silent: a peer
 * that cannot be installed or loaded has a printed reason.
 */
function peers() {
  if (peerState) return peerState
  fs.mkdirSync(PEERS_DIR, { recursive: true })
  const pkgFile = path.join(PEERS_DIR, 'package.json')
  if (!fs.existsSync(pkgFile)) fs.writeFileSync(pkgFile, JSON.stringify({ name: 'memwatch-rs-bench-peers', private: true }, null, 2))
  const missing = Object.keys(NATIVE_PEERS).filter((name) => !loads(name).ok)
  if (missing.length) {
    console.error(`bench: installing peers into ${PEERS_DIR}: ${missing.join(', ')}`)
    const npm = (args) => spawnSync('npm', args, { cwd: PEERS_DIR, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', ...missing.map((n) => NATIVE_PEERS[n])])
    // npm >= 11.19 holds back dependency build scripts until approved.
    npm(['install-scripts', 'approve', ...missing])
    const rebuilt = npm(['rebuild', ...missing])
    if (rebuilt.status !== 0) console.error(`bench: npm rebuild failed:\n${rebuilt.stderr.slice(-2000)}`)
  }
  peerState = {}
  for (const name of Object.keys(NATIVE_PEERS)) {
    const r = loads(name)
    peerState[name] = r
    if (!r.ok) console.error(`bench: skipping peer ${name}: ${r.reason}`)
  }
  return peerState
}

/**
 * A peer in plain JS (no build), installed into bench/.peers on first use
 * with `--ignore-scripts` and `env` (e.g. PUPPETEER_SKIP_DOWNLOAD for
 * memlab, whose browser only serves its browser mode). Returns { ok } or
 * { ok: false, reason }; `module` is what must load.
 */
function jsPeer(spec, module, env = {}) {
  fs.mkdirSync(PEERS_DIR, { recursive: true })
  const pkgFile = path.join(PEERS_DIR, 'package.json')
  if (!fs.existsSync(pkgFile)) fs.writeFileSync(pkgFile, JSON.stringify({ name: 'memwatch-rs-bench-peers', private: true }, null, 2))
  if (loads(module).ok) return { ok: true }
  console.error(`bench: installing ${spec} into ${PEERS_DIR}`)
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', spec], {
    cwd: PEERS_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  })
  if (r.status !== 0) return { ok: false, reason: `npm install ${spec} failed: ${(r.stderr || '').trim().split('\n').pop()}` }
  const loaded = loads(module)
  if (!loaded.ok) console.error(`bench: skipping peer ${spec}: ${loaded.reason}`)
  return loaded
}

function loads(name) {
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(name)})`], {
    cwd: PEERS_DIR,
    env: { ...process.env, NODE_PATH: path.join(PEERS_DIR, 'node_modules') },
    encoding: 'utf8',
  })
  if (r.status === 0) return { ok: true }
  const line = (r.stderr || '').split('\n').find((l) => /Error/.test(l)) || `exit ${r.status}`
  return { ok: false, reason: line.trim().slice(0, 200) }
}

/** The NODE_PATH that lets child scripts require peers and memwatch-rs. */
function childEnv(extra = {}) {
  return {
    ...process.env,
    NODE_PATH: [path.join(PEERS_DIR, 'node_modules'), path.join(ROOT, 'node_modules')].join(path.delimiter),
    MEMWATCH_RS: ROOT,
    ...extra,
  }
}

/**
 * Runs one measurement in a fresh process: `node [nodeArgs] script [args]`.
 * The script prints one JSON object as its last stdout line.
 */
function runOnce({ script, args = [], nodeArgs = [], env = {}, timeout = 600_000 }) {
  const r = spawnSync(process.execPath, [...nodeArgs, script, ...args], {
    env: childEnv(env),
    encoding: 'utf8',
    timeout,
    maxBuffer: 16 * 1024 * 1024,
  })
  const last = (r.stdout || '').trim().split('\n').pop()
  if (r.status !== 0 || !last) {
    return { error: `exit ${r.status}${r.signal ? ' ' + r.signal : ''}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` }
  }
  try {
    return JSON.parse(last)
  } catch {
    return { error: `unparseable output: ${last.slice(0, 200)}` }
  }
}

/**
 * Measures every variant `runs` times, interleaved (A B C A B C ...), each
 * run in a fresh process. Returns { [variant.name]: [result, ...] }.
 */
function interleave(variants, runs, { onRun } = {}) {
  const out = Object.fromEntries(variants.map((v) => [v.name, []]))
  for (let i = 0; i < runs; i++) {
    for (const v of variants) {
      const r = runOnce(v)
      out[v.name].push(r)
      if (onRun) onRun(v.name, i, r)
    }
  }
  return out
}

function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median of `key` over the successful results of one variant. */
function med(results, key) {
  return median(results.filter((r) => !r.error).map((r) => r[key]))
}

/**
 * Median of per-run ratios a[i][key] / b[i][key]: runs i of two variants were
 * measured back to back, so their ratio cancels most of the machine's drift.
 */
function pairedRatio(a, b, key) {
  const ratios = []
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i].error || b[i].error) continue
    ratios.push(a[i][key] / b[i][key])
  }
  return median(ratios)
}

function firstError(results) {
  const e = results.find((r) => r.error)
  return e ? e.error : null
}

function fmt(x, digits = 2) {
  if (!Number.isFinite(x)) return 'n/a'
  return x.toFixed(digits)
}

/** A markdown table. */
function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}

/** Machine, Node version and date, for the report header. */
function machine() {
  let cpu = os.cpus()[0]?.model || 'unknown cpu'
  cpu = cpu.replace(/\s+/g, ' ').trim()
  let kernel = ''
  try {
    kernel = execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim()
  } catch {}
  return {
    cpu,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  }
}

/** Peak RSS of the calling process in MB (for child measurement scripts). */
function peakRssMB() {
  return process.resourceUsage().maxRSS / 1024
}

/**
 * The calling process's current and peak RSS in MB, `{ VmRSS, VmHWM }`,
 * from /proc/self/status (for child measurement scripts; Linux).
 */
function procStatusMB() {
  const out = {}
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(VmRSS|VmHWM):\s+(\d+) kB/.exec(line)
    if (m) out[m[1]] = Number(m[2]) / 1024
  }
  return out
}

/**
 * Resets the calling process's peak RSS (VmHWM) to its current RSS through
 * /proc/self/clear_refs; false where the kernel does not allow it.
 */
function resetPeakRss() {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

/**
 * The candidates `[name, label, peer?, ...]` whose peer (if any) loads; for
 * each one left out, a note with the reason goes to `notes`. Never silent.
 */
function runnable(candidates, notes) {
  const state = peers()
  return candidates.filter(([, label, peer]) => {
    if (!peer || state[peer].ok) return true
    notes.push(`${label}: skipped (${state[peer].reason})`)
    return false
  })
}

module.exports = {
  ROOT,
  PEERS_DIR,
  peers,
  jsPeer,
  runnable,
  runOnce,
  interleave,
  median,
  med,
  pairedRatio,
  firstError,
  fmt,
  table,
  machine,
  peakRssMB,
  procStatusMB,
  resetPeakRss,
}
