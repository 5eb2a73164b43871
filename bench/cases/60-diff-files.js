'use strict'

// `memwatch-rs diff` on a pair of big .heapsnapshot files (≥ 500 MB each,
// written once by a process of small objects and cached in
// bench/.cache/diff-files): time and peak RSS against a plain streaming read
// of both files (the floor: any diff must read them), JSON.parse of the same
// files, and memlab's analysis of the pair. Peers that fail are shown as
// failed with their error.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const SCRIPT = path.join(__dirname, '..', 'scripts', 'diff-files.js')
const CACHE = path.join(__dirname, '..', '.cache', 'diff-files')
/** Small objects in the heap: about 120 bytes of snapshot each, so ≥ 500 MB a file. */
const OBJECTS = 4_400_000
const MIN_FILE = 500 * 1e6
/** The peers get this much heap (the machine has 24 GiB, shared). */
const PEER_HEAP_MB = 8192
const MEMLAB = 'memlab@2.0.5'

/**
 * One run of a peer in a fresh process, like lib.runOnce, but a failure is
 * reported by the line that names the error (V8's fatal "heap out of
 * memory", a RangeError, ...), not the stack's last lines.
 */
function peerOnce(lib, v) {
  const r = spawnSync(process.execPath, [...(v.nodeArgs || []), v.script, ...v.args], {
    env: { ...process.env, NODE_PATH: path.join(lib.PEERS_DIR, 'node_modules'), MEMWATCH_RS: lib.ROOT },
    encoding: 'utf8',
    timeout: v.timeout,
    maxBuffer: 64 * 1024 * 1024,
  })
  const last = (r.stdout || '').trim().split('\n').pop()
  if (r.status === 0 && last) return JSON.parse(last)
  if (r.error && r.error.code === 'ETIMEDOUT') return { error: `timed out after ${v.timeout / 1000} s` }
  const lines = (r.stderr || '').split('\n').map((l) => l.trim())
  const why = lines.find((l) => /heap out of memory|^\w*Error\b|Error:/.test(l)) || lines.filter(Boolean).pop() || ''
  return { error: `exit ${r.status}${r.signal ? ' ' + r.signal : ''}: ${why}` }
}

function snapshotFiles(lib, notes) {
  const files = ['before', 'after'].map((f) => path.join(CACHE, `${f}.heapsnapshot`))
  const ok = () => files.every((f) => fs.existsSync(f) && fs.statSync(f).size >= MIN_FILE)
  if (!ok()) {
    fs.mkdirSync(CACHE, { recursive: true })
    console.error(`bench: writing two heap snapshots of ${OBJECTS.toLocaleString('en-US')} objects into ${CACHE} (once; several GB of memory for a minute or two) ...`)
    const r = lib.runOnce({ script: SCRIPT, args: ['make', CACHE, String(OBJECTS)], timeout: 1_800_000 })
    if (r.error) throw new Error(`could not write the snapshots: ${r.error}`)
    notes.push(`Snapshots written in ${(r.wallMs / 1000).toFixed(0)} s with a peak RSS of ${(r.peakRssMB / 1024).toFixed(1)} GB (cached for later runs).`)
  }
  if (!ok()) throw new Error(`the snapshots in ${CACHE} are smaller than ${MIN_FILE / 1e6} MB`)
  return files
}

/** memlab in bench/.peers (no browser download); a reason string if it cannot be had. */
function memlab(lib) {
  const loads = () => spawnSync(process.execPath, ['-e', "require('@memlab/api')"], { cwd: lib.PEERS_DIR, env: { ...process.env, NODE_PATH: path.join(lib.PEERS_DIR, 'node_modules') } }).status === 0
  if (loads()) return null
  fs.mkdirSync(lib.PEERS_DIR, { recursive: true })
  const pkg = path.join(lib.PEERS_DIR, 'package.json')
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: 'memwatch-rs-bench-peers', private: true }, null, 2))
  console.error(`bench: installing ${MEMLAB} into ${lib.PEERS_DIR} ...`)
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', MEMLAB], {
    cwd: lib.PEERS_DIR,
    env: { ...process.env, PUPPETEER_SKIP_DOWNLOAD: '1' },
    encoding: 'utf8',
  })
  if (loads()) return null
  return `could not install ${MEMLAB}: ${(r.stderr || '').trim().split('\n').pop()}`
}

module.exports = {
  title: '`memwatch-rs diff` of two big heap snapshot files',
  run({ lib, runs }) {
    const notes = []
    const [before, after] = snapshotFiles(lib, notes)
    const size = Math.max(fs.statSync(before).size, fs.statSync(after).size)
    const args = (name) => [name, before, after]
    const ours = [
      { name: 'read', label: 'floor: plain streaming read of both files', script: SCRIPT, args: args('read') },
      { name: 'memwatch-rs', label: '`memwatch-rs diff`', script: SCRIPT, args: args('memwatch-rs') },
    ]
    const peers = [{ name: 'json-parse', label: 'JSON.parse of both files, diffed by id', script: SCRIPT, args: args('json-parse'), nodeArgs: [`--max-old-space-size=${PEER_HEAP_MB}`], timeout: 900_000 }]
    const memlabProblem = memlab(lib)
    if (memlabProblem) notes.push(`memlab: skipped (${memlabProblem})`)
    else peers.push({ name: 'memlab', label: 'memlab 2.0.5 (findLeaksBySnapshotFilePaths)', script: SCRIPT, args: args('memlab'), nodeArgs: [`--max-old-space-size=${PEER_HEAP_MB}`], timeout: 900_000 })

    // Ours: interleaved fresh processes, `runs` each. The peers: once each
    // (minutes and gigabytes per run, when they finish at all).
    console.error('bench: diff-files, memwatch-rs and the floor ...')
    const res = lib.interleave(ours, runs)
    for (const p of peers) {
      console.error(`bench: diff-files, ${p.label} (once) ...`)
      res[p.name] = [peerOnce(lib, p)]
    }
    const rows = []
    for (const v of [...ours, ...peers]) {
      const r = res[v.name]
      const err = lib.firstError(r)
      if (err) {
        rows.push([v.label, `failed: ${err.slice(0, 160).replace(/\|/g, '/')}`, '', '', '', '', ''])
        continue
      }
      const wall = lib.med(r, 'wallMs')
      const rss = lib.med(r, 'peakRssMB')
      rows.push([
        v.label,
        lib.fmt(wall / 1000, 2),
        v.name === 'json-parse' || v.name === 'memlab' ? lib.fmt(wall / lib.med(res.read, 'wallMs'), 1) : lib.fmt(lib.pairedRatio(r, res.read, 'wallMs'), 2),
        lib.fmt(rss, 0),
        lib.fmt((rss * 2 ** 20) / size, 3),
        String(r.length),
        v.name === 'read' ? '–' : String(lib.med(r, 'found')),
      ])
    }
    notes.push(
      `Files: ${(fs.statSync(before).size / 1e6).toFixed(0)} MB and ${(fs.statSync(after).size / 1e6).toFixed(0)} MB (${OBJECTS.toLocaleString('en-US')} small objects; "after" has 10,000 \`Fresh\` objects more and 10,000 of the first freed), cached in bench/.cache/diff-files; both in the page cache for every variant (each run reads them whole).`,
      'Targets for `memwatch-rs diff`: peak RSS ≤ 0.3× the file size, time ≤ 2× the floor. The floor is a 1 MiB-read loop over both files in a fresh node process.',
      `found = \`Fresh\` objects reported new (must be 10000; memlab reports leak traces, not objects). The peers run once, with --max-old-space-size=${PEER_HEAP_MB}; their time ratio is against the floor's median.`,
    )
    return {
      what: 'Time and peak RSS of a whole process that diffs the two files.',
      header: ['variant', 'time s', 'time vs floor', 'peak RSS MB', 'RSS / file size', 'runs', 'found'],
      rows,
      notes,
    }
  },
}
