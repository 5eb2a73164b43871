// Compiled with `tsc --noEmit` in CI: the public types must accept real usage
// and reject misuse (the @ts-expect-error lines fail the build if they type-check).
import memwatch = require('../..')
import type { Stats, LeakInfo, HeapDiffResult } from '../..'

const typed: (s: Stats, l: LeakInfo, d: HeapDiffResult) => number = (s, l, d) => s.current_base + l.growth + d.change.size_bytes
void typed
// @ts-expect-error a misspelt event name is not an event memwatch emits
memwatch.on('stat', (s) => s)
// @ts-expect-error a misspelt field of Stats
memwatch.on('stats', (s) => s.current_bse)
// @ts-expect-error leak info carries Dates, not numbers
memwatch.on('leak', (info) => info.start.toFixed(0))

memwatch.on('stats', (s) => {
  const base: number = s.current_base
  const trend: number = s.usage_trend
  const scav: number = s.gcScavengeCount
  const forced: boolean = s.forced
  const total: number | undefined = s.total_allocated_bytes
  void [base, trend, scav, forced, total]
})
memwatch.on('leak', (info) => {
  const start: Date = info.start
  const growth: number = info.growth
  const reason: string = info.reason
  const rate: number = info.rate
  const low: number | undefined = info.rateLow
  const limit: number = info.heapLimit
  const eta: number | undefined = info.limitInMs
  const suspect: memwatch.LeakSuspect | undefined = info.suspects?.[0]
  const suspected: string | undefined = suspect?.what
  const skipped: string | undefined = info.suspectsSkipped
  void [start, growth, reason, rate, low, limit, eta, suspected, skipped]
})

let tracked: { data: number[] } | null = { data: [1, 2, 3] }
const cancel: memwatch.CancelTrackGC = memwatch.trackGC(tracked, () => console.log('collected'))
memwatch.trackGC(() => {}, () => {})
tracked = null
cancel()
const cancelled: void = cancel()
void cancelled
// @ts-expect-error the target must be an object or a function
memwatch.trackGC(42, () => {})
// @ts-expect-error the callback must be a function
memwatch.trackGC({}, 'done')
// @ts-expect-error the callback gets no arguments
memwatch.trackGC({}, (target: object) => target)

memwatch.once('stats', (s) => s.num_full_gc.toFixed(0))
const s: memwatch.Stats = memwatch.gc()
const backend: 'v8' | 'fallback' = memwatch.backend
void [s, backend]

const cfg: memwatch.Config = memwatch.configure({ rule: 'classic', classicStreak: 3, probe: false, suspectsMaxHeapBytes: 2 ** 30 })
const rule: 'rate' | 'classic' = memwatch.configure().rule
const status: memwatch.LeakStatus = memwatch.leakStatus()
const verdict: 'flat' | 'suspected' | 'leaking' = status.state
const perHour: number | undefined = status.rate
void [status, verdict, perHour]
void [cfg, rule]
// @ts-expect-error unknown option
memwatch.configure({ minDuration: 1 })
// @ts-expect-error rule is 'rate' or 'classic'
memwatch.configure({ rule: 'trend' })

// @ts-expect-error gc() takes no arguments
memwatch.gc(1)
// @ts-expect-error stats listeners get Stats, not a string
memwatch.on('stats', (x: string) => x)
// @ts-expect-error leak info has no `size` field
memwatch.on('leak', (info) => info.size)

const hd = new memwatch.HeapDiff()
const diff: memwatch.HeapDiffResult = hd.end()
const when: Date = diff.before.time
const nodes: number = diff.after.nodes
const grew: string = diff.change.size
const first: memwatch.HeapDiffDetail | undefined = diff.change.details[0]
if (first) {
  const what: string = first.what
  const added: number = first['+']
  const freed: number = first['-']
  void [what, added, freed]
}
const source: 'v8' | 'json' = memwatch.HeapDiff.source
void [when, nodes, grew, source]

const census: memwatch.Census = memwatch.census()
memwatch.clearHeapSnapshotIds()
const biggest: memwatch.CensusGroup | undefined = census.groups[0]
const taken: Date = census.time
void [biggest?.what, biggest?.count, biggest?.size_bytes, census.objects, census.size_bytes, taken]
const censusDiff: memwatch.HeapDiffResult = new memwatch.HeapDiff({ census: true }).end()
const isCensus: boolean | undefined = censusDiff.census
void isCensus
// @ts-expect-error census() takes no arguments
memwatch.census(1)
// @ts-expect-error census is a boolean
new memwatch.HeapDiff({ census: 'yes' })

// @ts-expect-error HeapDiff is a class: it needs `new`
memwatch.HeapDiff()
// @ts-expect-error end() takes no arguments
hd.end(true)
// @ts-expect-error details have no `count` field
diff.change.details[0].count

// Retainer paths
const explained = new memwatch.HeapDiff().end({ retainers: 3 })
for (const d of explained.change.details) {
  for (const r of d.retainers ?? []) {
    const path: string = r.path
    const count: number = r.count
    void [path, count]
  }
}
const endOptions: memwatch.HeapDiffEndOptions = { retainers: 5 }
void endOptions
const named = new memwatch.HeapDiff().end({ retainers: 1, groups: ['Foo', 'Session'] })
const namedOptions: memwatch.HeapDiffEndOptions = { retainers: 2, groups: ['Foo'] }
void [named, namedOptions]
// @ts-expect-error groups are names (strings)
new memwatch.HeapDiff().end({ retainers: 1, groups: [42] })
// @ts-expect-error groups needs retainers
new memwatch.HeapDiff().end({ groups: ['Foo'] })
// @ts-expect-error retainers is a number of paths
new memwatch.HeapDiff().end({ retainers: '5' })
// @ts-expect-error end() takes options, not a count
new memwatch.HeapDiff().end(5)
// @ts-expect-error retainer paths are strings, not arrays of steps
const steps: string[] = explained.change.details[0].retainers![0].path

// Allocation sites
const settings: memwatch.SamplingSettings = memwatch.startSampling({ intervalBytes: 65536, stackDepth: 32 })
memwatch.startSampling()
const profile: memwatch.SamplingProfile = memwatch.samplingProfile()
const at: Date = profile.time
const top: memwatch.SamplingSite | undefined = profile.sites[0]
if (top) {
  const f: memwatch.SamplingFrame = top.frames[0]
  const where: string = `${f.function} ${f.script}:${f.line}:${f.column}`
  const bytes: number = top.bytes + profile.total.bytes
  void [where, bytes]
}
const written: memwatch.SamplingProfile = memwatch.writeProfile('/tmp/heap.pb.gz')
const grown: memwatch.SamplingDiff = memwatch.diffProfiles(profile, written)
const stopped: boolean = memwatch.stopSampling()
void [settings, at, grown.sites[0]?.bytes, stopped]
memwatch.on('leak', (info) => {
  const sites: memwatch.SamplingSite[] | undefined = info.sites
  void sites
})
// @ts-expect-error unknown option
memwatch.startSampling({ interval: 1024 })
// @ts-expect-error intervalBytes is a number
memwatch.startSampling({ intervalBytes: '512k' })
// @ts-expect-error writeProfile needs a path
memwatch.writeProfile()
// @ts-expect-error diffProfiles needs two profiles
memwatch.diffProfiles(profile)
// @ts-expect-error stopSampling takes no arguments
memwatch.stopSampling(true)
// @ts-expect-error a frame's line is a number
const line: string = profile.sites[0].frames[0].line
void [steps, line]
