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

module.exports = { HOLD }
