'use strict'

// One process of the leak-test benchmark: leakage's README examples (a sync
// `myLib.createInstance(); instance.doStuff('foo', 'bar')`, and an async
// `fetch()` + `response.json()` against a local server), each clean or
// leaky, checked `repeats` times in a row by leakage's iterate() or by
// memwatch-rs's assertNoLeak. Prints one JSON line: the time of each check
// (the check only: no process start, no server start) and its verdict.
//
// Usage: node leak-tests.js <memwatch-rs|leakage> <sync|async> <clean|leaky> [repeats]

const http = require('node:http')
const path = require('node:path')

const [tool, example, variant, repeatsArg] = process.argv.slice(2)
const repeats = Number(repeatsArg || 1)
const leaky = variant === 'leaky'

// leakage 0.5 from the test fixture, its memwatch (@aidemaster/node-memwatch)
// overridden to this package (bench/cases/70-leak-tests.js installs it).
const LEAKAGE = path.join(__dirname, '..', '..', '__test__', 'fixtures', 'leakage', 'node_modules', 'leakage')

/** leakage's README "myLib": an instance per call that does some work; the leaky one registers every instance. */
function makeLib() {
  const registry = []
  class Instance {
    constructor() {
      this.state = new Map()
      this.log = []
    }
    doStuff(a, b) {
      this.state.set(a, `${b}:${a}`)
      this.log.push({ a, b })
      if (leaky) registry.push(this)
      return this.state.size + this.log.length
    }
  }
  return { createInstance: () => new Instance() }
}

/** A JSON endpoint on 127.0.0.1 for the README's fetch example. */
function startServer() {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ok: true, items: [1, 2, 3], path: req.url }))
  })
  // Heap snapshots block the loop for seconds: a server closing idle
  // keep-alive sockets after its default 5 s could close one just as the
  // client reuses it ("fetch failed"). The client closes idle ones itself.
  server.keepAliveTimeout = 600_000
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

async function main() {
  let fn
  let server = null
  if (example === 'sync') {
    const myLib = makeLib()
    fn = () => {
      const instance = myLib.createInstance()
      instance.doStuff('foo', 'bar')
    }
  } else {
    server = await startServer()
    const url = `http://127.0.0.1:${server.address().port}/data`
    const kept = []
    fn = async () => {
      const response = await fetch(url)
      const body = await response.json()
      if (leaky) kept.push(body)
    }
  }

  let check
  let isLeak
  if (tool === 'leakage') {
    const { iterate, MemoryLeakError } = require(LEAKAGE)
    check = example === 'sync' ? async () => iterate(fn) : () => iterate.async(fn)
    isLeak = (e) => e instanceof MemoryLeakError
  } else {
    const { assertNoLeak, LeakError } = require('memwatch-rs/testing')
    check = () => assertNoLeak(fn)
    isLeak = (e) => e instanceof LeakError
  }

  const ms = []
  const verdicts = []
  const runs = []
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint()
    let verdict = 'pass'
    try {
      const calls = await check()
      if (calls && calls.runs) runs.push(calls.runs)
    } catch (err) {
      if (!isLeak(err)) throw err
      verdict = 'leak'
      if (err.calls) runs.push(err.calls.runs)
    }
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6)
    verdicts.push(verdict)
  }
  if (server) {
    server.closeAllConnections()
    server.close()
  }
  console.log(JSON.stringify({ ms: ms[0], allMs: ms, verdicts, runs, heapMB: process.memoryUsage().heapUsed / 2 ** 20 }))
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err)
  process.exit(1)
})
