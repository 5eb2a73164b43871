'use strict';
// Slow leak: a "pending requests" map whose entries are deleted on success but
// not on one error path. ~1 in 25 requests takes that path, so ~270 entries of
// ~1.1 KiB stay behind per second: ~0.3 MB/s (RATE_MB_S) retained, under the
// same short-lived request load as the other scenarios (~7000 requests/s).
// usage: node leak-slow.js [seconds=120]
const DURATION_S = Number(process.argv[2] || 120);
const RATE_MB_S = Number(process.env.RATE_MB_S || 0.3);
const TICK_MS = 10;
const ITEM_BYTES = 1105;
const REQ_PER_MS = 7;
const FAIL_EVERY = Math.max(1, Math.round((REQ_PER_MS * 1000 * ITEM_BYTES) / (RATE_MB_S * 1048576)));

const pending = new Map();
function handle(i) {
  const id = 'req-' + i;
  pending.set(id, { id: i, started: Date.now(), route: '/api/v1/items/' + (i % 300), attempts: 1, trace: new Array(110).fill(i & 0x3fff) });
  const rows = [];
  for (let k = 0; k < 20; k++) rows.push({ id: i * 100 + k, name: 'item-' + i + '/' + k, score: (i * 31 + k) % 97 });
  const out = JSON.stringify({ ok: true, rows }).length;
  if (i % FAIL_EVERY !== 0) pending.delete(id); // the error path forgets this
  return out;
}

const t0 = performance.now();
let made = 0, sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * REQ_PER_MS) - made, 5000);
  for (let n = 0; n < due; n++) { sink += handle(made); made++; }
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    console.error(`leak-slow: ${made} requests, ${pending.size} pending left behind, sink ${sink % 1000}`);
  }
}, TICK_MS);
