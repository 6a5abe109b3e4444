// Stat/gauge/bar gauge values: reducers, values mode with limit, field regex, no-value, and value layout.
import { describe, expect, it } from 'vitest';
import type { DataFrame, Field } from '../../src/data/frame';
import {
  alignmentFactors,
  DEFAULT_VALUES_LIMIT,
  fieldNameMatcher,
  getFieldDisplayValues,
  globalRange,
  layoutValues,
  withRange,
} from '../../src/panels/fieldDisplay';

function frame(name: string, values: (number | null)[], extra: Field[] = []): DataFrame {
  return {
    refId: 'A',
    length: values.length,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: values.map((_, i) => 1000 * i) },
      { name: 'Value', type: 'number', config: { displayNameFromDS: name }, values },
      ...extra,
    ],
  };
}

describe('getFieldDisplayValues', () => {
  it.each([
    [['lastNotNull'], [3]],
    [['last'], [null]],
    [['max'], [5]],
    [
      ['min', 'max'],
      [1, 5],
    ],
  ])('reduces with calcs %j', (calcs, expected) => {
    const out = getFieldDisplayValues({ frames: [frame('a', [1, 5, 3, null])], reduceOptions: { calcs } });
    expect(out.map((v) => (Number.isNaN(v.display.numeric) ? null : v.display.numeric))).toEqual(expected);
    expect(out.map((v) => v.name)).toEqual(calcs);
  });

  it('defaults to last when calcs is empty', () => {
    const out = getFieldDisplayValues({ frames: [frame('a', [1, 2])], reduceOptions: { calcs: [] } });
    expect(out[0].name).toBe('last');
    expect(out[0].display.numeric).toBe(2);
  });

  it('one value per field and frame, titled by display name', () => {
    const out = getFieldDisplayValues({
      frames: [frame('GET', [1]), frame('POST', [2])],
      reduceOptions: { calcs: ['last'] },
    });
    expect(out.map((v) => v.display.title)).toEqual(['GET', 'POST']);
  });

  it('values mode gives every row, capped by limit', () => {
    const rows = Array.from({ length: 40 }, (_, i) => i);
    expect(
      getFieldDisplayValues({ frames: [frame('a', rows)], reduceOptions: { values: true, calcs: [] } }),
    ).toHaveLength(DEFAULT_VALUES_LIMIT);
    expect(
      getFieldDisplayValues({
        frames: [frame('a', rows)],
        reduceOptions: { values: true, limit: 3, calcs: [] },
      }),
    ).toHaveLength(3);
  });

  it('values mode names rows by their string columns', () => {
    const f = frame('a', [1, 2], [{ name: 'host', type: 'string', config: {}, values: ['x', 'y'] }]);
    f.fields.splice(0, 1);
    const out = getFieldDisplayValues({ frames: [f], reduceOptions: { values: true, calcs: [] } });
    expect(out.map((v) => v.display.title)).toEqual(['x', 'y']);
  });

  it('fields regex picks fields by name, strings included', () => {
    const f = frame('a', [1], [{ name: 'reason', type: 'string', config: {}, values: ['OOMKilled'] }]);
    const out = getFieldDisplayValues({
      frames: [f],
      reduceOptions: { calcs: ['lastNotNull'], fields: '/^reason$/' },
    });
    expect(out).toHaveLength(1);
    expect(out[0].display.text).toBe('OOMKilled');
  });

  it('no matching field gives one "No data" value, or noValue', () => {
    expect(getFieldDisplayValues({ frames: [], reduceOptions: { calcs: ['last'] } })[0].display.text).toBe(
      'No data',
    );
    expect(getFieldDisplayValues({ frames: [], defaults: { noValue: 'N/A' } })[0].display.text).toBe('N/A');
  });

  it('adds a sparkline highlighting the reduced row', () => {
    const out = getFieldDisplayValues({
      frames: [frame('a', [1, 9, 3])],
      reduceOptions: { calcs: ['max'] },
      sparkline: true,
    });
    expect(out[0].sparkline?.highlightIndex).toBe(1);
  });

  it('fills min/max from the data range, or the unit', () => {
    const out = getFieldDisplayValues({
      frames: [frame('a', [2, 8]), frame('b', [4, 10])],
      reduceOptions: { calcs: ['last'] },
    });
    expect(out[0].config.min).toBe(2);
    expect(out[0].config.max).toBe(10);
    expect(withRange({ unit: 'percent' }, { min: 3, max: 4 })).toMatchObject({ min: 0, max: 100 });
    expect(withRange({ unit: 'percentunit' }, undefined)).toMatchObject({ min: 0, max: 1 });
    expect(withRange({ min: 5 }, { min: 1, max: 9 })).toMatchObject({ min: 5, max: 9 });
    expect(globalRange([])).toBeUndefined();
  });
});

describe('fieldNameMatcher', () => {
  it.each([
    ['/^Val/', 'Value', true],
    ['/^Val/', 'value', false],
    ['/^val/i', 'Value', true],
    ['Value', 'Value', true],
    ['Val', 'Value', false],
    ['a.b', 'axb', false],
    ['/(/', 'x', false],
  ])('%s matches %s: %s', (pattern, name, ok) => {
    expect(fieldNameMatcher(pattern)(name)).toBe(ok);
  });
});

describe('alignmentFactors', () => {
  it('keeps the longest of each part', () => {
    const f = alignmentFactors([
      { name: '', config: {}, display: { text: '1', numeric: 1, title: 'long title', suffix: ' s' } },
      { name: '', config: {}, display: { text: '1000', numeric: 1000, title: 'x', suffix: ' ms' } },
    ]);
    expect(f).toEqual({ text: '1000', title: 'long title', prefix: '', suffix: ' ms' });
  });
});

describe('layoutValues', () => {
  it('stacks values for horizontal orientation', () => {
    expect(layoutValues(2, 100, 50, 'horizontal', 4)).toEqual([
      { x: 0, y: 0, width: 100, height: 23 },
      { x: 0, y: 27, width: 100, height: 23 },
    ]);
  });
  it('puts values side by side for vertical orientation', () => {
    expect(layoutValues(2, 104, 50, 'vertical', 4).map((b) => [b.x, b.width])).toEqual([
      [0, 50],
      [54, 50],
    ]);
  });
  it.each([
    // count, width, height -> columns of the first row
    [5, 500, 100, 5],
    [4, 200, 200, 2],
    [3, 100, 300, 1],
    [2, 300, 100, 2],
  ])('auto grid of %i values in %ix%i has %i columns', (count, w, h, cols) => {
    const boxes = layoutValues(count, w, h, 'auto', 0);
    expect(boxes.filter((b) => b.y === 0)).toHaveLength(cols);
  });
  it('last row of an auto grid shares the whole width', () => {
    const boxes = layoutValues(3, 200, 200, 'auto', 0);
    expect(boxes[2]).toEqual({ x: 0, y: 100, width: 200, height: 100 });
  });
  it('auto without grid follows the aspect ratio', () => {
    expect(layoutValues(2, 300, 100, 'auto', 0, false)[1].x).toBe(150);
    expect(layoutValues(2, 100, 300, 'auto', 0, false)[1].y).toBe(150);
  });
  it('nothing to lay out', () => {
    expect(layoutValues(0, 100, 100, 'auto', 0)).toEqual([]);
  });
});

describe('odd options', () => {
  it('a non-array calcs or non-string fields falls back to defaults', () => {
    const f: DataFrame = {
      length: 2,
      fields: [{ name: 'Value', type: 'number', config: {}, values: [1, 2] }],
    };
    const out = getFieldDisplayValues({
      frames: [f],
      reduceOptions: { calcs: 'max' as unknown as string[], fields: 5 as unknown as string },
    });
    expect(out.map((v) => [v.name, v.display.numeric])).toEqual([['last', 2]]);
  });
});
