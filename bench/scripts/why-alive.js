'use strict'
// One measurement for "why is it alive". Prints one JSON line.
//
// The heap: N small objects kept in an array, then 10k new `Fresh` objects
// put in a Map behind `globalThis.app` (the leak every variant must find,
// with its path: global → app → cache (Map) → table → [i] (Fresh)).
//
// env WHY_HEAP=chunks: the objects in arrays of 1,000 (default: one array).
//
// argv[2]:
//   plain N            HeapDiff construct + end(), V8 source
//   retainers N        the same with end({ retainers: 5 })
//   memlab-inprocess N memlab's route in the process holding the heap: three
//                      snapshots (dumpNodeHeapSnapshot) + findLeaksBySnapshotFilePaths
//   make-snapshots N DIR   writes baseline/target/final.heapsnapshot
//   memlab-files DIR   memlab's analysis of the three files only
//   ours-files DIR     memwatch-rs's JSON reader on baseline + final: diff and
//                      retainer paths (`memwatch-rs diff --retainers 5`, no V8 snapshot)
//   v8-snapshot N      the floor of any in-process route: one V8 heap snapshot
//                      of the leaked heap, generated and dropped unread (Node's
//                      v8.getHeapSnapshot() generates it in the call; its
//                      stream would serialize it only when read)

const fs = require('node:fs')
const path = require('node:path')
const { peakRssMB } = require('../lib')

const [variant, arg] = process.argv.slice(2)
const NEW = 10_000
const PATH = /global → app \(Object\) → cache \(Map\) → table → \[\d+\] \(Fresh\)/

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

// WHY_HEAP=chunks: the same n objects in arrays of 1,000 instead of one
// array of n (V8's snapshot names each element index it walks and keeps
// 1 KB per distinct name: one big array costs it ~1 KB per object).
function heap(n) {
  if (process.env.WHY_HEAP === 'chunks') {
    globalThis.keep = []
    for (let j = 0; j < n; j += 1000) {
      const chunk = new Array(Math.min(1000, n - j))
      for (let i = 0; i < chunk.length; i++) chunk[i] = new Small(j + i)
      keep.push(chunk)
    }
  } else {
    globalThis.keep = new Array(n)
    for (let i = 0; i < n; i++) keep[i] = new Small(i)
  }
  globalThis.app = { cache: new Map() }
}

function leak() {
  for (let i = 0; i < NEW; i++) app.cache.set('k' + i, new Fresh(i))
}

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6
const out = (o) => process.stdout.write(JSON.stringify({ ...o, peakRssMB: peakRssMB() }) + '\n')

/** memlab's leak filter for this heap: its default rules target browser heaps and report nothing here. */
function memlabFilter() {
  require('@memlab/core').config.externalLeakFilter = { leakFilter: (node) => node.name === 'Fresh' }
}

/** Did memlab's report name the leak's path? */
function memlabFound(leaks) {
  const text = JSON.stringify(leaks)
  return leaks.length > 0 && /Fresh/.test(text) && /cache/.test(text) ? 1 : 0
}

const variants = {
  plain(n) {
    const memwatch = require(process.env.MEMWATCH_RS)
    heap(n)
    const t0 = process.hrtime.bigint()
    const hd = new memwatch.HeapDiff()
    leak()
    const d = hd.end()
    const wallMs = ms(t0)
    out({ wallMs, found: (d.change.details.find((x) => x.what === 'Fresh') || { '+': 0 })['+'] === NEW ? 1 : 0 })
  },

  retainers(n) {
    const memwatch = require(process.env.MEMWATCH_RS)
    heap(n)
    const t0 = process.hrtime.bigint()
    const hd = new memwatch.HeapDiff()
    leak()
    const d = hd.end({ retainers: 5 })
    const wallMs = ms(t0)
    const fresh = d.change.details.find((x) => x.what === 'Fresh')
    out({ wallMs, found: fresh && fresh['+'] === NEW && PATH.test(fresh.retainers[0].path) ? 1 : 0, path: fresh && fresh.retainers[0].path })
  },

  'v8-snapshot'(n) {
    const v8 = require('node:v8')
    heap(n)
    leak()
    const t0 = process.hrtime.bigint()
    const stream = v8.getHeapSnapshot()
    const wallMs = ms(t0)
    stream.destroy()
    out({ wallMs, found: 0 })
  },

  async 'memlab-inprocess'(n) {
    const { dumpNodeHeapSnapshot } = require('@memlab/core')
    const { findLeaksBySnapshotFilePaths } = require('@memlab/api')
    memlabFilter()
    heap(n)
    const t0 = process.hrtime.bigint()
    const baseline = dumpNodeHeapSnapshot()
    leak()
    const target = dumpNodeHeapSnapshot()
    const final = dumpNodeHeapSnapshot()
    const leaks = await findLeaksBySnapshotFilePaths(baseline, target, final, { consoleMode: 'SILENT' })
    const wallMs = ms(t0)
    for (const f of [baseline, target, final]) fs.rmSync(f, { force: true })
    out({ wallMs, found: memlabFound(leaks) })
  },

  'make-snapshots'(n) {
    const v8 = require('node:v8')
    const dir = process.argv[4]
    heap(n)
    v8.writeHeapSnapshot(path.join(dir, 'baseline.heapsnapshot'))
    leak()
    v8.writeHeapSnapshot(path.join(dir, 'target.heapsnapshot'))
    v8.writeHeapSnapshot(path.join(dir, 'final.heapsnapshot'))
    out({ keep: keep.length })
  },

  async 'memlab-files'(dir) {
    const os = require('node:os')
    const { findLeaksBySnapshotFilePaths } = require('@memlab/api')
    memlabFilter()
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memlab-work-'))
    const t0 = process.hrtime.bigint()
    const file = (f) => path.join(dir, `${f}.heapsnapshot`)
    const leaks = await findLeaksBySnapshotFilePaths(file('baseline'), file('target'), file('final'), { workDir, consoleMode: 'SILENT' })
    const wallMs = ms(t0)
    fs.rmSync(workDir, { recursive: true, force: true })
    out({ wallMs, found: memlabFound(leaks) })
  },

  'ours-files'(dir) {
    // What `memwatch-rs diff --retainers 5` runs (its table aside).
    const { diffFiles } = require(path.join(process.env.MEMWATCH_RS, 'lib', 'cli', 'diff.js'))
    const t0 = process.hrtime.bigint()
    const d = diffFiles(path.join(dir, 'baseline.heapsnapshot'), path.join(dir, 'final.heapsnapshot'), 5)
    const wallMs = ms(t0)
    const fresh = d.change.details.find((x) => x.what === 'Fresh')
    out({ wallMs, found: fresh && fresh['+'] === NEW && PATH.test(fresh.retainers[0].path) ? 1 : 0 })
  },
}

Promise.resolve(variants[variant](variant.endsWith('files') ? arg : Number(arg))).catch((e) => {
  console.error(e)
  process.exit(1)
})
