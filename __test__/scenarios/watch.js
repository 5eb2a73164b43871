'use strict'
// Preload (`node -r ./watch.js scenario.js SECONDS`): attaches memwatch-rs
// to a scenario and prints one JSON line per `stats` / `leak` event, with t
// in ms since process start. LEAK_ONLY=1 attaches only a `leak` listener;
// WATCH_STATUS=1 adds the detector's status once a second; MEMWATCH_TEST_SAMPLING
// (startSampling's options as JSON) samples allocations, and leak lines then
// carry the sites.

const path = require('node:path')
const memwatch = require(process.env.MEMWATCH_RS || path.resolve(__dirname, '..', '..'))

if (process.env.MEMWATCH_TEST_CONFIG) memwatch.configure(JSON.parse(process.env.MEMWATCH_TEST_CONFIG))
if (process.env.MEMWATCH_TEST_SAMPLING) memwatch.startSampling(JSON.parse(process.env.MEMWATCH_TEST_SAMPLING))

const t0 = performance.timeOrigin
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
if (!process.env.LEAK_ONLY) {
  memwatch.on('stats', (s) => out({ type: 'stats', t: Math.round(s.gc_ts / 1000 - t0), base: s.current_base, limit: s.heap_size_limit, forced: s.forced }))
}
memwatch.on('leak', (l) => {
  const { start, end, ...figures } = l
  out({ type: 'leak', t: Math.round(end.getTime() - t0), start: Math.round(start.getTime() - t0), ...figures })
})
if (process.env.WATCH_STATUS) {
  // The detector's estimate once a second (WATCH_STATUS=1).
  setInterval(() => out({ type: 'status', t: Math.round(Date.now() - t0), ...memwatch.leakStatus() }), 1000).unref()
}
