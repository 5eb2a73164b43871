// memwatch-rs/testing from CommonJS: the types accept real usage and reject misuse.
import testing = require('memwatch-rs/testing')
import { assertNoLeak, expectCollected, LeakError } from 'memwatch-rs/testing'
import type { LeakSuspect, LeakTestCalls } from 'memwatch-rs/testing'

async function main(): Promise<void> {
  await expectCollected(() => ({ big: new Array(10) }))
  await expectCollected({}, { timeoutMs: 100, retainers: false })
  await testing.expectCollected(() => new Map())
  const calls: LeakTestCalls = await assertNoLeak(() => [1, 2, 3], { iterations: 120, warmup: 20, settleMs: 500, ignore: ['String'], retainers: false })
  const runs: 1 | 2 = calls.runs
  await assertNoLeak(async () => {
    await Promise.resolve()
  })
  try {
    await assertNoLeak(() => {})
  } catch (err) {
    if (err instanceof LeakError) {
      const first: LeakSuspect | undefined = err.suspects[0]
      const perCall: number | undefined = first?.perIteration
      const paths: string[] = err.retainers.map((r) => r.path)
      const what: string | undefined = err.target?.what
      void [perCall, paths, what, err.calls?.method, err.code]
    }
  }
  void runs
  // @ts-expect-error a number is never collected
  await expectCollected(42)
  // @ts-expect-error retainers is a boolean
  await assertNoLeak(() => {}, { retainers: 3 })
  // @ts-expect-error timeoutMs is a number of milliseconds
  await expectCollected({}, { timeoutMs: '5s' })
  // @ts-expect-error iterations, not iteration
  await assertNoLeak(() => {}, { iteration: 10 })
  // @ts-expect-error fn must be a function
  await assertNoLeak({})
}
void main
