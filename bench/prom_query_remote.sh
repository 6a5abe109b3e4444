#!/usr/bin/env bash
# Query latency on the same remote-written data, side by side: `vigil
# prometheus` and Prometheus 2.42 (Debian's /usr/bin/prometheus), both with
# their remote-write receiver on and nothing to scrape, get the same history
# from crates/prom/examples/remote_write_load.rs (TARGETS instances of the
# reference app's metrics, HOURS hours at INTERVAL seconds). Then the
# reference dashboard's queries run as range queries through the HTTP API,
# the two servers in turn, ROUNDS times each (one warm-up round first), over
# the last RANGES (seconds, step STEP): median latency as curl sees it. The
# RSS of both servers after ingestion is printed too.
#
#   cargo build --release -p vigil
#   bench/prom_query_remote.sh      # TARGETS=50 HOURS=1 INTERVAL=15 ROUNDS=7
set -euo pipefail
cd "$(dirname "$0")/.."
targets=${TARGETS:-50}
hours=${HOURS:-1}
interval=${INTERVAL:-15}
rounds=${ROUNDS:-7}
step=${STEP:-15}
ranges=${RANGES:-"300 3600"}
vigil=${VIGIL:-target/release/vigil}
out=bench/out/prom_query
vport=${VIGIL_PORT:-19391}
pport=${PROM_PORT:-19392}
mkdir -p "$out"
cargo build -q --release -p vigil-prom --example remote_write_load
printf 'global:\n  scrape_interval: 1h\n' > "$out/prometheus.yml"
rm -rf "$out/data-vigil" "$out/data-prometheus"

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
"$vigil" prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/data-vigil" \
  --web.listen-address="127.0.0.1:$vport" --web.enable-remote-write-receiver >"$out/vigil.log" 2>&1 &
vpid=$!; pids+=("$vpid")
/usr/bin/prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/data-prometheus" \
  --web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver >"$out/prometheus.log" 2>&1 &
ppid=$!; pids+=("$ppid")
for port in "$vport" "$pport"; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done
done

target/release/examples/remote_write_load --targets "$targets" --hours "$hours" --interval "$interval" \
  "http://127.0.0.1:$vport/api/v1/write" "http://127.0.0.1:$pport/api/v1/write"
sleep 2
rss() { awk '/^VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
echo "RSS after ingestion: vigil $(rss "$vpid") MiB, Prometheus $(rss "$ppid") MiB"

# The reference dashboard's queries (shared/reference/README.md), one per line.
mapfile -t queries < bench/reference_queries.txt
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
end=$(curl -s "http://127.0.0.1:$vport/api/v1/query" --data-urlencode 'query=max(timestamp(up))' \
  | python3 -c 'import json,sys; print(int(float(json.load(sys.stdin)["data"]["result"][0]["value"][1])))')
for range in $ranges; do
  echo
  echo "Range queries over the last $range s of the data, step $step s; median of $rounds (ms):"
  echo "| query | vigil | Prometheus 2.42 | series |"
  echo "|---|---|---|---|"
  for q in "${queries[@]}"; do
    v=""; p=""
    for round in $(seq 0 "$rounds"); do
      for port in "$vport" "$pport"; do
        t=$(curl -s -o "$out/answer-$port.json" -w '%{time_total}' "http://127.0.0.1:$port/api/v1/query_range" \
          --data-urlencode "query=$q" -d start=$((end - range)) -d end="$end" -d step="$step")
        [ "$round" = 0 ] && continue
        if [ "$port" = "$vport" ]; then v="$v $t"; else p="$p $t"; fi
      done
    done
    n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]["result"]))' "$out/answer-$vport.json")
    printf '| `%s` | %.1f | %.1f | %s |\n' "$q" \
      "$(echo "$v" | median | awk '{print $1 * 1000}')" "$(echo "$p" | median | awk '{print $1 * 1000}')" "$n"
  done
done
echo
echo "RSS after the queries: vigil $(rss "$vpid") MiB (peak $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$vpid/status")), Prometheus $(rss "$ppid") MiB (peak $(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$ppid/status"))"
