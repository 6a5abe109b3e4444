#!/usr/bin/env bash
# Helpers shared by bench/loki_push.sh and bench/loki_query.sh (sourced, not
# run): the minimal Loki config they start `vigil loki` with, starting and
# stopping it on a fresh storage dir, and reading JSON and /proc.
# Expects $out, $port and $vigil to be set by the caller.

server=""
storage=""
cleanup() {  # on exit: stop what we started, remove its data
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$storage" ]; then rm -rf "$storage"; fi
}
trap cleanup EXIT

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
# json TEXT KEY...: one value of a JSON object, `nan` when null (printf takes it).
json() {
  python3 -c 'import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[k]
print("nan" if v is None else v)' "$@"
}

config() {  # config PORT DIR -> a minimal loki-config.yaml on stdout
  cat <<YAML
auth_enabled: false
server:
  http_listen_address: 127.0.0.1
  http_listen_port: $1
  grpc_listen_port: $(($1 + 1))
common:
  path_prefix: $2
  instance_addr: 127.0.0.1
  storage:
    filesystem:
      chunks_directory: $2/chunks
      rules_directory: $2/rules
  replication_factor: 1
  ring:
    kvstore:
      store: inmemory
schema_config:
  configs:
    - from: 2020-10-24
      store: boltdb-shipper
      object_store: filesystem
      schema: v11
      index:
        prefix: index_
        period: 24h
# High enough never to throttle the benchmark (Loki's defaults are 4 MB/s
# per tenant and 3 MB/s per stream).
limits_config:
  ingestion_rate_mb: 1024
  ingestion_burst_size_mb: 2048
  per_stream_rate_limit: 1024MB
  per_stream_rate_limit_burst: 2048MB
  reject_old_samples: true
  reject_old_samples_max_age: 168h
YAML
}

start_vigil() {  # -> sets server, storage, url
  storage=$(mktemp -d /tmp/vigil-loki-push.XXXXXX)
  config "$port" "$storage" > "$storage/loki-config.yaml"
  url="http://127.0.0.1:$port"
  "$vigil" loki --config.file "$storage/loki-config.yaml" --storage.path "$storage" >"$out/vigil.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    if ! kill -0 "$server" 2>/dev/null; then
      echo "$(basename "$0"): vigil loki exited; its log ($out/vigil.log) ends with:" >&2
      tail -n 20 "$out/vigil.log" >&2
      server=""
      exit 1
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/ready")" = 200 ] && return 0
    sleep 0.2
  done
  echo "$(basename "$0"): $url/ready never answered 200 within 60 s" >&2
  exit 1
}

stop_vigil() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  rm -rf "$storage"
  storage=""
}

# Waits for the chunks dir to stop growing after a flush (3 equal sizes a
# second apart, 120 s at most); prints its size, or nothing if it is absent.
chunks_bytes() {
  local dir=$1 last=-1 same=0 size
  [ -d "$dir" ] || return 0
  for _ in $(seq 120); do
    size=$(du -sb "$dir" | cut -f1)
    if [ "$size" = "$last" ]; then same=$((same + 1)); else same=0; fi
    [ "$same" -ge 2 ] && break
    last=$size
    sleep 1
  done
  echo "$size"
}

