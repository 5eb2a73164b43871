import memwatch, { gc } from 'memwatch-rs'

memwatch.on('stats', (s) => s.estimated_base)
const stats = gc()
void stats.max
