'use strict';
// Retention-chain leak: a service keeps an "audit trail" as a linked list and
// never trims it. Each handled request appends one ~1 KiB record that points
// at the previous one, so nothing in the chain can ever be collected.
// Retains ~7 MB/s (RATE_MB_S to change) on top of short-lived request garbage.
// usage: node leak-chain.js [seconds=60]   (env: RATE_MB_S=7, ROWS=20 rows of
// short-lived response garbage per request)
const DURATION_S = Number(process.argv[2] || 60);
const RATE_MB_S = Number(process.env.RATE_MB_S || 7);
const TICK_MS = 10;
const ROWS = Number(process.env.ROWS || 20); // rows per response: short-lived garbage per request
const ITEM_BYTES = 1100; // measured retained size of one record (see REPORT.md)
const PER_MS = (RATE_MB_S * 1048576) / ITEM_BYTES / 1000;

let head = null; // the leak
let made = 0;

function record(i, prev) {
  return { prev, id: i, at: Date.now(), user: 'user-' + (i % 5000), samples: new Array(118).fill(i & 0x3fff) };
}

// Ordinary request work: parse a body, build a response, throw both away.
function handle(i) {
  const body = JSON.parse('{"q":"item-' + i + '","limit":' + ROWS + ',"tags":["a","b","c"]}');
  const rows = [];
  for (let k = 0; k < body.limit; k++) rows.push({ id: i * 100 + k, name: body.q + '/' + k, score: (i * 31 + k) % 97 });
  return JSON.stringify({ ok: true, rows }).length;
}

const t0 = performance.now();
let sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * PER_MS) - made, 5000);
  for (let n = 0; n < due; n++) {
    sink += handle(made);
    head = record(made, head);
    made++;
  }
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    console.error(`leak-chain: ${made} records, sink ${sink % 1000}`);
  }
}, TICK_MS);
