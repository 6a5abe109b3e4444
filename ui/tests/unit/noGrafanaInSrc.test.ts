// @grafana/data is a dev-only test oracle: nothing under src/ may import it
// (it would drag React and moment into the bundle). This test greps src/.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (/\.(ts|tsx|js|mjs|jsx)$/.test(name)) out.push(path);
  }
  return out;
}

describe('src/ does not use the oracle', () => {
  it('no file under src/ mentions @grafana/data', () => {
    const offenders = files(join(process.cwd(), 'src')).filter((f) =>
      readFileSync(f, 'utf8').includes('@grafana/data'),
    );
    expect(offenders).toEqual([]);
  });
  it('no file under src/ imports tests/', () => {
    const offenders = files(join(process.cwd(), 'src')).filter((f) =>
      /from ['"][^'"]*tests\//.test(readFileSync(f, 'utf8')),
    );
    expect(offenders).toEqual([]);
  });
});
