'use strict'

// Bad input across the whole public API. Every case must throw a TypeError,
// RangeError or Error whose message names the argument or option, change
// nothing (settings, listeners, registrations), and leave the addon working:
// after each case a gc() returns stats, a HeapDiff diffs and a trackGC
// callback fires (npm test diffs after the HeapDiff cases and once per
// group; test:full after every case, since a diff of the runner's heap
// costs about half a second).

const test = require('node:test')
const assert = require('node:assert/strict')
const memwatch = require('..')
const native = require('../binding.js')
const { FULL } = require('./helpers')

const { HeapDiff } = memwatch
const noop = () => {}

/** Resolves once `cond()` holds; fails after `ms`. */
async function waitFor(cond, what, ms = 30_000) {
  const deadline = Date.now() + ms
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** The addon still works: gc() returns stats, a HeapDiff diffs, a trackGC fires. */
async function stillWorks({ diff = true } = {}) {
  const s = memwatch.gc()
  assert.equal(s.forced, true)
  assert.ok(Number.isFinite(s.num_full_gc) && s.num_full_gc >= 1)
  if (diff) {
    class AfterBadInput {}
    const keep = []
    const hd = new HeapDiff()
    for (let i = 0; i < 10; i++) keep.push(new AfterBadInput())
    const d = hd.end()
    assert.equal(d.change.details.find((x) => x.what === 'AfterBadInput')['+'], 10)
  }
  let fired = 0
  ;(() => memwatch.trackGC({}, () => fired++))()
  memwatch.gc()
  await waitFor(() => fired === 1, 'a trackGC callback')
}

/** What a rejected call must not change. */
function state() {
  let sampling = 'on'
  try {
    memwatch.samplingProfile()
  } catch (e) {
    sampling = e.message
  }
  return {
    config: memwatch.configure(),
    stats: memwatch.listenerCount('stats'),
    leak: memwatch.listenerCount('leak'),
    registered: native.trackGcCounts().registered,
    sampling,
  }
}

// One HeapDiff for every rejected end(options): a rejection must leave it
// open (the next case would get "already called" otherwise), and it is
// ended once they are all done.
let openDiff = null
function endWith(options) {
  openDiff = openDiff || new HeapDiff()
  openDiff.end(options)
}

const RETAINERS = /^HeapDiff\.end\(options\): retainers must be an integer from 1 to 100, got /
const GROUPS = /^HeapDiff\.end\(options\): groups must be an array of 1 to 10 group names \(non-empty strings of at most 1024 characters\), got /
const GROUP = /^HeapDiff\.end\(options\): groups\[\d+\] must be a non-empty string of at most 1024 characters, got /
const START = 'memwatch.startSampling(options): '

// [name, call, expected error]. `expected` is what assert.throws checks:
// the class and a message that names the argument or option.
const CASES = {
  'gc()': [
    ['gc(1)', () => memwatch.gc(1), { name: 'TypeError', message: 'memwatch.gc() takes no arguments (got 1)' }],
    ['gc({}, 2)', () => memwatch.gc({}, 2), { name: 'TypeError', message: 'memwatch.gc() takes no arguments (got 2)' }],
    ['new memwatch.gc()', () => new memwatch.gc(), { name: 'TypeError', message: 'memwatch.gc is not a constructor' }],
    ['Reflect.construct(gc, [])', () => Reflect.construct(memwatch.gc, []), { name: 'TypeError', message: /^gc\(\)[\s\S]* is not a constructor$/ }],
  ],

  'configure()': [
    ['configure(5)', () => memwatch.configure(5), { name: 'TypeError', message: 'memwatch.configure(options): options must be an object, got number 5' }],
    [
      "configure('minGcs', 3)",
      () => memwatch.configure('minGcs', 3),
      { name: 'TypeError', message: 'memwatch.configure(options) takes one argument (got 2)' },
    ],
    ['configure(null)', () => memwatch.configure(null), { name: 'TypeError', message: /options must be an object, got null$/ }],
    ['configure([])', () => memwatch.configure([]), { name: 'TypeError', message: /options must be an object, got an array$/ }],
    ['configure(fn)', () => memwatch.configure(noop), { name: 'TypeError', message: /options must be an object, got a function$/ }],
    ['configure({}, {})', () => memwatch.configure({}, {}), { name: 'TypeError', message: /takes one argument \(got 2\)/ }],
    ['unknown option', () => memwatch.configure({ minDuration: 1 }), { name: 'TypeError', message: /unknown option "minDuration" \(known: rule, / }],
    // Keys that Object.prototype has are unknown options like any other.
    ['option named toString', () => memwatch.configure({ toString: 1 }), { name: 'TypeError', message: /unknown option "toString"/ }],
    ['own __proto__ key', () => memwatch.configure(JSON.parse('{"__proto__": {"minGcs": 3}}')), { name: 'TypeError', message: /unknown option "__proto__"/ }],
    ['symbol key', () => memwatch.configure({ [Symbol('minGcs')]: 3 }), { name: 'TypeError', message: /unknown option Symbol\(minGcs\)/ }],
    ['string for an integer', () => memwatch.configure({ classicStreak: '3' }), { name: 'TypeError', message: /classicStreak must be an integer, got the string "3"$/ }],
    ['bigint for an integer', () => memwatch.configure({ classicStreak: 3n }), { name: 'TypeError', message: /classicStreak must be an integer, got bigint 3n$/ }],
    ['boxed number', () => memwatch.configure({ classicStreak: Object(3) }), { name: 'TypeError', message: /classicStreak must be an integer, got an object$/ }],
    ['fraction for an integer', () => memwatch.configure({ minGrowthBytes: 1.5 }), { name: 'TypeError', message: /minGrowthBytes must be an integer, got number 1.5$/ }],
    ['NaN', () => memwatch.configure({ confidence: NaN }), { name: 'TypeError', message: /confidence must be a number, got number NaN$/ }],
    ['explicit undefined', () => memwatch.configure({ probe: undefined }), { name: 'TypeError', message: /probe must be a boolean, got undefined$/ }],
    ['number for a boolean', () => memwatch.configure({ probe: 1 }), { name: 'TypeError', message: /probe must be a boolean, got number 1$/ }],
    ['unknown rule', () => memwatch.configure({ rule: 'fast' }), { name: 'RangeError', message: /rule must be 'rate' or 'classic', got 'fast'$/ }],
    ['negative count', () => memwatch.configure({ classicStreak: -1 }), { name: 'RangeError', message: /classicStreak must be an integer from 1 to 1000, got -1$/ }],
    [
      'count beyond 32 bits',
      () => memwatch.configure({ classicStreak: 2 ** 40 }),
      { name: 'RangeError', message: /classicStreak must be an integer from 1 to 1000, got 1099511627776$/ },
    ],
    ['count above its range', () => memwatch.configure({ classicStreak: 1001 }), { name: 'RangeError', message: /classicStreak must be an integer from 1 to 1000, got 1001$/ }],
    ['Infinity', () => memwatch.configure({ minDurationMs: Infinity }), { name: 'RangeError', message: /minDurationMs must be a number from 0 to 86400000, got Infinity$/ }],
    ['huge number', () => memwatch.configure({ windowMs: 1e300 }), { name: 'RangeError', message: /windowMs must be a number from 60000 to 604800000, got 1e\+300$/ }],
    ['negative number', () => memwatch.configure({ minRatePercent: -0.1 }), { name: 'RangeError', message: /minRatePercent must be a number from 0 to 10000, got -0.1$/ }],
    ['negative bytes', () => memwatch.configure({ minGrowthBytes: -1 }), { name: 'RangeError', message: /minGrowthBytes must be an integer from 0 to 9007199254740991, got -1$/ }],
    ['bytes beyond 2^53', () => memwatch.configure({ minGrowthBytes: 1e30 }), { name: 'RangeError', message: /minGrowthBytes must be an integer from 0 to 9007199254740991, got 1e\+30$/ }],
    [
      'probe interval bounds crossed',
      () => memwatch.configure({ probeMinIntervalMs: 5000, probeMaxIntervalMs: 4000 }),
      { name: 'RangeError', message: /probeMaxIntervalMs must be a number from probeMinIntervalMs \(5000\) to 86400000, got 4000$/ },
    ],
    [
      'one bad option among good ones',
      () => memwatch.configure({ classicStreak: 3, confidence: 0.9, minRatePercent: 20_000 }),
      { name: 'RangeError', message: /minRatePercent must be a number from 0 to 10000, got 20000$/ },
    ],
    [
      'a getter that throws',
      () =>
        memwatch.configure({
          get classicStreak() {
            throw new Error('from the getter')
          },
        }),
      { name: 'Error', message: 'from the getter' },
    ],
  ],

  listeners: [
    ["on('stats', 42)", () => memwatch.on('stats', 42), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"listener" argument must be of type function/ }],
    ["on('leak')", () => memwatch.on('leak'), { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: /"listener" argument/ }],
    ["once('leak', 'x')", () => memwatch.once('leak', 'x'), { name: 'TypeError', message: /"listener" argument/ }],
    ["addListener('stats', null)", () => memwatch.addListener('stats', null), { name: 'TypeError', message: /"listener" argument/ }],
    ["prependListener('stats', {})", () => memwatch.prependListener('stats', {}), { name: 'TypeError', message: /"listener" argument/ }],
    ["prependOnceListener('leak', 1n)", () => memwatch.prependOnceListener('leak', 1n), { name: 'TypeError', message: /"listener" argument/ }],
    ["off('stats', 42)", () => memwatch.off('stats', 42), { name: 'TypeError', message: /"listener" argument/ }],
    ["removeListener('leak', 'x')", () => memwatch.removeListener('leak', 'x'), { name: 'TypeError', message: /"listener" argument/ }],
  ],

  HeapDiff: [
    ['HeapDiff() without new', () => HeapDiff(), { name: 'TypeError', message: /HeapDiff cannot be invoked without 'new'/ }],
    ['HeapDiff.call({})', () => HeapDiff.call({}), { name: 'TypeError', message: /HeapDiff cannot be invoked without 'new'/ }],
    [
      'end() twice',
      () => {
        const hd = new HeapDiff()
        hd.end()
        hd.end()
      },
      (e) => e.constructor === Error && e.message === 'HeapDiff.end() was already called; a HeapDiff can only be ended once',
    ],
    ['end.call({})', () => HeapDiff.prototype.end.call({}), { name: 'TypeError', message: 'HeapDiff.prototype.end called on an object, which is not a HeapDiff' }],
    ['end.call(null)', () => HeapDiff.prototype.end.call(null), { name: 'TypeError', message: 'HeapDiff.prototype.end called on null, which is not a HeapDiff' }],
    ['end.call(undefined)', () => HeapDiff.prototype.end.call(undefined), { name: 'TypeError', message: 'HeapDiff.prototype.end called on undefined, which is not a HeapDiff' }],
    ['end.call(42)', () => HeapDiff.prototype.end.call(42), { name: 'TypeError', message: 'HeapDiff.prototype.end called on a number, which is not a HeapDiff' }],
    [
      'end() on an object inheriting from a HeapDiff',
      () => {
        const hd = new HeapDiff()
        try {
          Object.create(hd).end()
        } finally {
          hd.end()
        }
      },
      { name: 'TypeError', message: /called on an object, which is not a HeapDiff/ },
    ],
    [
      'end() of one HeapDiff after another ended',
      () => {
        const a = new HeapDiff()
        const b = new HeapDiff()
        a.end()
        b.end()
        HeapDiff.prototype.end.call(a)
      },
      { name: 'Error', message: /already called/ },
    ],
    [
      'new hd.end()',
      () => {
        const hd = new HeapDiff()
        try {
          new hd.end() // eslint-disable-line new-cap
        } finally {
          hd.end()
        }
      },
      { name: 'TypeError', message: 'hd.end is not a constructor' },
    ],
  ],

  // Each leaves its HeapDiff open (endWith ends it afterwards).
  'HeapDiff end(options)': [
    ['end({ retainers: 0 })', () => endWith({ retainers: 0 }), { name: 'RangeError', message: new RegExp(RETAINERS.source + 'number 0$') }],
    ['end({ retainers: -1 })', () => endWith({ retainers: -1 }), { name: 'RangeError', message: new RegExp(RETAINERS.source + 'number -1$') }],
    ['end({ retainers: 101 })', () => endWith({ retainers: 101 }), { name: 'RangeError', message: new RegExp(RETAINERS.source + 'number 101$') }],
    ['end({ retainers: 2 ** 53 })', () => endWith({ retainers: 2 ** 53 }), { name: 'RangeError', message: RETAINERS }],
    ['end({ retainers: 1.5 })', () => endWith({ retainers: 1.5 }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'number 1.5$') }],
    ['end({ retainers: NaN })', () => endWith({ retainers: NaN }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'number NaN$') }],
    ['end({ retainers: Infinity })', () => endWith({ retainers: Infinity }), { name: 'TypeError', message: RETAINERS }],
    ["end({ retainers: '3' })", () => endWith({ retainers: '3' }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'the string "3"$') }],
    ['end({ retainers: 3n })', () => endWith({ retainers: 3n }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'bigint 3n$') }],
    ['end({ retainers: undefined })', () => endWith({ retainers: undefined }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'undefined$') }],
    ['end({ retainers: null })', () => endWith({ retainers: null }), { name: 'TypeError', message: new RegExp(RETAINERS.source + 'null$') }],
    [
      'end() with an inherited retainers',
      () => endWith(Object.create({ retainers: true })),
      { name: 'TypeError', message: new RegExp(RETAINERS.source + 'boolean true$') },
    ],
    ["end({ groups: ['Foo'] }) without retainers", () => endWith({ groups: ['Foo'] }), { name: 'TypeError', message: /^HeapDiff\.end\(options\): groups needs retainers/ }],
    ['end({ retainers: 1, groups: undefined })', () => endWith({ retainers: 1, groups: undefined }), { name: 'TypeError', message: new RegExp(GROUPS.source + 'undefined$') }],
    ["end({ retainers: 1, groups: 'Foo' })", () => endWith({ retainers: 1, groups: 'Foo' }), { name: 'TypeError', message: new RegExp(GROUPS.source + 'the string "Foo"$') }],
    ['end({ retainers: 1, groups: { 0: "Foo", length: 1 } })', () => endWith({ retainers: 1, groups: { 0: 'Foo', length: 1 } }), { name: 'TypeError', message: new RegExp(GROUPS.source + 'an object$') }],
    ['end({ retainers: 1, groups: [] })', () => endWith({ retainers: 1, groups: [] }), { name: 'RangeError', message: new RegExp(GROUPS.source + 'an empty array$') }],
    ['end() with 11 groups', () => endWith({ retainers: 1, groups: new Array(11).fill('Foo') }), { name: 'RangeError', message: new RegExp(GROUPS.source + 'an array of 11 names$') }],
    ['end() with 2 ** 32 - 1 groups', () => endWith({ retainers: 1, groups: new Array(2 ** 32 - 1) }), { name: 'RangeError', message: new RegExp(GROUPS.source + 'an array of 4294967295 names$') }],
    ['end() with a number among groups', () => endWith({ retainers: 1, groups: ['Foo', 7] }), { name: 'TypeError', message: /^HeapDiff\.end\(options\): groups\[1\] must be .*, got number 7$/ }],
    ['end() with a hole among groups', () => endWith({ retainers: 1, groups: ['Foo', , 'Bar'] }), { name: 'TypeError', message: new RegExp(GROUP.source + 'undefined$') }], // eslint-disable-line no-sparse-arrays
    ["end() with '' among groups", () => endWith({ retainers: 1, groups: [''] }), { name: 'RangeError', message: new RegExp(GROUP.source + 'an empty string$') }],
    [
      'end() with a 1025-character group name',
      () => endWith({ retainers: 1, groups: ['x'.repeat(1025)] }),
      { name: 'RangeError', message: new RegExp(GROUP.source + 'a string of 1025 characters$') },
    ],
    [
      'end() with a bad retainers and groups: retainers is named first',
      () => endWith({ retainers: 0, groups: 5 }),
      { name: 'RangeError', message: new RegExp(RETAINERS.source + 'number 0$') },
    ],
    [
      'end() with a retainers getter that throws',
      () =>
        endWith({
          get retainers() {
            throw new Error('from the getter')
          },
        }),
      { name: 'Error', message: 'from the getter' },
    ],
  ],

  'startSampling()': [
    ['startSampling(5)', () => memwatch.startSampling(5), { name: 'TypeError', message: `${START}options must be an object, got number 5` }],
    ['startSampling(null)', () => memwatch.startSampling(null), { name: 'TypeError', message: `${START}options must be an object, got null` }],
    ['startSampling([])', () => memwatch.startSampling([]), { name: 'TypeError', message: `${START}options must be an object, got an array` }],
    ["startSampling('fast')", () => memwatch.startSampling('fast'), { name: 'TypeError', message: `${START}options must be an object, got the string "fast"` }],
    ['startSampling({}, {})', () => memwatch.startSampling({}, {}), { name: 'TypeError', message: 'memwatch.startSampling(options) takes one argument (got 2)' }],
    ['new startSampling()', () => new memwatch.startSampling(), { name: 'TypeError', message: 'memwatch.startSampling is not a constructor' }],
    ['unknown option', () => memwatch.startSampling({ interval: 1024 }), { name: 'TypeError', message: `${START}unknown option "interval" (known: intervalBytes, stackDepth)` }],
    ['symbol key', () => memwatch.startSampling({ [Symbol('x')]: 1 }), { name: 'TypeError', message: /unknown option Symbol\(x\)/ }],
    // 0 would abort the process inside V8: it never gets there.
    ['intervalBytes 0', () => memwatch.startSampling({ intervalBytes: 0 }), { name: 'RangeError', message: `${START}intervalBytes must be an integer from 1 to 2147483647, got number 0` }],
    ['intervalBytes -1', () => memwatch.startSampling({ intervalBytes: -1 }), { name: 'RangeError', message: /intervalBytes must be an integer from 1 to 2147483647, got number -1$/ }],
    ['intervalBytes 2^31', () => memwatch.startSampling({ intervalBytes: 2 ** 31 }), { name: 'RangeError', message: /intervalBytes .* got number 2147483648$/ }],
    ['intervalBytes 2^53', () => memwatch.startSampling({ intervalBytes: 2 ** 53 }), { name: 'RangeError', message: /intervalBytes .* got number 9007199254740992$/ }],
    ['intervalBytes 1.5', () => memwatch.startSampling({ intervalBytes: 1.5 }), { name: 'TypeError', message: /intervalBytes .* got number 1.5$/ }],
    ['intervalBytes NaN', () => memwatch.startSampling({ intervalBytes: NaN }), { name: 'TypeError', message: /intervalBytes .* got number NaN$/ }],
    ['intervalBytes Infinity', () => memwatch.startSampling({ intervalBytes: Infinity }), { name: 'TypeError', message: /intervalBytes .* got number Infinity$/ }],
    ["intervalBytes '512'", () => memwatch.startSampling({ intervalBytes: '512' }), { name: 'TypeError', message: /intervalBytes .* got the string "512"$/ }],
    ['intervalBytes undefined', () => memwatch.startSampling({ intervalBytes: undefined }), { name: 'TypeError', message: /intervalBytes .* got undefined$/ }],
    ['stackDepth 0', () => memwatch.startSampling({ stackDepth: 0 }), { name: 'RangeError', message: `${START}stackDepth must be an integer from 1 to 1024, got number 0` }],
    ['stackDepth 1025', () => memwatch.startSampling({ stackDepth: 1025 }), { name: 'RangeError', message: /stackDepth .* got number 1025$/ }],
    ['stackDepth 2.5', () => memwatch.startSampling({ stackDepth: 2.5 }), { name: 'TypeError', message: /stackDepth .* got number 2.5$/ }],
    ["stackDepth 'deep'", () => memwatch.startSampling({ stackDepth: 'deep' }), { name: 'TypeError', message: /stackDepth .* got the string "deep"$/ }],
    ['one bad option after a good one', () => memwatch.startSampling({ intervalBytes: 4096, stackDepth: -3 }), { name: 'RangeError', message: /stackDepth .* got number -3$/ }],
  ],

  'sampling calls': [
    ['stopSampling(1)', () => memwatch.stopSampling(1), { name: 'TypeError', message: 'memwatch.stopSampling() takes no arguments (got 1)' }],
    ['samplingProfile({})', () => memwatch.samplingProfile({}), { name: 'TypeError', message: 'memwatch.samplingProfile() takes no arguments (got 1)' }],
    ['samplingProfile() not sampling', () => memwatch.samplingProfile(), { name: 'Error', message: /^allocation sampling is not running in this thread/ }],
    ['writeProfile()', () => memwatch.writeProfile(), { name: 'TypeError', message: 'memwatch.writeProfile(path): path must be a string, got undefined' }],
    ['writeProfile(42)', () => memwatch.writeProfile(42), { name: 'TypeError', message: 'memwatch.writeProfile(path): path must be a string, got number 42' }],
    ["writeProfile('')", () => memwatch.writeProfile(''), { name: 'TypeError', message: /path must be a file name, got the string ""$/ }],
    ["writeProfile('a', 'b')", () => memwatch.writeProfile('a', 'b'), { name: 'TypeError', message: 'memwatch.writeProfile(path) takes one argument (got 2)' }],
    ["writeProfile('x') not sampling", () => memwatch.writeProfile('/nonexistent/x.pb.gz'), { name: 'Error', message: /^allocation sampling is not running/ }],
    ['diffProfiles()', () => memwatch.diffProfiles(), { name: 'TypeError', message: /before must be a profile from memwatch\.samplingProfile\(\), got undefined$/ }],
    ['diffProfiles({}, {})', () => memwatch.diffProfiles({}, {}), { name: 'TypeError', message: /before\.time must be a Date, got undefined$/ }],
    [
      'diffProfiles with a bad site',
      () => memwatch.diffProfiles({ time: new Date(), sites: [] }, { time: new Date(), sites: [{ frames: [], bytes: '1', count: 1 }] }),
      { name: 'TypeError', message: /after\.sites\[0\]\.bytes must be a number, got the string "1"$/ },
    ],
    ['diffProfiles(a, b, c)', () => memwatch.diffProfiles(1, 2, 3), { name: 'TypeError', message: 'memwatch.diffProfiles(before, after) takes 2 arguments (got 3)' }],
  ],

  trackGC: [
    ...[undefined, null, 42, NaN, 'str', true, Symbol('s'), 10n].map((bad) => [
      `target ${typeof bad === 'symbol' ? 'Symbol' : String(bad)}`,
      () => memwatch.trackGC(bad, noop),
      { name: 'TypeError', message: /^memwatch\.trackGC\(target, callback\): target must be an object or a function, got / },
    ]),
    ...[undefined, null, 42, 'str', true, {}, [], Symbol('s'), 1n].map((bad) => [
      `callback ${typeof bad === 'symbol' ? 'Symbol' : Array.isArray(bad) ? '[]' : typeof bad === 'object' && bad ? '{}' : String(bad)}`,
      () => memwatch.trackGC({}, bad),
      { name: 'TypeError', message: /^memwatch\.trackGC\(target, callback\): callback must be a function, got / },
    ]),
    ['trackGC()', () => memwatch.trackGC(), { name: 'TypeError', message: /target must be an object or a function, got undefined$/ }],
    ['trackGC({})', () => memwatch.trackGC({}), { name: 'TypeError', message: /callback must be a function, got undefined$/ }],
    ['trackGC(fn) (callback missing, function target)', () => memwatch.trackGC(noop), { name: 'TypeError', message: /callback must be a function/ }],
  ],
}

for (const [group, cases] of Object.entries(CASES)) {
  cases.forEach(([name, call, expected], i) => {
    test(`${group}: ${name}`, async () => {
      const before = state()
      assert.throws(call, expected)
      assert.deepEqual(state(), before, 'a rejected call changed something')
      await stillWorks({ diff: FULL || group === 'HeapDiff' || i === cases.length - 1 })
    })
  })
}

test('a HeapDiff given only rejected end(options) is still open', () => {
  assert.ok(openDiff, 'the end(options) cases ran')
  assert.equal(typeof openDiff.end().change.size_bytes, 'number')
})

test('the cases above are at least 25', () => {
  const n = Object.values(CASES).reduce((a, c) => a + c.length, 0)
  assert.ok(n >= 25, `${n} cases`)
})

test('HeapDiff ignores constructor and end() arguments, as memwatch did', async () => {
  class Made {}
  const keep = []
  const hd = new HeapDiff(1, 'two', { three: 3 }, noop)
  for (let i = 0; i < 7; i++) keep.push(new Made())
  const d = hd.end('ignored', 42)
  assert.equal(d.change.details.find((x) => x.what === 'Made')['+'], 7)
  assert.ok(!d.change.details.some((x) => 'retainers' in x))
  // Only an object with a `retainers` key asks for retainer paths: this is
  // what end() asks before it takes its snapshot.
  for (const arg of [undefined, true, {}, null, [], 'retainers', 5, { retainer: 3 }, noop]) {
    assert.equal(native.NativeHeapDiff.retainersOption(arg), null, `end(${String(arg)})`)
  }
  assert.equal(native.NativeHeapDiff.retainersOption({ retainers: 7 }), 7)
  assert.ok(!new HeapDiff().end({}).change.details.some((x) => 'retainers' in x), 'end({})')
  // A 1024-character name is accepted (and, naming no group that grew, explains none).
  const long = new HeapDiff().end({ retainers: 1, groups: ['x'.repeat(1024)] })
  assert.ok(!long.change.details.some((x) => 'retainers' in x), 'no group named x…x')
  // A census HeapDiff refuses retainer paths, with or without groups;
  // groups alone needs retainers. (No census on the fallback backend: its
  // constructor throws, tested with the census.)
  if (memwatch.backend === 'v8') {
    const census = new HeapDiff({ census: true })
    assert.throws(() => census.end({ retainers: 1, groups: ['Made'] }), { name: 'Error', message: /retainers need heap snapshots/ })
    assert.throws(() => census.end({ groups: ['Made'] }), { name: 'TypeError', message: /groups needs retainers/ })
    assert.equal(census.end().census, true)
  }
  await stillWorks()
})

test('Reflect.construct and subclasses: a HeapDiff is whatever has its private state', async () => {
  class Sub extends HeapDiff {}
  const viaSub = new Sub()
  assert.ok(viaSub instanceof HeapDiff)
  assert.equal(typeof viaSub.end().change.size_bytes, 'number')
  // A foreign new.target gives an object with another prototype but a
  // HeapDiff's private state: end() works through the prototype's function.
  function Other() {}
  const foreign = Reflect.construct(HeapDiff, [], Other)
  assert.equal(Object.getPrototypeOf(foreign), Other.prototype)
  assert.equal(typeof HeapDiff.prototype.end.call(foreign).change.size_bytes, 'number')
  assert.throws(() => HeapDiff.prototype.end.call(foreign), { name: 'Error', message: /already called/ })
  assert.throws(() => Reflect.construct(HeapDiff, 5), TypeError)
  await stillWorks()
})

test('configure() reads each option once: what is checked is what is applied', async () => {
  const defaults = memwatch.configure()
  try {
    let reads = 0
    const out = memwatch.configure({
      get classicStreak() {
        return reads++ === 0 ? 3 : 'not a number the second time'
      },
    })
    assert.equal(reads, 1)
    assert.equal(out.classicStreak, 3)
  } finally {
    assert.deepEqual(memwatch.configure(defaults), defaults)
  }
  await stillWorks()
})

test('configure() accepts the documented extremes', async () => {
  const defaults = memwatch.configure()
  try {
    const out = memwatch.configure({ minGrowthBytes: Number.MAX_SAFE_INTEGER, classicStreak: 1000, graceMs: 0, minDurationMs: 0, windowMs: 60000, confidence: 0.9999 })
    assert.equal(out.minGrowthBytes, Number.MAX_SAFE_INTEGER, 'round-trips exactly')
    assert.equal(out.classicStreak, 1000)
    assert.equal(out.windowMs, 60000)
    assert.equal(out.confidence, 0.9999)
  } finally {
    assert.deepEqual(memwatch.configure(defaults), defaults)
  }
})

test("another MemWatch instance's listeners never switch the module's events off", async () => {
  // The listener methods are shared with every instance of the class (it is
  // reachable as memwatch.constructor); only the module's own listeners count.
  const other = new memwatch.constructor()
  let events = 0
  const fn = () => events++
  memwatch.on('stats', fn)
  try {
    other.on('stats', noop)
    other.removeAllListeners('stats')
    memwatch.on.call(other, 'leak', noop)
    memwatch.off.call(other, 'leak', noop)
    memwatch.gc()
    await waitFor(() => events === 1, 'a stats event')
  } finally {
    memwatch.off('stats', fn)
  }
})

test('error messages stay short whatever the size of the bad value', () => {
  const huge = 'x'.repeat(1 << 20)
  for (const [call, name] of [
    [() => memwatch.configure({ rule: huge }), 'RangeError'],
    [() => memwatch.configure({ [huge]: 1 }), 'TypeError'],
    [() => memwatch.configure({ [Symbol(huge)]: 1 }), 'TypeError'],
    [() => memwatch.configure({ classicStreak: huge }), 'TypeError'],
    [() => memwatch.trackGC(huge, noop), 'TypeError'],
    [() => memwatch.trackGC({}, huge), 'TypeError'],
  ]) {
    assert.throws(call, (e) => {
      assert.equal(e.name, name)
      assert.ok(e.message.length < 400, `${e.message.length} characters: ${e.message.slice(0, 120)}…`)
      assert.match(e.message, /xxxx…/, 'the value is shown, cut')
      return true
    })
  }
})

// The addon's file diff (behind `memwatch-rs diff`, whose own checks come
// first) checks group names with the same limits and words as end().
test('diffSnapshotFiles: groups out of bounds are a RangeError naming what was given', () => {
  const at = (groups) => () => native.diffSnapshotFiles('/nonexistent-before', '/nonexistent-after', 1, groups)
  const GROUPS_FILES = /^diffSnapshotFiles: groups must be an array of 1 to 10 group names \(non-empty strings of at most 1024 characters\), got /
  assert.throws(at([]), { name: 'RangeError', message: new RegExp(GROUPS_FILES.source + 'an empty array$') })
  assert.throws(at(new Array(11).fill('Foo')), { name: 'RangeError', message: new RegExp(GROUPS_FILES.source + 'an array of 11 names$') })
  assert.throws(at(['Foo', '']), { name: 'RangeError', message: 'diffSnapshotFiles: groups[1] must be a non-empty string of at most 1024 characters, got an empty string' })
  assert.throws(at(['x'.repeat(1025)]), { name: 'RangeError', message: /^diffSnapshotFiles: groups\[0\] must be .*, got a string of 1025 characters$/ })
  assert.throws(() => native.diffSnapshotFiles('/a', '/b', undefined, ['Foo']), { name: 'TypeError', message: 'diffSnapshotFiles: groups needs retainers, the number of paths per group' })
  // Valid groups get as far as the files.
  assert.throws(at(['Foo']), { name: 'Error', message: /nonexistent-before/ })
})
