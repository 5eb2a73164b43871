'use strict'
// One measurement: a heap of N small objects, then a heap diff around 10k new
// ones (construct + end), with one implementation. Prints one JSON line:
// wall ms of construct + end, peak RSS of the process and RSS before the diff.
// argv[2]: memwatch-rs | memwatch-rs-json | airbnb | floor | js
// argv[3]: N

const variant = process.argv[2]
const n = Number(process.argv[3])
const NEW = 10_000

class Small {
  constructor(i) {
    this.i = i
  }
}
class Fresh {
  constructor(i) {
    this.i = i
  }
}

const keep = new Array(n)
for (let i = 0; i < n; i++) keep[i] = new Small(i)
const fresh = []
function allocate() {
  for (let i = 0; i < NEW; i++) fresh.push(new Fresh(i))
}

// The JS path: a whole snapshot as text, parsed, reduced to id -> name.
async function jsSnapshot() {
  const v8 = require('node:v8')
  const chunks = []
  for await (const chunk of v8.getHeapSnapshot()) chunks.push(chunk)
  const snap = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  chunks.length = 0
  const meta = snap.snapshot.meta
  const stride = meta.node_fields.length
  const [t, nm, id, sz] = ['type', 'name', 'id', 'self_size'].map((f) => meta.node_fields.indexOf(f))
  const types = meta.node_types[t]
  const out = new Map()
  const nodes = snap.nodes
  for (let i = 0; i < nodes.length; i += stride) {
    const name = types[nodes[i + t]] === 'object' ? snap.strings[nodes[i + nm]] : types[nodes[i + t]]
    out.set(nodes[i + id], { name, size: nodes[i + sz] })
  }
  return out
}

// Loaded before the measurement.
const lib =
  variant === 'airbnb'
    ? require('@airbnb/node-memwatch')
    : variant === 'js'
      ? null
      : require(process.env.MEMWATCH_RS)
const native = variant === 'floor' ? require(require('node:path').join(process.env.MEMWATCH_RS, 'binding.js')) : null

async function main() {
  const rssBefore = process.memoryUsage().rss / 2 ** 20
  const t0 = process.hrtime.bigint()
  let found = -1
  if (variant === 'memwatch-rs' || variant === 'memwatch-rs-json' || variant === 'airbnb') {
    const hd = new lib.HeapDiff()
    allocate()
    const d = hd.end()
    found = (d.change.details.find((x) => x.what === 'Fresh') || { '+': 0 })['+']
  } else if (variant === 'floor') {
    native.NativeHeapDiff.snapshotFloor()
    allocate()
    native.NativeHeapDiff.snapshotFloor()
  } else if (variant === 'js') {
    let before = await jsSnapshot()
    allocate()
    const after = await jsSnapshot()
    found = 0
    for (const [id, node] of after) if (!before.has(id) && node.name === 'Fresh') found++
    before = null
  } else {
    throw new Error(`unknown variant ${variant}`)
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const peakRssMB = process.resourceUsage().maxRSS / 1024
  console.log(JSON.stringify({ wallMs, peakRssMB, rssBeforeMB: rssBefore, found, kept: keep.length + fresh.length }))
}

main()
