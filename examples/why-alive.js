'use strict'

// From a `leak` event to the code that leaks: a small service that keeps
// every session it ever made. Allocation sampling runs from the start (its
// cost is well under 1% CPU); when the leak is reported, the event says
// what grew (its suspects, from heap censuses) and which functions
// allocated it, and a HeapDiff with retainer paths says what holds it.

const memwatch = require('..')

const mb = (n) => (n / 1024 / 1024).toFixed(1).padStart(6) + ' MB'
const started = Date.now()
const since = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5) + 's'

class Session {
  constructor(id, user) {
    this.id = id
    this.user = user
    this.cart = []
    this.seen = Date.now()
  }
}

const app = { sessions: new Map(), stats: { served: 0 } }
globalThis.app = app

// The bug: sessions are added on every request and never removed.
function handleRequests(n) {
  for (let i = 0; i < n; i++) {
    const id = app.stats.served++
    const session = new Session(id, { name: 'user-' + (id % 5000), roles: ['reader'] })
    app.sessions.set('s' + id, session)
  }
}

memwatch.startSampling()

// The detector reports growth once it has lasted 2 minutes (graceMs), so
// that a warm-up is not taken for a leak, unless the heap limit is near. A
// service keeps that default; a demo does not want to wait.
memwatch.configure({ graceMs: 10_000 })

memwatch.once('leak', (info) => {
  console.log(`${since()}  LEAK: ${info.reason}`)
  if (info.suspects) {
    console.log('        what grew (objects by constructor since the growth began):')
    for (const s of info.suspects.slice(0, 3)) console.log(`        ${mb(s.size_bytes)}  ${s.what} +${s.count}`)
  } else if (info.suspectsSkipped) {
    console.log(`        no suspects: ${info.suspectsSkipped}`)
  }
  console.log('        allocated by (live sampled bytes that grew since the detector started):')
  for (const site of info.sites.slice(0, 3)) {
    const [fn, caller] = site.frames
    const where = (f) => (f.script ? `${f.function} (${f.script}:${f.line}:${f.column})` : f.function)
    console.log(`        ${mb(site.bytes)}  ${where(fn)}${caller ? ` ← ${caller.function}` : ''}`)
  }
  // The sites are read: stop sampling before the heap snapshots, or V8
  // keeps every name they make until it stops (README, "Heap snapshots
  // while sampling").
  memwatch.stopSampling()
  console.log(`${since()}  taking a heap diff over 2 s of traffic, with retainer paths...`)
  const hd = new memwatch.HeapDiff()
  setTimeout(() => {
    const diff = hd.end({ retainers: 2 })
    for (const d of diff.change.details.filter((x) => x.retainers && x.retainers.length)) {
      console.log(`        ${d.what}: +${d['+']} (${d.size})`)
      for (const r of d.retainers) console.log(`          ${String(r.count).padStart(3)}× ${r.path}`)
    }
    clearInterval(timer)
    clearTimeout(giveUp)
  }, 2000)
})

console.log(`memwatch-rs why-alive demo (backend: ${memwatch.backend}); leaking sessions, waiting for the leak event...`)
const timer = setInterval(() => handleRequests(500), 100)

const giveUp = setTimeout(() => {
  console.log(`${since()}  no leak reported within 120 s`)
  process.exit(1)
}, 120_000)
