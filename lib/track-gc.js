'use strict'

// memwatch.trackGC(target, callback): `callback` runs once on the event loop
// after `target` has been garbage-collected. The weak part is native
// (src/track.rs, src/ffi/track_gc.rs): one Node-API finalizer per target whose
// data is an integer id, which `unregister(id)` removes again. Here live the
// callbacks, in an array indexed by id, and the batch delivery.
//
// One instance per env (main thread, each worker): the native side calls
// `create` once and hands the same `trackGC` to every later evaluation of
// this file in the env, so earlier registrations keep their callbacks.

const { describe } = require('./describe.js')

function rethrow(err) {
  throw err
}

function create(register, unregister) {
  const callbacks = [] // id -> callback; undefined once cancelled or delivered
  const generations = [] // id -> how many registrations of the id have ended
  const free = [] // ids whose registration ended (delivered or cancelled): free for new ones
  let next = 0

  // Called by the native side on the event loop with the ids of one batch
  // of collected targets.
  function deliver(ids) {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]
      const callback = callbacks[id]
      callbacks[id] = undefined
      generations[id]++
      free.push(id)
      if (callback !== undefined) {
        // A throw must not starve the rest of the batch: re-raise it on its
        // own tick, where it is an ordinary uncaught exception.
        try {
          callback()
        } catch (err) {
          process.nextTick(rethrow, err)
        }
      }
    }
  }

  function trackGC(target, callback) {
    const type = typeof target
    if ((type !== 'object' || target === null) && type !== 'function') {
      throw new TypeError(`memwatch.trackGC(target, callback): target must be an object or a function, got ${describe(target)}`)
    }
    if (typeof callback !== 'function') {
      throw new TypeError(`memwatch.trackGC(target, callback): callback must be a function, got ${describe(callback)}`)
    }
    let id
    if (free.length > 0) {
      id = free.pop()
    } else {
      id = next++
      generations[id] = 0
    }
    try {
      register(target, id)
    } catch (err) {
      free.push(id) // no finalizer was attached: the id is free again
      throw err
    }
    callbacks[id] = callback
    const generation = generations[id]
    // Holds only the id and its generation: never the target or the callback.
    return function cancel() {
      // A stale cancel (delivered, or cancelled and the id reused) or a
      // second one does nothing.
      if (generations[id] !== generation || callbacks[id] === undefined) return
      callbacks[id] = undefined
      // Removes the native finalizer, unless it already ran (the target was
      // collected and the id waits in a batch, which frees it on delivery).
      if (unregister(id)) {
        generations[id]++
        free.push(id)
      }
    }
  }

  return { trackGC, deliver }
}

module.exports = function makeTrackGC(native) {
  return native.trackGcSetup(create)
}
