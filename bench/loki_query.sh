#!/usr/bin/env bash
# Log query latency on about BYTES of the reference app's logs, as the
# reference dashboard asks for them.
#
# Starts `vigil loki` on a fresh storage dir (or uses LOKI_URL, e.g. a real
# Loki, and starts nothing), pushes BYTES of lines shaped like what the
# reference Promtail ships from the reference app's logs.log (its
# application and request lines half and half, with the labels its regex
# stages extract: `{job="fast-api-logs", env, filename, log_level, module,
# function}` or `{..., log_level, method, uri, status}`; see `--shape
# reference` in crates/logstore/examples/loki_load/lines.rs), spread over
# the last SPAN; flushes; then times, RUNS times after one warm-up, over
# the last hour:
# - the dashboard's two logs panels as Grafana sends them: range queries,
#   limit 1000 (Grafana's default max lines), direction backward;
# - Grafana's logs-volume query for the first of them, as its Loki
#   datasource builds it: `sum by (level, detected_level)
#   (count_over_time(<expr> | drop __error__[$__auto]))`, with $__auto =
#   step = VOLUME_STEP;
# - the "Log Errors / Warnings" stat panel's counts over the range (1h), as
#   instant queries: by the `log_level` label (what vigil's dashboard asks,
#   the reference's asks `level`, which Promtail never sets) and by a line
#   filter (a scan of every line: GB/s = raw bytes / median latency).
#
#   cargo build --release -p vigil
#   cargo build --release -p vigil-logstore --example loki_load
#   bench/loki_query.sh        # BYTES=1GB RUNS=5 SPAN=55m VOLUME_STEP=60
set -euo pipefail
cd "$(dirname "$0")/.."
bytes=${BYTES:-1GB}
runs=${RUNS:-5}
span=${SPAN:-55m}
volume_step=${VOLUME_STEP:-60}
connections=${CONNECTIONS:-4}
port=${PORT:-19330}
vigil=${VIGIL:-target/release/vigil}
load=${LOAD:-target/release/examples/loki_load}
external=${LOKI_URL:-}
flush=${FLUSH:-1}
out=bench/out/loki_query
mkdir -p "$out"
bins=("$load")
[ -n "$external" ] || bins+=("$vigil")
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || { echo "loki_query.sh: $bin is missing; build it (see the top of this script)" >&2; exit 2; }
done

# shellcheck source=bench/loki_lib.sh
source bench/loki_lib.sh

pid_args=()
if [ -n "$external" ]; then
  url=${external%/}
else
  start_vigil
  pid_args=(--pid "$server")
fi

push=$("$load" push --url "$url" --json --shape reference --bytes "$bytes" --span "$span" \
  --connections "$connections" "${pid_args[@]}") || {
  echo "loki_query.sh: the push failed: $push" >&2
  exit 1
}
echo "$push" > "$out/push.json"
raw=$(json "$push" raw_bytes)
printf 'pushed %s lines, %s bytes, in %s streams over the last %s: %.0f lines/s, %.1f MB/s\n' \
  "$(json "$push" lines)" "$raw" "$(json "$push" streams)" "$span" \
  "$(json "$push" lines_per_second)" "$(json "$push" mb_per_second)"

if [ "$flush" = 1 ]; then
  code=$(curl -s -o "$out/flush.txt" -w '%{http_code}' -X POST "$url/flush" || true)
  case "$code" in
    2*) ;;
    *) echo "loki_query.sh: POST /flush answered $code: $(head -c 200 "$out/flush.txt")" >&2 ;;
  esac
  if [ -n "$storage" ]; then
    chunks=$(chunks_bytes "$storage/chunks")
    echo "chunks on disk: ${chunks:-no chunks dir} bytes"
  fi
fi
if [ -n "$server" ]; then
  echo "server RSS after the push: $(($(kib "$server" VmRSS) / 1024)) MiB (peak $(($(kib "$server" VmHWM) / 1024)) MiB)"
fi

# $__auto as Grafana writes it into the expression: 1m, not 60s.
if [ $((volume_step % 60)) = 0 ]; then auto="$((volume_step / 60))m"; else auto="${volume_step}s"; fi
# panel <TAB> loki_load query options <TAB> expression
sel='{job="fast-api-logs"}'
queries=(
  "Logs: General	--range --start now-1h --end now --limit 1000 --direction backward	$sel"
  "Logs: Errors	--range --start now-1h --end now --limit 1000 --direction backward	{job=\"fast-api-logs\", log_level=\"ERROR\"}"
  "Logs volume (Explore)	--range --start now-1h --end now --step $volume_step	sum by (level, detected_level) (count_over_time($sel | drop __error__[$auto]))"
  "Log Errors (label)	--time now	sum(count_over_time({job=\"fast-api-logs\", log_level=\"ERROR\"}[1h]))"
  "Log Warnings (label)	--time now	sum(count_over_time({job=\"fast-api-logs\", log_level=\"WARNING\"}[1h]))"
  "Log Errors (line filter)	--time now --scan-bytes $raw	sum(count_over_time($sel |= \"ERROR\" [1h]))"
  "Log Warnings (line filter)	--time now --scan-bytes $raw	sum(count_over_time($sel |= \"WARNING\" [1h]))"
)
rm -f "$out/queries.jsonl"
failed=0
for entry in "${queries[@]}"; do
  IFS=$'\t' read -r panel options expr <<<"$entry"
  # shellcheck disable=SC2086 # the options are words on purpose
  if ! answer=$("$load" query --url "$url" --json --runs "$runs" --warmup 1 $options "$expr"); then
    failed=1
  fi
  python3 -c 'import json, sys; a = json.loads(sys.argv[2]); a["panel"] = sys.argv[1]; print(json.dumps(a))' \
    "$panel" "$answer" >> "$out/queries.jsonl"
done

echo
python3 - "$out/queries.jsonl" "$runs" "${external:-vigil}" "$(json "$push" error_lines)" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# What the ERROR counts must be: the lines pushed that hold ERROR.
errors = sys.argv[4]
print(f"{sys.argv[3]}: the last hour, median of {sys.argv[2]} runs after one warm-up")
print("| panel | query | median (ms) | min (ms) | answer | processed | GB/s |")
print("|---|---|---|---|---|---|---|")
def f(v, fmt):
    return "-" if v is None else fmt.format(v)
for r in rows:
    expr = r["query"].replace("|", "\\|")
    if r.get("error"):
        print(f"| {r['panel']} | `{expr}` | failed: {r['error']} | | | | |")
        continue
    if r["result_type"] == "streams":
        answer = f"{r['entries']} lines in {r['results']} streams"
    elif r["result_type"] == "matrix":
        answer = f"{r['results']} series, {r['entries']} points"
    else:
        answer = f"{r['results']} series, value {r['value']}"
        if r["panel"].startswith("Log Errors") and r["value"] != errors:
            answer += f" (**{errors} pushed**)"
    gbps = r.get("scan_gb_per_second") or r.get("gb_per_second")
    processed = r.get("scan_bytes") or r.get("bytes_processed")
    print(f"| {r['panel']} | `{expr}` | {f(r['median_ms'], '{:.1f}')} | {f(r['min_ms'], '{:.1f}')} | {answer}"
          f" | {f(processed and processed / 1e6, '{:.0f} MB')} | {f(gbps, '{:.2f}')} |")
PY
exit "$failed"
