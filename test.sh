#!/usr/bin/env bash
# Runs every test of vigil. On a fresh machine it first installs what the
# tests need: Debian's `prometheus` package (for `promtool`).
set -euo pipefail
cd "$(dirname "$0")"

packages=()
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
if [ ${#packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "test.sh: installing ${packages[*]}"
  # Keep the package's own Prometheus server from being started: the tests
  # want the ports to themselves.
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
  [ -z "$made_policy" ] || $sudo rm -f /usr/sbin/policy-rc.d
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The conformance runners' totals, shown even when they pass (the full run
# below captures test output). They come first so that the last line of this
# script is cargo's own summary.
echo "== conformance summaries"
cargo test -q --locked -p vigil-logql --test logqltest --test golden -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true
cargo test -q --locked -p vigil-logstore --test golden_http -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true
cargo test -q --locked -p vigil-agent --test golden_pipelines -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true

cargo test --workspace --locked
