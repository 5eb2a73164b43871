'use strict';
// Bounded LRU cache under steady churn: lookups hit a key space 4x larger than
// the cache, misses insert a fresh ~1 KiB entry and evict the least recently
// used one. Inserts run at ~7 MB/s (RATE_MB_S), the same allocation rate as the
// leak scenarios. The cache reaches its bound (25,000 entries, ~27 MB) within a
// few seconds and then stays flat: nothing leaks.
// usage: node churn-cache.js [seconds=60]
const DURATION_S = Number(process.argv[2] || 60);
const RATE_MB_S = Number(process.env.RATE_MB_S || 7);
const CAPACITY = Number(process.env.CAPACITY || 25000);
const KEYSPACE = CAPACITY * 4;
const TICK_MS = 10;
const ITEM_BYTES = 1100;
const PER_MS = (RATE_MB_S * 1048576) / ITEM_BYTES / 1000 / 0.75; // ~75% of lookups miss once full

const cache = new Map();
let seed = 12345;
function rand() { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return seed >>> 0; } // xorshift32

function lookup(key) {
  let v = cache.get(key);
  if (v !== undefined) { cache.delete(key); cache.set(key, v); return v; } // refresh recency
  v = { key, at: Date.now(), user: 'user-' + (key % 5000), samples: new Array(118).fill(key & 0x3fff) };
  cache.set(key, v);
  if (cache.size > CAPACITY) cache.delete(cache.keys().next().value); // evict LRU
  return v;
}

function handle(i) {
  const v = lookup(rand() % KEYSPACE);
  const rows = [];
  for (let k = 0; k < 20; k++) rows.push({ id: i * 100 + k, name: 'item-' + v.key + '/' + k, score: (i * 31 + k) % 97 });
  return JSON.stringify({ ok: true, rows }).length;
}

const t0 = performance.now();
let made = 0, sink = 0;
const timer = setInterval(() => {
  const now = performance.now();
  const due = Math.min(Math.floor((now - t0) * PER_MS) - made, 5000);
  for (let n = 0; n < due; n++) { sink += handle(made); made++; }
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer);
    console.error(`churn-cache: ${made} lookups, size ${cache.size}, sink ${sink % 1000}`);
  }
}, TICK_MS);
