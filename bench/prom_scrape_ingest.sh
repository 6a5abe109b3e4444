#!/usr/bin/env bash
# Scrape + ingest, side by side: `vigil prometheus` and Prometheus 2.42
# (Debian's /usr/bin/prometheus) in turn, same config, scraping TARGETS
# synthetic targets x SERIES series on loopback (bench/prom_targets.py) every
# INTERVAL. For each run: CPU seconds (utime + stime of the server process,
# from /proc) per million samples scraped over a MEASURE-second window after
# WARMUP seconds, and the RSS at the end of that window (steady state). Then
# the reference dashboard's queries as range queries over the last 5 minutes
# (step 15 s) against the same running server: median latency as curl sees
# it. Runs alternate vigil / Prometheus, ROUNDS times; medians reported.
#
#   cargo build --release -p vigil
#   bench/prom_scrape_ingest.sh        # TARGETS=50 SERIES=1000 INTERVAL=1s ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${TARGETS:-50}
series=${SERIES:-1000}
interval=${INTERVAL:-1s}
warmup=${WARMUP:-20}
measure=${MEASURE:-40}
rounds=${ROUNDS:-3}
vigil=${VIGIL:-target/release/vigil}
out=bench/out/prom_scrape
tport=${TARGET_PORT:-19300}
cport=$((tport - 1))
port=${PORT:-19290}
mkdir -p "$out"

python3 bench/prom_targets.py --port "$tport" --targets "$targets" --series "$series" --control "$cport" &
tpid=$!
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  kill "$tpid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$cport/" >/dev/null && break; sleep 0.1; done

{
  echo "global:"
  echo "  scrape_interval: $interval"
  echo "  scrape_timeout: $interval"
  echo "scrape_configs:"
  echo "  - job_name: fastapi"
  echo "    static_configs:"
  echo "      - targets:"
  for i in $(seq 0 $((targets - 1))); do echo "        - 127.0.0.1:$((tport + i))"; done
} > "$out/prometheus.yml"

# The reference dashboard's queries (shared/reference/README.md), one per line.
mapfile -t queries < bench/reference_queries.txt

ticks=$(getconf CLK_TCK)
cpu() { awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2 / 1024}' "/proc/$1/status"; }
scrapes() { curl -sf "http://127.0.0.1:$cport/"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
per_target=$(( (series / 24) * 24 + 5 ))  # series served + the 5 per-scrape series

run() {  # run NAME COMMAND... -> appends "cpu_per_million rss samples" to $out/NAME.txt, query times to $out/NAME.q
  local name=$1
  shift
  rm -rf "$out/data-$name"
  "$@" --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/data-$name" \
    --web.listen-address="127.0.0.1:$port" >"$out/$name.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
  sleep "$warmup"
  local c0 s0 c1 s1
  c0=$(cpu "$server"); s0=$(scrapes)
  sleep "$measure"
  c1=$(cpu "$server"); s1=$(scrapes)
  local r; r=$(rss "$server")
  local samples=$(( (s1 - s0) * per_target ))
  local cpm; cpm=$(awk -v a="$c0" -v b="$c1" -v n="$samples" 'BEGIN {print (b - a) / (n / 1e6)}')
  echo "$cpm $r $samples" >> "$out/$name.txt"
  printf '%s: %.2f CPU s per million samples (%d samples in %ss), RSS %.0f MiB\n' "$name" "$cpm" "$samples" "$measure" "$r"
  local now; now=$(date +%s)
  local i=0
  for q in "${queries[@]}"; do
    for k in 1 2 3 4 5; do
      t=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/api/v1/query_range" \
        --data-urlencode "query=$q" -d start=$((now - 300)) -d end="$now" -d step=15)
      [ "$k" = 1 ] && continue
      echo "$i $t" >> "$out/$name.q"
    done
    i=$((i + 1))
  done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
}

rm -f "$out"/{vigil,prometheus}.{txt,q}
echo "$targets targets x $per_target series every $interval; warmup ${warmup}s, measure ${measure}s, $rounds rounds"
for round in $(seq "$rounds"); do
  run vigil "$vigil" prometheus
  run prometheus /usr/bin/prometheus
done

echo
echo "| server | CPU s / million samples | RSS (MiB) |"
echo "|---|---|---|"
for name in vigil prometheus; do
  printf '| %s | %.2f | %.0f |\n' "$name" \
    "$(awk '{print $1}' "$out/$name.txt" | tr '\n' ' ' | median)" \
    "$(awk '{print $2}' "$out/$name.txt" | tr '\n' ' ' | median)"
done
echo
echo "Range queries over the last 5 min, step 15 s, median of $((4 * rounds)) (ms):"
echo "| query | vigil | Prometheus 2.42 |"
echo "|---|---|---|"
i=0
for q in "${queries[@]}"; do
  v=$(awk -v i=$i '$1 == i {print $2}' "$out/vigil.q" | tr '\n' ' ' | median)
  p=$(awk -v i=$i '$1 == i {print $2}' "$out/prometheus.q" | tr '\n' ' ' | median)
  printf '| `%s` | %.1f | %.1f |\n' "$q" "$(awk -v x="$v" 'BEGIN {print x * 1000}')" "$(awk -v x="$p" 'BEGIN {print x * 1000}')"
  i=$((i + 1))
done
