// Types of the ESM entry (`import memwatch, { gc } from 'memwatch-rs'`).
import memwatch = require('./index.js')

export default memwatch
export declare const trackGC: typeof memwatch.trackGC
export declare const gc: typeof memwatch.gc
export declare const configure: typeof memwatch.configure
export declare const HeapDiff: typeof memwatch.HeapDiff
export declare const leakStatus: typeof memwatch.leakStatus
export declare const metrics: typeof memwatch.metrics
export type {
  Backend,
  CancelTrackGC,
  Config,
  EventName,
  Events,
  GcPauses,
  HeapDiffChange,
  HeapDiffDetail,
  HeapDiffResult,
  HeapDiffSnapshot,
  HeapDiffSource,
  LeakInfo,
  LeakStatus,
  LeakVerdict,
  MemWatch,
  Metrics,
  PauseHistogram,
  Rule,
  Stats,
} from './index.js'
