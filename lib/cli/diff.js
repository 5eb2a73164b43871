'use strict'

// `memwatch-rs diff BEFORE AFTER`: the native streaming diff of two
// .heapsnapshot files (src/heap_diff/files.rs), printed as a table or JSON.

const format = require('./format.js')

/** The diff as memwatch's HeapDiff#end() shape; throws the native one-line error. */
function diffFiles(before, after) {
  return require('../native.js').diffSnapshotFiles(before, after)
}

/** The table printed for a diff, `top` rows at most (0 = all). */
function table(d, top) {
  const details = top > 0 ? d.change.details.slice(0, top) : d.change.details
  const count = (n) => n.toLocaleString('en-US')
  const rows = details.map((x) => [x.what, `+${count(x['+'])}`, `-${count(x['-'])}`, (x.size_bytes > 0 ? '+' : '') + format.bytes(x.size_bytes)])
  const header = ['what', 'new', 'freed', 'size change']
  const width = (i) => Math.max(header[i].length, ...rows.map((r) => r[i].length))
  const what = Math.min(width(0), 60)
  const cut = (s) => (s.length > what ? s.slice(0, what - 1) + '…' : s)
  const line = (r) => [cut(r[0]).padEnd(what), ...[1, 2, 3].map((i) => r[i].padStart(width(i)))].join('  ')
  const out = [
    `before: ${count(d.before.nodes)} nodes, ${format.bytes(d.before.size_bytes)}`,
    `after:  ${count(d.after.nodes)} nodes, ${format.bytes(d.after.size_bytes)}`,
    `change: ${(d.change.size_bytes > 0 ? '+' : '') + format.bytes(d.change.size_bytes)}, ${count(d.change.allocated_nodes)} new, ${count(d.change.freed_nodes)} freed (matched by object id)`,
    '',
    line(header),
    ...rows.map(line),
  ]
  const hidden = d.change.details.length - details.length
  if (hidden > 0) out.push(`… and ${hidden} more groups (--top 0 shows all)`)
  if (!rows.length) out.push('(no group changed)')
  return out.join('\n') + '\n'
}

/** Runs the command; returns the exit code. */
function diff(opts) {
  let d
  try {
    d = diffFiles(opts.before, opts.after)
  } catch (err) {
    process.stderr.write(`memwatch-rs diff: ${String(err.message).split('\n')[0]}\n`)
    return 2
  }
  if (opts.json) {
    if (opts.top > 0) d.change.details = d.change.details.slice(0, opts.top)
    process.stdout.write(JSON.stringify(d, null, 2) + '\n')
  } else {
    process.stdout.write(table(d, opts.top))
  }
  return 0
}

module.exports = { diff, diffFiles, table }
