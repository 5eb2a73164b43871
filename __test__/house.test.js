'use strict'

// The rules of the house, checked on the sources: `unsafe` lives only in
// src/ffi/, and no two modules import each other (at the crate's top level
// and between siblings inside each folder). The README's architecture note
// describes the layering this keeps.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT } = require('./helpers')

const SRC = path.join(ROOT, 'src')

/** Every .rs file under src/, tests included, as paths relative to src/. */
function sources() {
  return fs
    .readdirSync(SRC, { recursive: true })
    .filter((f) => f.endsWith('.rs'))
    .map((f) => f.split(path.sep).join('/'))
    .sort()
}

/** Source text without comments and string contents (keeps line structure). */
function code(file) {
  const text = fs.readFileSync(path.join(SRC, file), 'utf8')
  return text
    .replace(/r#*"[\s\S]*?"#*/g, '""')
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\/\/.*$/gm, '')
}

/** The module path of a file: `gc/leak/mod.rs` → `gc::leak`, `gc/stats.rs` → `gc::stats`. */
function modulePath(file) {
  return file
    .replace(/\.rs$/, '')
    .replace(/(^|\/)(mod|lib)$/, '')
    .split('/')
    .filter(Boolean)
}

test('unsafe code lives only in src/ffi/', () => {
  const lib = fs.readFileSync(path.join(SRC, 'lib.rs'), 'utf8')
  assert.match(lib, /^#!\[deny\(unsafe_code\)\]$/m, 'lib.rs denies unsafe code for the whole crate')
  const outside = []
  for (const file of sources()) {
    const text = code(file)
    if (!/\bunsafe\b|allow\(unsafe_code\)|no_mangle/.test(text)) continue
    if (!file.startsWith('ffi/')) outside.push(file)
  }
  assert.deepEqual(outside, [], 'files outside src/ffi/ with unsafe code')
  const allowed = sources().filter((f) => /allow\(unsafe_code\)/.test(fs.readFileSync(path.join(SRC, f), 'utf8')))
  assert.deepEqual(allowed, ['ffi/mod.rs'], 'only the ffi module is exempt')
})

/** Edges between modules at one level: `level` is the folder's module path. */
function edges(level) {
  const files = sources().filter((f) => !/_tests\.rs$|(^|\/)tests\.rs$/.test(f))
  const depth = level.length
  const graph = new Map()
  for (const file of files) {
    const mod = modulePath(file)
    if (mod.length <= depth || level.some((part, i) => mod[i] !== part)) continue
    const from = mod[depth]
    if (!graph.has(from)) graph.set(from, new Set())
    const text = code(file)
    // crate::a::b… references, and super::x from a file directly in the folder
    for (const [, p] of text.matchAll(/\bcrate((?:::\w+)+)/g)) {
      const parts = p.split('::').filter(Boolean)
      if (parts.length > depth && level.every((part, i) => parts[i] === part)) {
        const to = parts[depth]
        if (to !== from) graph.get(from).add(to)
      }
    }
    if (mod.length === depth + 1) {
      for (const [, to] of text.matchAll(/\bsuper::(\w+)/g)) {
        if (to !== from && to !== 'super') graph.get(from).add(to)
      }
    }
  }
  const known = new Set(graph.keys())
  for (const set of graph.values()) for (const to of [...set]) if (!known.has(to)) set.delete(to)
  return graph
}

function findCycle(graph) {
  const state = new Map()
  const stack = []
  function visit(node) {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) || []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next]
      if (!state.has(next)) {
        const found = visit(next)
        if (found) return found
      }
    }
    stack.pop()
    state.set(node, 'done')
    return null
  }
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node)
      if (found) return found
    }
  }
  return null
}

test('no two modules import each other: top level and inside each folder', () => {
  const folders = [[]]
  for (const file of sources()) {
    const mod = modulePath(file)
    if (file.endsWith('/mod.rs')) folders.push(mod)
  }
  const seen = []
  for (const level of folders) {
    const graph = edges(level)
    const cycle = findCycle(graph)
    assert.equal(cycle, null, `import cycle in ${level.join('::') || 'the crate'}: ${cycle && cycle.join(' -> ')}`)
    seen.push(level.join('::') || 'crate')
  }
  assert.ok(seen.includes('ffi') && seen.includes('gc') && seen.includes('heap_diff'), seen.join(', '))
  // The pure modules never reach into the FFI or N-API.
  for (const file of sources().filter((f) => /^(gc|text|env_flags)\b/.test(f))) {
    assert.doesNotMatch(code(file), /\bcrate::(ffi|api|isolate)\b|\bnapi\b/, `${file} is pure logic`)
  }
})
