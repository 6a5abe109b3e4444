// The refresh picker: a button that re-runs every panel now, and the auto-refresh
// interval (Off or one of the dashboard's `timepicker.refresh_intervals`).

import { usePopover } from './popover';

/** Grafana's default choices when the dashboard lists none. */
export const DEFAULT_REFRESH_INTERVALS = ['5s', '10s', '30s', '1m', '5m', '15m', '30m', '1h', '2h', '1d'];

/** Grafana's `min_refresh_interval` default: nothing refreshes faster. */
export const MIN_REFRESH_MS = 5000;

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 6e4,
  h: 3.6e6,
  d: 8.64e7,
  w: 6.048e8,
  M: 2.592e9,
  y: 3.1536e10,
};

/** An auto-refresh interval (`30s`, `1m`, `1h`) in ms; undefined for off, invalid or under the minimum. */
export function parseRefreshInterval(text: string | undefined | null): number | undefined {
  if (!text) return undefined;
  const m = /^(\d+)(ms|[smhdwMy])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]];
  return ms >= MIN_REFRESH_MS ? ms : undefined;
}

/** The picker's choices: the dashboard's valid intervals, else Grafana's defaults. */
export function refreshIntervals(fromDashboard: string[] | undefined): string[] {
  const valid = (fromDashboard ?? []).filter((i) => parseRefreshInterval(i) !== undefined);
  return valid.length > 0 ? valid : DEFAULT_REFRESH_INTERVALS;
}

interface RefreshPickerProps {
  /** The interval, '' for off. */
  value: string;
  intervals: string[];
  onChange: (value: string) => void;
  onRefresh: () => void;
}

export function RefreshPicker({ value, intervals, onChange, onRefresh }: RefreshPickerProps) {
  const [open, setOpen, ref] = usePopover();
  const choices = value && !intervals.includes(value) ? [...intervals, value] : intervals;
  return (
    <div class="refresh-picker btn-group" ref={ref}>
      <button
        type="button"
        class="btn btn-secondary btn-sm"
        aria-label="Refresh dashboard"
        data-testid="refresh-button"
        title="Refresh dashboard"
        onClick={onRefresh}
      >
        <span aria-hidden="true">⟳</span> Refresh
      </button>
      <button
        type="button"
        class={`btn btn-secondary btn-sm${value ? ' refresh-on' : ''}`}
        aria-label={`Auto refresh: ${value || 'Off'}`}
        data-testid="refresh-picker"
        aria-haspopup="listbox"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        {value || ''}
        <span class="caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <div class="menu refresh-menu" role="listbox" aria-label="Auto refresh interval">
          {['', ...choices].map((i) => (
            <div key={i || 'off'}>
              <button
                type="button"
                role="option"
                aria-selected={i === value}
                class={`menu-item${i === value ? ' active' : ''}`}
                onClick={() => {
                  setOpen(false);
                  onChange(i);
                }}
              >
                {i || 'Off'}
              </button>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
