// Types of the ESM entry (`import memwatch, { gc } from 'memwatch-rs'`).
import memwatch = require('./index.js')

export default memwatch
export declare const trackGC: typeof memwatch.trackGC
export declare const gc: typeof memwatch.gc
export declare const configure: typeof memwatch.configure
export declare const HeapDiff: typeof memwatch.HeapDiff
export declare const leakStatus: typeof memwatch.leakStatus
export declare const census: typeof memwatch.census
export type {
  Backend,
  CancelTrackGC,
  Census,
  CensusGroup,
  Config,
  EventName,
  Events,
  HeapDiffChange,
  HeapDiffDetail,
  HeapDiffOptions,
  HeapDiffResult,
  HeapDiffSnapshot,
  HeapDiffSource,
  LeakInfo,
  LeakStatus,
  LeakSuspect,
  LeakVerdict,
  MemWatch,
  Rule,
  Stats,
} from './index.js'
