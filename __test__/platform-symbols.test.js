'use strict'

// The logic of scripts/platform-symbols.js on small synthetic inputs: how it
// reads the symbol list out of Rust sources, and how it judges an export
// table. The real binaries are checked by running the script itself.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const ps = require('../scripts/platform-symbols.js')

const GET_CURRENT = '_ZN2v87Isolate10GetCurrentEv'
const OLD_TAKE = '_ZN2v812HeapProfiler16TakeHeapSnapshotEPNS_15ActivityControlEPNS0_18ObjectNameResolverEbb'
const NEW_TAKE = '_ZN2v812HeapProfiler16TakeHeapSnapshotEPNS_15ActivityControlEPNS0_19ContextNameResolverEbb'

const TABLE = `
//! the table; a comment naming "_ZN2v8NotAResolvedNameEv" is not a symbol
use std::ffi::CStr;
pub struct Layout { pub major: u32, pub size: usize, pub take: &'static CStr }
const OLD: &CStr =
    c"${OLD_TAKE}";
const NEW: &CStr = c"${NEW_TAKE}";
const TABLE: &[Layout] = &[
    Layout { major: 20, size: 112, take: OLD },
    Layout {
        major: 26,
        size: 120,
        take: NEW,
    },
];
pub const VERIFIED_MAJORS: [u32; 2] = [20, 26];
`

const API = `
use std::ffi::CStr;
fn resolve_all() -> Result<Api, Missing> {
    Ok(Api {
        get_current: symbol!("${GET_CURRENT}"),
        add: symbol!(
            "_ZN2v87Isolate21LowMemoryNotificationEv"
        ),
    })
}
pub fn trim() -> bool {
    match unsafe { resolve::<MallocTrimFn>(c"malloc_trim") } { Ok(_) => true, Err(_) => false }
}
fn names() { raw_function(env, owner, c"register", register)?; let s = "text"; let c = '"'; }
/* block comment "_ZN2v8Hidden1Ev" */
#[cfg(test)]
mod tests {
    const FAKE: &str = "_ZN2v84FakeEv";
}
`

const sources = (extra = []) => [
  { path: 'src/v8/table.rs', text: TABLE },
  { path: 'src/v8/mod.rs', text: API },
  ...extra,
]

const names = (list) => list.map((s) => s.name).sort()

test('the symbol list comes from the sources: literals, per-major table rows, plain C names', () => {
  const scan = ps.scanSources(sources())
  assert.deepEqual(scan.verifiedMajors, [20, 26])
  const byName = Object.fromEntries(scan.symbols.map((s) => [s.name, s]))
  assert.deepEqual(
    names(scan.symbols),
    [GET_CURRENT, '_ZN2v87Isolate21LowMemoryNotificationEv', OLD_TAKE, NEW_TAKE, 'malloc_trim'].sort(),
    'comments, test modules and ordinary strings are not symbols'
  )
  assert.equal(byName[GET_CURRENT].majors, null)
  assert.deepEqual(byName[OLD_TAKE].majors, [20])
  assert.deepEqual(byName[NEW_TAKE].majors, [26])
  assert.equal(byName.malloc_trim.kind, 'plain')
  assert.equal(byName[GET_CURRENT].kind, 'itanium')
})

test('each major gets the common symbols and its own row; an unverified major gets every alternative', () => {
  const scan = ps.scanSources(sources())
  const for20 = names(ps.symbolsFor(scan, 'linux-x64', 20))
  assert.ok(for20.includes(OLD_TAKE) && !for20.includes(NEW_TAKE))
  const for26 = names(ps.symbolsFor(scan, 'linux-x64', 26))
  assert.ok(for26.includes(NEW_TAKE) && !for26.includes(OLD_TAKE))
  const for25 = ps.symbolsFor(scan, 'linux-x64', 25)
  assert.deepEqual(
    for25.filter((s) => s.alternative).map((s) => s.name).sort(),
    [OLD_TAKE, NEW_TAKE].sort()
  )
})

test('a #[cfg] above a literal limits it to the platforms where it holds', () => {
  const scan = ps.scanSources(
    sources([
      {
        path: 'src/v8/sampling.rs',
        text: `
#[cfg(not(target_os = "macos"))]
const START: &CStr = c"_ZN2v812HeapProfiler25StartSamplingHeapProfilerEmiNS0_13SamplingFlagsE";
/// doc comment between the attribute and the item
#[cfg(target_os = "macos")]
const START: &CStr =
    c"_ZN2v812HeapProfiler25StartSamplingHeapProfilerEyiNS0_13SamplingFlagsE";
`,
      },
    ])
  )
  const has = (platform, suffix) =>
    ps.symbolsFor(scan, platform, 26).some((s) => s.name.endsWith(suffix) && s.name.includes('StartSampling'))
  assert.ok(has('linux-arm64', 'EmiNS0_13SamplingFlagsE'))
  assert.ok(!has('linux-arm64', 'EyiNS0_13SamplingFlagsE'))
  assert.ok(has('darwin-arm64', 'EyiNS0_13SamplingFlagsE'))
  assert.ok(!has('darwin-x64', 'EmiNS0_13SamplingFlagsE'))
  assert.ok(has('win-x64', 'EmiNS0_13SamplingFlagsE'))
})

test('cfg predicates are evaluated, and an unknown one is an error', () => {
  const mac = ps.PLATFORMS['darwin-arm64'].cfg
  const win = ps.PLATFORMS['win-x64'].cfg
  assert.equal(ps.evalCfg('unix', mac), true)
  assert.equal(ps.evalCfg('windows', mac), false)
  assert.equal(ps.evalCfg('all(unix, not(target_os = "macos"))', mac), false)
  assert.equal(ps.evalCfg('any(target_env = "msvc", target_arch = "aarch64")', win), true)
  assert.equal(ps.evalCfg('test', win), false)
  assert.throws(() => ps.evalCfg('feature = "x"', win), ps.SourceError)
  assert.throws(() => ps.evalCfg('sanitize(address)', win), ps.SourceError)
})

test('a source layout the check does not understand stops it with an error', () => {
  const withoutMajors = [{ path: 'a.rs', text: TABLE.replace(/pub const VERIFIED_MAJORS.*\n/, '') }]
  assert.throws(() => ps.scanSources(withoutMajors), /VERIFIED_MAJORS/)
  const mismatch = [{ path: 'a.rs', text: TABLE.replace('[20, 26]', '[20, 24, 26]') }]
  assert.throws(() => ps.scanSources(mismatch), /do not match VERIFIED_MAJORS/)
  const noRows = [{ path: 'a.rs', text: 'pub const VERIFIED_MAJORS: [u32; 1] = [20];\nconst A: &str = "_ZN2v81AEv";' }]
  assert.throws(() => ps.scanSources(noRows), /table rows/)
  const msvcLiteral = sources([{ path: 'w.rs', text: 'const W: &CStr = c"?GetCurrent@Isolate@v8@@SAPEAV12@XZ";' }])
  assert.throws(() => ps.scanSources(msvcLiteral), /MSVC-decorated literal/)
  // a `{ major: N, .. }` literal away from VERIFIED_MAJORS is not a table row
  const version = sources([{ path: 'v.rs', text: 'const V: Version = Version { major: 24, minor: 1 };' }])
  assert.deepEqual(ps.scanSources(version).verifiedMajors, [20, 26])
  const perMajorUsedElsewhere = sources([{ path: 'x.rs', text: 'fn f() { let _ = NEW; }' }])
  assert.throws(() => ps.scanSources(perMajorUsedElsewhere), /selected per major .* also used elsewhere/)
})

test("the addon's own sources are understood: one TakeHeapSnapshot name per verified major", () => {
  const scan = ps.scanSources(ps.readSources(path.join(__dirname, '..', 'src')))
  assert.ok(scan.verifiedMajors.length >= 1)
  for (const major of scan.verifiedMajors) {
    const take = ps.symbolsFor(scan, 'linux-x64', major).filter((s) => s.name.includes('TakeHeapSnapshot'))
    assert.equal(take.length, 1, `Node ${major}: ${take.map((s) => s.name)}`)
  }
  assert.ok(scan.symbols.some((s) => s.name === GET_CURRENT))
})

/** Runs checkBinary for one platform against a fake export list. */
function check(platform, major, exported, { msvc = {}, needed = ['libc.so.6'], sigs = {} } = {}) {
  const scan = ps.scanSources(sources())
  return ps.checkBinary({
    platform,
    major,
    symbols: ps.symbolsFor(scan, platform, major),
    exp: { names: new Set(exported), needed },
    msvc,
    sigOf: () => null,
    candidatesBySig: (sig) => sigs[sig] || [],
    candidatesByName: () => [],
  }).rows
}

const ALL_ELF_26 = [GET_CURRENT, '_ZN2v87Isolate21LowMemoryNotificationEv', NEW_TAKE]

test('a symbol missing from an export list is flagged, for that platform and major only', () => {
  const ok = check('linux-arm64', 26, ALL_ELF_26)
  assert.deepEqual(ok.filter((r) => ps.failing(r, true)), [])
  const rows = check('linux-arm64', 26, ALL_ELF_26.filter((n) => n !== GET_CURRENT))
  const bad = rows.filter((r) => ps.failing(r, true))
  assert.deepEqual(bad.map((r) => [r.status, r.name]), [['missing', GET_CURRENT]])
  // Node 20 needs the old TakeHeapSnapshot, which this list lacks
  const old = check('darwin-x64', 20, ALL_ELF_26).filter((r) => ps.failing(r, true))
  assert.deepEqual(old.map((r) => r.name), [OLD_TAKE])
  // an unverified major never fails
  const info = check('linux-x64', 25, [GET_CURRENT])
  assert.ok(info.some((r) => r.status === 'missing'))
  assert.ok(!info.some((r) => ps.failing(r, false)))
})

test('malloc_trim comes from glibc on Linux and is expected to be absent elsewhere', () => {
  const trim = (rows) => rows.find((r) => r.symbol.name === 'malloc_trim')
  assert.equal(trim(check('linux-x64', 26, ALL_ELF_26)).status, 'libc')
  assert.equal(trim(check('darwin-arm64', 26, ALL_ELF_26)).status, 'absent-ok')
  assert.equal(trim(check('win-x64', 26, [])).status, 'absent-ok')
  assert.ok(!ps.failing(trim(check('win-x64', 26, [])), true))
})

test('on Windows the recorded MSVC name is what must be exported', () => {
  const msvc = {
    [GET_CURRENT]: '?GetCurrent@Isolate@v8@@SAPEAV12@XZ',
    _ZN2v87Isolate21LowMemoryNotificationEv: '?LowMemoryNotification@Isolate@v8@@QEAAXXZ',
    [NEW_TAKE]: { 26: '?TakeHeapSnapshot@New', 20: '?TakeHeapSnapshot@Old' },
  }
  const exported = ['?GetCurrent@Isolate@v8@@SAPEAV12@XZ', '?LowMemoryNotification@Isolate@v8@@QEAAXXZ', '?TakeHeapSnapshot@New']
  assert.deepEqual(check('win-x64', 26, exported, { msvc }).filter((r) => ps.failing(r, true)), [])
  // the Itanium name itself does not count on Windows
  const itaniumOnly = check('win-x64', 26, ALL_ELF_26, { msvc }).filter((r) => ps.failing(r, true))
  assert.equal(itaniumOnly.length, 3)
  // no recorded name: unmapped, and the hint names what node.exe exports
  const { [GET_CURRENT]: _, ...partial } = msvc
  const rows = check('win-x64', 26, exported, { msvc: partial })
  const unmapped = rows.filter((r) => r.status === 'unmapped')
  assert.deepEqual(unmapped.map((r) => r.symbol.name), [GET_CURRENT])
  assert.ok(ps.failing(unmapped[0], true))
})

test('Itanium and MSVC demanglings of the same function normalize equal, different ones do not', () => {
  const pairs = [
    [
      'v8::Isolate::AddGCPrologueCallback(void (*)(v8::Isolate*, v8::GCType, v8::GCCallbackFlags, void*), void*, v8::GCType)',
      'public: void __cdecl v8::Isolate::AddGCPrologueCallback(void (__cdecl *)(class v8::Isolate *, enum v8::GCType, enum v8::GCCallbackFlags, void *), void *, enum v8::GCType)',
    ],
    ['v8::HeapGraphNode::GetName() const', 'public: class v8::Local<class v8::String> __cdecl v8::HeapGraphNode::GetName(void) const'],
    ['v8::Isolate::GetCurrent()', 'public: static class v8::Isolate * __cdecl v8::Isolate::GetCurrent(void)'],
    ['v8::HeapStatistics::HeapStatistics()', 'public: __cdecl v8::HeapStatistics::HeapStatistics(void)'],
    [
      'v8::HeapProfiler::StartSamplingHeapProfiler(unsigned long, int, v8::HeapProfiler::SamplingFlags)',
      'public: bool __cdecl v8::HeapProfiler::StartSamplingHeapProfiler(unsigned __int64, int, enum v8::HeapProfiler::SamplingFlags)',
    ],
    [
      'v8::HeapProfiler::QueryObjects(v8::Local<v8::Context>, v8::QueryObjectPredicate*, std::__1::vector<v8::Global<v8::Object>, std::__1::allocator<v8::Global<v8::Object>>>*)',
      'public: void __cdecl v8::HeapProfiler::QueryObjects(class v8::Local<class v8::Context>, class v8::QueryObjectPredicate *, class std::vector<class v8::Global<class v8::Object>, class std::allocator<class v8::Global<class v8::Object>>> *)',
    ],
    [
      'node::AddEnvironmentCleanupHook(v8::Isolate*, void (*)(void*), void*)',
      'void __cdecl node::AddEnvironmentCleanupHook(class v8::Isolate *, void (__cdecl *)(void *), void *)',
    ],
  ]
  for (const [it, ms] of pairs) assert.equal(ps.normalizeItanium(it), ps.normalizeMsvc(ms), it)
  // darwin's uint64_t (unsigned long long) is the same 64-bit parameter
  assert.equal(
    ps.normalizeItanium('v8::HeapProfiler::StartSamplingHeapProfiler(unsigned long long, int, v8::HeapProfiler::SamplingFlags)'),
    ps.normalizeItanium(pairs[4][0])
  )
  const different = [
    ['v8::HeapGraphNode::GetName() const', 'public: class v8::Local<class v8::String> __cdecl v8::HeapGraphNode::GetName(void)'],
    ['v8::HeapSnapshot::GetNode(int) const', 'public: class v8::HeapGraphNode const * __cdecl v8::HeapSnapshot::GetNode(unsigned int) const'],
    ['v8::HeapGraphNode::GetType() const', 'public: enum v8::HeapGraphEdge::Type __cdecl v8::HeapGraphEdge::GetType(void) const'],
  ]
  for (const [it, ms] of different) assert.notEqual(ps.normalizeItanium(it), ps.normalizeMsvc(ms), it)
  assert.equal(ps.qualifiedName(ps.normalizeMsvc(pairs[0][1])), 'v8::Isolate::AddGCPrologueCallback')
})
