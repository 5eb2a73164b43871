'use strict'

// `memwatch-rs diff BEFORE AFTER`: the native streaming diff of two
// .heapsnapshot files (src/heap_diff/files.rs), printed as a table or JSON.

const format = require('./format.js')

/**
 * The diff as memwatch's HeapDiff#end() shape, with `retainers` paths per
 * explained group (the 5 that grew most, or `groups`) when given; throws
 * the native one-line error.
 */
function diffFiles(before, after, retainers = null, groups = null) {
  return require('../native.js').diffSnapshotFiles(before, after, retainers ?? undefined, groups ?? undefined)
}

/**
 * The table printed for a diff, `top` rows at most (0 = all); under each
 * explained group, its retainer paths.
 */
function table(d, top, { retainers = null, groups = null } = {}) {
  const details = top > 0 ? d.change.details.slice(0, top) : d.change.details
  const count = (n) => n.toLocaleString('en-US')
  const rows = details.map((x) => [x.what, `+${count(x['+'])}`, `-${count(x['-'])}`, (x.size_bytes > 0 ? '+' : '') + format.bytes(x.size_bytes)])
  const header = ['what', 'new', 'freed', 'size change']
  const width = (i) => Math.max(header[i].length, ...rows.map((r) => r[i].length))
  const what = Math.min(width(0), 60)
  const cut = (s) => (s.length > what ? s.slice(0, what - 1) + '…' : s)
  const line = (r) => [cut(r[0]).padEnd(what), ...[1, 2, 3].map((i) => r[i].padStart(width(i)))].join('  ')
  const paths = (x) =>
    (x.retainers || []).map((r) => `    ${`${count(r.count)}×`.padStart(7)} ${r.path}`)
  const out = [
    `before: ${count(d.before.nodes)} nodes, ${format.bytes(d.before.size_bytes)}`,
    `after:  ${count(d.after.nodes)} nodes, ${format.bytes(d.after.size_bytes)}`,
    `change: ${(d.change.size_bytes > 0 ? '+' : '') + format.bytes(d.change.size_bytes)}, ${count(d.change.allocated_nodes)} new, ${count(d.change.freed_nodes)} freed (matched by object id)`,
    '',
    line(header),
    ...rows.flatMap((r, i) => [line(r), ...paths(details[i])]),
  ]
  const hidden = d.change.details.length - details.length
  if (hidden > 0) out.push(`… and ${hidden} more groups (--top 0 shows all)`)
  if (!rows.length) out.push('(no group changed)')
  // Groups explained but outside the rows shown, and named groups with nothing new.
  const shown = new Set(details)
  for (const x of d.change.details) {
    if (!shown.has(x) && x.retainers) out.push('', `${x.what.length > 60 ? x.what.slice(0, 59) + '…' : x.what} (not in the rows above):`, ...paths(x))
  }
  for (const g of groups || []) {
    if (!d.change.details.some((x) => x.what === g && x.retainers)) out.push(`(no path for ${g}: the after snapshot has no new object of that group)`)
  }
  if (retainers) out.push('', 'Paths: from a GC root to a sample of the group\'s new objects, the most common first; N× = sampled objects held that way.')
  return out.join('\n') + '\n'
}

/** Runs the command; returns the exit code. */
function diff(opts) {
  let d
  try {
    d = diffFiles(opts.before, opts.after, opts.retainers, opts.groups)
  } catch (err) {
    process.stderr.write(`memwatch-rs diff: ${String(err.message).split('\n')[0]}\n`)
    return 2
  }
  if (opts.json) {
    if (opts.top > 0) d.change.details = d.change.details.slice(0, opts.top)
    process.stdout.write(JSON.stringify(d, null, 2) + '\n')
  } else {
    process.stdout.write(table(d, opts.top, opts))
  }
  return 0
}

module.exports = { diff, diffFiles, table }
