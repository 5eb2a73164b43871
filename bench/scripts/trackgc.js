'use strict'
// One measurement of trackGC-style tracking at scale. Run with --expose-gc.
// argv[2]: memwatch-rs | fr | async-hooks | weak-napi   argv[3]: N
// (memwatch-rs in deferred-finalizer mode is the same variant run with
// MEMWATCH_DEFERRED_FINALIZERS=1.)
//
// N targets are created (not timed), then: register = one trackGC-equivalent
// call per target (same callback, cancel function kept by nobody); the
// targets are dropped; deliver = from the one gc() call until the last
// callback has run. Peak RSS is the process's maxRSS at the end.

const variant = process.argv[2]
const N = Number(process.argv[3] || 1e6)
const now = () => Number(process.hrtime.bigint()) / 1e6

function rethrow(err) {
  throw err
}

// Every variant offers trackGC(target, callback) -> cancel(), with the same
// argument checks and the same throw handling as memwatch-rs.
function checkArgs(target, callback) {
  const t = typeof target
  if ((t !== 'object' || target === null) && t !== 'function') throw new TypeError('target must be an object or a function')
  if (typeof callback !== 'function') throw new TypeError('callback must be a function')
}

function make() {
  if (variant === 'memwatch-rs') return require(process.env.MEMWATCH_RS).trackGC

  if (variant === 'fr') {
    // The floor: FinalizationRegistry in its cheapest form (no unregister
    // token; cancel only drops the callback).
    const registry = new FinalizationRegistry((box) => {
      const cb = box.cb
      if (cb !== undefined) {
        try {
          cb()
        } catch (err) {
          process.nextTick(rethrow, err)
        }
      }
    })
    return (target, cb) => {
      checkArgs(target, cb)
      const box = { cb }
      registry.register(target, box)
      return () => {
        box.cb = undefined
      }
    }
  }

  if (variant === 'async-hooks') {
    // The gc-tracker trick: an AsyncResource made without
    // requireManualDestroy gets its `destroy` hook once it is collected, and
    // a WeakMap entry from the target keeps it exactly as long as the target.
    // As the well-known package does it: callbacks in a plain object keyed by
    // asyncId (faster here than a Map), one WeakMap entry per target (a
    // second trackGC of the same target replaces the first; not exercised).
    const { createHook, AsyncResource } = require('node:async_hooks')
    const callbacks = {}
    const resources = new WeakMap()
    createHook({
      destroy(asyncId) {
        const cb = callbacks[asyncId]
        if (cb === undefined) return
        delete callbacks[asyncId]
        try {
          cb()
        } catch (err) {
          process.nextTick(rethrow, err)
        }
      },
    }).enable()
    return (target, cb) => {
      checkArgs(target, cb)
      const resource = new AsyncResource('GCTracker')
      const id = resource.asyncId()
      callbacks[id] = cb
      resources.set(target, resource)
      return () => {
        delete callbacks[id]
      }
    }
  }

  if (variant === 'weak-napi') {
    const weak = require('weak-napi')
    return (target, cb) => {
      checkArgs(target, cb)
      const ref = weak(target, cb)
      return () => weak.removeCallback(ref, cb)
    }
  }

  throw new Error(`unknown variant ${variant}`)
}

// Module scope: a FinalizationRegistry that is itself collected never calls
// back, so the tracker must outlive main()'s last use of it.
const tracker = { trackGC: null }

async function main() {
  tracker.trackGC = make()
  const trackGC = tracker.trackGC
  let targets = new Array(N)
  for (let i = 0; i < N; i++) targets[i] = { i }
  let done = 0
  let tEnd = 0
  let resolve
  const finished = new Promise((r) => (resolve = r))
  const cb = () => {
    if (++done === N) {
      tEnd = now()
      resolve()
    }
  }

  const t0 = now()
  for (let i = 0; i < N; i++) trackGC(targets[i], cb)
  const t1 = now()

  targets = null
  const t2 = now()
  globalThis.gc()
  const tGc = now()
  await finished
  console.log(
    JSON.stringify({
      variant,
      deferred: process.env.MEMWATCH_DEFERRED_FINALIZERS || '',
      N,
      registerMs: t1 - t0,
      gcCallMs: tGc - t2,
      deliverMs: tEnd - t2,
      totalMs: t1 - t0 + (tEnd - t2),
      peakRssMB: process.resourceUsage().maxRSS / 1024,
    }),
  )
}

main()
