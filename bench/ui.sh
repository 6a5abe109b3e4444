#!/usr/bin/env bash
# Web UI benchmark: the JS/CSS bundle's size (raw and gzipped, from
# `node build.mjs --meta`) and the time from navigation to every panel
# painted for vigil's dashboard over HOURS of data (bench/paint.mjs: the
# metrics server and log store backfilled by bench/backfill.mjs, Chromium
# with a cold cache per run, RUNS runs after a warm-up, medians).
#
#   cargo build --release -p vigil
#   (cd ui && npm ci)
#   bench/ui.sh              # RUNS=7 HOURS=6 VIGIL=target/release/vigil
#
# Writes bench/out/ui/{bundle,paint}.json and prints both.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-7}
hours=${HOURS:-6}
vigil=${VIGIL:-${CARGO_TARGET_DIR:-target}/release/vigil}
out=bench/out/ui
mkdir -p "$out"
[ -x "$vigil" ] || { echo "ui.sh: $vigil is missing; run cargo build --release -p vigil" >&2; exit 2; }
[ -d ui/node_modules ] || { echo "ui.sh: ui/node_modules is missing; run (cd ui && npm ci)" >&2; exit 2; }
[ -x /usr/bin/chromium ] || { echo "ui.sh: /usr/bin/chromium is missing; apt-get install chromium" >&2; exit 2; }

# The bundle as build.rs builds it (minified), with esbuild's metafile.
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT
(cd ui && node build.mjs --outdir "$dist" --meta "$dist/meta.json")
node - "$dist" > "$out/bundle.json" <<'JS'
// Sizes of each output file (chunks/ included), raw and gzipped (level 9,
// as a server would send it), what every page loads first (index.html,
// app.js, app.css), and the ten biggest inputs of app.js from the metafile.
const { readFileSync, readdirSync } = require('node:fs');
const { join, relative } = require('node:path');
const { gzipSync } = require('node:zlib');
const dir = process.argv[2];
const files = {};
const total = { raw: 0, gzip: 0 };
const initial = { raw: 0, gzip: 0 };
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const path = join(d, e.name);
    if (e.isDirectory()) walk(path);
    else if (!e.name.endsWith('.json')) {
      const data = readFileSync(path);
      const size = { raw: data.length, gzip: gzipSync(data, { level: 9 }).length };
      const name = relative(dir, path);
      files[name] = size;
      for (const sum of ['index.html', 'app.js', 'app.css'].includes(name) ? [total, initial] : [total]) {
        sum.raw += size.raw;
        sum.gzip += size.gzip;
      }
    }
  }
};
walk(dir);
const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const app = Object.entries(meta.outputs).find(([k]) => k.endsWith('app.js'))?.[1];
// Chunks app.js imports statically (code it shares with the lazy Explore
// chunk) load with every page too; dynamic imports do not.
for (const imp of app?.imports ?? []) {
  if (imp.kind !== 'import-statement') continue;
  const name = relative(dir, imp.path.startsWith('/') ? imp.path : join(process.cwd(), 'ui', imp.path));
  const size = files[name];
  if (size) {
    initial.raw += size.raw;
    initial.gzip += size.gzip;
  }
}
const byPackage = {};
for (const [input, { bytesInOutput }] of Object.entries(app?.inputs ?? {})) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  const key = m ? m[1] : 'src (vigil)';
  byPackage[key] = (byPackage[key] ?? 0) + bytesInOutput;
}
const biggest = Object.entries(byPackage)
  .sort((a, b) => b[1] - a[1])
  .slice(0, 10)
  .map(([name, bytes]) => ({ name, bytes }));
console.log(JSON.stringify({ files, initial, total, biggestInputsOfAppJs: biggest }, null, 2));
JS
echo "== bundle"
cat "$out/bundle.json"

echo "== paint (${hours} h of data, ${runs} runs)"
node bench/paint.mjs --bin "$vigil" --runs "$runs" --hours "$hours" > "$out/paint.json"
cat "$out/paint.json"
