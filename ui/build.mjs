// Bundles the web UI with esbuild: src/main.tsx -> app.js + app.css, and
// index.html, into --outdir (default dist/). crates/dashboard/build.rs runs
// this and embeds the result in the binary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({
  options: {
    outdir: { type: 'string', default: 'dist' },
    meta: { type: 'string' },
    dev: { type: 'boolean' },
  },
});
const outdir = values.outdir;
mkdirSync(outdir, { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: 'src/main.tsx' },
  bundle: true,
  outdir,
  format: 'esm',
  // Pages loaded on demand (Explore: its editor and grammars) become chunks under chunks/.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: ['es2022'],
  minify: !values.dev,
  sourcemap: false,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
writeFileSync(join(outdir, 'index.html'), readFileSync('src/index.html'));
// esbuild's metafile (inputs and output sizes) for bench/ui.sh, outside the bundle.
if (values.meta) writeFileSync(values.meta, JSON.stringify(result.metafile));
