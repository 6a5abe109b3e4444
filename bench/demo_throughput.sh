#!/usr/bin/env bash
# Requests/s of the demo API (no delay) with and without the metrics layer,
# and of the same API in FastAPI with prometheus-fastapi-instrumentator,
# measured side by side with wrk over loopback. Servers run on CPU 0 and wrk
# on CPU 1; the three targets are measured in turns, ROUNDS times, and the
# median of each is reported.
#
# Besides requests/s, it reports the server's CPU time per request (user +
# system, from /proc/<pid>/stat around each run). On a busy machine
# throughput swings with whatever else runs; CPU time per request hardly
# does, and for a server saturating one core it is the inverse of its
# throughput, so the layer's cost is read from it.
#
#   bench/demo_throughput.sh            # DURATION=10s CONNS=32 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-10s}
conns=${CONNS:-32}
rounds=${ROUNDS:-3}
out=bench/out
mkdir -p "$out"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release -q -p vigil
venv=$out/venv
if [ ! -x "$venv/bin/uvicorn" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q fastapi uvicorn prometheus-fastapi-instrumentator
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

taskset -c 0 target/release/vigil demo --listen 127.0.0.1:18001 --max-delay 0 --log-dir "$out/with" 2>/dev/null &
pids+=($!)
taskset -c 0 target/release/vigil demo --listen 127.0.0.1:18002 --max-delay 0 --log-dir "$out/without" --no-metrics 2>/dev/null &
pids+=($!)
(cd bench && LOG_FILE="../$out/fastapi.log" taskset -c 0 "../$venv/bin/uvicorn" fastapi_app:app \
  --host 127.0.0.1 --port 18003 --log-level warning --no-access-log) &
pids+=($!)
for port in 18001 18002 18003; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
done

# Server CPU seconds so far (all threads), from /proc/<pid>/stat.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
# The uvicorn server is the process listening on the port.
pid_of_port() { ss -ltnpH "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }

declare -A results cpu
names=([18001]="vigil demo, metrics layer" [18002]="vigil demo, no metrics layer" [18003]="FastAPI + instrumentator")
for round in $(seq "$rounds"); do
  for port in 18001 18002 18003; do
    pid=$(pid_of_port "$port")
    before=$(cpu_seconds "$pid")
    report=$(taskset -c 1 wrk -t1 -c"$conns" -d"$duration" "http://127.0.0.1:$port/get_endpoint")
    after=$(cpu_seconds "$pid")
    rps=$(echo "$report" | awk '/Requests\/sec/ {print $2}')
    requests=$(echo "$report" | awk '/requests in/ {print $1}')
    us=$(awk -v a="$after" -v b="$before" -v n="$requests" 'BEGIN { printf "%.2f", (a - b) * 1e6 / n }')
    results[$port]="${results[$port]:-} $rps"
    cpu[$port]="${cpu[$port]:-} $us"
    echo "round $round  ${names[$port]}: $rps req/s, $us CPU µs/request" >&2
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
with=$(echo "${results[18001]}" | median)
without=$(echo "${results[18002]}" | median)
fastapi=$(echo "${results[18003]}" | median)
with_us=$(echo "${cpu[18001]}" | median)
without_us=$(echo "${cpu[18002]}" | median)
fastapi_us=$(echo "${cpu[18003]}" | median)
versions=$("$venv/bin/pip" list 2>/dev/null | awk '/^(fastapi|uvicorn|prometheus-fastapi-instrumentator) / {printf "%s %s, ", $1, $2}')
echo
echo "GET /get_endpoint, wrk -t1 -c$conns -d$duration, median of $rounds (servers on CPU 0, wrk on CPU 1)"
echo "| server | requests/s | server CPU µs per request |"
echo "|---|---|---|"
echo "| vigil demo, metrics layer | $with | $with_us |"
echo "| vigil demo, no metrics layer | $without | $without_us |"
echo "| FastAPI + instrumentator (${versions%, }) | $fastapi | $fastapi_us |"
awk -v w="$with" -v wo="$without" -v f="$fastapi" -v wu="$with_us" -v wou="$without_us" -v fu="$fastapi_us" 'BEGIN {
  printf "\nmetrics layer cost, from CPU per request: %.1f %% of throughput\n", (1 - wou / wu) * 100
  printf "metrics layer cost, from requests/s medians: %.1f %%\n", (1 - w / wo) * 100
  printf "FastAPI / vigil demo (both with metrics), CPU per request: %.1fx; requests/s: %.1fx\n", fu / wu, w / f
}'
