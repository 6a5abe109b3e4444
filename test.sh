#!/usr/bin/env bash
# Runs every test of vigil. On a fresh machine it first installs what the
# tests need: Debian's `prometheus` package (for `promtool`, and the real
# Prometheus the browser tests use as a datasource) and `chromium` (the
# browser tests' browser), then the UI's npm packages from its lockfile.
# The last line sums every runner's totals: `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")"

packages=()
command -v promtool >/dev/null 2>&1 || packages+=(prometheus)
[ -x /usr/bin/chromium ] || packages+=(chromium)
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

# Each runner's output is kept so that the totals can be summed at the end.
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The UI: packages from the lockfile when missing or older than it, then
# types, lint and unit tests.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules ]; then
  (cd ui && npm ci --no-audit --no-fund)
  touch ui/node_modules
fi
(cd ui && npx tsc --noEmit)
(cd ui && npx biome check src tests)
(cd ui && npx vitest run) 2>&1 | tee "$logs/vitest"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# The conformance runners' totals, shown even when they pass (the full run
# below captures test output).
echo "== conformance summaries"
cargo test -q --locked -p vigil-logql --test logqltest --test golden -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true
cargo test -q --locked -p vigil-logstore --test golden_http -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true
cargo test -q --locked -p vigil-agent --test golden_pipelines -- --nocapture 2>&1 \
  | grep -E '^[a-z_./-]+: [0-9]+ passed, [0-9]+ failed' || true

# The browser tests run the stack from the debug binary (the one cargo test
# builds anyway: a release build would cost CI minutes for nothing).
cargo build --locked -p vigil
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
echo "== browser tests"
browser_status=0
(cd ui && VIGIL_BIN="$target_dir/debug/vigil" npm run --silent test:browser) 2>&1 | tee "$logs/browser" \
  || browser_status=$?

cargo_status=0
cargo test --workspace --locked 2>&1 | tee "$logs/cargo" || cargo_status=$?

# One line with every runner's totals closes the output.
passed=0
failed=0
add() { passed=$((passed + ${1:-0})); failed=$((failed + ${2:-0})); }
while read -r p f; do add "$p" "$f"; done < <(
  sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$logs/cargo")
# vitest colours its summary even into a pipe: strip the escapes first.
vitest_line=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/vitest" | grep -E '^ +Tests +' | tail -n 1 || true)
add "$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$vitest_line")" \
  "$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$vitest_line")"
# node's summary: `# pass N`, `# fail N`, `# cancelled N` (a test whose
# setup failed is cancelled: it counts as failed).
node_total() { sed -n "s/^[^ ]* $1 \\([0-9]*\\)\$/\\1/p" "$logs/browser" | tail -n 1; }
add "$(node_total pass)" "$(node_total fail)"
add 0 "$(node_total cancelled)"
# A runner that failed without counting a failed test (a build error, a
# harness that did not start) still makes the line say so.
for status in "$browser_status" "$cargo_status"; do
  [ "$status" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
