'use strict'

// The report of `memwatch-rs watch`: the data (one object, also written as
// JSON with --json; schema in README "Watch a program") and a self-contained
// HTML page that plots it with uPlot, inlined with its licence, so the file
// opens anywhere without a network.

const fs = require('node:fs')
const path = require('node:path')

const SCHEMA = 'memwatch-rs/watch-report@1'
const VERSION = require('../../package.json').version

/** The floor: for each GC, the lowest base from that GC onwards. */
function floors(bases) {
  const out = new Array(bases.length)
  let low = Infinity
  for (let i = bases.length - 1; i >= 0; i--) {
    low = Math.min(low, bases[i])
    out[i] = low
  }
  return out
}

const time = (v) => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : v)
const first = (o, names) => {
  for (const n of names) if (o[n] !== undefined && o[n] !== null) return o[n]
  return undefined
}

/**
 * A `leak` event as the report shows it: memwatch's fields, plus the newer
 * detector's when the event has them (rate with its interval, heap limit,
 * projected time to it, suspects); every other field is kept as given.
 */
function leakEntry(event) {
  const { type, ...info } = event
  const out = { ...info, t: time(info.t), start: time(info.start), end: time(info.end) }
  const rate = info.rate
  if (typeof rate === 'number') out.rate = rate
  else if (rate && typeof rate === 'object') out.rate = first(rate, ['bytes_per_hour', 'bytesPerHour', 'value', 'estimate'])
  const interval = first(info, ['rate_interval', 'rateInterval']) || (rate && typeof rate === 'object' ? rate : null)
  if (Array.isArray(interval)) [out.rate_low, out.rate_high] = interval
  else if (interval && typeof interval === 'object') {
    out.rate_low = first(interval, ['low', 'lower', 'lo'])
    out.rate_high = first(interval, ['high', 'upper', 'hi'])
  }
  const limit = first(info, ['heap_limit', 'heapLimit'])
  if (limit !== undefined) out.heap_limit = limit
  const until = first(info, ['limit_in_ms', 'limitInMs', 'time_to_limit_ms', 'timeToLimitMs'])
  if (until !== undefined) out.limit_in_ms = until
  if (Array.isArray(info.suspects)) out.suspects = info.suspects
  const skipped = first(info, ['suspects_skipped', 'suspectsSkipped'])
  delete out.suspectsSkipped
  if (typeof skipped === 'string') out.suspects_skipped = skipped
  if (Array.isArray(info.sites)) out.sites = info.sites
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out
}

/** A census pair as the report shows it: per group, counts and bytes at start and now. */
function censusEntry({ start, now, error }) {
  if (typeof error === 'string') return { error, start: null, now: null, groups: [] }
  const groups = new Map()
  const add = (census, side) => {
    for (const g of (census && census.groups) || []) {
      const e = groups.get(g.what) || { what: g.what, count_start: 0, count_now: 0, bytes_start: 0, bytes_now: 0 }
      e[`count_${side}`] += g.count
      e[`bytes_${side}`] += g.size_bytes
      groups.set(g.what, e)
    }
  }
  add(start, 'start')
  add(now, 'now')
  const rows = [...groups.values()]
    .map((e) => ({ ...e, count_change: e.count_now - e.count_start, bytes_change: e.bytes_now - e.bytes_start }))
    .filter((e) => e.count_change !== 0 || e.bytes_change !== 0)
    .sort((a, b) => Math.abs(b.bytes_change) - Math.abs(a.bytes_change) || a.what.localeCompare(b.what))
  const totals = (c) => (c ? { time: time(c.time), objects: c.objects, size_bytes: c.size_bytes } : null)
  return { start: totals(start), now: totals(now), groups: rows }
}

/**
 * The report's data from the watcher's state.
 * @param {{ command: string[], started: number, exit: object|null, reason: string,
 *   census: boolean, processes: Iterable<object> }} state
 */
function reportData(state) {
  const processes = []
  for (const p of state.processes) {
    const bases = p.gcs.map((g) => g.base)
    const floor = floors(bases)
    const gcs = p.gcs.map((g, i) => ({ ...g, floor: floor[i] }))
    const limit = gcs.length ? gcs[gcs.length - 1].heap_limit : null
    processes.push({
      label: p.label,
      pid: p.pid,
      thread: p.thread,
      main: p.main,
      argv: p.argv,
      node: p.node,
      backend: p.backend,
      error: p.error || null,
      started: p.started,
      ended: p.ended ?? null,
      exit_code: p.exit_code ?? null,
      summary: {
        gcs: gcs.length,
        first_base: gcs.length ? gcs[0].base : null,
        last_base: gcs.length ? gcs[gcs.length - 1].base : null,
        floor_growth: gcs.length ? floor[floor.length - 1] - floor[0] : null,
        max_pause_ms: gcs.length ? Math.max(...gcs.map((g) => g.pause_ms)) : null,
        heap_limit: limit,
        leaks: p.leaks.length,
      },
      gcs,
      leaks: p.leaks.map(leakEntry),
      census: p.census ? censusEntry(p.census) : null,
      sampling: p.sampling || null,
    })
  }
  return {
    schema: SCHEMA,
    memwatch_rs: VERSION,
    command: state.command,
    started: state.started,
    written: Date.now(),
    reason: state.reason,
    exit: state.exit,
    census: { requested: state.census },
    sampling: { requested: Boolean(state.sampling) },
    workers: 'watched: each worker thread that runs the preload is a process entry with its thread id',
    processes,
  }
}

/** JSON inside a <script> element: no "</script>" or "<!--" can end it early. */
function scriptJson(value) {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

/** Source inlined into a <script> element (no early "</script"). */
const scriptSource = (text) => text.replace(/<\/(script)/gi, '<\\/$1')

let assets = null
function loadAssets() {
  if (assets) return assets
  const uplotDir = path.dirname(require.resolve('uplot/package.json'))
  const read = (...p) => fs.readFileSync(path.join(...p), 'utf8')
  assets = {
    template: read(__dirname, 'report-page.html'),
    page: read(__dirname, 'report-page.js'),
    format: read(__dirname, 'format.js'),
    uplotJs: read(uplotDir, 'dist', 'uPlot.iife.min.js'),
    uplotCss: read(uplotDir, 'dist', 'uPlot.min.css'),
    uplotLicense: read(uplotDir, 'LICENSE'),
    uplotVersion: require(path.join(uplotDir, 'package.json')).version,
  }
  return assets
}

/** The self-contained HTML page for `data`. */
function renderHtml(data) {
  const a = loadAssets()
  const title = `memwatch-rs: ${data.command.join(' ')}`.slice(0, 200)
  const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
  const parts = {
    TITLE: escape(title),
    UPLOT_CSS: a.uplotCss.replace(/<\//g, '<\\/'),
    UPLOT_LICENSE: `uPlot ${a.uplotVersion}, inlined under its licence:\n${a.uplotLicense.replace(/--/g, '- -')}`,
    UPLOT_JS: scriptSource(a.uplotJs),
    FORMAT_JS: scriptSource(a.format),
    PAGE_JS: scriptSource(a.page),
    DATA: scriptJson(data),
  }
  // One pass, so nothing inserted is searched for placeholders again.
  return a.template.replace(/\{\{([A-Z_]+)\}\}/g, (m, key) => (key in parts ? parts[key] : m))
}

/** Writes `text` to `file` atomically (a reader never sees half a file). */
function writeAtomically(file, text) {
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}

/** Writes the HTML report (and the JSON when asked); returns the files written. */
function writeReport(data, { html, json }) {
  const written = []
  if (html) {
    writeAtomically(html, renderHtml(data))
    written.push(html)
  }
  if (json) {
    writeAtomically(json, JSON.stringify(data, null, 1) + '\n')
    written.push(json)
  }
  return written
}

module.exports = { reportData, renderHtml, writeReport, floors, leakEntry, censusEntry, SCHEMA }
