'use strict'

// Keys of the package's own hooks on the public object, kept off its
// string-keyed surface: the metrics exporters use them, users do not.

/**
 * `memwatch[HOLD]()` keeps the leak detector (and its probe) running without
 * a `leak` listener, until the returned release function is called: a
 * registered exporter must not stop reporting because someone called
 * `memwatch.removeAllListeners('leak')`.
 */
const HOLD = Symbol('memwatch-rs: hold the leak detector')

/**
 * `memwatch[CENSUS_UNAVAILABLE]()`: `null` where `memwatch.census()` works
 * in this thread, else why not; costs no census (the leak helpers choose
 * how to measure with it).
 */
const CENSUS_UNAVAILABLE = Symbol('memwatch-rs: why no census here')

/**
 * `memwatch[LEND_SAMPLING]()`: starts allocation sampling with the default
 * settings on loan (the watch CLI's --sampling): a later
 * `memwatch.startSampling(options)` by the program takes it over with its
 * own options instead of throwing that sampling already runs. Returns the
 * settings in force.
 */
const LEND_SAMPLING = Symbol('memwatch-rs: sampling on loan')

module.exports = { HOLD, CENSUS_UNAVAILABLE, LEND_SAMPLING }
