// Types of the ESM entry (`import { assertNoLeak } from 'memwatch-rs/testing'`).
export * from './testing.js'
