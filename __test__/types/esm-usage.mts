import memwatch, { gc, HeapDiff, census, clearHeapSnapshotIds, startSampling, stopSampling, samplingProfile, writeProfile, diffProfiles } from 'memwatch-rs'
import type { Stats, LeakInfo, HeapDiffResult, Config, Census, LeakSuspect, SamplingProfile, SamplingDiff, RetainerPath } from 'memwatch-rs'

const seen: Stats[] = []
memwatch.on('stats', (s: Stats) => seen.push(s))
memwatch.on('leak', (l: LeakInfo) => l.end.getTime())
const d: HeapDiffResult = new HeapDiff().end()
const c: Config['rule'] = memwatch.configure().rule
void [d, c]
// @ts-expect-error a misspelt event name is not an event memwatch emits
memwatch.once('leaks', () => {})
// @ts-expect-error Stats has no field of that name
const wrong: number = seen[0].current_bse
void wrong

memwatch.on('stats', (s) => s.estimated_base)
const stats = gc()
void stats.max
const change: number = new HeapDiff().end().change.size_bytes
void [change, memwatch.HeapDiff === HeapDiff]

startSampling({ intervalBytes: 1 << 16 })
const p: SamplingProfile = samplingProfile()
const q: SamplingProfile = writeProfile('heap.pb.gz')
const dd: SamplingDiff = diffProfiles(p, q)
const paths: RetainerPath[] | undefined = new HeapDiff().end({ retainers: 2 }).change.details[0]?.retainers
void [dd, paths, stopSampling()]
// @ts-expect-error stackDepth is a number
startSampling({ stackDepth: 'deep' })
const counted: Census = census()
const cleared: void = clearHeapSnapshotIds()
const suspects: LeakSuspect[] | undefined = undefined as LeakInfo['suspects']
void [counted.groups[0]?.what, suspects, new HeapDiff({ census: true }).end().census]
