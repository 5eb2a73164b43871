import memwatch, { gc, HeapDiff } from 'memwatch-rs'

memwatch.on('stats', (s) => s.estimated_base)
const stats = gc()
void stats.max
const change: number = new HeapDiff().end().change.size_bytes
void [change, memwatch.HeapDiff === HeapDiff]
