'use strict';
// Idle-ish server: an HTTP server on a local port that only gets a health
// check every 2 s (from itself), plus a 1 s housekeeping timer that samples
// process metrics into a fixed-size ring. Almost no allocation; nothing leaks.
// usage: node idle.js [seconds=60]
const http = require('http');
const DURATION_S = Number(process.argv[2] || 60);

const ring = new Array(300).fill(null);
let slot = 0;
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ ok: true, uptime: process.uptime(), mem: process.memoryUsage() }));
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  const agent = new http.Agent({ keepAlive: true });
  const health = setInterval(() => {
    http.get({ host: '127.0.0.1', port, path: '/health', agent }, (res) => { res.resume(); }).on('error', () => {});
  }, 2000);
  const house = setInterval(() => {
    ring[slot] = { t: Date.now(), mem: process.memoryUsage(), cpu: process.cpuUsage() };
    slot = (slot + 1) % ring.length;
  }, 1000);
  setTimeout(() => {
    clearInterval(health); clearInterval(house); agent.destroy(); server.close();
    console.error('idle: done');
  }, DURATION_S * 1000);
});
