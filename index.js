'use strict'

// memwatch-rs: the EventEmitter of memwatch's API (see lib/memwatch.js).
module.exports = require('./lib/memwatch.js')
