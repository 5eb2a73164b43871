'use strict'

// memwatch's HeapDiff: `new HeapDiff()` records the heap, `end()` returns
// what changed since, in memwatch's shape, built natively (src/heap_diff,
// src/api/heap_diff.rs). This file only orders the steps so that nothing the
// HeapDiff creates in JS is born between its two snapshots, and glues the
// JSON source (used when V8's heap profiler is unavailable) to
// `v8.writeHeapSnapshot()`. `new HeapDiff({ census: true })` takes heap
// censuses instead of snapshots (src/ffi/census.rs).

const os = require('node:os')
const path = require('node:path')
const v8 = require('node:v8')
const { threadId } = require('node:worker_threads')
const { describe, kindOf } = require('./describe.js')

/**
 * @param {object} native the binding
 * @param {{ heapDiffSource: 'v8' | 'json', heapDiffReason?: string }} info what `attach()` chose
 * @param {{ own?: (fn: () => any) => any }} [hooks] `own(fn)` runs `fn` and
 *   marks the GCs it causes as memwatch-rs's own, for a stats source that
 *   sees GCs from JS (the native GC hooks are suppressed natively)
 */
module.exports = function makeHeapDiff(native, info, { own = null } = {}) {
  const source = info.heapDiffSource
  // Snapshot file names: unique per process, thread, module instance and diff.
  const prefix = `memwatch-heapdiff-${process.pid}-${threadId}-${Math.random().toString(36).slice(2, 8)}`
  let sequence = 0
  // One warning per thread (README, "Heap snapshots while sampling").
  let warnedSampling = false

  /** Once per thread: the snapshots just taken left their names in V8's memory. */
  function warnIfSampling() {
    if (warnedSampling || !native.samplingRunning()) return
    warnedSampling = true
    process.emitWarning(
      'this HeapDiff took heap snapshots while allocation sampling runs in this thread, and V8 keeps ' +
        'the names a snapshot makes until sampling stops: about 1 KB per entry of the largest array, Map, ' +
        'Set or many-keyed object, and a copy of each distinct string. memwatch.stopSampling() frees them. To avoid ' +
        'the cost, read samplingProfile() first, then stopSampling(), then take the HeapDiff.',
      { code: 'MEMWATCH_SNAPSHOT_WHILE_SAMPLING' },
    )
  }

  function captureJson(diff, file, write, retainers = null) {
    diff.beginJson()
    let written = false
    try {
      if (write) own(write)
      else v8.writeHeapSnapshot(file)
      written = true
    } finally {
      if (!written) diff.abortJson(file)
    }
    return diff.captureJson(file, retainers)
  }

  // What a JSON-source HeapDiff needs for both snapshots, made before the
  // first one: flat file names and, with an own() hook, the functions it
  // runs. A function of its own so its temporaries are garbage (not on the
  // stack) when the first snapshot is taken.
  function jsonPlan(diff) {
    const { before, after } = diff.jsonFiles(path.join(os.tmpdir(), `${prefix}-${++sequence}`))
    const files = [before, after]
    const writers = own ? files.map((file) => () => v8.writeHeapSnapshot(file)) : [null, null]
    return { files, writers }
  }

  class HeapDiff {
    // Created before the first snapshot, so present in both.
    #diff = new native.NativeHeapDiff()
    #json = null
    #census = false
    #ended = false

    /**
     * @param {{ census?: boolean }} [options] `census: true` for a census
     *   diff; anything but an object with a `census` key is ignored, as
     *   memwatch ignored its arguments.
     */
    constructor(options) {
      if (options !== null && typeof options === 'object' && 'census' in options) {
        const census = options.census
        if (typeof census !== 'boolean') {
          throw new TypeError(`new HeapDiff(options): options.census must be a boolean, got ${describe(census)}`)
        }
        this.#census = census
      }
      if (this.#census) {
        this.#diff.captureCensus()
      } else if (source === 'json') {
        this.#json = jsonPlan(this.#diff)
        captureJson(this.#diff, this.#json.files[0], this.#json.writers[0])
      } else {
        this.#diff.captureV8()
      }
    }

    /**
     * Takes the "after" snapshot and returns the diff. A HeapDiff ends once.
     * `end({ retainers: n })` adds up to n retainer paths to the groups that
     * grew most, `end({ retainers: n, groups: [...] })` to the groups named;
     * any other argument is ignored, as memwatch did.
     */
    end(options) {
      if (this === null || (typeof this !== 'object' && typeof this !== 'function') || !(#diff in this)) {
        throw new TypeError(`HeapDiff.prototype.end called on ${kindOf(this)}, which is not a HeapDiff`)
      }
      if (this.#ended) throw new Error('HeapDiff.end() was already called; a HeapDiff can only be ended once')
      // Checked before anything happens: a rejected option leaves the
      // HeapDiff open. A number or null, never a new heap object (the
      // groups named stay in the native HeapDiff).
      const retainers = this.#diff.endOptions(options)
      if (this.#census && retainers !== null) {
        throw new Error(
          'HeapDiff.end(options): retainers need heap snapshots, and this HeapDiff was made with { census: true }; use new HeapDiff() for retainer paths',
        )
      }
      this.#ended = true
      if (this.#census) return this.#diff.captureCensus()
      const json = this.#json
      const result = json ? captureJson(this.#diff, json.files[1], json.writers[1], retainers) : this.#diff.captureV8(retainers)
      // After the "after" snapshot, so the warning is in neither.
      warnIfSampling()
      return result
    }
  }

  // V8 compiles a function on its first call, creating its bytecode and
  // constant strings. Do it for end() now rather than between the first
  // HeapDiff's snapshots, where they would show up as growth.
  try {
    HeapDiff.prototype.end.call(null)
  } catch {}

  Object.defineProperty(HeapDiff, 'source', { value: source, enumerable: false })
  Object.defineProperty(HeapDiff, 'sourceReason', { value: info.heapDiffReason || null, enumerable: false })
  return HeapDiff
}
