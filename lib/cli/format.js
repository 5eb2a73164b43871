'use strict'

// How the command line writes numbers for people: sizes, durations, rates,
// and the allocation sites of a leak event.
// Shared by the terminal lines, the diff table and the report (which
// embeds these functions' source so the page formats the same way).

/** Bytes as B / KB / MB / GB (1024-based), 3 significant digits; keeps the sign. */
function bytes(n) {
  if (!Number.isFinite(n)) return '–'
  const sign = n < 0 ? '-' : ''
  let v = Math.abs(n)
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2
  return `${sign}${v.toFixed(digits)} ${units[u]}`
}

/** Milliseconds as ms / s / min / h / days. */
function duration(ms) {
  if (!Number.isFinite(ms)) return '–'
  const a = Math.abs(ms)
  if (a < 1000) return `${ms.toFixed(a < 10 ? 1 : 0)} ms`
  if (a < 60_000) return `${(ms / 1000).toFixed(1)} s`
  if (a < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`
  if (a < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${(ms / 86_400_000).toFixed(1)} days`
}

/** Bytes per hour as e.g. "12.3 MB/h". */
function rate(bytesPerHour) {
  return Number.isFinite(bytesPerHour) ? `${bytes(bytesPerHour)}/h` : '–'
}

/** A sampled allocation frame as a stack trace names it: `fn (file:line:col)`, or `fn` for V8's own. */
function frame(f) {
  const where = f.script ? ` (${String(f.script).replace(/^file:\/\//, '')}${f.line ? `:${f.line}:${f.column}` : ''})` : ''
  return `${f.function || '(anonymous)'}${where}`
}

/** A leak event's allocation sites that grew and have a frame to name. */
function grownSites(sites) {
  return Array.isArray(sites) ? sites.filter((s) => s.bytes > 0 && Array.isArray(s.frames) && s.frames.length) : []
}

/**
 * Why a leak has no suspects, as the watcher says it: the addon's message
 * names configure()'s option; under watch the bound is --suspects-max-heap.
 */
function suspectsSkipped(why) {
  return why
    .replace('raise suspectsMaxHeapBytes to allow it', 'allow it with watch --suspects-max-heap MB')
    .replace('startSampling() for', 'watch --sampling for')
}

module.exports = { bytes, duration, rate, frame, grownSites, suspectsSkipped }
