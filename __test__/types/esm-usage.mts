import memwatch, { gc, HeapDiff, census } from 'memwatch-rs'
import type { Stats, LeakInfo, HeapDiffResult, Config, Census, LeakSuspect } from 'memwatch-rs'

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
const counted: Census = census()
const suspects: LeakSuspect[] | undefined = undefined as LeakInfo['suspects']
void [counted.groups[0]?.what, suspects, new HeapDiff({ census: true }).end().census]
