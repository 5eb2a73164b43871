'use strict';
// Sawtooth: a per-interval aggregation cache that fills at ~5 MB/s (RATE_MB_S)
// and is cleared wholesale every 10 s when the interval is flushed, under the
// usual short-lived request load. Grows ~50 MB, drops to ~0, repeats. Bounded.
// usage: node sawtooth.js [seconds=60]
const DURATION_S = Number(process.argv[2] || 60);
const RATE_MB_S = Number(process.env.RATE_MB_S || 5);
const FLUSH_MS = Number(process.env.FLUSH_MS || 10000);
const TICK_MS = 10;
const ITEM_BYTES = 1130;
const PER_MS = (RATE_MB_S * 1048576) / ITEM_BYTES / 1000;

let bucket = new Map();
let flushes = 0;
function handle(i) {
  bucket.set(i, { key: i, at: Date.now(), user: 'user-' + (i % 5000), samples: new Array(118).fill(i & 0x3fff) });
  const rows = [];
  for (let k = 0; k < 20; k++) rows.push({ id: i * 100 + k, name: 'item-' + i + '/' + k, score: (i * 31 + k) % 97 });
  return JSON.stringify({ ok: true, rows }).length;
}

const t0 = performance.now();
let lastFlush = t0;
let made = 0, sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * PER_MS) - made, 5000);
  for (let n = 0; n < due; n++) { sink += handle(made); made++; }
  if (now - lastFlush >= FLUSH_MS) { bucket = new Map(); lastFlush = now; flushes++; }
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    console.error(`sawtooth: ${made} items, ${flushes} flushes, sink ${sink % 1000}`);
  }
}, TICK_MS);
