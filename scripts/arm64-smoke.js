'use strict'

// A short end-to-end check of a memwatch-rs build on a platform where the
// full suite cannot run (scripts/linux-arm64-smoke.sh runs it on the official
// linux-arm64 Node binaries under qemu). Every feature, on the V8 backend:
// gc() statistics, a stats event, a HeapDiff from a V8 snapshot that finds
// the objects of one class by name, a trackGC callback.
//
// Usage: node scripts/arm64-smoke.js PACKAGE_DIR

const assert = require('node:assert/strict')
const path = require('node:path')

const dir = process.argv[2]
if (!dir) {
  console.error('usage: node arm64-smoke.js PACKAGE_DIR')
  process.exit(2)
}
const memwatch = require(path.resolve(dir))

const where = `Node ${process.version} ${process.platform}-${process.arch}`
assert.equal(memwatch.backend, 'v8', `${where}: backend ${memwatch.backend} (${memwatch.backendReason})`)
assert.equal(memwatch.HeapDiff.source, 'v8', `${where}: HeapDiff.source ${memwatch.HeapDiff.source}`)

let statsEvents = 0
memwatch.on('stats', () => statsEvents++)
const s = memwatch.gc()
assert.equal(s.forced, true)
assert.ok(s.num_full_gc >= 1 && s.used_heap_size > 0 && s.heap_size_limit > s.used_heap_size, JSON.stringify(s))

class SmokeLeak {
  constructor(i) {
    this.i = i
  }
}
const hd = new memwatch.HeapDiff()
const keep = []
for (let i = 0; i < 5000; i++) keep.push(new SmokeLeak(i))
const diff = hd.end()
const row = diff.change.details.find((d) => d.what === 'SmokeLeak')
assert.ok(row && row['+'] >= 5000, `${where}: ${JSON.stringify(diff.change.details.slice(0, 5))}`)

let collected = false
;(() => {
  memwatch.trackGC({ payload: new Array(1000).fill(1) }, () => {
    collected = true
  })
})()

setImmediate(() => {
  memwatch.gc()
  setTimeout(() => {
    assert.ok(statsEvents >= 1, `${where}: no stats event`)
    assert.ok(collected, `${where}: the trackGC callback did not fire`)
    console.log(
      `${where}: ok (backend v8; ${statsEvents} stats events; HeapDiff +${row['+']} SmokeLeak; trackGC fired; ${keep.length} kept)`
    )
  }, 200)
})
