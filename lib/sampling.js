'use strict'

// Allocation sites from V8's sampling heap profiler (src/sampling,
// src/api/sampling.rs): the native side checks the options and does the
// work; this file only checks the number of arguments, as gc() and
// configure() do, so a misplaced argument never goes unnoticed.

/**
 * @param {object} native the binding
 */
module.exports = function makeSampling(native) {
  // Sampling started by memwatch[LEND_SAMPLING]() and not yet taken over
  // or stopped. One module instance per thread, as the sampler is.
  let lent = false
  const arity = (name, max, got) => {
    if (got > max) {
      const takes = max === 0 ? 'takes no arguments' : `takes ${max === 1 ? 'one argument' : `${max} arguments`}`
      throw new TypeError(`memwatch.${name} ${takes} (got ${got})`)
    }
  }
  // Methods (not plain functions), so `new memwatch.startSampling()` throws
  // "is not a constructor".
  return {
    /** Starts sampling allocations in this thread; returns the settings in force. */
    startSampling(options) {
      arity('startSampling(options)', 1, arguments.length)
      if (!lent) return native.startSampling(options)
      // The program takes over the watcher's sampling with its own options;
      // if they are refused, the loan goes on as it was.
      native.stopSampling()
      lent = false
      try {
        return native.startSampling(options)
      } catch (err) {
        try {
          native.startSampling()
          lent = true
        } catch {
          // The loan cannot go on (another profiler took the sampler): the program's error is the one to see.
        }
        throw err
      }
    },

    /** Stops sampling in this thread; false if it was not running. */
    stopSampling() {
      arity('stopSampling()', 0, arguments.length)
      lent = false
      return native.stopSampling()
    },

    /** Starts sampling with the default settings, on loan (lib/internal.js, LEND_SAMPLING). */
    lendSampling() {
      const settings = native.startSampling()
      lent = true
      return settings
    },

    /** The live sampled allocations by allocation stack, largest first. */
    samplingProfile() {
      arity('samplingProfile()', 0, arguments.length)
      return native.samplingProfile()
    },

    /** Writes the current profile to `path` in pprof's format; returns it. */
    writeProfile(path) {
      arity('writeProfile(path)', 1, arguments.length)
      return native.writeProfile(path)
    },

    /** How each allocation site changed between two profiles, most grown first. */
    diffProfiles(before, after) {
      arity('diffProfiles(before, after)', 2, arguments.length)
      return native.diffProfiles(before, after)
    },
  }
}
