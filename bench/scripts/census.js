'use strict'
// One measurement: a heap of N small objects, then one variant, timed:
//   heapdiff     new HeapDiff() + 10k new objects + end() (exact, two snapshots)
//   census-diff  new HeapDiff({ census: true }) + 10k new objects + end()
//   census       one memwatch.census()
//   gc           two memwatch.gc() around 10k new objects (the GC work alone)
//   v8-query     Node's own v8.queryObjects(Lone, { format: 'count' }): the
//                same V8 walk a census rides on (HeapProfiler::QueryObjects,
//                its GCs and its reachability filter), matching one object,
//                so it holds no handle per match; the floor of that API
// Prints one JSON line: wall ms, the process's RSS before (after a settling
// gc()), its extra peak RSS during the variant (VmHWM reset through
// /proc/self/clear_refs, else maxRSS), the + found for the new objects, and
// the objects a census counted.
// argv[2]: variant; argv[3]: N. With env HEAP_MB instead: a heap of mixed
// records (an object with a string, an array and a nested object each)
// grown until HEAP_MB MiB are live, for what a census costs per MB of heap.

const { procStatusMB: status, resetPeakRss } = require('../lib')

const variant = process.argv[2]
const n = Number(process.argv[3])
const NEW = 10_000

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

const heapMBTarget = Number(process.env.HEAP_MB || 0)
const keep = (globalThis.keep = heapMBTarget ? [] : new Array(n))
if (heapMBTarget) {
  for (let i = 0; process.memoryUsage().heapUsed < heapMBTarget * 2 ** 20; ) {
    for (const end = i + 10_000; i < end; i++) keep.push({ id: i, name: `user-${i}`, tags: [i, i & 7], meta: { t: i * 3 } })
  }
} else {
  for (let i = 0; i < n; i++) keep[i] = new Small(i)
}
// One instance, for v8-query to look for (its match costs nothing).
class Lone {}
globalThis.lone = new Lone()
const fresh = (globalThis.fresh = [])
function allocate() {
  for (let i = 0; i < NEW; i++) fresh.push(new Fresh(i))
}

const memwatch = require(process.env.MEMWATCH_RS)

memwatch.gc() // settle the heap
const heapMB = process.memoryUsage().heapUsed / 2 ** 20
const before = status()
const hwmReset = resetPeakRss() // VmHWM := VmRSS
const peakBefore = hwmReset ? before.VmRSS : process.resourceUsage().maxRSS / 1024
const t0 = process.hrtime.bigint()
let found = -1
let objects = -1
if (variant === 'heapdiff' || variant === 'census-diff') {
  const hd = new memwatch.HeapDiff(variant === 'census-diff' ? { census: true } : undefined)
  allocate()
  const d = hd.end()
  found = (d.change.details.find((x) => x.what === 'Fresh') || { '+': 0 })['+']
  if (variant === 'census-diff') objects = d.after.nodes
} else if (variant === 'census') {
  const c = memwatch.census()
  objects = c.objects
  found = (c.groups.find((g) => g.what === 'Small') || { count: 0 }).count
} else if (variant === 'gc') {
  memwatch.gc()
  allocate()
  memwatch.gc()
} else if (variant === 'v8-query') {
  const v8 = require('node:v8')
  if (typeof v8.queryObjects !== 'function') throw new Error(`v8.queryObjects() is not in Node ${process.version}`)
  found = v8.queryObjects(Lone, { format: 'count' })
} else {
  throw new Error(`unknown variant ${variant}`)
}
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
const after = status()
const peak = hwmReset ? after.VmHWM : process.resourceUsage().maxRSS / 1024
console.log(
  JSON.stringify({
    wallMs,
    rssBeforeMB: before.VmRSS,
    heapMB,
    extraPeakMB: Math.max(0, peak - peakBefore),
    hwmReset,
    found,
    objects,
    kept: keep.length + fresh.length,
  }),
)
