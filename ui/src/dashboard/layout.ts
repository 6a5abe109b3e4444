// Grafana's dashboard grid: 24 columns, rows of 30 px with 8 px gaps, panels
// packed upward (react-grid-layout's vertical compaction, which Grafana uses),
// rows that collapse and expand, one column on narrow screens.
import type { GridPos, Panel } from './model';

export const GRID_COLUMNS = 24;
export const GRID_CELL_HEIGHT = 30;
export const GRID_CELL_MARGIN = 8;
/** Under this width Grafana stacks panels in one column. */
export const MOBILE_BREAKPOINT = 769;

export interface GridItem {
  id: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface PixelBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A grid position with sane numbers: width 1..24, inside the grid, height ≥ 1. */
export function normalizeGridPos(pos: Partial<GridPos> | undefined): GridPos {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : d);
  let w = Math.min(GRID_COLUMNS, Math.max(1, num(pos?.w, 12)));
  let x = Math.max(0, num(pos?.x, 0));
  if (x + w > GRID_COLUMNS) x = GRID_COLUMNS - w;
  if (x < 0) {
    x = 0;
    w = GRID_COLUMNS;
  }
  return { x, y: Math.max(0, num(pos?.y, 0)), w, h: Math.max(1, num(pos?.h, 8)) };
}

function collides(a: GridItem, b: GridItem): boolean {
  if (a === b) return false;
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/**
 * Packs items upward: in order of (y, x), each moves up as far as it can
 * without overlapping an item already placed, and down past any it overlaps.
 * Returns new items in the input order.
 */
export function packLayout(items: GridItem[]): GridItem[] {
  const order = items.map((item, index) => ({ item: { ...item }, index }));
  order.sort((a, b) => a.item.y - b.item.y || a.item.x - b.item.x || a.index - b.index);
  const placed: GridItem[] = [];
  for (const { item } of order) {
    const bottom = placed.reduce((m, p) => Math.max(m, p.y + p.h), 0);
    item.y = Math.min(item.y, bottom);
    while (item.y > 0 && !placed.some((p) => collides(p, { ...item, y: item.y - 1 }))) item.y--;
    for (;;) {
      const hit = placed.find((p) => collides(p, item));
      if (!hit) break;
      item.y = hit.y + hit.h;
    }
    placed.push(item);
  }
  const out: GridItem[] = new Array(items.length);
  for (const { item, index } of order) out[index] = item;
  return out;
}

/** The pixel box of a grid position in a container `width` px wide. */
export function gridToPixels(pos: GridPos, width: number): PixelBox {
  const colWidth = (width - GRID_CELL_MARGIN * (GRID_COLUMNS - 1)) / GRID_COLUMNS;
  return {
    left: Math.round((colWidth + GRID_CELL_MARGIN) * pos.x),
    top: Math.round((GRID_CELL_HEIGHT + GRID_CELL_MARGIN) * pos.y),
    width: Math.round(colWidth * pos.w + Math.max(0, pos.w - 1) * GRID_CELL_MARGIN),
    height: panelHeight(pos.h),
  };
}

/** A panel's height in px for `h` grid units: h×38−8. */
export function panelHeight(h: number): number {
  return h * (GRID_CELL_HEIGHT + GRID_CELL_MARGIN) - GRID_CELL_MARGIN;
}

export interface LaidOutPanel {
  panel: Panel;
  box: PixelBox;
}

export interface GridLayout {
  items: LaidOutPanel[];
  /** The grid's total height in px. */
  height: number;
}

/** Orders panels as the grid shows them: by y, then x. */
export function sortByGridPos(panels: Panel[]): Panel[] {
  return [...panels].sort(
    (a, b) => (a.gridPos?.y ?? 0) - (b.gridPos?.y ?? 0) || (a.gridPos?.x ?? 0) - (b.gridPos?.x ?? 0),
  );
}

/**
 * Lays out the dashboard's top-level panels (rows included; a collapsed
 * row's panels stay inside it) in a container `width` px wide.
 */
export function computeLayout(panels: Panel[], width: number): GridLayout {
  if (width < MOBILE_BREAKPOINT) {
    // One column: every panel full width, in grid order, its own height.
    let top = 0;
    const items: LaidOutPanel[] = [];
    for (const panel of sortByGridPos(panels)) {
      const pos = normalizeGridPos(panel.gridPos);
      const height = panel.type === 'row' ? GRID_CELL_HEIGHT : panelHeight(pos.h);
      items.push({ panel, box: { left: 0, top, width, height } });
      top += height + GRID_CELL_MARGIN;
    }
    return { items, height: Math.max(0, top - GRID_CELL_MARGIN) };
  }
  const grid = panels.map((p) => {
    const pos = normalizeGridPos(p.gridPos);
    // A row header always spans the grid and is one unit tall.
    if (p.type === 'row') return { id: p.id, x: 0, y: pos.y, w: GRID_COLUMNS, h: 1 };
    return { id: p.id, ...pos };
  });
  const packed = packLayout(grid);
  const items = panels.map((panel, i) => ({ panel, box: gridToPixels(packed[i], width) }));
  const bottom = packed.reduce((m, p) => Math.max(m, p.y + p.h), 0);
  return { items, height: bottom === 0 ? 0 : panelHeight(bottom) };
}

// ---- Rows ----

/** The top-level panels with gridPos normalised and packed (what the grid shows), in grid order. */
export function normalizePanels(panels: Panel[]): Panel[] {
  const withPos = panels.map((p) => ({
    ...p,
    gridPos:
      p.type === 'row'
        ? { ...normalizeGridPos(p.gridPos), x: 0, w: GRID_COLUMNS, h: 1 }
        : normalizeGridPos(p.gridPos),
  }));
  const packed = packLayout(withPos.map((p) => ({ id: p.id, ...p.gridPos })));
  return sortByGridPos(withPos.map((p, i) => ({ ...p, gridPos: { ...p.gridPos, y: packed[i].y } })));
}

/**
 * Collapses row `rowId`: the panels after it up to the next row move into
 * `row.panels` (keeping their positions), and the panels below move up.
 */
export function collapseRow(panels: Panel[], rowId: number): Panel[] {
  const sorted = sortByGridPos(panels);
  const at = sorted.findIndex((p) => p.id === rowId && p.type === 'row');
  if (at < 0 || sorted[at].collapsed) return panels;
  let end = at + 1;
  while (end < sorted.length && sorted[end].type !== 'row') end++;
  const inside = sorted.slice(at + 1, end);
  const row = { ...sorted[at], collapsed: true, panels: inside };
  const rowBottom = row.gridPos.y + 1;
  const insideBottom = inside.reduce((m, p) => Math.max(m, p.gridPos.y + p.gridPos.h), rowBottom);
  const lift = insideBottom - rowBottom;
  const after = sorted.slice(end).map((p) => ({ ...p, gridPos: { ...p.gridPos, y: p.gridPos.y - lift } }));
  return [...sorted.slice(0, at), row, ...after];
}

/**
 * Expands row `rowId`: its panels come back right under it (shifted if the
 * row moved while collapsed), and the panels below move down to make room.
 */
export function expandRow(panels: Panel[], rowId: number): Panel[] {
  const sorted = sortByGridPos(panels);
  const at = sorted.findIndex((p) => p.id === rowId && p.type === 'row');
  if (at < 0 || !sorted[at].collapsed) return panels;
  const row = sorted[at];
  const inner = sortByGridPos(row.panels ?? []).map((p) => ({ ...p, gridPos: normalizeGridPos(p.gridPos) }));
  const rowBottom = row.gridPos.y + 1;
  const firstY = inner.reduce((m, p) => Math.min(m, p.gridPos.y), Number.POSITIVE_INFINITY);
  const shift = inner.length ? rowBottom - firstY : 0;
  const placed = inner.map((p) => ({ ...p, gridPos: { ...p.gridPos, y: p.gridPos.y + shift } }));
  const bottom = placed.reduce((m, p) => Math.max(m, p.gridPos.y + p.gridPos.h), rowBottom);
  const push = bottom - rowBottom;
  const after = sorted.slice(at + 1).map((p) => ({ ...p, gridPos: { ...p.gridPos, y: p.gridPos.y + push } }));
  return [...sorted.slice(0, at), { ...row, collapsed: false, panels: [] }, ...placed, ...after];
}

/** Every panel of the dashboard, those inside collapsed rows included (rows themselves excluded). */
export function allPanels(panels: Panel[]): Panel[] {
  const out: Panel[] = [];
  for (const p of panels) {
    if (p.type === 'row') out.push(...(p.panels ?? []).filter((c) => c.type !== 'row'));
    else out.push(p);
  }
  return out;
}

/** A panel by id anywhere in the dashboard (in a collapsed row too). */
export function findPanel(panels: Panel[], id: number): Panel | undefined {
  return allPanels(panels).find((p) => p.id === id);
}

// ---- Repeated panels ----

/** One value a panel is repeated for (the variable's text and value). */
export interface RepeatValue {
  text: string;
  value: string;
}

/** The variable values a panel is repeated for, as the panel's `scopedVars` holds them. */
export type ScopedVars = Record<string, { text: string; value: string }>;

/**
 * Repeats every panel that has `repeat: <variable>` once per selected value (All: every option), as
 * Grafana does: side by side (`repeatDirection: 'h'`, at most `maxPerRow`, default 4, per line) or
 * stacked ('v'); each copy carries the value in `scopedVars`; the panels below move down to make room.
 * Copies after the first get fresh ids above every existing one.
 */
export function repeatPanels(
  panels: Panel[],
  valuesOf: (name: string) => RepeatValue[] | undefined,
): Panel[] {
  let out = sortByGridPos(panels);
  let nextId = out.reduce((m, p) => Math.max(m, p.id, ...(p.panels ?? []).map((c) => c.id)), 0) + 1;
  for (let i = 0; i < out.length; i++) {
    const p = out[i];
    if (p.type === 'row' || typeof p.repeat !== 'string' || p.repeat === '' || p.scopedVars) continue;
    const values = valuesOf(p.repeat);
    if (!values || values.length === 0) continue;
    const pos = normalizeGridPos(p.gridPos);
    const vertical = p.repeatDirection === 'v';
    const maxPerRow = typeof p.maxPerRow === 'number' && p.maxPerRow > 0 ? p.maxPerRow : 4;
    const w = vertical
      ? pos.w
      : Math.max(1, Math.floor(Math.max(GRID_COLUMNS / values.length, GRID_COLUMNS / maxPerRow)));
    const copies: Panel[] = [];
    let x = vertical ? pos.x : 0;
    let y = pos.y;
    for (const [k, v] of values.entries()) {
      copies.push({
        ...p,
        id: k === 0 ? p.id : nextId++,
        gridPos: { x, y, w, h: pos.h },
        scopedVars: { [p.repeat]: { text: v.text, value: v.value } },
        repeatPanelId: k === 0 ? undefined : p.id,
      });
      if (vertical) y += pos.h;
      else {
        x += w;
        if (x + w > GRID_COLUMNS) {
          x = 0;
          y += pos.h;
        }
      }
    }
    const bottom = copies.reduce((m, c) => Math.max(m, c.gridPos.y + c.gridPos.h), pos.y + pos.h);
    const push = bottom - (pos.y + pos.h);
    const rest = out
      .slice(i + 1)
      .map((q) =>
        q.gridPos.y >= pos.y + pos.h ? { ...q, gridPos: { ...q.gridPos, y: q.gridPos.y + push } } : q,
      );
    out = [...out.slice(0, i), ...copies, ...rest];
    i += copies.length - 1;
  }
  return out;
}
