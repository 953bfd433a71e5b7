#!/usr/bin/env bash
# Upload throughput and memory: `s3share upload` (presigned PUT, with its checksum pass) side by
# side with `curl -T` of the same file to a presigned PUT URL on the same embedded store, for a
# 100 MiB and a 1 GiB file. Wall time and peak RSS come from /usr/bin/time -v.
#   bash benches/upload.sh            (needs: curl, time (GNU), python3; builds --release)
# Prints a Markdown table; the README quotes it.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
cargo build --release --quiet
bin=$PWD/target/release/s3share
work=$(mktemp -d /tmp/s3share-bench.XXXXXX)
trap 'kill $store_pid 2>/dev/null || true; rm -rf "$work"' EXIT

XDG_CONFIG_HOME=$work/config "$bin" local --port 0 --dir "$work/store" >"$work/env" 2>/dev/null &
store_pid=$!
for _ in $(seq 100); do [ "$(wc -l <"$work/env")" -ge 4 ] && break; sleep 0.1; done
set -a; . "$work/env"; set +a
export AWS_EC2_METADATA_DISABLED=true

# A presigned PUT URL for curl, signed in Python (SigV4, UNSIGNED-PAYLOAD, host only).
presign_put() {
python3 - "$1" <<'PY'
import datetime, hashlib, hmac, os, sys, urllib.parse
key = sys.argv[1]
ep = urllib.parse.urlparse(os.environ["AWS_ENDPOINT_URL"])
ak, sk, region = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"], os.environ["AWS_REGION"]
now = datetime.datetime.now(datetime.timezone.utc)
amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
scope = f"{day}/{region}/s3/aws4_request"
q = {"X-Amz-Algorithm": "AWS4-HMAC-SHA256", "X-Amz-Credential": f"{ak}/{scope}", "X-Amz-Date": amz,
     "X-Amz-Expires": "3600", "X-Amz-SignedHeaders": "host"}
enc = lambda s: urllib.parse.quote(s, safe="-_.~")
cq = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(q.items()))
path = "/shared/" + urllib.parse.quote(key, safe="/-_.~")
creq = f"PUT\n{path}\n{cq}\nhost:{ep.netloc}\n\nhost\nUNSIGNED-PAYLOAD"
sts = f"AWS4-HMAC-SHA256\n{amz}\n{scope}\n" + hashlib.sha256(creq.encode()).hexdigest()
k = ("AWS4" + sk).encode()
for part in (day, region, "s3", "aws4_request"):
    k = hmac.new(k, part.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
print(f"{ep.scheme}://{ep.netloc}{path}?{cq}&X-Amz-Signature={sig}")
PY
}

measure() { # prints "seconds max_rss_kb"
  /usr/bin/time -v "$@" 2>"$work/time" >/dev/null
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; w = s }
              /Maximum resident set size/ { r = $2 } END { printf "%.2f %d\n", w, r }' "$work/time"
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "| file | tool | wall time (median of $runs) | peak RSS (max) | vs curl |"
echo "|---|---|---|---|---|"
for size_mib in 100 1024; do
  file=$work/file-$size_mib.bin
  head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$file"
  cat "$file" >/dev/null # in the page cache for both tools alike
  for tool in curl s3share-crc32c s3share-sha256; do
    : >"$work/walls"; : >"$work/rss"
    for i in $(seq "$runs"); do
      key="bench/$tool-$size_mib-$i.bin"
      case $tool in
        curl) url=$(presign_put "$key"); read -r w r < <(measure curl -sS -f -T "$file" "$url") ;;
        s3share-*) read -r w r < <(measure "$bin" upload "$file" "s3://shared/$key" --checksum "${tool#s3share-}") ;;
      esac
      echo "$w" >>"$work/walls"; echo "$r" >>"$work/rss"
    done
    wall=$(median <"$work/walls")
    rss=$(sort -n "$work/rss" | tail -1)
    [ "$tool" = curl ] && curl_wall=$wall
    ratio=$(awk -v a="$wall" -v b="$curl_wall" 'BEGIN { printf "%.2fx", a / b }')
    printf '| %s MiB | %s | %.2f s | %.1f MB | %s |\n' "$size_mib" "$tool" "$wall" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" "$ratio"
  done
  rm -f "$file"
done
