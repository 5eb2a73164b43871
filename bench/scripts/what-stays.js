'use strict'
// One measurement of what a heap snapshot or a census costs the process's
// memory, while it runs and after: a heap of N small objects in one of four
// shapes, settled with gc(), then one variant. Prints one JSON line.
//
// argv[2] is the variant:
//   heapdiff        new HeapDiff() + end(); 1.5 s later clearHeapSnapshotIds()
//   node-snapshot   Node's own v8.writeHeapSnapshot() (to /dev/null), once
//   census          one memwatch.census()
//   sampling        memwatch.startSampling(), new HeapDiff() + end(), then
//                   memwatch.stopSampling()
//   ddpprof-sampling  @datadog/pprof's heap profiler started (512 KiB,
//                   depth 64), v8.writeHeapSnapshot(), heap.stop()
// argv[3] is the shape: array (one array of N), chunks (arrays of 1,000),
// list (a linked list) or map (one Map of N entries); argv[4] is N.
//
// Reported, in MiB, each against the RSS before the variant (VmRSS, after
// a census, its trim and gc()): extraPeakMB, the peak during the variant (VmHWM reset through
// /proc/self/clear_refs); nowMB, right after it and a gc(); laterMB, 1.5 s
// later (memwatch-rs hands what the C allocator kept back to the OS a
// second after a snapshot or a census); clearedMB, after
// clearHeapSnapshotIds() (heapdiff); stoppedMB, after the sampler stopped
// (the sampling variants, whose laterMB is held with it still running).
// Run with --expose-gc: gc() is V8's own in every variant, so that no
// variant gets memwatch-rs's allocator trims from it.

const v8 = require('node:v8')
const { procStatusMB, resetPeakRss } = require('../lib')

const [variant, shape, nArg] = process.argv.slice(2)
const n = Number(nArg)
if (typeof gc !== 'function') throw new Error('run with --expose-gc')

class Small {
  constructor(i) {
    this.i = i
  }
}

function build() {
  if (shape === 'array') {
    const a = new Array(n)
    for (let i = 0; i < n; i++) a[i] = new Small(i)
    return a
  }
  if (shape === 'chunks') {
    const out = []
    for (let i = 0; i < n; i += 1000) {
      const c = new Array(Math.min(1000, n - i))
      for (let j = 0; j < c.length; j++) c[j] = new Small(i + j)
      out.push(c)
    }
    return out
  }
  if (shape === 'list') {
    let head = null
    for (let i = 0; i < n; i++) {
      const s = new Small(i)
      s.next = head
      head = s
    }
    return head
  }
  if (shape === 'map') {
    const m = new Map()
    for (let i = 0; i < n; i++) m.set(i, new Small(i))
    return m
  }
  throw new Error(`unknown shape ${shape}`)
}
globalThis.kept = build()

const rssMB = () => procStatusMB().VmRSS
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Loaded before the baseline in every variant (memwatch-rs also settles
// the baseline), so that neither library's own size counts.
const memwatch = require(process.env.MEMWATCH_RS)
const ddHeap = variant === 'ddpprof-sampling' ? require('@datadog/pprof').heap : null
process.removeAllListeners('warning') // the expected MEMWATCH_SNAPSHOT_WHILE_SAMPLING

async function main() {
  // The baseline: the heap collected, and what the C allocator held free
  // from building it handed back (a census trims 1 s after it returns), so
  // that a variant's trims are not credited with memory it did not add.
  memwatch.census()
  await sleep(1500)
  gc()
  gc()
  const base = rssMB()
  if (!resetPeakRss()) throw new Error('cannot reset the peak RSS (/proc/self/clear_refs)')
  const t0 = process.hrtime.bigint()
  const out = { base }
  if (variant === 'heapdiff' || variant === 'sampling') {
    if (variant === 'sampling') memwatch.startSampling()
    const hd = new memwatch.HeapDiff()
    hd.end()
  } else if (variant === 'node-snapshot') {
    v8.writeHeapSnapshot('/dev/null')
  } else if (variant === 'ddpprof-sampling') {
    ddHeap.start(512 * 1024, 64)
    v8.writeHeapSnapshot('/dev/null')
  } else if (variant === 'census') {
    out.objects = memwatch.census().objects
  } else {
    throw new Error(`unknown variant ${variant}`)
  }
  out.wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  out.extraPeakMB = procStatusMB().VmHWM - base
  gc()
  out.nowMB = rssMB() - base
  await sleep(1500)
  out.laterMB = rssMB() - base
  if (variant === 'heapdiff') {
    memwatch.clearHeapSnapshotIds()
    out.clearedMB = rssMB() - base
  } else if (variant === 'sampling' || variant === 'ddpprof-sampling') {
    const s0 = process.hrtime.bigint()
    if (variant === 'sampling') memwatch.stopSampling()
    else ddHeap.stop()
    out.stopMs = Number(process.hrtime.bigint() - s0) / 1e6
    out.stoppedMB = rssMB() - base
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

main()
