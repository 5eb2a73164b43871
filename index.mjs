// ESM entry: the same EventEmitter instance as `require('memwatch-rs')`.
import memwatch from './index.js'

export default memwatch
export const trackGC = memwatch.trackGC
export const gc = memwatch.gc
export const configure = memwatch.configure
export const HeapDiff = memwatch.HeapDiff
export const startSampling = memwatch.startSampling
export const stopSampling = memwatch.stopSampling
export const samplingProfile = memwatch.samplingProfile
export const writeProfile = memwatch.writeProfile
export const diffProfiles = memwatch.diffProfiles
export const leakStatus = memwatch.leakStatus
export const metrics = memwatch.metrics
export const census = memwatch.census
export const clearHeapSnapshotIds = memwatch.clearHeapSnapshotIds
