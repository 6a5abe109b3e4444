#!/usr/bin/env bash
# PromQL range-query latency of the reference dashboard's queries over 6 h of
# data from 1,000 series scraped every 15 s (1.44 M samples), step 20 s:
# vigil's engine over its in-memory head (crates/promql/benches/latency.rs),
# then Prometheus 2.42 (Debian's `prometheus` package) over the same samples,
# imported with `promtool tsdb create-blocks-from openmetrics` and queried
# through its HTTP API with `stats=all`, which reports the engine's own time
# (execTotalTime) besides the time curl sees.
#
#   bench/promql_latency.sh              # ROUNDS=7, medians
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-7}
out=bench/out/promql
port=${PORT:-19091}
mkdir -p "$out"

ROUNDS=$rounds cargo bench -q -p vigil-promql --bench latency -- --openmetrics "$PWD/$out/data.om" | tee "$out/vigil.md"
mapfile -t queries < <(cargo bench -q -p vigil-promql --bench latency -- --list)
start=1795478400
end=$((start + 6 * 3600))
step=20

rm -rf "$out/prom-data"
promtool tsdb create-blocks-from openmetrics "$out/data.om" "$out/prom-data" >/dev/null
echo "global: {}" > "$out/prometheus.yml"
prometheus --config.file="$out/prometheus.yml" --storage.tsdb.path="$out/prom-data" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
  --log.level=warn 2>"$out/prometheus.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.2; done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "Prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}'), same data and queries, $rounds rounds, median"
echo "| query | series | engine (execTotalTime) | HTTP total |"
echo "|---|---|---|---|"
for q in "${queries[@]}"; do
  engine=""
  total=""
  series=0
  for round in $(seq 0 "$rounds"); do
    resp=$(curl -s -w '\n%{time_total}' "http://127.0.0.1:$port/api/v1/query_range" \
      --data-urlencode "query=$q" -d start=$start -d end=$end -d step=$step -d stats=all)
    t=$(echo "$resp" | tail -1)
    read -r e n < <(echo "$resp" | head -n -1 | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "success", d
print(d["data"]["stats"]["timings"]["execTotalTime"], len(d["data"]["result"]))')
    series=$n
    # Round 0 warms the page cache and the engine.
    [ "$round" = 0 ] && continue
    engine="$engine $e"
    total="$total $t"
  done
  printf '| `%s` | %s | %.1f ms | %.1f ms |\n' "$q" "$series" \
    "$(echo "$engine" | median | awk '{print $1 * 1000}')" "$(echo "$total" | median | awk '{print $1 * 1000}')"
done
