#!/usr/bin/env bash
# Build timings on this machine (the README's table): (a) a clean debug build, (b) the rebuild
# after touching one GUI widget file, (c) after touching one store file, (d) the full test
# command after (c). Wipes ./target. Usage: bash benches/build-times.sh [OUT_DIR]
set -u
out=${1:-bench-out/build-times}
mkdir -p "$out"
cd "$(dirname "$0")/.."
rm -rf target
: > "$out/summary"
t() {
  local name=$1; shift
  local s e
  s=$(date +%s.%N); "$@" >"$out/$name.log" 2>&1; local rc=$?; e=$(date +%s.%N)
  printf '%s %.1f s (exit %d)\n' "$name" "$(echo "$e - $s" | bc)" "$rc" | tee -a "$out/summary"
}
t a cargo build
touch src/gui/widgets/share_dialog.rs
t b cargo build
touch crates/s3share-store/src/s3/objects.rs
t c cargo build
t d cargo test --all-targets
grep -h Compiling "$out/b.log" "$out/c.log" | sed 's/^/rebuilt: /'
