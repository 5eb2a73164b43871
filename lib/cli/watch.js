'use strict'

// The parent side of `memwatch-rs watch`: starts the program with the
// preload in NODE_OPTIONS, takes the events of every Node process and worker
// thread of the program from a Unix socket in a private temporary folder
// (not the program's stdio, not its IPC channel), prints them to stderr,
// passes signals on, writes the report on exit, on Ctrl-C and on SIGUSR2,
// and exits with the program's exit code.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const format = require('./format.js')
const { reportData, writeReport } = require('./report.js')

const PRELOAD = path.join(__dirname, 'preload.js')
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP']
/** How long to wait for the last lines of processes after the program exited. */
const DRAIN_MS = 1500
/** How long a report waits for the census of running processes. */
const CENSUS_WAIT_MS = 3000
const MAX_LINE = 64 * 1024 * 1024

const say = (line) => process.stderr.write(`memwatch-rs: ${line}\n`)

/** NODE_OPTIONS with the preload added (quoted: the path may hold spaces). */
function nodeOptions(existing) {
  const quoted = `"${PRELOAD.replace(/(["\\])/g, '\\$1')}"`
  return `${existing ? existing + ' ' : ''}--require ${quoted}`
}

/**
 * True if this process is in the foreground process group of its
 * controlling terminal: a Ctrl-C there reaches the program directly (it
 * shares the group), so the watcher must not send it a second time.
 */
function inTerminalForeground() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const [pgrp, ttyNr, tpgid] = [Number(fields[2]), Number(fields[4]), Number(fields[5])]
    return ttyNr !== 0 && tpgid === pgrp
  } catch {
    return false
  }
}

function defaultReportName() {
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
  return `memwatch-rs-report-${stamp}.html`
}

/** Checks up front that a report file can be written there. */
function checkWritable(file, flag) {
  const dir = path.dirname(path.resolve(file))
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new Error('is a directory')
    fs.accessSync(dir, fs.constants.W_OK)
  } catch (err) {
    const why = err.code === 'ENOENT' ? 'its folder does not exist' : err.message
    return `${flag} ${file}: cannot write there (${why})`
  }
  return null
}

/**
 * Runs `memwatch-rs watch`. Resolves to the exit code (the watcher's
 * process exits with it).
 */
function watch(opts) {
  const html = path.resolve(opts.report || defaultReportName())
  const json = opts.json ? path.resolve(opts.json) : null
  for (const [file, flag] of [[html, '--report'], [json, '--json']]) {
    const problem = file && checkWritable(file, flag)
    if (problem) {
      say(problem)
      return Promise.resolve(2)
    }
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memwatch-rs-watch-'))
  const socketPath = path.join(dir, 'events.sock')
  const state = {
    command: opts.program,
    started: Date.now(),
    exit: null,
    reason: 'running',
    census: opts.census,
    sampling: opts.sampling,
    processes: new Map(),
  }
  const connections = new Set()
  let child = null

  function processFor(hello) {
    const key = `${hello.pid}/${hello.thread}`
    let p = state.processes.get(key)
    if (!p) {
      // A worker is named after its process's main thread.
      const mainThread = state.processes.get(`${hello.pid}/0`)
      const script =
        hello.main === false && mainThread
          ? mainThread.label.replace(/\[\d+\]$/, '')
          : hello.argv && hello.argv[1] && !hello.argv[1].startsWith('-')
            ? path.basename(hello.argv[1])
            : 'node'
      p = {
        label: `${script}[${hello.pid}]${hello.main === false ? ` worker ${hello.thread}` : ''}`,
        pid: hello.pid,
        thread: hello.thread,
        main: hello.main,
        argv: hello.argv,
        node: hello.node,
        backend: hello.backend,
        started: hello.t,
        gcs: [],
        leaks: [],
        census: null,
        sampling: null,
      }
      state.processes.set(key, p)
    }
    return p
  }

  function onMessage(conn, m) {
    if (m.type === 'hello' || m.type === 'error') {
      conn.proc = processFor(m)
      if (m.type === 'error') {
        conn.proc.error = m.message
        say(`${conn.proc.label}: memwatch-rs did not load: ${m.message}`)
      }
      return
    }
    const p = conn.proc
    if (!p) return
    if (m.type === 'stats') {
      const previous = p.gcs[p.gcs.length - 1]
      p.gcs.push({ t: m.t, n: m.n, base: m.base, pause_ms: m.pause_ms, heap_limit: m.heap_limit, total_heap: m.total_heap, external: m.external, forced: m.forced })
      if (!opts.quiet) {
        const change = previous ? ` (${m.base >= previous.base ? '+' : ''}${format.bytes(m.base - previous.base)})` : ''
        say(`${p.label} full GC #${m.n}  base ${format.bytes(m.base)}${change}  pause ${format.duration(m.pause_ms)}`)
      }
    } else if (m.type === 'leak') {
      p.leaks.push(m)
      say(`${p.label} LEAK ${leakLine(m)}`)
    } else if (m.type === 'sampling') {
      p.sampling = typeof m.error === 'string' ? { error: m.error.slice(0, 500) } : { interval_bytes: m.interval_bytes, stack_depth: m.stack_depth }
    } else if (m.type === 'census') {
      p.census = typeof m.error === 'string' ? { error: m.error.slice(0, 500) } : { start: m.start, now: m.now }
      if (conn.censusWaiter) conn.censusWaiter()
    } else if (m.type === 'exit') {
      p.ended = m.t
      p.exit_code = m.code
    }
  }

  const server = net.createServer((conn) => {
    connections.add(conn)
    conn.setEncoding('utf8')
    let pending = ''
    conn.on('data', (chunk) => {
      pending += chunk
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        try {
          onMessage(conn, JSON.parse(line))
        } catch {}
      }
      if (pending.length > MAX_LINE) conn.destroy()
    })
    conn.on('error', () => {})
    conn.on('close', () => {
      connections.delete(conn)
      if (conn.censusWaiter) conn.censusWaiter()
      if (conn.proc && conn.proc.ended === undefined) conn.proc.ended = Date.now()
      if (drained && connections.size === 0) drained()
    })
  })
  let drained = null

  /** Asks every running process for its census and waits (bounded) for them. */
  function collectCensus() {
    if (!opts.census) return Promise.resolve()
    const waits = [...connections].map(
      (conn) =>
        new Promise((resolve) => {
          const timer = setTimeout(done, CENSUS_WAIT_MS)
          function done() {
            clearTimeout(timer)
            conn.censusWaiter = null
            resolve()
          }
          conn.censusWaiter = done
          conn.write('{"type":"census"}\n')
        }),
    )
    return Promise.all(waits)
  }

  let writing = Promise.resolve()
  /** Writes the report now (serialised: one write at a time). */
  function report(reason, { quietly = false } = {}) {
    writing = writing
      .then(() => (state.exit ? null : collectCensus()))
      .then(() => {
        state.reason = reason
        const data = reportData({ ...state, processes: state.processes.values() })
        const files = writeReport(data, { html, json })
        if (!quietly) say(`report written (${reason}): ${files.join(', ')}`)
      })
      .catch((err) => say(`could not write the report: ${err.message}`))
    return writing
  }

  return new Promise((resolve) => {
    server.listen(socketPath, () => {
      const env = {
        ...process.env,
        NODE_OPTIONS: nodeOptions(process.env.NODE_OPTIONS),
        MEMWATCH_RS_WATCH: socketPath,
      }
      if (opts.census) env.MEMWATCH_RS_CENSUS = '1'
      else delete env.MEMWATCH_RS_CENSUS
      if (opts.sampling) env.MEMWATCH_RS_SAMPLING = '1'
      else delete env.MEMWATCH_RS_SAMPLING
      if (opts.suspectsMaxHeapMB !== null && opts.suspectsMaxHeapMB !== undefined) env.MEMWATCH_RS_SUSPECTS_MAX_HEAP_MB = String(opts.suspectsMaxHeapMB)
      else delete env.MEMWATCH_RS_SUSPECTS_MAX_HEAP_MB
      say(`watching '${opts.program.join(' ')}'; report: ${html}${json ? `, ${json}` : ''} (on exit, Ctrl-C, or kill -USR2 ${process.pid})`)
      try {
        child = spawn(opts.program[0], opts.program.slice(1), { stdio: 'inherit', env })
      } catch (err) {
        return finish(startFailure(err))
      }
      child.on('error', (err) => {
        // Only a failure to start comes before 'exit'.
        if (!state.exit) finish(startFailure(err))
      })
      child.on('exit', (code, signal) => {
        state.exit = { code, signal, t: Date.now() }
        const exitCode = code !== null ? code : 128 + (os.constants.signals[signal] || 0)
        const how = signal ? `was ended by ${signal}` : `exited with code ${code}`
        // The program's processes close their sockets as they end; wait a
        // little for their last lines (a process it left running is not
        // waited for).
        const ready = new Promise((r) => {
          if (connections.size === 0) return r()
          drained = r
          setTimeout(r, DRAIN_MS).unref()
        })
        ready.then(() => report('exit', { quietly: true })).then(() => {
          say(`${opts.program[0]} ${how}; report: ${[html, json].filter(Boolean).join(', ')}`)
          finish(exitCode)
        })
      })
    })
    server.on('error', (err) => {
      say(`cannot open the event channel ${socketPath}: ${err.message}`)
      finish(1)
    })

    let interrupts = 0
    const handlers = {}
    for (const sig of FORWARDED) {
      handlers[sig] = () => {
        if (sig === 'SIGINT') {
          interrupts++
          report('Ctrl-C')
          // A terminal's Ctrl-C went to the whole foreground group, the
          // program included: send only the ones that did not (repeats, or
          // a kill aimed at the watcher when it is not in the foreground).
          if (interrupts === 1 && inTerminalForeground()) return
        }
        if (child && child.exitCode === null && child.signalCode === null) {
          try {
            child.kill(sig)
          } catch {}
        }
      }
      process.on(sig, handlers[sig])
    }
    handlers.SIGUSR2 = () => report('SIGUSR2')
    process.on('SIGUSR2', handlers.SIGUSR2)

    let finished = false
    function finish(code) {
      if (finished) return
      finished = true
      for (const [sig, h] of Object.entries(handlers)) process.removeListener(sig, h)
      for (const c of connections) c.destroy()
      server.close()
      fs.rmSync(dir, { recursive: true, force: true })
      resolve(code)
    }

    function startFailure(err) {
      const missing = err.code === 'ENOENT'
      say(
        missing
          ? `cannot start '${opts.program[0]}': no such program (not found on PATH)`
          : `cannot start '${opts.program[0]}': ${err.message}`,
      )
      return missing ? 127 : 126
    }
  })
}

/** One terminal line for a `leak` event, with the newer detector's fields when present. */
function leakLine(m) {
  const parts = [m.reason || `grew ${format.bytes(m.growth)}`]
  const rate = typeof m.rate === 'number' ? m.rate : null
  const interval = m.rate_interval || m.rateInterval
  if (rate !== null) {
    parts.push(`rate ${format.rate(rate)}` + (Array.isArray(interval) ? ` (${format.rate(interval[0])} – ${format.rate(interval[1])})` : ''))
  }
  const until = m.limit_in_ms ?? m.limitInMs
  if (Number.isFinite(until)) parts.push(`heap limit in ~${format.duration(until)}`)
  if (Array.isArray(m.suspects) && m.suspects.length) {
    parts.push('suspects: ' + m.suspects.slice(0, 3).map((s) => `${s.what} ×${s.count} (${format.bytes(s.size_bytes)})`).join(', '))
  } else {
    const skipped = m.suspects_skipped ?? m.suspectsSkipped
    if (typeof skipped === 'string') parts.push(`no suspects: ${format.suspectsSkipped(skipped)}`)
  }
  const sites = format.grownSites(m.sites)
  if (sites.length) parts.push('allocated by: ' + sites.slice(0, 2).map((s) => `${siteLabel(s.frames)} +${format.bytes(s.bytes)}`).join(', '))
  return parts.join(' | ')
}

/**
 * A site by its allocating frame, and when that one is V8's own (a builtin
 * such as `repeat`, no script), by the first caller that has a script too:
 * `repeat ← handle (/app/server.js:12:3)`.
 */
function siteLabel(frames) {
  if (frames[0].script) return format.frame(frames[0])
  const caller = frames.find((f) => f.script)
  return caller ? `${frames[0].function || '(anonymous)'} ← ${format.frame(caller)}` : format.frame(frames[0])
}

module.exports = { watch, nodeOptions, inTerminalForeground }
