'use strict'

// The child side of `memwatch-rs watch`, loaded into every Node process and
// worker thread of the watched program by NODE_OPTIONS=--require. It loads
// memwatch-rs, listens to `stats` and `leak`, and sends each event as one
// JSON line to the watcher over a Unix socket whose path is in
// MEMWATCH_RS_WATCH. It never writes to the program's stdio, never keeps
// the program alive (the socket is unref'd), and never throws into it:
// anything that fails here only stops the watching of this thread.

const SOCKET = process.env.MEMWATCH_RS_WATCH

if (SOCKET) {
  try {
    start(SOCKET)
  } catch {
    // Watching is best effort; the program must run as if we were not here.
  }
}

function start(socketPath) {
  const net = require('node:net')
  const { isMainThread, threadId } = require('node:worker_threads')

  const socket = net.createConnection({ path: socketPath })
  socket.unref()
  let open = true
  socket.on('error', () => {
    open = false
  })
  socket.on('close', () => {
    open = false
  })
  const send = (message) => {
    if (!open) return
    try {
      socket.write(JSON.stringify(message) + '\n')
    } catch {
      open = false
    }
  }

  const hello = {
    type: 'hello',
    pid: process.pid,
    ppid: process.ppid,
    thread: threadId,
    main: isMainThread,
    argv: process.argv.slice(0, 8),
    node: process.version,
    t: Date.now(),
  }

  let memwatch
  let LEND_SAMPLING
  try {
    memwatch = require('../../index.js')
    ;({ LEND_SAMPLING } = require('../internal.js'))
  } catch (err) {
    send({ ...hello, type: 'error', message: String((err && err.message) || err).split('\n')[0] })
    socket.end()
    return
  }
  send({ ...hello, backend: memwatch.backend, heapdiff: memwatch.HeapDiff.source })

  memwatch.on('stats', (s) => {
    send({
      type: 'stats',
      t: s.gc_ts / 1000,
      n: s.num_full_gc,
      base: s.current_base,
      pause_ms: s.pause_ms,
      heap_limit: s.heap_size_limit,
      total_heap: s.total_heap_size,
      external: s.external_memory,
      forced: s.forced,
    })
  })

  // --suspects-max-heap: the heap bound of the censuses behind suspects.
  // watch checked the number; one set by hand that configure() would refuse
  // (not a whole number under 2^33 MB) is ignored rather than thrown into
  // the program's start.
  const maxHeapMB = process.env.MEMWATCH_RS_SUSPECTS_MAX_HEAP_MB
  if (maxHeapMB !== undefined && /^\d{1,10}$/.test(maxHeapMB) && Number(maxHeapMB) < 2 ** 33) {
    memwatch.configure({ suspectsMaxHeapBytes: Number(maxHeapMB) * 2 ** 20 })
  }

  // Every field the detector gives is passed on (Dates as ISO strings), so
  // fields added later (rate, suspects, ...) reach the report unchanged.
  memwatch.on('leak', (info) => {
    send({ ...info, type: 'leak', t: Date.now() })
  })

  // --census: a heap census (counts by constructor) at start and on each
  // report. Where no census can run (the fallback backend), the report says
  // why instead, and the program runs on untouched.
  const census = process.env.MEMWATCH_RS_CENSUS === '1'
  let censusStart = null
  let censusError = null
  const why = (e) => String((e && e.message) || e).slice(0, 500)
  if (census) {
    try {
      censusStart = memwatch.census()
    } catch (e) {
      censusError = why(e)
    }
  }
  const sendCensus = () => {
    if (!census) return
    if (censusError) return send({ type: 'census', error: censusError })
    try {
      send({ type: 'census', start: censusStart, now: memwatch.census() })
    } catch (e) {
      send({ type: 'census', error: why(e) })
    }
  }

  // --sampling: V8's sampling heap profiler, lent to the program: a
  // program that starts sampling itself takes it over (lib/sampling.js),
  // and its leak events still carry the sites. Where it cannot run, the
  // report says why.
  if (process.env.MEMWATCH_RS_SAMPLING === '1') {
    try {
      const { intervalBytes, stackDepth } = memwatch[LEND_SAMPLING]()
      send({ type: 'sampling', interval_bytes: intervalBytes, stack_depth: stackDepth })
    } catch (e) {
      send({ type: 'sampling', error: why(e) })
    }
  }

  let pending = ''
  socket.on('data', (chunk) => {
    pending += chunk
    let nl
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl)
      pending = pending.slice(nl + 1)
      if (line === '{"type":"census"}') sendCensus()
    }
  })

  // A socket write that fits the kernel's buffer completes synchronously,
  // so these last lines get out even on process.exit().
  process.on('exit', (code) => {
    sendCensus()
    send({ type: 'exit', code, t: Date.now() })
  })
}
