// ESM entry of memwatch-rs/testing: the same functions as
// `require('memwatch-rs/testing')` (one module instance for both).
import testing from './testing.js'

export const { expectCollected, assertNoLeak, LeakError } = testing
