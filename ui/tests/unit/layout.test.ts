// Grid layout: pixel boxes, upward packing, one column on narrow screens, and rows collapsing/expanding.
import { describe, expect, it } from 'vitest';
import {
  allPanels,
  collapseRow,
  computeLayout,
  expandRow,
  type GridItem,
  gridToPixels,
  normalizeGridPos,
  packLayout,
  panelHeight,
  repeatPanels,
} from '../../src/dashboard/layout';
import type { Panel } from '../../src/dashboard/model';

const panel = (
  id: number,
  x: number,
  y: number,
  w: number,
  h: number,
  extra: Partial<Panel> = {},
): Panel => ({
  id,
  type: 'stat',
  gridPos: { x, y, w, h },
  ...extra,
});
const row = (id: number, y: number, extra: Partial<Panel> = {}): Panel => ({
  id,
  type: 'row',
  gridPos: { x: 0, y, w: 24, h: 1 },
  collapsed: false,
  panels: [],
  ...extra,
});
const ys = (items: GridItem[]) => items.map((i) => i.y);

describe('panel sizes', () => {
  it.each([
    [1, 30],
    [4, 144],
    [8, 296],
    [10, 372],
  ])('h=%i is %i px tall (h*38-8)', (h, px) => {
    expect(panelHeight(h)).toBe(px);
  });

  it('divides the width into 24 columns with 8 px gaps', () => {
    // 1000 px: column = (1000 - 23*8) / 24 = 34
    expect(gridToPixels({ x: 0, y: 0, w: 24, h: 8 }, 1000)).toEqual({
      left: 0,
      top: 0,
      width: 1000,
      height: 296,
    });
    expect(gridToPixels({ x: 12, y: 8, w: 12, h: 4 }, 1000)).toEqual({
      left: 504,
      top: 304,
      width: 496,
      height: 144,
    });
    expect(gridToPixels({ x: 6, y: 1, w: 6, h: 1 }, 1000)).toEqual({
      left: 252,
      top: 38,
      width: 244,
      height: 30,
    });
  });
});

describe('packLayout', () => {
  it.each<[string, GridItem[], number[]]>([
    ['moves a lone panel to the top', [{ id: 1, x: 0, y: 5, w: 6, h: 3 }], [0]],
    [
      'stacks panels in the same columns',
      [
        { id: 1, x: 0, y: 0, w: 12, h: 4 },
        { id: 2, x: 0, y: 10, w: 12, h: 4 },
      ],
      [0, 4],
    ],
    [
      'lets a panel beside another rise past it',
      [
        { id: 1, x: 0, y: 0, w: 12, h: 8 },
        { id: 2, x: 12, y: 6, w: 12, h: 2 },
      ],
      [0, 0],
    ],
    [
      'pushes overlapping panels down below the first',
      [
        { id: 1, x: 0, y: 0, w: 12, h: 4 },
        { id: 2, x: 6, y: 2, w: 12, h: 4 },
      ],
      [0, 4],
    ],
    [
      'keeps the input order in the answer',
      [
        { id: 2, x: 0, y: 9, w: 24, h: 2 },
        { id: 1, x: 0, y: 3, w: 24, h: 3 },
      ],
      [3, 0],
    ],
    [
      'rises under the lowest of several panels above',
      [
        { id: 1, x: 0, y: 0, w: 8, h: 2 },
        { id: 2, x: 8, y: 0, w: 8, h: 6 },
        { id: 3, x: 4, y: 20, w: 8, h: 2 },
      ],
      [0, 0, 6],
    ],
  ])('%s', (_name, items, expected) => {
    expect(ys(packLayout(items))).toEqual(expected);
  });
});

describe('normalizeGridPos', () => {
  it('keeps a panel inside the 24 columns', () => {
    expect(normalizeGridPos({ x: 20, y: 0, w: 8, h: 3 })).toEqual({ x: 16, y: 0, w: 8, h: 3 });
    expect(normalizeGridPos({ x: 0, y: 0, w: 40, h: 3 })).toEqual({ x: 0, y: 0, w: 24, h: 3 });
    expect(normalizeGridPos(undefined)).toEqual({ x: 0, y: 0, w: 12, h: 8 });
  });
});

describe('computeLayout', () => {
  it('lays rows out one unit tall and full width', () => {
    const layout = computeLayout([row(1, 0), panel(2, 0, 1, 12, 4)], 1000);
    expect(layout.items[0].box).toEqual({ left: 0, top: 0, width: 1000, height: 30 });
    expect(layout.items[1].box).toEqual({ left: 0, top: 38, width: 496, height: 144 });
    expect(layout.height).toBe(panelHeight(5));
  });

  it('stacks panels in one column under 769 px', () => {
    const layout = computeLayout([panel(2, 12, 0, 12, 4), panel(1, 0, 0, 12, 2), row(3, 4)], 500);
    expect(layout.items.map((i) => [i.panel.id, i.box])).toEqual([
      [1, { left: 0, top: 0, width: 500, height: 68 }],
      [2, { left: 0, top: 76, width: 500, height: 144 }],
      [3, { left: 0, top: 228, width: 500, height: 30 }],
    ]);
  });
});

describe('rows', () => {
  const dashboard = [
    row(1, 0),
    panel(2, 0, 1, 12, 4),
    panel(3, 12, 1, 12, 6),
    row(4, 7),
    panel(5, 0, 8, 24, 3),
  ];

  it('collapsing moves the row panels inside it and lifts what is below', () => {
    const collapsed = collapseRow(dashboard, 1);
    expect(collapsed.map((p) => p.id)).toEqual([1, 4, 5]);
    expect(collapsed[0].collapsed).toBe(true);
    expect(collapsed[0].panels?.map((p) => p.id)).toEqual([2, 3]);
    expect(collapsed[1].gridPos.y).toBe(1);
    expect(collapsed[2].gridPos.y).toBe(2);
    // Panels of a collapsed row are not shown (so not queried) but can still be found.
    expect(computeLayout(collapsed, 1000).items.map((i) => i.panel.id)).toEqual([1, 4, 5]);
    expect(
      allPanels(collapsed)
        .map((p) => p.id)
        .sort(),
    ).toEqual([2, 3, 5]);
  });

  it('expanding puts them back where they were', () => {
    const back = expandRow(collapseRow(dashboard, 1), 1);
    expect(back.map((p) => [p.id, p.gridPos.y])).toEqual([
      [1, 0],
      [2, 1],
      [3, 1],
      [4, 7],
      [5, 8],
    ]);
    expect(back[0].collapsed).toBe(false);
  });

  it('expanding a row saved collapsed places its panels right under it', () => {
    const saved = [
      row(1, 0, { collapsed: true, panels: [panel(2, 0, 30, 24, 5)] }),
      row(3, 1),
      panel(4, 0, 2, 24, 2),
    ];
    const open = expandRow(saved, 1);
    expect(open.map((p) => [p.id, p.gridPos.y])).toEqual([
      [1, 0],
      [2, 1],
      [3, 6],
      [4, 7],
    ]);
  });

  it('ignores an unknown row or one already in the wanted state', () => {
    expect(collapseRow(dashboard, 99)).toBe(dashboard);
    expect(expandRow(dashboard, 1)).toBe(dashboard);
  });
});

describe('repeatPanels', () => {
  const values = (n: number) => Array.from({ length: n }, (_, i) => ({ text: `v${i}`, value: `v${i}` }));
  const repeated = (extra: Partial<Panel>) => panel(1, 0, 0, 24, 4, { repeat: 'host', ...extra });
  const boxes = (ps: Panel[]) => ps.map((p) => [p.id, p.gridPos.x, p.gridPos.y, p.gridPos.w]);

  it('puts copies side by side, at most maxPerRow (4) per line, and pushes what is below down', () => {
    const out = repeatPanels([repeated({}), panel(2, 0, 4, 24, 2)], () => values(6));
    expect(boxes(out)).toEqual([
      [1, 0, 0, 6],
      [3, 6, 0, 6],
      [4, 12, 0, 6],
      [5, 18, 0, 6],
      [6, 0, 4, 6],
      [7, 6, 4, 6],
      [2, 0, 8, 24],
    ]);
    expect(out.slice(0, 6).map((p) => p.scopedVars?.host.value)).toEqual([
      'v0',
      'v1',
      'v2',
      'v3',
      'v4',
      'v5',
    ]);
  });

  it('splits the width among fewer values than maxPerRow', () => {
    expect(boxes(repeatPanels([repeated({})], () => values(2)))).toEqual([
      [1, 0, 0, 12],
      [2, 12, 0, 12],
    ]);
    expect(boxes(repeatPanels([repeated({ maxPerRow: 2 })], () => values(3)))).toEqual([
      [1, 0, 0, 12],
      [2, 12, 0, 12],
      [3, 0, 4, 12],
    ]);
  });

  it('stacks copies when the direction is vertical', () => {
    const out = repeatPanels([panel(1, 6, 0, 12, 3, { repeat: 'host', repeatDirection: 'v' })], () =>
      values(3),
    );
    expect(boxes(out)).toEqual([
      [1, 6, 0, 12],
      [2, 6, 3, 12],
      [3, 6, 6, 12],
    ]);
  });

  it('leaves a panel alone when its variable is unknown or empty', () => {
    const p = [repeated({})];
    expect(repeatPanels(p, () => undefined)).toEqual(p);
    expect(repeatPanels(p, () => [])).toEqual(p);
  });
});
