// Types of the ESM entry (`import memwatch, { gc } from 'memwatch-rs'`).
import memwatch = require('./index.js')

export default memwatch
export declare const trackGC: typeof memwatch.trackGC
export declare const gc: typeof memwatch.gc
export declare const configure: typeof memwatch.configure
export declare const HeapDiff: typeof memwatch.HeapDiff
export declare const startSampling: typeof memwatch.startSampling
export declare const stopSampling: typeof memwatch.stopSampling
export declare const samplingProfile: typeof memwatch.samplingProfile
export declare const writeProfile: typeof memwatch.writeProfile
export declare const diffProfiles: typeof memwatch.diffProfiles
export declare const leakStatus: typeof memwatch.leakStatus
export declare const metrics: typeof memwatch.metrics
export declare const census: typeof memwatch.census
export declare const clearHeapSnapshotIds: typeof memwatch.clearHeapSnapshotIds
export type {
  Backend,
  CancelTrackGC,
  Census,
  CensusGroup,
  Config,
  EventName,
  Events,
  GcPauses,
  HeapDiffChange,
  HeapDiffDetail,
  HeapDiffEndOptions,
  HeapDiffOptions,
  HeapDiffResult,
  HeapDiffSnapshot,
  HeapDiffSource,
  LeakInfo,
  LeakStatus,
  LeakSuspect,
  LeakVerdict,
  MemWatch,
  Metrics,
  PauseHistogram,
  RetainerPath,
  Rule,
  SamplingDiff,
  SamplingFrame,
  SamplingOptions,
  SamplingProfile,
  SamplingSettings,
  SamplingSite,
  SamplingTotal,
  Stats,
} from './index.js'
