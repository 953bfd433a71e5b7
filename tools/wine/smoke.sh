#!/usr/bin/env bash
# The Windows build under Wine, as a new user would start it: `--help`, then `s3share.exe local`
# on a fresh profile (its folder, its lock, its durable writes) answering a signed request, and
# an upload and a link through it with the Linux build as the client.
#   bash tools/wine/smoke.sh     (needs: wine and wine64 (Debian), gcc-mingw-w64-x86-64; builds --release
#                                 for x86_64-pc-windows-gnu first)
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --quiet --target x86_64-pc-windows-gnu --bin s3share
cargo build --release --quiet --bin s3share
exe=$target/x86_64-pc-windows-gnu/release/s3share.exe
linux=$target/release/s3share
work=$(mktemp -d /tmp/s3share-wine.XXXXXX)
export WINEPREFIX=$work/prefix WINEDEBUG=-all
pid=
trap 'kill $pid 2>/dev/null; /usr/lib/wine/wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT
wineboot --init >/dev/null 2>&1 || true
# Wine 8 lacks bcryptprimitives.dll (see the .c file): put the stand-in beside the exe.
cp "$exe" "$work/s3share.exe"
if ! ls "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" >/dev/null 2>&1; then
  x86_64-w64-mingw32-gcc -shared -O2 -o "$work/bcryptprimitives.dll" tools/wine/bcryptprimitives.c -ladvapi32
fi
wine "$work/s3share.exe" --help | head -3
wine "$work/s3share.exe" local --port 0 >"$work/local.out" 2>"$work/local.err" &
pid=$!
for _ in $(seq 300); do grep -q AWS_SECRET_ACCESS_KEY "$work/local.out" 2>/dev/null && break; sleep 0.1; done
if ! grep -q AWS_SECRET_ACCESS_KEY "$work/local.out"; then
  echo "s3share.exe local did not start:"; cat "$work/local.err"; exit 1
fi
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
echo "OK: s3share.exe local served an upload and a working link under Wine"
