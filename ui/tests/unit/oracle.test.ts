// Checks the oracle loader itself: @grafana/data loads under Node with TZ=UTC.
import { describe, expect, it } from 'vitest';
import { loadGrafana } from './oracle';

describe('oracle', () => {
  it('loads @grafana/data and formats a value', () => {
    const g = loadGrafana();
    expect(g.formattedValueToString(g.getValueFormat('bytes')(123456, null))).toBe('121 KiB');
    expect(new Date(0).getTimezoneOffset()).toBe(0);
  });
});
