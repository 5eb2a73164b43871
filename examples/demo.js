'use strict'

// A small service with a leak: every tick it handles some "requests" and,
// by mistake, keeps each one in a module-level list. memwatch-rs prints one
// line per full GC and reports the leak when the detector is sure.

const memwatch = require('..')

const mb = (n) => (n / 1024 / 1024).toFixed(1).padStart(6) + ' MB'
const started = Date.now()
const since = () => ((Date.now() - started) / 1000).toFixed(1).padStart(5) + 's'

memwatch.on('stats', (s) => {
  console.log(
    `${since()}  stats: full GC #${s.num_full_gc}  base ${mb(s.current_base)}  ` +
      `avg ${mb(s.estimated_base)}  trend ${s.usage_trend.toFixed(1)}%  pause ${s.pause_ms.toFixed(1)} ms`,
  )
})

memwatch.on('leak', (info) => {
  console.log(`${since()}  LEAK: ${info.reason}`)
  console.log(`        grew ${mb(info.growth)} between ${info.start.toISOString()} and ${info.end.toISOString()}`)
  clearInterval(timer)
})

const history = [] // the bug: nothing ever removes from here
let served = 0

function handle(i) {
  const req = { id: i, path: '/items/' + i, headers: { 'user-agent': 'demo', accept: '*/*' }, body: 'x'.repeat(200) }
  history.push(req)
  return req.path.length
}

console.log(`memwatch-rs demo (backend: ${memwatch.backend}); leaking ~6 MB/s, waiting for the leak event...`)
const timer = setInterval(() => {
  for (let i = 0; i < 2000; i++) handle(served++)
}, 100)

setTimeout(() => {
  console.log(`${since()}  no leak reported within 60 s`)
  process.exit(1)
}, 60_000).unref()
