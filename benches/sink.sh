#!/usr/bin/env bash
# A transfer's own cost, with the server taken out: s3share against tools/s3-sink.rs (an
# S3-shaped server that keeps no bytes and verifies nothing), beside curl, the floor of one
# stream. 1 GiB up and down; wall time, CPU (user + system) and peak RSS from GNU time; best of
# RUNS, alternating the two clients so both see the same machine.
#   bash benches/sink.sh        (RUNS=3 SIZE_MIB=1024)
# Needs: rustc, curl, GNU time. Prints a Markdown table; the README quotes it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
size_mib=${SIZE_MIB:-1024}
cargo build --release --quiet --bin s3share
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/s3share
work=$(mktemp -d /tmp/s3share-sink.XXXXXX)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
rustc --edition 2021 -O tools/s3-sink.rs -o "$work/sink"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$work/sink" "$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export HOME=$work/home AWS_ACCESS_KEY_ID=AKIASINKEXAMPLE AWS_SECRET_ACCESS_KEY=sinksecretsinksecret
export AWS_REGION=us-east-1 AWS_ENDPOINT_URL=http://127.0.0.1:$port AWS_EC2_METADATA_DISABLED=true
head -c $((size_mib * 1048576)) /dev/zero >"$work/file.bin"
s3share=("$bin" --path-style --allow-http)

# One timed run: prints "wall cpu rss_kb".
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" >/dev/null 2>&1
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/t"
}
# The best (lowest wall) of the lines on stdin.
best() { sort -n | head -1; }

"${s3share[@]}" upload "$work/file.bin" s3://bench/file.bin --overwrite >/dev/null 2>&1
url=$("${s3share[@]}" share s3://bench/file.bin --expires 1h 2>/dev/null)
: >"$work/up.s3share"; : >"$work/up.curl"; : >"$work/down.s3share"; : >"$work/down.curl"
for _ in $(seq "$runs"); do
  timed "${s3share[@]}" upload "$work/file.bin" s3://bench/file.bin --overwrite >>"$work/up.s3share"
  timed curl -sf -T "$work/file.bin" "http://127.0.0.1:$port/bench/file.bin" >>"$work/up.curl"
  rm -f "$work/down.bin"
  timed "${s3share[@]}" download s3://bench/file.bin "$work/down.bin" >>"$work/down.s3share"
  rm -f "$work/down.bin"
  timed curl -sf -o "$work/down.bin" "$url" >>"$work/down.curl"
  rm -f "$work/down.bin"
done

row() {
  read -r sw sc sr <<<"$(best <"$work/$1.s3share")"
  read -r cw cc cr <<<"$(best <"$work/$1.curl")"
  printf '| %s %s MiB | %s s / %s s / %s MB | %s s / %s s / %s MB | %.2f× / %.2f× |\n' \
    "$1" "$size_mib" "$sw" "$sc" "$((sr / 1024))" "$cw" "$cc" "$((cr / 1024))" \
    "$(awk -v a="$sw" -v b="$cw" 'BEGIN { print a / b }')" \
    "$(awk -v a="$sc" -v b="$cc" 'BEGIN { print a / b }')"
}
echo "| against the sink (best of $runs) | s3share: wall / CPU / RSS | curl: wall / CPU / RSS | s3share ÷ curl: wall / CPU |"
echo "|---|---|---|---|"
row up
row down
