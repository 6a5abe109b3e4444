#!/usr/bin/env bash
# `vigil up` as a whole: the time from starting the process to every
# component answering ready, and the process' memory (RSS) under the demo's
# own load (loadgen and loggen at their defaults) for DURATION seconds, then
# the time Ctrl-C takes to drain everything.
#
#   cargo build --release -p vigil
#   bench/up.sh            # DURATION=600 VIGIL=target/release/vigil
#
# Writes bench/out/up/{up.log,rss.tsv,summary.json} and prints the summary.
# Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${DURATION:-600}
vigil=${VIGIL:-${CARGO_TARGET_DIR:-target}/release/vigil}
out=bench/out/up
mkdir -p "$out"
[ -x "$vigil" ] || { echo "up.sh: $vigil is missing; run cargo build --release -p vigil" >&2; exit 2; }

data=$(mktemp -d)
pid=""
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

# Ports away from the upstream ones, so a running stack does not disturb it.
demo=127.0.0.1:18500 prom=127.0.0.1:18501 loki=127.0.0.1:18502 agent=127.0.0.1:18503 grafana=127.0.0.1:18504
ms() { echo $(($(date +%s%N) / 1000000)); }
ready() { curl -fsS -o /dev/null --max-time 1 "http://$1" 2>/dev/null; }

start=$(ms)
"$vigil" up --data-dir "$data" --demo-listen "$demo" --prometheus-listen "$prom" \
  --loki-listen "$loki" --agent-listen "$agent" --grafana-listen "$grafana" >"$out/up.log" 2>&1 &
pid=$!
# The agent is ready once it reads a file, the others once they serve.
until ready "$demo/health" && ready "$prom/-/ready" && ready "$loki/ready" && ready "$grafana/api/health"; do
  kill -0 "$pid" 2>/dev/null || { echo "up.sh: vigil up exited; see $out/up.log" >&2; exit 1; }
  sleep 0.005
done
serving=$(($(ms) - start))
until ready "$agent/ready"; do sleep 0.005; done
all_ready=$(($(ms) - start))

rss() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
printf 'seconds\trss_kib\n' >"$out/rss.tsv"
peak=0
for ((t = 0; t <= duration; t += 10)); do
  r=$(rss)
  printf '%s\t%s\n' "$t" "$r" >>"$out/rss.tsv"
  [ "$r" -le "$peak" ] || peak=$r
  [ "$t" -eq "$duration" ] || sleep 10
done
final=$(rss)

stop=$(ms)
kill -INT "$pid"
wait "$pid" || true
drained=$(($(ms) - stop))
pid=""

cat >"$out/summary.json" <<JSON
{
  "serving_ms": $serving,
  "all_ready_ms": $all_ready,
  "duration_s": $duration,
  "rss_final_kib": $final,
  "rss_peak_kib": $peak,
  "ctrl_c_exit_ms": $drained
}
JSON
cat "$out/summary.json"
