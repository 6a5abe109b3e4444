#!/usr/bin/env bash
# Log store push + scan benchmark: `vigil loki` on a fresh storage dir,
# measured against the figures Loki 2.8 (the reference setup's) gave on this
# kind of machine (2 cores).
#
# Per round: start `vigil loki` with a minimal config (no auth, rate limits
# out of the way), wait for /ready, note the idle RSS after IDLE_WAIT
# seconds; push LINES lines in STREAMS streams, BATCH of raw lines per
# request over CONNECTIONS connections (crates/logstore/examples/loki_load.rs;
# every request is encoded before the clock starts, and the tool reads the
# server's CPU time and peak RSS from /proc around the sending window);
# POST /flush and wait for the chunks dir to stop growing: compression =
# raw bytes pushed / `du -sb <storage>/chunks`; then the scan query
# `sum(count_over_time({job="bench"} |= "ERROR" [1h]))`, instant, just after
# the last line, RUNS times after one warm-up: GB/s = raw bytes / median
# latency. The count it answers is checked against the lines generated.
# ROUNDS rounds (fresh server each), medians reported.
#
# With LOKI_URL (e.g. http://127.0.0.1:3100) nothing is started: the same
# push and scan go to that server, under a job label of their own, and the
# figures that need the server's pid or data dir (RSS, CPU, compression)
# are left out. FLUSH=0 skips the flush there.
#
#   cargo build --release -p vigil
#   cargo build --release -p vigil-logstore --example loki_load
#   bench/loki_push.sh        # LINES=2000000 STREAMS=16 BATCH=1MiB CONNECTIONS=4 ROUNDS=1 RUNS=5
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${LINES:-2000000}
streams=${STREAMS:-16}
batch=${BATCH:-1MiB}
connections=${CONNECTIONS:-4}
rounds=${ROUNDS:-1}
runs=${RUNS:-5}
idle_wait=${IDLE_WAIT:-5}
port=${PORT:-19310}
vigil=${VIGIL:-target/release/vigil}
load=${LOAD:-target/release/examples/loki_load}
external=${LOKI_URL:-}
flush=${FLUSH:-1}
out=bench/out/loki_push
mkdir -p "$out"
bins=("$load")
[ -n "$external" ] || bins+=("$vigil")
for bin in "${bins[@]}"; do
  [ -x "$bin" ] || { echo "loki_push.sh: $bin is missing; build it (see the top of this script)" >&2; exit 2; }
done

# shellcheck source=bench/loki_lib.sh
source bench/loki_lib.sh

rm -f "$out/rounds.jsonl"
for round in $(seq "$rounds"); do
  echo "== round $round of $rounds"
  job=bench
  pid_args=()
  idle=""
  if [ -n "$external" ]; then
    url=${external%/}
    # Its own job label, so the scan reads this round's lines only.
    job="bench-$(date +%s)-$round"
  else
    start_vigil
    sleep "$idle_wait"
    idle=$(kib "$server" VmRSS)
    pid_args=(--pid "$server")
  fi

  push=$("$load" push --url "$url" --json --lines "$lines" --streams "$streams" --job "$job" \
    --batch-bytes "$batch" --connections "$connections" "${pid_args[@]}") || {
    echo "loki_push.sh: the push failed: $push" >&2
    exit 1
  }
  echo "$push" > "$out/push-$round.json"
  raw=$(json "$push" raw_bytes)
  printf 'pushed %s lines, %s bytes, in %.2f s: %.0f lines/s, %.1f MB/s; %s failures, %s retries\n' \
    "$(json "$push" lines)" "$raw" "$(json "$push" wall_seconds)" "$(json "$push" lines_per_second)" \
    "$(json "$push" mb_per_second)" "$(json "$push" failures)" "$(json "$push" retries)"

  chunks=""
  if [ "$flush" = 1 ]; then
    code=$(curl -s -o "$out/flush.txt" -w '%{http_code}' -X POST "$url/flush" || true)
    case "$code" in
      2*) ;;
      *) echo "loki_push.sh: POST /flush answered $code: $(head -c 200 "$out/flush.txt")" >&2 ;;
    esac
  fi
  if [ -n "$storage" ]; then
    chunks=$(chunks_bytes "$storage/chunks")
    if [ -z "$chunks" ]; then
      echo "loki_push.sh: no $storage/chunks directory after the flush; compression not measured" >&2
    else
      echo "chunks on disk: $chunks bytes ($(du -sb "$storage" | cut -f1) bytes in the whole storage dir)"
    fi
  fi

  # Just after the last line: the 1 h window then holds every line pushed.
  at=$(python3 -c 'import sys; print(int(sys.argv[1]) // 10**9 + 1)' "$(json "$push" last_ts_ns)")
  scan=$("$load" query --url "$url" --json --time "$at" --runs "$runs" --warmup 1 --scan-bytes "$raw" \
    "sum(count_over_time({job=\"$job\"} |= \"ERROR\" [1h]))") || {
    echo "loki_push.sh: the scan query failed: $scan" >&2
    exit 1
  }
  echo "$scan" > "$out/scan-$round.json"
  expected=$(json "$push" error_lines)
  counted=$(json "$scan" value)
  if [ "$counted" != "$expected" ]; then
    echo "loki_push.sh: WARNING: the scan counted $counted ERROR lines, $expected were pushed" >&2
  fi
  printf 'scan: median %.1f ms, %.2f GB/s over %s bytes; counted %s of %s ERROR lines\n' \
    "$(json "$scan" median_ms)" "$(json "$scan" scan_gb_per_second)" "$raw" "$counted" "$expected"

  python3 - "$push" "$scan" "${idle:-}" "${chunks:-}" >> "$out/rounds.jsonl" <<'PY'
import json, sys
push, scan = json.loads(sys.argv[1]), json.loads(sys.argv[2])
idle, chunks = sys.argv[3], sys.argv[4]
print(json.dumps({
    "lines_per_second": push["lines_per_second"],
    "mb_per_second": push["mb_per_second"],
    "cores": push["server_cpu_cores"],
    "peak_rss_mib": push["server_peak_rss_kib"] / 1024 if push["server_peak_rss_kib"] else None,
    "idle_rss_mib": int(idle) / 1024 if idle else None,
    "compression": push["raw_bytes"] / int(chunks) if chunks and int(chunks) > 0 else None,
    "scan_ms": scan["median_ms"],
    "scan_gbps": scan["scan_gb_per_second"],
    "scan_mb": push["raw_bytes"] / 1e6,
}))
PY
  if [ -n "$server" ]; then stop_vigil; fi
done

echo
python3 - "$out/rounds.jsonl" "${external:+$external}" <<'PY'
import json, statistics, sys
rounds = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# Loki 2.8 scanned 291 MB in 279 ms; rates are compared, so that a run
# with other LINES still compares fairly.
REF_SCAN_GBPS = 291e6 / 0.279 / 1e9
who = f"server at {sys.argv[2]}" if sys.argv[2] else "vigil"
def med(key):
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None
def show(v, fmt):
    return "-" if v is None else fmt.format(v)
def verdict(ok):
    return "-" if ok is None else ("met" if ok else "**missed**")
lps, mbs, cores = med("lines_per_second"), med("mb_per_second"), med("cores")
peak, idle, comp = med("peak_rss_mib"), med("idle_rss_mib"), med("compression")
scan_ms, scan_gbps, scan_mb = med("scan_ms"), med("scan_gbps"), med("scan_mb")
rows = [
    ("push rate", "710k lines/s (89 MB/s)",
     show(lps and lps / 1e3, "{:.0f}k lines/s") + show(mbs, " ({:.0f} MB/s)"),
     show(lps and lps / 710e3, "{:.2f}x"), ">= 2x", verdict(lps and lps >= 2 * 710e3)),
    ("CPU during the push", "1.75 cores", show(cores, "{:.2f} cores"), "", "", "-"),
    ("peak RSS (push)", "211 MiB", show(peak, "{:.1f} MiB"),
     show(peak and peak / 211, "{:.2f}x"), "<= 1/3 (70 MiB)", verdict(peak and peak <= 211 / 3)),
    ("idle RSS", "60.6 MiB", show(idle, "{:.1f} MiB"),
     show(idle and idle / 60.6, "{:.2f}x"), "<= 20 MiB", verdict(idle and idle <= 20)),
    ("compression", "8.3x", show(comp, "{:.1f}x"),
     show(comp and comp / 8.3, "{:.2f}x"), ">= 10x", verdict(comp and comp >= 10)),
    ('scan `sum(count_over_time({job="bench"} \\|= "ERROR" [1h]))`', "279 ms (1.0 GB/s over 291 MB)",
     show(scan_ms, "{:.1f} ms") + show(scan_gbps, " ({:.2f} GB/s") + show(scan_mb, " over {:.0f} MB)"),
     show(scan_gbps and scan_gbps / REF_SCAN_GBPS, "{:.2f}x"), ">= 3x", verdict(scan_gbps and scan_gbps >= 3 * REF_SCAN_GBPS)),
]
print(f"Medians of {len(rounds)} round(s).")
print(f"| measure | Loki 2.8 | {who} | ratio | target | |")
print("|---|---|---|---|---|---|")
for row in rows:
    print("| " + " | ".join(row) + " |")
PY
