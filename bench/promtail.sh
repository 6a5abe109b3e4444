#!/usr/bin/env bash
# Log agent benchmark: `vigil promtail` reading one file of LINES
# reference-format lines (the demo app's request and function lines, with
# current timestamps) from its start, measured against the figures
# Promtail 2.8 gave on this kind of machine (2 cores).
#
# Per round, three runs, each with a fresh positions file:
#  (a) the reference pipeline (the stages of
#      /work/shared/reference/config/promtail-config.yaml: two regexes,
#      labels, timestamps), pushing to a sink that only counts
#      (crates/agent/examples/push_sink.rs);
#  (b) the same with no stages;
#  (c) the reference pipeline pushing into our log store (`vigil loki`,
#      started as bench/loki_push.sh does); done when the agent's
#      promtail_sent_entries_total reaches LINES.
# Wall time runs from the agent's start to the last line acknowledged (the
# sink notes when its count reached LINES); CPU is the agent's user+sys
# from /proc/<pid>/stat at that moment, peak RSS its VmHWM. ROUNDS rounds,
# medians reported.
#
#   cargo build --release -p vigil
#   cargo build --release -p vigil-agent --example push_sink
#   bench/promtail.sh        # LINES=2000000 ROUNDS=3 STORE=1
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${LINES:-2000000}
rounds=${ROUNDS:-3}
store=${STORE:-1}
port=${PORT:-19330}
agent_port=$((port + 10))
vigil=${VIGIL:-target/release/vigil}
sink=${SINK:-target/release/examples/push_sink}
out=bench/out/promtail
mkdir -p "$out"
for bin in "$vigil" "$sink"; do
  [ -x "$bin" ] || { echo "promtail.sh: $bin is missing; build it (see the top of this script)" >&2; exit 2; }
done

# shellcheck source=bench/loki_lib.sh
source bench/loki_lib.sh
work=$(mktemp -d /tmp/vigil-promtail-bench.XXXXXX)
agent=""
sink_pid=""
cleanup_all() {
  for p in "$agent" "$sink_pid"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  cleanup
  rm -rf "$work"
}
trap cleanup_all EXIT

# The reference app's two line formats (crates/demo/src/lines.rs), three
# request lines to one function line, timestamps 1 ms apart ending now.
echo "generating $lines lines"
python3 - "$lines" "$work/logs.log" <<'PY'
import datetime, random, sys
n, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
end = datetime.datetime.now(datetime.timezone.utc)
start = end - datetime.timedelta(milliseconds=n)
endpoints = ["/", "/items/42", "/put_endpoint", "/post_endpoint", "/delete_endpoint", "/error_endpoint"]
methods = ["GET", "PUT", "POST", "DELETE"]
functions = ["read_root", "read_item", "put_endpoint", "post_endpoint", "delete_endpoint", "error_endpoint"]
clients = ["127.0.0.1", "10.0.0.7", "192.168.1.20", "Undefined"]
statuses = [200, 200, 200, 201, 302, 404, 500]
base = start.timestamp()
with open(path, "w") as f:
    out = []
    for i in range(n):
        t = datetime.datetime.fromtimestamp(base + i / 1000, datetime.timezone.utc)
        ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
        if i % 4 == 3:
            fn = rng.choice(functions)
            level = rng.choice(["INFO", "INFO", "INFO", "WARNING", "ERROR"])
            out.append(f"{ts} | {level} | Module: demo::api | Function: {fn}| handled request {i} for item {rng.randrange(1000)}\n")
        else:
            status = rng.choice(statuses)
            level = "ERROR" if status >= 500 else "WARNING" if status >= 400 else "INFO"
            out.append(f"{ts} | {level} | {rng.choice(methods)} {rng.choice(endpoints)} | Requested by: {rng.choice(clients)} Status: {status} Duration: {rng.randrange(1, 1000)} ms\n")
        if len(out) >= 100000:
            f.write("".join(out)); out = []
    f.write("".join(out))
PY
file_bytes=$(stat -c %s "$work/logs.log")

# agent_config STAGES(0|1) PUSH_URL -> promtail-config.yaml on stdout
agent_config() {
  cat <<YAML
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $agent_port
  grpc_listen_port: 0
clients:
  - url: $2
positions:
  filename: $work/positions.yaml
scrape_configs:
  - job_name: fast-api-logs
YAML
  if [ "$1" = 1 ]; then
    # The reference config's stages, verbatim.
    cat <<'YAML'
    pipeline_stages:
      - regex:
          expression: '^(?P<log_timestamp>[\d-]+T[\d:.]+Z) \| (?P<log_level>\w+) \| Module: (?P<module>[^|]+) \| Function: (?P<function>[^|]+)\| (?P<message>.*)'
      - labels:
          log_level:
          module:
          function:
      - timestamp:
          source: log_timestamp
          format: "RFC3339"
      - regex:
          expression: '^(?P<timestamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) \| (?P<log_level>\w+) \| (?P<method>\w+) (?P<uri>[^\s]+) \| Requested by: (?P<requested_by>[^|]+) Status: (?P<status>\d+) Duration: (?P<duration>\d+) ms'
      - labels:
          log_level:
          method:
          uri:
          status:
      - timestamp:
          source: log_timestamp
          format: "RFC3339"
YAML
  fi
  cat <<YAML
    static_configs:
      - targets:
          - localhost
        labels:
          job: fast-api-logs
          env: dev
          __path__: $work/logs.log
YAML
}

# cpu_seconds PID: user+sys of a running process.
cpu_seconds() {
  python3 -c 'import os, sys
f = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK"))' "$1"
}

# sent_entries: the agent's promtail_sent_entries_total, summed.
sent_entries() {
  curl -s "http://127.0.0.1:$agent_port/metrics" |
    awk '$1 ~ /^promtail_sent_entries_total/ {s += $2} END {printf "%d\n", s}'
}

# run_agent NAME STAGES PUSH_URL [sink|metrics] -> one JSON line on stdout
run_agent() {
  local name=$1 stages=$2 push=$3 until=$4 start done_ns cpu hwm n
  rm -f "$work/positions.yaml"
  agent_config "$stages" "$push" > "$work/promtail-$name.yaml"
  start=$(date +%s%N)
  "$vigil" promtail -config.file "$work/promtail-$name.yaml" >"$out/agent-$name.log" 2>&1 &
  agent=$!
  done_ns=""
  for _ in $(seq 6000); do  # 10 minutes at most
    if ! kill -0 "$agent" 2>/dev/null; then
      echo "promtail.sh: the agent exited; its log ($out/agent-$name.log) ends with:" >&2
      tail -n 20 "$out/agent-$name.log" >&2
      agent=""
      exit 1
    fi
    if [ "$until" = sink ]; then
      done_ns=$(curl -s "$sink_url/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["done_ns"] or "")')
    else
      n=$(sent_entries)
      [ "${n:-0}" -ge "$lines" ] && done_ns=$(date +%s%N)
    fi
    [ -n "$done_ns" ] && break
    sleep 0.1
  done
  [ -n "$done_ns" ] || { echo "promtail.sh: $name never delivered $lines lines" >&2; exit 1; }
  cpu=$(cpu_seconds "$agent")
  hwm=$(kib "$agent" VmHWM)
  kill "$agent"; wait "$agent" 2>/dev/null || true
  agent=""
  python3 -c 'import json, sys
name, start, done, cpu, hwm, lines, size = sys.argv[1:]
wall = (int(done) - int(start)) / 1e9
print(json.dumps({"run": name, "wall_s": wall, "lines_per_second": int(lines) / wall,
  "mb_per_second": int(size) / wall / 1e6, "cpu_s": float(cpu), "cores": float(cpu) / wall,
  "peak_rss_mib": int(hwm) / 1024}))' "$name" "$start" "$done_ns" "$cpu" "$hwm" "$lines" "$file_bytes"
}

rm -f "$out/rounds.jsonl"
for round in $(seq "$rounds"); do
  echo "== round $round of $rounds (load average $(cut -d" " -f1-3 /proc/loadavg))"
  for stages in 1 0; do
    name=$([ "$stages" = 1 ] && echo pipeline || echo nostages)
    "$sink" --listen 127.0.0.1:$port --expect "$lines" > "$work/sink.out" 2>"$out/sink.log" &
    sink_pid=$!
    for _ in $(seq 100); do [ -s "$work/sink.out" ] && break; sleep 0.05; done
    sink_url="http://$(head -n 1 "$work/sink.out")"
    result=$(run_agent "$name" "$stages" "$sink_url/loki/api/v1/push" sink)
    got=$(curl -s "$sink_url/count")
    kill "$sink_pid"; wait "$sink_pid" 2>/dev/null || true
    sink_pid=""
    echo "$result" >> "$out/rounds.jsonl"
    echo "$name: $result; sink: $got"
  done
  if [ "$store" = 1 ]; then
    start_vigil
    result=$(run_agent store 1 "$url/loki/api/v1/push" metrics)
    stop_vigil
    echo "$result" >> "$out/rounds.jsonl"
    echo "store: $result"
  fi
done

echo
python3 - "$out/rounds.jsonl" "$lines" "$file_bytes" <<'PY'
import json, statistics, sys
rounds = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(run, key):
    values = [r[key] for r in rounds if r["run"] == run]
    return statistics.median(values) if values else None
def show(v, fmt):
    return "-" if v is None else fmt.format(v)
def verdict(ok):
    return "-" if ok is None else ("met" if ok else "**missed**")
def per_cpu(run):
    values = [int(sys.argv[2]) / r["cpu_s"] / 1e3 for r in rounds if r["run"] == run and r["cpu_s"] > 0]
    return statistics.median(values) if values else None
pipe, bare, store = (med(r, "lines_per_second") for r in ("pipeline", "nostages", "store"))
rss = max(r["peak_rss_mib"] for r in rounds if r["run"] in ("pipeline", "nostages"))
rows = [
    ("reference pipeline -> counting sink", "85k lines/s",
     show(pipe and pipe / 1e3, "{:.0f}k lines/s"), show(pipe and pipe / 85e3, "{:.2f}x"), ">= 5x (425k)",
     verdict(pipe and pipe >= 425e3)),
    ("CPU (reference pipeline)", "1.27 cores", show(med("pipeline", "cores"), "{:.2f} cores"), "", "", "-"),
    # Lines per CPU-second does not move with the load other processes put
    # on the machine, which the wall-clock rate does.
    ("lines per CPU-second (reference pipeline)", "67k",
     show(per_cpu("pipeline"), "{:.0f}k"), show(per_cpu("pipeline") and per_cpu("pipeline") / 67, "{:.2f}x"), "", "-"),
    ("no stages -> counting sink", "221k lines/s",
     show(bare and bare / 1e3, "{:.0f}k lines/s"), show(bare and bare / 221e3, "{:.2f}x"), "", "-"),
    ("CPU (no stages)", "", show(med("nostages", "cores"), "{:.2f} cores"), "", "", "-"),
    ("lines per CPU-second (no stages)", "", show(per_cpu("nostages"), "{:.0f}k"), "", "", "-"),
    ("peak RSS", "90 MiB", show(rss, "{:.1f} MiB"), show(rss / 90, "{:.2f}x"), "<= 20 MiB", verdict(rss <= 20)),
    ("reference pipeline -> vigil loki", "", show(store and store / 1e3, "{:.0f}k lines/s"), "", "", "-"),
    ("CPU of the agent (into vigil loki)", "", show(med("store", "cores"), "{:.2f} cores"), "", "", "-"),
]
print(f"Medians of {len(rounds)} run(s); {sys.argv[2]} lines, {int(sys.argv[3]) / 1e6:.0f} MB.")
print("| measure | Promtail 2.8 | vigil | ratio | target | |")
print("|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
