#!/usr/bin/env node
'use strict'

// The `memwatch-rs` command (npx memwatch-rs ...): see lib/cli/.
require('../lib/cli/main.js')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code
  })
