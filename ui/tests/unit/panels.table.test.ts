// Table panel logic: Prometheus table/instant results as labels-as-columns, columns, sorting.
import { describe, expect, it } from 'vitest';
import type { DataFrame } from '../../src/data/frame';
import { nextSort, prepareTableFrames, sortRows, tableColumns } from '../../src/panels/table';

function instant(refId: string, labels: Record<string, string>, value: number, t = 1000): DataFrame {
  return {
    refId,
    meta: { type: 'numeric-multi' },
    length: 1,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: [t] },
      { name: 'Value', type: 'number', labels, config: { unit: 's' }, values: [value] },
    ],
  };
}

describe('prepareTableFrames', () => {
  it('merges instant series into one frame with labels as columns', () => {
    const [f] = prepareTableFrames(
      [
        instant('A', { __name__: 'up', job: 'b' }, 1),
        instant('A', { __name__: 'up', job: 'a', instance: 'x' }, 0),
      ],
      [{ refId: 'A', format: 'table' }],
    );
    expect(f.fields.map((x) => x.name)).toEqual(['Time', '__name__', 'instance', 'job', 'Value']);
    expect(f.fields.map((x) => x.values)).toEqual([
      [1000, 1000],
      ['up', 'up'],
      ['', 'x'],
      ['b', 'a'],
      [1, 0],
    ]);
    expect(f.fields[4].config.unit).toBe('s');
  });
  it('several queries join on labels into Value #A, Value #B', () => {
    const [f] = prepareTableFrames(
      [instant('A', { job: 'a' }, 1), instant('B', { job: 'a' }, 2), instant('B', { job: 'b' }, 3)],
      [
        { refId: 'A', format: 'table' },
        { refId: 'B', format: 'table' },
      ],
    );
    expect(f.fields.map((x) => x.name)).toEqual(['Time', 'job', 'Value #A', 'Value #B']);
    expect(f.fields[2].values).toEqual([1, null]);
    expect(f.fields[3].values).toEqual([2, 3]);
  });
  it('leaves a frame that is already a table alone', () => {
    const table: DataFrame = {
      refId: 'A',
      length: 1,
      fields: [
        { name: 'job', type: 'string', config: {}, values: ['a'] },
        { name: 'Value #A', type: 'number', config: {}, values: [1] },
      ],
    };
    expect(prepareTableFrames([table], [{ refId: 'A', format: 'table' }])).toEqual([table]);
  });
  it('leaves time series frames of non-table targets alone', () => {
    const ts = { ...instant('A', { job: 'a' }, 1), meta: { type: 'timeseries-multi' } };
    expect(prepareTableFrames([ts], [{ refId: 'A', format: 'time_series' }])).toEqual([ts]);
  });
});

describe('columns and sorting', () => {
  const frame: DataFrame = {
    length: 4,
    fields: [
      { name: 'name', type: 'string', config: {}, values: ['b', 'a10', 'a9', null] },
      { name: 'v', type: 'number', config: {}, values: [3, null, 1, 2] },
      { name: 'hidden', type: 'number', config: { custom: { hidden: true } }, values: [0, 0, 0, 0] },
    ],
  };
  it('hidden fields are not columns', () => {
    expect(tableColumns(frame, [frame]).map((c) => c.title)).toEqual(['name', 'v']);
  });
  it.each([
    [{ index: 1, desc: false }, [1, 2, 3, 0]],
    [{ index: 1, desc: true }, [0, 3, 2, 1]],
    [{ index: 0, desc: false }, [3, 2, 1, 0]],
    [undefined, [0, 1, 2, 3]],
  ])('sort %j', (sort, order) => {
    expect(sortRows(frame, sort)).toEqual(order);
  });
  it('headers cycle ascending, descending, unsorted', () => {
    const a = nextSort(undefined, 2);
    const b = nextSort(a, 2);
    expect(a).toEqual({ index: 2, desc: false });
    expect(b).toEqual({ index: 2, desc: true });
    expect(nextSort(b, 2)).toBeUndefined();
    expect(nextSort(b, 1)).toEqual({ index: 1, desc: false });
  });
});
