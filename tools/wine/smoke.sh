#!/usr/bin/env bash
# The Windows build under Wine, as a new user would start it, on fresh profiles (Wine prefixes):
#  1. `s3share.exe --help`;
#  2. `s3share.exe local` (its folder, its lock, its durable writes) answering a signed request:
#     an upload and a link through it with the Linux build as the client;
#  3. the same with `s3share.exe upload FILE s3://shared/ --share 5m` as the client: Wine hands
#     the Unix environment (here only the AWS_* lines `local` printed) to the Windows program;
#  4. `s3share-window.exe` on another fresh profile, on an Xvfb of its own: the window opens and
#     starts its own store; a file dragged onto it (a real XDND drag, which Wine turns into a
#     Windows drop) is uploaded and its link put on the clipboard (Wine bridges the Windows
#     clipboard to X11's); the link gives the file; a screenshot is kept;
#  5. `s3share.exe share … --copy` against the window's store: once it has exited the link is on
#     the clipboard, works, and s3share said nothing about failing to put it there.
#
#   bash tools/wine/smoke.sh                       builds --release first (x86_64-pc-windows-gnu with
#                                                  --features window-exe, and the Linux build)
#   SMOKE_SKIP_BUILD=1 bash tools/wine/smoke.sh    no cargo: uses the built .exe files as they are
#   SMOKE_NO_WINDOW=1                              steps 1-3 only (no X server needed)
#   SMOKE_SCREENSHOT=PATH                          where step 4's screenshot goes
#                                                  (default /tmp/s3share-wine-window.png)
#   SMOKE_DESKTOP_TOOLS=DIR                        where xdnd_drag.py and clipboard.sh are
#                                                  (default: ../shared/tools beside this repository)
# Needs: wine and wine64 (Debian), gcc-mingw-w64-x86-64, curl; for 4-5 also xvfb, xdotool, xclip,
# python3-xlib, and imagemagick for the screenshot (skipped without it).
#
# Under Wine the Windows clipboard lives in the prefix's explorer.exe, which Wine ends about a
# second after the prefix's last program exits: the clipboard is read while the window runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
target=${CARGO_TARGET_DIR:-$PWD/target}
window=1
if [[ ${SMOKE_NO_WINDOW:-0} == 1 ]]; then window=0; fi
if [[ ${SMOKE_SKIP_BUILD:-0} != 1 ]]; then
  if ((window)); then
    cargo build --release --quiet --target x86_64-pc-windows-gnu --features window-exe --bins
  else
    cargo build --release --quiet --target x86_64-pc-windows-gnu --bin s3share
  fi
  cargo build --release --quiet --bin s3share
fi
exe=$target/x86_64-pc-windows-gnu/release/s3share.exe
window_exe=$target/x86_64-pc-windows-gnu/release/s3share-window.exe
linux=$target/release/s3share
tools=${SMOKE_DESKTOP_TOOLS:-$repo/../shared/tools}
shot=${SMOKE_SCREENSHOT:-/tmp/s3share-wine-window.png}
needed=("$exe" "$linux")
if ((window)); then needed+=("$window_exe"); fi
for f in "${needed[@]}"; do
  [[ -x $f ]] || { echo "missing $f (build it, or run without SMOKE_SKIP_BUILD=1)"; exit 1; }
done
if ((window)); then
  for c in Xvfb xdotool xclip python3; do
    command -v "$c" >/dev/null || { echo "no $c: install xvfb xdotool xclip python3-xlib, or set SMOKE_NO_WINDOW=1"; exit 1; }
  done
  for f in xdnd_drag.py clipboard.sh; do
    [[ -f $tools/$f ]] || { echo "no $tools/$f (set SMOKE_DESKTOP_TOOLS), or set SMOKE_NO_WINDOW=1"; exit 1; }
  done
fi
wineserver=$(command -v wineserver || echo /usr/lib/wine/wineserver)

work=$(mktemp -d /tmp/s3share-wine.XXXXXX)
export WINEDEBUG=-all
local_pid= window_pid= xvfb_pid=
cleanup() {
  for p in $local_pid $window_pid; do kill "$p" 2>/dev/null || true; done
  for prefix in "$work"/prefix-*; do
    if [[ -d $prefix ]]; then WINEPREFIX=$prefix "$wineserver" -k 2>/dev/null || true; fi
  done
  if [[ -n $xvfb_pid ]]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
start_ns=$(date +%s%N)
step() { # the time since the start, then the words
  local ms=$((($(date +%s%N) - start_ns) / 1000000))
  printf '[%4d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*"
}
# A command in a clean environment for Windows programs under Wine: only what Wine needs, a
# UTF-8 locale (Wine converts arguments and file names through it), the NAME=value words given
# first, and $work as the working folder (files are named relative to it). For a background
# job the same env line is written out, so that $! is Wine's own process.
clean_env=(PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 WINEDEBUG=-all)
win() { env -i -C "$work" "${clean_env[@]}" WINEPREFIX="$WINEPREFIX" "$@"; }
# Wine 8 lacks bcryptprimitives.dll (see the .c file): the stand-in goes beside the exe.
x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" tools/wine/bcryptprimitives.c -ladvapi32
cp "$exe" "$work/s3share.exe"
if ((window)); then cp "$window_exe" "$work/s3share-window.exe"; fi

# --- 1-3: s3share.exe local, with the Linux build and then s3share.exe itself as the client
export WINEPREFIX=$work/prefix-cli
# No display for this prefix (win() passes none either): nothing here needs one.
env -u DISPLAY -u WAYLAND_DISPLAY wineboot --init >/dev/null 2>&1 || true
step "prefix ready"
win wine s3share.exe --help | head -3
env -i -C "$work" "${clean_env[@]}" WINEPREFIX="$WINEPREFIX" wine s3share.exe local --port 0 \
  >"$work/local.out" 2>"$work/local.err" &
local_pid=$!
for _ in $(seq 300); do grep -q AWS_SECRET_ACCESS_KEY "$work/local.out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q AWS_SECRET_ACCESS_KEY "$work/local.out"; then
  echo "s3share.exe local did not start:"; cat "$work/local.err"; exit 1
fi
step "s3share.exe local is serving"
# The printed lines (export NAME=value or set NAME=value) as the client's environment.
env_args=()
while IFS= read -r line; do
  line=${line%$'\r'}; line=${line#export }; line=${line#set }
  [[ $line == AWS_*=* ]] && env_args+=("$line")
done <"$work/local.out"
printf 'hello from wine\n' >"$work/hello.txt"
env -i PATH="$PATH" HOME="$work/home" "${env_args[@]}" "$linux" upload "$work/hello.txt" s3://shared/ --share 5m >"$work/link"
url=$(tail -1 "$work/link")
body=$(curl -sf "$url")
[[ $body == "hello from wine" ]] || { echo "the link gave: $body"; exit 1; }
step "OK: s3share.exe local served an upload and a working link under Wine"

printf 'hello from the windows cli\n' >"$work/from-cli.txt"
if ! win "${env_args[@]}" timeout 120 wine s3share.exe upload from-cli.txt s3://shared/ --share 5m \
  >"$work/cli.out" 2>"$work/cli.err"; then
  echo "s3share.exe upload failed:"; cat "$work/cli.err"; exit 1
fi
url=$(tail -1 "$work/cli.out"); url=${url%$'\r'}
body=$(curl -sf "$url") || { echo "the link of s3share.exe upload did not answer: $url"; exit 1; }
[[ $body == "hello from the windows cli" ]] || { echo "the link of s3share.exe upload gave: $body"; exit 1; }
step "OK: s3share.exe upload --share under Wine uploaded to its store and printed a working link"
kill "$local_pid"; local_pid=
"$wineserver" -k 2>/dev/null || true

if ((!window)); then exit 0; fi

# --- 4: the window, on a fresh profile and an X server of its own
export WINEPREFIX=$work/prefix-window
n=93
while [[ -e /tmp/.X$n-lock || -e /tmp/.X11-unix/X$n ]]; do n=$((n + 1)); done
# -noreset: a probe that disconnects must not reset the server under Wine; -displayfd says when
# it is ready.
Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp -noreset -displayfd 3 3>"$work/xvfb.ready" 2>"$work/xvfb.err" &
xvfb_pid=$!
for _ in $(seq 100); do [[ -s $work/xvfb.ready ]] && break; sleep 0.1; done
[[ -s $work/xvfb.ready ]] || { echo "Xvfb :$n did not start:"; cat "$work/xvfb.err"; exit 1; }
export DISPLAY=:$n
env -u WAYLAND_DISPLAY wineboot --init >/dev/null 2>&1 || true
step "X server :$n and a fresh prefix ready"
env -i -C "$work" "${clean_env[@]}" WINEPREFIX="$WINEPREFIX" DISPLAY="$DISPLAY" wine s3share-window.exe \
  >"$work/window.out" 2>"$work/window.err" &
window_pid=$!
if ! wid=$(timeout 120 xdotool search --sync --onlyvisible --name s3share | head -1) || [[ -z $wid ]]; then
  echo "no s3share window within 120 s"; cat "$work/window.err"; exit 1
fi
step "the window is up: $(xdotool getwindowname "$wid")"
# Wine names the dropped file by its Windows path (Z:\…); a space and an accent check the way.
drop="$work/dropped é.txt"
printf 'dropped on the window under wine\n' >"$drop"
dropped=
for _ in 1 2 3; do
  if timeout 30 python3 "$tools/xdnd_drag.py" --window-name s3share "$drop" 2>"$work/drag.err"; then
    dropped=1; break
  fi
  sleep 2 # the window may not have taken drops yet
done
[[ -n $dropped ]] || { echo "the drop was not accepted: $(cat "$work/drag.err")"; exit 1; }
step "the drop was accepted"
if ! link=$(bash "$tools/clipboard.sh" 60 http); then
  echo "no link on the clipboard within 60 s of the drop"; cat "$work/window.err"; exit 1
fi
step "the link is on the clipboard"
profile=$(echo "$WINEPREFIX"/drive_c/users/*/AppData/Roaming/s3share)
endpoint=$(sed -n 's/.*"endpoint":"\([^"]*\)".*/\1/p' "$profile/data/local-store/.address.json")
[[ $link == "$endpoint/shared/dropped%20%C3%A9.txt?"* ]] ||
  { echo "the clipboard holds not the link of the dropped file on $endpoint: $link"; exit 1; }
body=$(curl -sf "$link") || { echo "the copied link did not answer: $link"; exit 1; }
[[ $body == "dropped on the window under wine" ]] || { echo "the copied link gave: $body"; exit 1; }
if command -v import >/dev/null; then
  sleep 1 # the transfer's row and the toast
  import -window "$wid" "$shot"
  step "screenshot: $shot"
fi
step "OK: s3share-window.exe under Wine took a dropped file, uploaded it, and copied a working link"

# --- 5: s3share.exe share --copy against the window's store; the clipboard after it exits
credentials=$profile/config/local-store-credentials.toml
key_id=$(sed -n 's/^access_key_id = "\(.*\)"$/\1/p' "$credentials")
secret=$(sed -n 's/^secret_access_key = "\(.*\)"$/\1/p' "$credentials")
if ! win DISPLAY="$DISPLAY" AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID="$key_id" \
  AWS_SECRET_ACCESS_KEY="$secret" AWS_REGION=us-east-1 \
  timeout 120 wine s3share.exe share "s3://shared/dropped é.txt" --expires 5m --copy \
  >"$work/share.out" 2>"$work/share.err"; then
  echo "s3share.exe share --copy failed:"; cat "$work/share.err"; exit 1
fi
printed=$(tail -1 "$work/share.out"); printed=${printed%$'\r'}
step "s3share.exe share --copy exited"
# The window (still running) keeps this prefix's Wine, and so its clipboard, alive.
if ! copied=$(bash "$tools/clipboard.sh" 10 "$printed") || [[ $copied != "$printed" ]]; then
  echo "after s3share.exe share --copy exited the clipboard holds: $(bash "$tools/clipboard.sh" 1 || true)"
  exit 1
fi
body=$(curl -sf "$copied") || { echo "the link share --copy left did not answer: $copied"; exit 1; }
[[ $body == "dropped on the window under wine" ]] || { echo "the link share --copy left gave: $body"; exit 1; }
step "the link of share --copy is on the clipboard after it exited, and works"
# On Windows the clipboard keeper s3share starts sets the text and exits at once (the system
# keeps it); a keeper's exit must not be taken for a refused clipboard.
if grep -i 'warning\|error' "$work/share.err"; then
  echo "FAIL: s3share.exe share --copy put the link on the clipboard but said the above"
  exit 1
fi
step "OK: s3share.exe share --copy under Wine left a working link on the clipboard"
