'use strict'

// `memwatch-rs` (bin/memwatch-rs.js): reads the command line, runs the
// command, and returns the exit code. Usage errors exit with 2.

const { parseCommandLine, UsageError, HELP } = require('./args.js')

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv) {
  let cmd
  try {
    cmd = parseCommandLine(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    const where = err.command ? ` ${err.command}` : ''
    process.stderr.write(`memwatch-rs${where}: ${err.message}\nRun 'memwatch-rs${where} --help' for usage.\n`)
    return 2
  }
  switch (cmd.command) {
    case 'help':
      process.stdout.write(HELP[cmd.topic] + '\n')
      return 0
    case 'version':
      process.stdout.write(require('../../package.json').version + '\n')
      return 0
    case 'diff':
      return require('./diff.js').diff(cmd)
    case 'watch':
      return require('./watch.js').watch(cmd)
  }
  return 2
}

module.exports = { main }
