'use strict'
// One measurement of what V8's sampling heap profiler costs, as
// memwatch.startSampling() drives it. Prints one JSON line.
//
// argv[2] is the workload, argv[3] the sampling interval in bytes (0: no
// sampling), argv[4] who starts V8's sampler: `memwatch` (the default) or
// `ddpprof`, the peer (@datadog/pprof's heap profiler, same interval, stack
// depth 64):
//   mixed   1.5M objects with a string and an array each, into a ring of
//           200k slots: most die young, some live long enough to be sampled
//           alive, and the old generation's GCs take much of the time
//   alloc   the same objects into a ring of 2k slots: nearly nothing but
//           allocation and scavenges, the most samples per CPU-second a
//           JS loop reaches
//
// The loop runs twice untimed (optimised in every variant), then ROUNDS
// times timed. Main-thread CPU from /proc/thread-self/schedstat (the process
// CPU includes V8's helper threads); bytes allocated from V8's
// total_allocated_bytes where the running Node reports it (26 on), so the
// cost per sample can be computed.

const fs = require('node:fs')
const v8 = require('node:v8')

const [workload, intervalArg, profiler = 'memwatch'] = process.argv.slice(2)
const RING = { mixed: 200_000, alloc: 2_000 }[workload]
if (!RING) throw new Error(`unknown workload ${workload}`)
const interval = Number(intervalArg)
const ROUNDS = 3

function churn() {
  const ring = new Array(RING)
  let sink = 0
  for (let i = 0; i < 1_500_000; i++) {
    const o = { id: i, name: 'n' + (i & 1023), tags: [i, i + 1, i + 2] }
    ring[i % ring.length] = o
    sink += o.tags.length
  }
  return sink
}

function threadCpuNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
  } catch {
    const u = process.cpuUsage()
    return (u.user + u.system) * 1000
  }
}

const allocated = () => v8.getHeapStatistics().total_allocated_bytes

const sampler = {
  memwatch() {
    const memwatch = require(process.env.MEMWATCH_RS)
    if (interval) memwatch.startSampling({ intervalBytes: interval })
    return () => memwatch.samplingProfile().sites.length
  },
  ddpprof() {
    const { heap } = require('@datadog/pprof')
    if (interval) heap.start(interval, 64)
    return () => heap.profile().sample.length
  },
}[profiler]
if (!sampler) throw new Error(`unknown profiler ${profiler}`)
const countSites = sampler()
churn()
churn()
const bytes0 = allocated()
const cpu0 = threadCpuNs()
const t0 = process.hrtime.bigint()
let sink = 0
for (let r = 0; r < ROUNDS; r++) sink += churn()
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
const cpuMs = (threadCpuNs() - cpu0) / 1e6
const allocatedMB = bytes0 === undefined ? null : (allocated() - bytes0) / 2 ** 20
const sites = interval ? countSites() : 0
process.stdout.write(JSON.stringify({ cpuMs, wallMs, allocatedMB, sink, sites }) + '\n')
