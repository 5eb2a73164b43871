// memwatch-rs/testing from ESM: the same named exports and types.
import { assertNoLeak, expectCollected, LeakError } from 'memwatch-rs/testing'
import type { AssertNoLeakOptions, LeakRetainer } from 'memwatch-rs/testing'

const options: AssertNoLeakOptions = { iterations: 60 }
await expectCollected(() => new Set())
const calls = await assertNoLeak(() => {}, options)
const method: 'census' | 'heapdiff' = calls.method
const error = new Error('x') as unknown
if (error instanceof LeakError) {
  const r: LeakRetainer[] = error.retainers
  void r
}
// @ts-expect-error warmup is a number of calls
await assertNoLeak(() => {}, { warmup: true })
void method
