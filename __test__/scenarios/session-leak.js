'use strict'
// Session leak: a service logs users in and keeps each `Session` in a Map
// that nothing ever prunes (the bug: logout and expiry forget to delete).
// Around it, ordinary work: a bounded cache of `CacheEntry` objects that
// churns, and short-lived request garbage. ~SESSIONS_PER_S sessions per
// second (default 4000, about 1 MB/s with their strings and map entries).
// usage: node session-leak.js [seconds=30]   (env: SESSIONS_PER_S=4000,
// CHURN_MB_S=5)
const churn = require('./churn')

const DURATION_S = Number(process.argv[2] || 30)
const PER_S = Number(process.env.SESSIONS_PER_S || 4000)
const CACHE_SIZE = 20000

class Session {
  constructor(id, user) {
    this.id = id
    this.user = user
    this.createdAt = Date.now()
    this.lastSeen = this.createdAt
    this.roles = ['reader']
    this.prefs = { theme: 'dark' }
  }
}

class CacheEntry {
  constructor(key, value) {
    this.key = key
    this.value = value
    this.hits = 0
  }
}

const sessions = new Map() // the leak
const cache = new Map() // bounded
let made = 0

function login(i) {
  const s = new Session(i, 'user-' + i)
  sessions.set(s.id, s)
  const key = 'k' + (i % (CACHE_SIZE * 2))
  if (!cache.has(key)) {
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value)
    cache.set(key, new CacheEntry(key, { n: i }))
  }
  cache.get(key).hits++
}

const stopChurn = churn(Number(process.env.CHURN_MB_S || 5))
const t0 = performance.now()
const timer = setInterval(() => {
  const now = performance.now()
  const due = Math.min(Math.floor(((now - t0) * PER_S) / 1000) - made, 5000)
  for (let n = 0; n < due; n++) login(made++)
  if (now - t0 >= DURATION_S * 1000) {
    clearInterval(timer)
    stopChurn()
    console.error(`session-leak: ${sessions.size} sessions, cache ${cache.size}`)
  }
}, 10)
