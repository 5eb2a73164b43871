'use strict'

// memwatch's HeapDiff: `new HeapDiff()` records the heap, `end()` returns
// what changed since. The work is native (src/heap_diff); this file only
// orders the steps so that nothing the HeapDiff creates in JS is born between
// its two snapshots, gives friendly errors, and glues the JSON source (used
// when V8's heap profiler is unavailable) to `v8.writeHeapSnapshot()`.

const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')
const { threadId } = require('node:worker_threads')

/**
 * @param {object} native the binding
 * @param {{ own?: (fn: () => any) => any }} [hooks] `own(fn)` runs `fn` and
 *   marks the GCs it causes as memwatch-rs's own, for a stats source that
 *   sees GCs from JS (the native GC hooks are suppressed natively)
 */
module.exports = function makeHeapDiff(native, { own = null } = {}) {
  const info = native.NativeHeapDiff.info()
  // Internal: MEMWATCH_HEAPDIFF_SOURCE=json tests the JSON source while V8's
  // is available.
  const source = /^json$/i.test(process.env.MEMWATCH_HEAPDIFF_SOURCE || '') ? 'json' : info.source
  // Snapshot file names: unique per process, thread, module instance and diff.
  const prefix = `memwatch-heapdiff-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`
  let sequence = 0

  function captureJson(diff, file, write) {
    diff.beginJson()
    let written = false
    try {
      if (write) own(write)
      else v8.writeHeapSnapshot(file)
      written = true
    } finally {
      if (!written) diff.abortJson(file)
    }
    return diff.captureJson(file)
  }

  // What a JSON-source HeapDiff needs for both snapshots, made before the
  // first one: flat file names and, with an own() hook, the functions it
  // runs. A function of its own so its temporaries are garbage (not on the
  // stack) when the first snapshot is taken.
  function jsonPlan(diff) {
    const files = diff.jsonFiles(path.join(os.tmpdir(), `${prefix}-${++sequence}`))
    const writers = own ? files.map((file) => () => v8.writeHeapSnapshot(file)) : [null, null]
    return { files, writers }
  }

  class HeapDiff {
    // Created before the first snapshot, so present in both.
    #diff = new native.NativeHeapDiff()
    #json = null
    #ended = false

    constructor() {
      if (source === 'json') {
        this.#json = jsonPlan(this.#diff)
        captureJson(this.#diff, this.#json.files[0], this.#json.writers[0])
      } else {
        this.#diff.captureV8()
      }
    }

    /**
     * Takes the "after" snapshot and returns the diff. A HeapDiff ends once.
     */
    end() {
      if (this === null || (typeof this !== 'object' && typeof this !== 'function') || !(#diff in this)) {
        throw new TypeError(`HeapDiff.prototype.end called on ${describeThis(this)}, which is not a HeapDiff`)
      }
      if (this.#ended) throw new Error('HeapDiff.end() was already called; a HeapDiff can only be ended once')
      this.#ended = true
      const json = this.#json
      const d = json ? captureJson(this.#diff, json.files[1], json.writers[1]) : this.#diff.captureV8()
      const { before: b, after: a, change: c } = d
      return {
        before: { nodes: b.nodes, size_bytes: b.size_bytes, size: b.size, time: new Date(b.timeMs) },
        after: { nodes: a.nodes, size_bytes: a.size_bytes, size: a.size, time: new Date(a.timeMs) },
        change: {
          size_bytes: c.size_bytes,
          size: c.size,
          freed_nodes: c.freed_nodes,
          allocated_nodes: c.allocated_nodes,
          details: c.details,
        },
      }
    }
  }

  function describeThis(value) {
    if (value === null || value === undefined) return String(value)
    return typeof value === 'object' ? 'an object' : `a ${typeof value}`
  }

  // V8 compiles a function on its first call, creating its bytecode and
  // constant strings. Do it for end() now rather than between the first
  // HeapDiff's snapshots, where they would show up as growth.
  try {
    HeapDiff.prototype.end.call(null)
  } catch {}

  Object.defineProperty(HeapDiff, 'source', { value: source, enumerable: false })
  Object.defineProperty(HeapDiff, 'sourceReason', {
    value: source === info.source ? info.reason || null : 'MEMWATCH_HEAPDIFF_SOURCE=json',
    enumerable: false,
  })
  return HeapDiff
}
