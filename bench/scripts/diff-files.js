'use strict'
// One measurement for bench/cases/60-diff-files.js. Prints one JSON line
// (wall ms, peak RSS MB) as its last stdout line.
//   make DIR N        writes DIR/before.heapsnapshot (N small objects) and
//                     DIR/after.heapsnapshot (10k more, 10k of the first freed)
//   read A B          a plain streaming read of both files (1 MiB reads): the floor
//   memwatch-rs A B   `memwatch-rs diff A B` run in this process
//   json-parse A B    both files read as text and JSON.parse'd, diffed by id
//   memlab A B        memlab's leak analysis of the pair (baseline A, target and final B)

const fs = require('node:fs')
const path = require('node:path')

const [variant, a, b, extra] = process.argv.slice(2)
const t0 = process.hrtime.bigint()
const done = (more = {}) => {
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  console.log(JSON.stringify({ wallMs, peakRssMB: process.resourceUsage().maxRSS / 1024, ...more }))
}

if (variant === 'make') {
  const v8 = require('node:v8')
  const n = Number(b)
  class Small {
    constructor(i) {
      this.i = i
    }
  }
  class Fresh {
    constructor(i) {
      this.i = i
    }
  }
  globalThis.keep = Array.from({ length: n }, (_, i) => new Small(i))
  v8.writeHeapSnapshot(path.join(a, 'before.heapsnapshot.tmp'))
  globalThis.keep.length = n - 10_000
  globalThis.fresh = Array.from({ length: 10_000 }, (_, i) => new Fresh(i))
  v8.writeHeapSnapshot(path.join(a, 'after.heapsnapshot.tmp'))
  for (const f of ['before', 'after']) fs.renameSync(path.join(a, `${f}.heapsnapshot.tmp`), path.join(a, `${f}.heapsnapshot`))
  done()
} else if (variant === 'read') {
  const buf = Buffer.allocUnsafe(1 << 20)
  let bytes = 0
  for (const f of [a, b]) {
    const fd = fs.openSync(f, 'r')
    let k
    while ((k = fs.readSync(fd, buf, 0, buf.length, null)) > 0) bytes += k
    fs.closeSync(fd)
  }
  done({ bytes })
} else if (variant === 'memwatch-rs') {
  // The command itself (table to stdout, then this line last).
  const { main } = require(path.join(process.env.MEMWATCH_RS, 'lib', 'cli', 'main.js'))
  const { diffFiles } = require(path.join(process.env.MEMWATCH_RS, 'lib', 'cli', 'diff.js'))
  main(['diff', '--top', '5', a, b]).then((code) => {
    if (code !== 0) process.exit(code)
    const wall = Number(process.hrtime.bigint() - t0) / 1e6
    const fresh = diffFiles(a, b).change.details.find((x) => x.what === 'Fresh')
    console.log(JSON.stringify({ wallMs: wall, peakRssMB: process.resourceUsage().maxRSS / 1024, found: fresh ? fresh['+'] : 0 }))
  })
} else if (variant === 'json-parse') {
  const ids = (file) => {
    const snap = JSON.parse(fs.readFileSync(file, 'utf8'))
    const f = snap.snapshot.meta.node_fields
    const [t, nm, id] = ['type', 'name', 'id'].map((x) => f.indexOf(x))
    const objectType = snap.snapshot.meta.node_types[t].indexOf('object')
    const out = new Map()
    for (let i = 0; i < snap.nodes.length; i += f.length) out.set(snap.nodes[i + id], snap.nodes[i + t] === objectType ? snap.strings[snap.nodes[i + nm]] : '')
    return out
  }
  const before = ids(a)
  const after = ids(b)
  let found = 0
  for (const [id, name] of after) if (name === 'Fresh' && !before.has(id)) found++
  done({ found })
} else if (variant === 'memlab') {
  const os = require('node:os')
  const { findLeaksBySnapshotFilePaths } = require('@memlab/api')
  // Every object new in "after" (memlab's default rules look for browser leaks).
  require('@memlab/core').config.externalLeakFilter = { leakFilter: () => true }
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlab-work-'))
  findLeaksBySnapshotFilePaths(a, b, b, { workDir, consoleMode: 'SILENT' }).then(
    (leaks) => {
      fs.rmSync(workDir, { recursive: true, force: true })
      done({ found: leaks.length })
    },
    (err) => {
      fs.rmSync(workDir, { recursive: true, force: true })
      console.error(String(err && err.message).split('\n')[0])
      process.exit(1)
    },
  )
} else {
  throw new Error(`unknown variant ${variant} ${extra || ''}`)
}
