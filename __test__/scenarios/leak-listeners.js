'use strict';
// EventEmitter listener leak: every request subscribes to a long-lived "config
// changed" bus so it can react mid-flight, and never unsubscribes. Each listener
// closure keeps its request context (~7 KiB) alive. ~1000 requests/s, so ~7 MB/s
// (RATE_MB_S to change) are retained, on top of short-lived request garbage.
// usage: node leak-listeners.js [seconds=60]   (env: RATE_MB_S=7, ROWS=20 rows
// of short-lived response garbage per request)
const { EventEmitter } = require('events');
const DURATION_S = Number(process.argv[2] || 60);
const RATE_MB_S = Number(process.env.RATE_MB_S || 7);
const TICK_MS = 10;
const ROWS = Number(process.env.ROWS || 20); // rows per response: short-lived garbage per request
const CTX_BYTES = 7300; // measured retained size of one context + listener (see REPORT.md)
const PER_MS = (RATE_MB_S * 1048576) / CTX_BYTES / 1000;

const config = new EventEmitter();
config.setMaxListeners(0);
let made = 0;

function handle(i) {
  const ctx = {
    id: i,
    started: Date.now(),
    headers: { host: 'svc.local', 'x-request-id': 'req-' + i, accept: 'application/json' },
    buffer: new Array(880).fill(i & 0x3fff), // parsed body, kept for retries
    stale: false,
  };
  config.on('change', () => { ctx.stale = true; }); // the bug: never removed
  const rows = [];
  for (let k = 0; k < ROWS; k++) rows.push({ id: i * 100 + k, name: 'item-' + i + '/' + k, score: (i * 31 + k) % 97 });
  return JSON.stringify({ ok: true, rows }).length;
}

const t0 = performance.now();
let sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * PER_MS) - made, 1000);
  for (let n = 0; n < due; n++) { sink += handle(made); made++; }
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    console.error(`leak-listeners: ${config.listenerCount('change')} listeners, sink ${sink % 1000}`);
  }
}, TICK_MS);
