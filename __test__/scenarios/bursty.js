'use strict';
// Bursty but bounded: steady request load (~7000 requests/s of short-lived
// garbage) plus a report job every 5 s that builds a large temporary table
// (300,000 rows, ~35 MiB) over ~1 s in chunks, aggregates it, holds it for
// another ~1 s (as if waiting on an upload) and then drops it. Nothing leaks.
// usage: node bursty.js [seconds=60]
const DURATION_S = Number(process.argv[2] || 60);
const TICK_MS = 10;
const REQ_PER_MS = 7;
const JOB_EVERY_MS = 5000, JOB_ROWS = 300000, JOB_BUILD_MS = 1000, JOB_HOLD_MS = 1000;

function handle(i) {
  const rows = [];
  for (let k = 0; k < 20; k++) rows.push({ id: i * 100 + k, name: 'item-' + i + '/' + k, score: (i * 31 + k) % 97 });
  return JSON.stringify({ ok: true, rows }).length;
}

let job = null; // { rows, started }
let jobs = 0;
function jobStep(now) {
  if (!job) {
    if (now - lastJob < JOB_EVERY_MS) return;
    lastJob = now; jobs++;
    job = { rows: [], started: now, total: 0 };
  }
  const want = Math.min(JOB_ROWS, Math.ceil(((now - job.started) / JOB_BUILD_MS) * JOB_ROWS));
  for (let r = job.rows.length; r < want; r++) {
    job.rows.push({ day: r % 365, region: 'r' + (r % 17), amount: (r * 7919) % 10007, label: 'row-' + r });
  }
  if (job.rows.length >= JOB_ROWS && job.total === 0) job.total = job.rows.reduce((s, x) => s + x.amount, 0) || 1;
  if (now - job.started >= JOB_BUILD_MS + JOB_HOLD_MS) job = null; // upload done, table dropped
}

const t0 = performance.now();
let lastJob = t0;
let made = 0, sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * REQ_PER_MS) - made, 5000);
  for (let n = 0; n < due; n++) { sink += handle(made); made++; }
  jobStep(now);
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    job = null;
    console.error(`bursty: ${made} requests, ${jobs} jobs, sink ${sink % 1000}`);
  }
}, TICK_MS);
