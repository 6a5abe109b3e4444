#!/usr/bin/env bash
# Append throughput, bytes per sample and memory of vigil's tsdb next to
# `promtool tsdb bench write` (Prometheus 2.42 from Debian) in the same run, on
# the same label sets and the same workload shape (see
# crates/tsdb/benches/write.rs). The two alternate TRIALS times, so that noise
# from other work on the machine hits both; compare medians.
#
#   bench/tsdb_write.sh [METRICS] [SCRAPES] [TRIALS]   (defaults: 10000 3000 3)
#
# Needs: python3, /usr/bin/time, promtool (apt-get install prometheus).
set -euo pipefail
cd "$(dirname "$0")/.."
metrics=${1:-10000}
scrapes=${2:-3000}
trials=${3:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 bench/tsdb_series.py "$metrics" > "$work/series.json"
cargo bench -q -p vigil-tsdb --bench write --no-run 2>/dev/null
echo "promtool: $(promtool --version 2>&1 | head -1)"
echo "series: $metrics, scrapes: $scrapes (rounded down to whole rounds of 100), trials: $trials"

for trial in $(seq "$trials"); do
  echo "== trial $trial: promtool tsdb bench write"
  rm -rf "$work/prom"
  /usr/bin/time -f " > peak rss: %M KiB" \
    promtool tsdb bench write --out="$work/prom" --metrics="$metrics" --scrapes="$scrapes" "$work/series.json" \
    2>&1 | grep -E "total samples|samples/sec|peak rss"
  samples=$(( metrics * (scrapes / 100) * 100 ))
  bytes=$(du -sb "$work/prom/storage" | cut -f1)
  echo " > storage bytes: $bytes ($(du -sb "$work/prom/storage/wal" | cut -f1) wal, $(du -sb "$work/prom/storage/chunks_head" | cut -f1) chunks_head)"
  python3 -c "print(' > bytes/sample: %.2f' % ($bytes / $samples))"
  rm -rf "$work/prom"

  echo "== trial $trial: vigil tsdb (benches/write.rs)"
  # Not under /usr/bin/time, which would measure cargo too: the benchmark
  # prints its own peak RSS (VmHWM).
  extra=()
  if [ "$trial" = "$trials" ]; then extra=(--compact); fi
  cargo bench -q -p vigil-tsdb --bench write -- --metrics "$metrics" --scrapes "$scrapes" \
    --out "$work/vigil" "${extra[@]}" "$work/series.json" 2>&1 | grep -v "^$"
  rm -rf "$work/vigil"
done
