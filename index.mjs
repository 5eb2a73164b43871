// ESM entry: the same EventEmitter instance as `require('memwatch-rs')`.
import memwatch from './index.js'

export default memwatch
export const trackGC = memwatch.trackGC
export const gc = memwatch.gc
export const configure = memwatch.configure
export const HeapDiff = memwatch.HeapDiff
export const leakStatus = memwatch.leakStatus
export const census = memwatch.census
