// Grafana's time range picker: shift back / forward, the range button with a
// drop-down (absolute from/to taking date math, quick ranges with a filter,
// recently used ranges, the time zone), and zoom out.

import { useState } from 'preact/hooks';
import { usePopover } from './popover';
import {
  describeTimeRange,
  formatDateTime,
  parseTimeInput,
  QUICK_RANGES,
  type QuickRange,
  type RawTimeRange,
  shiftRange,
  type TimeRange,
  zoomOut,
} from './time';

interface TimePickerProps {
  /** The dashboard's `timepicker.quick_ranges`: they replace Grafana's list. */
  quickRanges?: readonly QuickRange[];
  raw: RawTimeRange;
  range: TimeRange;
  timeZone: string;
  onChange: (raw: RawTimeRange) => void;
}

const RECENT_KEY = 'vigil.timepicker.recent';

function loadRecent(): RawTimeRange[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(parsed)
      ? parsed
          .filter((r): r is RawTimeRange => typeof r?.from === 'string' && typeof r?.to === 'string')
          .slice(0, 4)
      : [];
  } catch {
    return [];
  }
}

function saveRecent(r: RawTimeRange): void {
  try {
    const list = [r, ...loadRecent().filter((x) => x.from !== r.from || x.to !== r.to)].slice(0, 4);
    localStorage.setItem(RECENT_KEY, JSON.stringify(list));
  } catch {
    // Private mode or storage full: no history, nothing else changes.
  }
}

/** What an input shows for one end: date math as written, an absolute time as a date in the zone. */
export function inputText(text: string, timeZone: string): string {
  if (text.includes('now')) return text;
  if (/^-?\d+$/.test(text.trim())) return formatDateTime(Number(text), timeZone);
  return text;
}

/** An input's text as a range end: date math kept, a date becomes epoch ms; undefined when invalid. */
export function parseInput(
  text: string,
  roundUp: boolean,
  timeZone: string,
  now = Date.now(),
): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  if (t.includes('now')) {
    // Invalid math would silently mean "now" in parseTimeInput: check it strictly.
    return /^now([+-]\d+(ms|[smhdwMyQ]|fQ|fy)|\/(ms|[smhdwMyQ]|fQ|fy))*$/.test(t) ? t : undefined;
  }
  const ms = parseTimeInput(t, roundUp, now, { timeZone });
  return ms === undefined || Number.isNaN(ms) ? undefined : String(ms);
}

export function TimePicker({ raw, range, timeZone, onChange, quickRanges = [] }: TimePickerProps) {
  const [open, setOpen, ref] = usePopover(true);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string>();

  // The inputs start from the current range when the picker opens (set here, not in an effect, so
  // that typing right after opening is never overwritten).
  const toggle = () => {
    if (!open) {
      setFrom(inputText(raw.from, timeZone));
      setTo(inputText(raw.to, timeZone));
      setError(undefined);
      setFilter('');
    }
    setOpen(!open);
  };

  const choose = (next: RawTimeRange) => {
    // Grafana remembers the absolute ranges only: quick ranges are one click away anyway.
    if (!next.from.includes('now') || !next.to.includes('now')) saveRecent(next);
    onChange(next);
    setOpen(false);
  };
  const absolute = (r: { from: number; to: number }) => onChange({ from: String(r.from), to: String(r.to) });

  const apply = (e: Event) => {
    e.preventDefault();
    const f = parseInput(from, false, timeZone);
    const t = parseInput(to, true, timeZone);
    if (f === undefined) return setError('Please enter a past date or "now" in From');
    if (t === undefined) return setError('Please enter a past date or "now" in To');
    const fMs = parseTimeInput(f, false, Date.now(), { timeZone });
    const tMs = parseTimeInput(t, true, Date.now(), { timeZone });
    if (fMs !== undefined && tMs !== undefined && fMs > tMs) return setError('"From" can\'t be after "To"');
    choose({ from: f, to: t });
  };

  const label = describeTimeRange(raw, timeZone, Date.now(), quickRanges);
  const zoneLabel = timeZone === 'utc' ? 'UTC' : timeZone === 'browser' ? 'Browser Time' : timeZone;
  const q = filter.trim().toLowerCase();
  const quick = (quickRanges.length > 0 ? quickRanges : QUICK_RANGES).filter(
    (r) => q === '' || r.display.toLowerCase().includes(q) || r.from.includes(q),
  );
  const recent = loadRecent();

  return (
    <div class="time-picker" ref={ref}>
      <div class="btn-group">
        <button
          type="button"
          class="btn btn-secondary btn-sm btn-icon"
          aria-label="Move time range backwards"
          title="Move time range backwards"
          onClick={() => absolute(shiftRange(range, -1))}
        >
          ‹
        </button>
        <button
          type="button"
          class="btn btn-secondary btn-sm time-picker-button"
          data-testid="time-picker"
          aria-label={`Time range picker: ${label}`}
          aria-expanded={open}
          title={`${formatDateTime(range.from, timeZone)} to ${formatDateTime(range.to, timeZone)}`}
          onClick={toggle}
        >
          <span class="clock" aria-hidden="true">
            ◷
          </span>{' '}
          {label}
          {timeZone === 'utc' && <span class="tz-badge">UTC</span>}
          <span class="caret" aria-hidden="true">
            ▾
          </span>
        </button>
        <button
          type="button"
          class="btn btn-secondary btn-sm btn-icon"
          aria-label="Move time range forwards"
          title="Move time range forwards"
          onClick={() => absolute(shiftRange(range, 1))}
        >
          ›
        </button>
      </div>
      <button
        type="button"
        class="btn btn-secondary btn-sm btn-icon"
        aria-label="Zoom out time range"
        data-testid="time-zoom-out"
        title="Zoom out time range"
        onClick={() => absolute(zoomOut(range, 2))}
      >
        ⊖
      </button>
      {open && (
        <div class="time-picker-dropdown" role="dialog" aria-label="Time range">
          <form class="time-picker-absolute" onSubmit={apply}>
            <h3>Absolute time range</h3>
            <label class="field">
              <span>From</span>
              <input
                class="input"
                aria-label="From"
                data-testid="time-picker-from"
                value={from}
                onInput={(e) => setFrom(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>To</span>
              <input
                class="input"
                aria-label="To"
                data-testid="time-picker-to"
                value={to}
                onInput={(e) => setTo(e.currentTarget.value)}
              />
            </label>
            {error && (
              <div class="field-error" role="alert">
                {error}
              </div>
            )}
            <button type="submit" class="btn btn-primary btn-sm" data-testid="time-picker-apply">
              Apply time range
            </button>
            {recent.length > 0 && (
              <div class="recent-ranges">
                <h3>Recently used absolute ranges</h3>
                {recent.map((r) => (
                  <button
                    type="button"
                    class="link-button"
                    key={`${r.from}-${r.to}`}
                    onClick={() => choose(r)}
                  >
                    {describeTimeRange(r, timeZone)}
                  </button>
                ))}
              </div>
            )}
          </form>
          <div class="time-picker-quick">
            <input
              class="input"
              placeholder="Search quick ranges"
              aria-label="Search quick ranges"
              value={filter}
              onInput={(e) => setFilter(e.currentTarget.value)}
            />
            <ul class="quick-ranges">
              {quick.map((r) => (
                <li key={`${r.from}-${r.to}`}>
                  <button
                    type="button"
                    class={`quick-range${r.from === raw.from && r.to === raw.to ? ' active' : ''}`}
                    data-testid="time-range-option"
                    data-from={r.from}
                    data-to={r.to}
                    onClick={() => choose({ from: r.from, to: r.to })}
                  >
                    {r.display}
                  </button>
                </li>
              ))}
            </ul>
          </div>
          <div class="time-picker-footer">
            <span>{zoneLabel}</span>
            <span class="muted">
              {timeZone === 'browser' ? Intl.DateTimeFormat().resolvedOptions().timeZone : ''}
            </span>
          </div>
        </div>
      )}
    </div>
  );
}
