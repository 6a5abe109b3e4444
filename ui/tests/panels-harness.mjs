// Builds the panels dev harness (tests/panels.html + tests/panels-harness.tsx) into --outdir (default
// /tmp/vigil-panels-harness), for a look in a browser or a headless chromium screenshot.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const { values } = parseArgs({
  options: { outdir: { type: 'string', default: '/tmp/vigil-panels-harness' } },
});
mkdirSync(values.outdir, { recursive: true });
await esbuild.build({
  entryPoints: { 'panels-harness': 'tests/panels-harness.tsx' },
  bundle: true,
  outdir: values.outdir,
  format: 'esm',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
});
copyFileSync('tests/panels.html', join(values.outdir, 'index.html'));
