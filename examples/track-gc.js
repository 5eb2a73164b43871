'use strict'

// memwatch.trackGC(target, callback): a callback once an object has been
// garbage-collected. Two objects hold big arrays; both are tracked, dropped,
// and one memwatch.gc() collects them: both callbacks print (on the event
// loop, right after) and the heap shrinks.

const memwatch = require('..')

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1) + ' MB'

// About 8 MB each.
const big = (name) => ({ name, payload: new Array(1_000_000).fill(name.length) })

let first = big('first')
let second = big('second')

// The callback must not capture the object it tracks (that would keep it
// alive for good), so these name it with a string instead.
memwatch.trackGC(first, () => console.log('first was garbage-collected'))
memwatch.trackGC(second, () => console.log('second was garbage-collected'))

memwatch.gc()
const before = process.memoryUsage().heapUsed

first = null
second = null
memwatch.gc()
const after = process.memoryUsage().heapUsed

console.log(`heap used: ${mb(before)} with both objects, ${mb(after)} without`)
