#!/usr/bin/env bash
# The desktop app's calm and speed, on a real X server (Xvfb, Mesa's software GL):
#   - cold start: launch to the window shown (eframe shows it after the first frame is drawn),
#     on a fresh home folder (first run: the local store starts too);
#   - idle CPU: the process's CPU time over 10 s with the window open and nothing happening.
#   bash benches/gui.sh      (needs: xvfb, xdotool, bc; builds --release)
#   S3SHARE_BIN=target/debug/s3share bash benches/gui.sh    (measure another build)
# Frame time with 1,000,000 rows is `cargo bench --bench frame`.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
if [ -n "${S3SHARE_BIN:-}" ]; then
  bin=$(realpath "$S3SHARE_BIN")
else
  cargo build --release --quiet
  bin=${CARGO_TARGET_DIR:-$PWD/target}/release/s3share
fi
display=:${DISPLAY_NUMBER:-93}
work=$(mktemp -d /tmp/s3share-gui-bench.XXXXXX)
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp -noreset >/dev/null 2>&1 &
xvfb=$!
app=
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
export DISPLAY=$display LIBGL_ALWAYS_SOFTWARE=1
for _ in $(seq 50); do xdotool getmouselocation >/dev/null 2>&1 && break; sleep 0.1; done

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

starts=()
for run in $(seq "$runs"); do
  home=$work/home-$run
  mkdir -p "$home"
  t0=$(date +%s.%N)
  env -i PATH="$PATH" HOME="$home" DISPLAY="$DISPLAY" LIBGL_ALWAYS_SOFTWARE=1 "$bin" >/dev/null 2>&1 &
  app=$!
  # Poll every 10 ms (xdotool's own --sync waits in 0.5 s steps).
  until xdotool search --onlyvisible --name '^s3share' >/dev/null 2>&1; do sleep 0.01; done
  t1=$(date +%s.%N)
  starts+=("$(echo "($t1 - $t0) * 1000" | bc -l)")
  if [ "$run" -lt "$runs" ]; then kill "$app"; wait "$app" 2>/dev/null || true; fi
done

# The last window stays open: let it settle, then measure 10 s of idling.
sleep 3
c0=$(cpu_ticks "$app")
sleep 10
c1=$(cpu_ticks "$app")
idle=$(echo "($c1 - $c0) * 100 / $ticks / 10" | bc -l)

printf '| measure | result |\n|---|---|\n'
printf '| cold start to window shown (%s runs) | %s ms median (runs: %s) |\n' "$runs" \
  "$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.0f", a[int((NR+1)/2)]}')" \
  "$(printf '%.0f ' "${starts[@]}")"
printf '| idle CPU over 10 s, window open | %.2f %% (%d clock ticks of %d) |\n' "$idle" "$((c1 - c0))" "$((ticks * 10))"
