'use strict'

// Command-line parsing for `memwatch-rs`: which command, its options (node's
// own parseArgs, strict), and the program to run for `watch`. Errors are
// UsageError (exit code 2) with a message that says what to type instead.

const { parseArgs } = require('node:util')

class UsageError extends Error {
  constructor(message, command) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

const HELP = {
  main: `memwatch-rs: watch a Node program's heap, or diff two heap snapshots

Usage:
  memwatch-rs watch [options] -- <command> [args...]
  memwatch-rs diff [options] BEFORE.heapsnapshot AFTER.heapsnapshot
  memwatch-rs help [watch|diff]
  memwatch-rs --version

Commands:
  watch   run a program with memwatch-rs preloaded (no code change): one line
          per full GC and every leak on stderr, an HTML report of the heap's
          story on exit, on Ctrl-C and on demand (kill -USR2 <watcher pid>)
  diff    what changed between two .heapsnapshot files, matched exactly by
          object id and grouped by constructor; streams both files

Run 'memwatch-rs <command> --help' for a command's options.`,

  watch: `Usage: memwatch-rs watch [options] [--] <command> [args...]

Runs <command> (node app.js, npm start, any launcher) with memwatch-rs
preloaded into every Node process and worker thread it starts
(NODE_OPTIONS=--require), without changing its code. Prints one line per
full GC and every leak event to stderr (the program's stdout stays its own),
and writes a report when the program exits, on Ctrl-C, and whenever the
watcher gets SIGUSR2 (kill -USR2 <watcher pid>; the pid is printed at start).

Options:
  --report FILE.html  where to write the HTML report (default:
                      memwatch-rs-report-<time>.html in the current folder)
  --json FILE         also write the report's data as JSON
  --census            add a heap census (object counts by constructor) at
                      start and at each report (each pauses the program
                      about 12 ms per MB of live heap, on any heap size)
  --sampling          run V8's sampling heap profiler in every process and
                      worker: each leak names the allocation sites (function,
                      file:line) whose live memory grew (about 1% of a core
                      per GiB/s the program allocates; yields to a program
                      that starts sampling itself)
  --suspects-max-heap MB
                      take the censuses behind each leak's suspects on live
                      heaps up to MB megabytes (default 128; 0 = never).
                      Each pauses the program about 12 ms and needs about
                      1.25 MB of memory per MB of live heap
  --quiet             no line per full GC (leak events are still printed)
  -h, --help          this help

SIGINT, SIGTERM and SIGHUP are passed to the program; the watcher exits with
the program's exit code (128 + the signal's number if a signal ended it,
127 if the program could not be started, 2 for a usage error).`,

  diff: `Usage: memwatch-rs diff [options] BEFORE.heapsnapshot AFTER.heapsnapshot

Diffs two V8 heap snapshot files (DevTools, v8.writeHeapSnapshot(),
--heapsnapshot-near-heap-limit) exactly by object id, reading both as
streams: memory use stays a fraction of the files' size. Prints memwatch's
diff: per constructor, objects new (+) and freed (-) and the bytes changed,
largest change first.

Options:
  --json           print the diff as JSON (memwatch's HeapDiff#end() shape)
  --top N          show only the N largest changes (default 20; 0 = all)
  --retainers N    who holds the new objects: up to N shortest paths from a
                   GC root (1 to 100) for each of the 5 groups with the most
                   new objects
  --group NAME     explain this group instead (a constructor name as the
                   table prints it; repeat for up to 10; alone it means
                   --retainers 3)
  -h, --help       this help

Exit codes: 0 done, 2 a file is missing, unreadable, not a heap snapshot or
truncated (one line on stderr names the file and the fault), or a usage error.`,
}

/** Options of the watch command: name -> parseArgs spec. */
const WATCH_OPTIONS = {
  report: { type: 'string' },
  json: { type: 'string' },
  census: { type: 'boolean' },
  sampling: { type: 'boolean' },
  'suspects-max-heap': { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
}

const DIFF_OPTIONS = {
  json: { type: 'boolean' },
  top: { type: 'string' },
  retainers: { type: 'string' },
  group: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
}

/** parseArgs, with its errors turned into UsageErrors for `command`. */
function parse(command, args, options, allowPositionals) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (err) {
    const option = /'([^']*)'/.exec(String(err.message))
    const message =
      err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option
        ? `unknown option '${option[1]}'`
        : err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && option
          ? `unexpected argument '${option[1]}'`
          : String(err.message).split('\n')[0]
    throw new UsageError(message, command)
  }
}

/**
 * Splits `watch`'s arguments into its own options and the program's
 * command: everything after `--`, or from the first argument that is not an
 * option of watch (so `watch node --inspect app.js` works too).
 */
function splitCommand(args) {
  const takesValue = new Set(Object.entries(WATCH_OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`))
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--') return { own: args.slice(0, i), command: args.slice(i + 1) }
    if (!a.startsWith('-') || a === '-') return { own: args.slice(0, i), command: args.slice(i) }
    if (takesValue.has(a)) i++
  }
  return { own: args, command: [] }
}

/**
 * Parses the whole command line (without node and the script).
 * Returns { command: 'help' | 'version' | 'watch' | 'diff', ... }.
 */
function parseCommandLine(argv) {
  const [first, ...rest] = argv
  if (first === undefined || first === '-h' || first === '--help') return { command: 'help', topic: 'main' }
  if (first === '--version' || first === '-v') return { command: 'version' }
  if (first === 'help') {
    const topic = rest[0] || 'main'
    if (!HELP[topic]) throw new UsageError(`no help for '${topic}': the commands are watch and diff`)
    return { command: 'help', topic }
  }
  if (first === 'watch') {
    const { own, command } = splitCommand(rest)
    const { values } = parse('watch', own, WATCH_OPTIONS, false)
    if (values.help) return { command: 'help', topic: 'watch' }
    if (!command.length) throw new UsageError('no program to run: memwatch-rs watch -- <command> [args...]', 'watch')
    for (const name of ['report', 'json']) {
      if (values[name] !== undefined && values[name].trim() === '') throw new UsageError(`--${name} needs a file name`, 'watch')
    }
    let suspectsMaxHeapMB = null
    const maxHeap = values['suspects-max-heap']
    if (maxHeap !== undefined) {
      suspectsMaxHeapMB = Number(maxHeap)
      if (!/^\d+$/.test(maxHeap) || suspectsMaxHeapMB >= 2 ** 33) {
        throw new UsageError(`--suspects-max-heap needs a whole number of megabytes (0 = never), got '${maxHeap}'`, 'watch')
      }
    }
    return {
      command: 'watch',
      program: command,
      suspectsMaxHeapMB,
      report: values.report,
      json: values.json,
      census: Boolean(values.census),
      sampling: Boolean(values.sampling),
      quiet: Boolean(values.quiet),
    }
  }
  if (first === 'diff') {
    const { values, positionals } = parse('diff', rest, DIFF_OPTIONS, true)
    if (values.help) return { command: 'help', topic: 'diff' }
    if (positionals.length !== 2) {
      throw new UsageError(`expected two snapshot files (BEFORE AFTER), got ${positionals.length}`, 'diff')
    }
    let top = 20
    if (values.top !== undefined) {
      top = Number(values.top)
      if (!/^\d+$/.test(values.top) || !Number.isSafeInteger(top)) {
        throw new UsageError(`--top needs a whole number of rows (0 = all), got '${values.top}'`, 'diff')
      }
    }
    // The addon's bounds (loaded only when asked: help and plain diffs parse without it).
    const limits = () => require('../native.js')
    let retainers = null
    if (values.retainers !== undefined) {
      const MAX_PATHS = limits().MAX_RETAINER_PATHS
      retainers = Number(values.retainers)
      if (!/^\d+$/.test(values.retainers) || retainers < 1 || retainers > MAX_PATHS) {
        throw new UsageError(`--retainers needs a whole number of paths per group, 1 to ${MAX_PATHS}, got '${values.retainers}'`, 'diff')
      }
    }
    const groups = values.group || null
    if (groups) {
      const { MAX_RETAINER_GROUPS: MAX_GROUPS, MAX_GROUP_NAME_CHARS: MAX_GROUP_CHARS } = limits()
      if (groups.length > MAX_GROUPS) throw new UsageError(`--group can be given at most ${MAX_GROUPS} times, got ${groups.length}`, 'diff')
      for (const g of groups) {
        if (g.length === 0 || g.length > MAX_GROUP_CHARS) throw new UsageError(`--group needs a group name of 1 to ${MAX_GROUP_CHARS} characters, got ${g.length}`, 'diff')
      }
      if (retainers === null) retainers = 3
    }
    return { command: 'diff', before: positionals[0], after: positionals[1], json: Boolean(values.json), top, retainers, groups }
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}' (before a command)`)
  throw new UsageError(`unknown command '${first}': the commands are watch and diff`)
}

module.exports = { parseCommandLine, UsageError, HELP }
