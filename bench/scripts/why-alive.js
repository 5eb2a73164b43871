'use strict'
// One measurement for "why is it alive". Prints one JSON line.
//
// The heap: N small objects kept in an array, then 10k new `Fresh` objects
// put in a Map behind `globalThis.app` (the leak every variant must find,
// with its path: global → app → cache (Map) → table → [i] (Fresh)).
//
// argv[2]:
//   plain N            HeapDiff construct + end(), V8 source
//   retainers N        the same with end({ retainers: 5 })
//   memlab-inprocess N memlab's route in the process holding the heap: three
//                      snapshots (dumpNodeHeapSnapshot) + findLeaksBySnapshotFilePaths
//   make-snapshots N DIR   writes baseline/target/final.heapsnapshot
//   memlab-files DIR   memlab's analysis of the three files only
//   ours-files DIR     memwatch-rs's JSON reader on baseline + final: diff and
//                      retainer paths (diffSnapshotFiles, no V8 snapshot)
//   sampling-off | sampling-on | sampling-4k   an allocation-heavy loop
//                      without sampling, sampling every 512 KiB, every 4 KiB

const fs = require('node:fs')
const path = require('node:path')

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

function heap(n) {
  globalThis.keep = new Array(n)
  for (let i = 0; i < n; i++) keep[i] = new Small(i)
  globalThis.app = { cache: new Map() }
}

function leak() {
  for (let i = 0; i < NEW; i++) app.cache.set('k' + i, new Fresh(i))
}

const peakRssMB = () => process.resourceUsage().maxRSS / 1024
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

/** Main-thread CPU ns so far (the process CPU includes V8's helper threads). */
function threadCpuNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
  } catch {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
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
    const native = require(path.join(process.env.MEMWATCH_RS, 'binding.js'))
    const t0 = process.hrtime.bigint()
    const d = native.diffSnapshotFiles(path.join(dir, 'baseline.heapsnapshot'), path.join(dir, 'final.heapsnapshot'), 5)
    const wallMs = ms(t0)
    const fresh = d.change.details.find((x) => x.what === 'Fresh')
    out({ wallMs, found: fresh && fresh['+'] === NEW && PATH.test(fresh.retainers[0].path) ? 1 : 0 })
  },
}

// An allocation-heavy loop: 1.5M objects with a string and an array each,
// into a ring of 200k slots, so most die young and some live long enough to
// be sampled while alive.
function churn() {
  const ring = new Array(200_000)
  let sink = 0
  for (let i = 0; i < 1_500_000; i++) {
    const o = { id: i, name: 'n' + (i & 1023), tags: [i, i + 1, i + 2] }
    ring[i % ring.length] = o
    sink += o.tags.length
  }
  return sink
}

for (const [name, interval] of [
  ['sampling-off', 0],
  ['sampling-on', 512 * 1024],
  ['sampling-4k', 4096],
]) {
  variants[name] = () => {
    const memwatch = require(process.env.MEMWATCH_RS)
    if (interval) memwatch.startSampling({ intervalBytes: interval })
    churn() // warm-up: the same code optimised in every variant
    const cpu0 = threadCpuNs()
    const t0 = process.hrtime.bigint()
    const sink = churn()
    const wallMs = ms(t0)
    const cpuMs = (threadCpuNs() - cpu0) / 1e6
    const sites = interval ? memwatch.samplingProfile().sites.length : 0
    out({ wallMs, cpuMs, sink, sites })
  }
}

Promise.resolve(variants[variant](variant.endsWith('files') ? arg : Number(arg))).catch((e) => {
  console.error(e)
  process.exit(1)
})
