'use strict'
// One measurement: how fast a hot function runs before and after a census
// (which clears V8's type feedback), and after a plain gc() for comparison.
// A heap of N objects stays live; the workload runs in batches timed by this
// thread's CPU time (/proc/thread-self/schedstat: the machine is shared, and
// the time other threads or processes take must not count); cycles alternate
// nothing (the control), gc() and census(). For each action: the workload's speed (iterations per
// CPU ms) in windows of its own execution after the action, relative to the
// BASE_MS it ran just before.
// argv[2]: N (live objects, default 100000); env CYCLES (per action, default 3)

const fs = require('node:fs')

const N = Number(process.argv[2] || 100_000)
const CYCLES = Number(process.env.CYCLES || 3)
const BASE_MS = 300
// Windows of workload CPU time after the action, ms: [from, to, label].
const WINDOWS = [
  [0, 50, 'right after (0-50 ms)'],
  [50, 200, '50-200 ms'],
  [1000, 1500, 'at 1 s'],
  [5000, 5500, 'at 5 s'],
]
const END_MS = WINDOWS[WINDOWS.length - 1][1]

const memwatch = require(process.env.MEMWATCH_RS)

class Item {
  constructor(i) {
    this.i = i
    this.name = `item${i & 255}`
  }
}
globalThis.live = Array.from({ length: N }, (_, i) => new Item(i))

// The hot function: monomorphic and polymorphic property loads, allocation,
// calls: all of them rely on inline caches.
class P {
  constructor(x) {
    this.x = x
    this.y = x + 1
  }
}
class Q {
  constructor(x) {
    this.y = x
    this.x = x - 1
  }
}
class R {
  constructor(x) {
    this.z = 0
    this.x = x
    this.y = 2
  }
}
const shapes = Array.from({ length: 1024 }, (_, i) => [new P(i), new Q(i), new R(i)][i % 3])
function weigh(o) {
  return o.x * 2 + o.y
}
function hot(n, seed) {
  let s = seed
  for (let i = 0; i < n; i++) {
    s += weigh(shapes[(i + seed) & 1023])
    const t = (i & 3) === 0 ? { a: i, b: s & 7 } : new P(i)
    s += t.a === undefined ? t.x : t.a + t.b
  }
  return s & 0xffff
}

let schedstat = null
try {
  schedstat = fs.openSync('/proc/thread-self/schedstat', 'r')
} catch {}
const buf = Buffer.alloc(128)
/** This thread's CPU time in ms (wall time where schedstat is missing). */
function cpuMs() {
  if (schedstat === null) return performance.now()
  const len = fs.readSync(schedstat, buf, 0, buf.length, 0)
  const text = buf.toString('latin1', 0, len)
  return Number(text.slice(0, text.indexOf(' '))) / 1e6
}

const BATCH = 4000
let sink = 0
/** Runs the workload for `ms` of CPU; returns [[cpu offset, iterations], ...]. */
function run(ms) {
  const out = []
  const start = cpuMs()
  let t = start
  while (t - start < ms) {
    sink += hot(BATCH, out.length)
    const now = cpuMs()
    out.push([now - start, now - t])
    t = now
  }
  return out
}
function speed(batches, from, to) {
  let iters = 0
  let ms = 0
  for (const [at, took] of batches) {
    if (at > from && at <= to) {
      iters += BATCH
      ms += took
    }
  }
  return ms > 0 ? iters / ms : NaN
}

run(2000) // warm up: optimized code, settled feedback
// 'none' is the control: the same windows with no action between them (how
// much the workload's speed drifts on its own).
const results = { none: [], gc: [], census: [] }
const pauses = { none: [], gc: [], census: [] }
for (let c = 0; c < CYCLES; c++) {
  for (const action of ['none', 'gc', 'census']) {
    const base = speed(run(BASE_MS), 0, BASE_MS)
    const t0 = performance.now()
    if (action === 'gc') memwatch.gc()
    else if (action === 'census') memwatch.census()
    pauses[action].push(performance.now() - t0)
    const after = run(END_MS)
    results[action].push(WINDOWS.map(([from, to]) => speed(after, from, to) / base))
  }
}
console.log(
  JSON.stringify({
    windows: WINDOWS.map((w) => w[2]),
    results,
    pauses,
    threadCpu: schedstat !== null,
    sink: sink & 1,
  }),
)
