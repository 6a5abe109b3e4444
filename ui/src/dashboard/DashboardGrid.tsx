// The grid: lays the top-level panels out in Grafana's 24 columns for the
// container's width (one column on narrow screens), row headers that collapse
// and expand, and the panels inside their chrome.
import { useEffect, useRef, useState } from 'preact/hooks';
import { computeLayout } from './layout';
import type { Panel } from './model';
import { PanelChrome, type SharedChromeProps } from './PanelChrome';
import { DISPLAY_TEXT, type Interpolator } from './queryRunner';

interface GridProps {
  panels: Panel[];
  onToggleRow: (row: Panel) => void;
  interpolate: Interpolator;
  chrome: SharedChromeProps;
}

/** The width of an element, kept up to date as it resizes. */
function useWidth(): [preact.RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver((entries) => {
      for (const e of entries) setWidth(Math.floor(e.contentRect.width));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width];
}

export function DashboardGrid({ panels, onToggleRow, interpolate, chrome }: GridProps) {
  const [ref, width] = useWidth();
  const layout = width > 0 ? computeLayout(panels, width) : { items: [], height: 0 };
  return (
    <div class="dashboard-grid" ref={ref} style={{ height: `${layout.height}px` }}>
      {layout.items.map(({ panel, box }) => (
        <div
          key={panel.id}
          class={`grid-item${panel.type === 'row' ? ' grid-row' : ''}`}
          data-panel-id={panel.id}
          style={{
            transform: `translate(${box.left}px, ${box.top}px)`,
            width: `${box.width}px`,
            height: `${box.height}px`,
          }}
        >
          {panel.type === 'row' ? (
            <RowHeader
              row={panel}
              title={interpolate(panel.title ?? '', {}, DISPLAY_TEXT)}
              onToggle={() => onToggleRow(panel)}
            />
          ) : (
            <PanelChrome panel={panel} width={box.width} height={box.height} {...chrome} />
          )}
        </div>
      ))}
    </div>
  );
}

function RowHeader({ row, title, onToggle }: { row: Panel; title: string; onToggle: () => void }) {
  const count = row.panels?.length ?? 0;
  return (
    <div
      class={`dashboard-row${row.collapsed ? ' collapsed' : ''}`}
      data-testid="row"
      data-row-id={row.id}
      data-collapsed={row.collapsed ? 'true' : 'false'}
    >
      <button
        type="button"
        class="row-title"
        aria-expanded={!row.collapsed}
        onClick={onToggle}
        data-testid="row-toggle"
      >
        <svg
          class={`row-chevron${row.collapsed ? ' closed' : ''}`}
          viewBox="0 0 16 16"
          width="16"
          height="16"
          aria-hidden="true"
        >
          <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.6" />
        </svg>
        {title || 'Row title'}
        {row.collapsed && (
          <span class="row-count">
            ({count} {count === 1 ? 'panel' : 'panels'})
          </span>
        )}
      </button>
    </div>
  );
}
