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

module.exports = { HOLD, CENSUS_UNAVAILABLE }
