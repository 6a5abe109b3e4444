// A panel's frame: header (title, description, time override, error corner,
// menu with View and Inspect), a loading bar, and the panel itself. The panel
// queries once it scrolls into view, again when its request or the refresh
// token changes, and a newer query cancels the one in flight.

import { useEffect, useErrorBoundary, useMemo, useRef, useState } from 'preact/hooks';
import type { FrontendSettings } from '../api';
import { applyFieldOverrides } from '../data/fieldOverrides';
import type { DataFrame } from '../data/frame';
import { fieldConfigWithDefaults } from '../panels/defaults';
import { getPanelComponent, isPanelTypeSupported } from '../panels/registry';
import type { PanelProps } from '../panels/types';
import { navigate } from '../router';
import type { QueryTick } from './Dashboard';
import type { InspectTab } from './Inspect';
import type { Panel } from './model';
import { usePopover } from './popover';
import {
  buildPanelQuery,
  DISPLAY_TEXT,
  exploreUrl,
  type Interpolator,
  type PanelData,
  type PanelQueryPlan,
  PanelQueryRunner,
} from './queryRunner';

/** What a panel last ran and got, for the inspect drawer. */
export interface PanelSnapshot {
  plan: PanelQueryPlan;
  data?: PanelData;
  frames: DataFrame[];
}
export type PanelDataSink = (panelId: number, snapshot: PanelSnapshot) => void;

/** A panel's `data-state`. */
export type PanelState = 'loading' | 'done' | 'nodata' | 'error';

/** What a panel tells the dashboard for the first-paint mark; undefined when it unmounts. */
export type PanelStateSink = (
  panelId: number,
  state: { observed: boolean; inView: boolean; final: boolean } | undefined,
) => void;

/** The props every panel of a dashboard shares. */
export interface SharedChromeProps {
  settings: FrontendSettings;
  tick: QueryTick;
  interpolate: Interpolator;
  timeZone: string;
  /** False until the variables have their values: queries wait for them. */
  ready: boolean;
  graphTooltip?: number;
  onView: (panelId: number) => void;
  /** The panel under the mouse (keyboard shortcuts act on it); undefined when the mouse leaves. */
  onHover: (panelId: number | undefined) => void;
  onInspect: (panelId: number, tab?: InspectTab) => void;
  onChangeTimeRange: (range: { from: number; to: number }) => void;
  sink: PanelDataSink;
  onState?: PanelStateSink;
}

interface PanelChromeProps extends SharedChromeProps {
  panel: Panel;
  width: number;
  height: number;
  /** Full-screen view: the panel fills its container, whatever width/height say. */
  fill?: boolean;
}

// Grafana's panel metrics: a 32 px header, 8 px padding, a 1 px border.
const HEADER_HEIGHT = 32;
const PADDING = 8;
const BORDER = 1;

/** Panel types that draw without data (nothing to say "No data" about). */
const NO_DATA_EXEMPT = new Set(['text', 'news', 'dashlist', 'welcome', 'row']);

/** Panels that show their own `noValue` text when there is nothing (Grafana's stat family). */
const OWN_NO_VALUE = new Set(['stat', 'gauge', 'bargauge', 'singlestat']);

function hasRows(frames: DataFrame[]): boolean {
  return frames.some((f) => f.length > 0);
}

/**
 * Whether an element is in (or within 100 px of) the viewport, and whether the observer has said so
 * at least once yet (until then `inView` means nothing).
 */
function useInView(ref: preact.RefObject<HTMLElement>): { inView: boolean; observed: boolean } {
  const [inView, setInView] = useState(false);
  const [observed, setObserved] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (typeof IntersectionObserver === 'undefined') {
      setInView(true);
      setObserved(true);
      return;
    }
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) setInView(e.isIntersecting);
        setObserved(true);
      },
      { rootMargin: '100px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, []);
  return { inView, observed };
}

/** The size of an element (for the full-screen view). */
function useSize(ref: preact.RefObject<HTMLElement>, enabled: boolean): { width: number; height: number } {
  const [size, setSize] = useState({ width: 0, height: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!enabled || !el) return;
    setSize({ width: el.clientWidth, height: el.clientHeight });
    const ro = new ResizeObserver(() => setSize({ width: el.clientWidth, height: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, [enabled]);
  return size;
}

export function PanelChrome(props: PanelChromeProps) {
  const { panel, settings, tick, timeZone, ready, sink } = props;
  // A repeated panel's copy interpolates with its own value of the variable.
  const interpolate: Interpolator = useMemo(
    () =>
      panel.scopedVars
        ? (text, scoped, dsType, scopedVars) =>
            props.interpolate(text, scoped, dsType, { ...panel.scopedVars, ...scopedVars })
        : props.interpolate,
    [props.interpolate, panel.scopedVars],
  );
  const ref = useRef<HTMLDivElement>(null);
  const { inView, observed } = useInView(ref);
  const measured = useSize(ref, props.fill === true);
  const width = props.fill ? measured.width : props.width;
  const height = props.fill ? measured.height : props.height;
  const title = interpolate(panel.title ?? '', {}, DISPLAY_TEXT);
  const hoverHeader = title.trim() === '';
  const innerWidth = Math.max(0, width - PADDING * 2 - BORDER * 2);
  const innerHeight = Math.max(
    0,
    height - BORDER * 2 - (hoverHeader ? PADDING * 2 : HEADER_HEIGHT + PADDING),
  );

  // maxDataPoints follows the width the panel had when the range last changed: resizing the window
  // alone does not re-query every panel (Grafana does not either).
  const queryWidth = useRef(0);
  const widthTick = useRef<QueryTick>();
  if (innerWidth > 0 && (queryWidth.current === 0 || widthTick.current !== tick)) {
    queryWidth.current = innerWidth;
    widthTick.current = tick;
  }
  const plan = useMemo(
    () =>
      buildPanelQuery(panel, {
        settings,
        range: tick.range,
        width: queryWidth.current,
        interpolate,
        timeZone,
        now: tick.now,
      }),
    [panel, settings, tick, interpolate, timeZone, queryWidth.current],
  );
  const key = `${JSON.stringify(plan.request ?? null)}|${tick.token}`;

  const runner = useRef<PanelQueryRunner>();
  runner.current ??= new PanelQueryRunner();
  const [data, setData] = useState<PanelData>();
  const [loading, setLoading] = useState(false);
  const lastRun = useRef('');
  useEffect(() => {
    if (!ready || !inView || queryWidth.current === 0 || key === lastRun.current) return;
    lastRun.current = key;
    if (!plan.request) {
      runner.current?.dispose();
      setLoading(false);
      setData({ frames: [], errors: plan.errors.map((message) => ({ message })) });
      return;
    }
    setLoading(true);
    runner.current?.run(plan).then((d) => {
      if (!d) return;
      setData(d);
      setLoading(false);
    });
  }, [ready, inView, key]);
  useEffect(() => () => runner.current?.dispose(), []);

  const replaceVariables = useMemo(
    () => (text: string) => interpolate(text, plan.scoped),
    [interpolate, plan],
  );
  // The plugin's defaults (colour mode, thresholds) under the saved field config, as Grafana applies them.
  const fieldConfig = useMemo(() => fieldConfigWithDefaults(panel), [panel.fieldConfig, panel.type]);
  const frames = useMemo(
    () => (data ? applyFieldOverrides(data.frames, fieldConfig, replaceVariables) : []),
    [data, fieldConfig, replaceVariables],
  );
  useEffect(() => {
    if (data) sink(panel.id, { plan, data, frames });
  }, [data, frames]);

  const explore = exploreUrl(plan, tick.range.raw);
  const errors = data?.errors ?? [];
  const errorText = errors.map((e) => (e.refId ? `${e.refId}: ${e.message}` : e.message)).join('\n');
  const description = panel.description ? interpolate(panel.description, {}, DISPLAY_TEXT) : '';
  const noData =
    data !== undefined &&
    plan.request !== undefined &&
    !hasRows(frames) &&
    !NO_DATA_EXEMPT.has(panel.type) &&
    !OWN_NO_VALUE.has(panel.type) &&
    // An unknown type keeps its placeholder naming the type, data or not (as Grafana's missing plugin).
    isPanelTypeSupported(panel.type);
  const waiting =
    data === undefined && !NO_DATA_EXEMPT.has(panel.type) && (plan.request !== undefined || !ready);
  // What the browser tests and the paint benchmark read: loading until the first answer, then one of
  // error (a query failed), nodata (nothing to show) or done.
  const state: PanelState =
    loading || (data === undefined && !(ready && plan.request === undefined && inView))
      ? 'loading'
      : errors.length > 0
        ? 'error'
        : data !== undefined &&
            plan.request !== undefined &&
            !hasRows(frames) &&
            !NO_DATA_EXEMPT.has(panel.type)
          ? 'nodata'
          : 'done';
  const { onState } = props;
  useEffect(() => {
    onState?.(panel.id, { observed, inView, final: state !== 'loading' });
  }, [observed, inView, state]);
  useEffect(() => () => onState?.(panel.id, undefined), []);

  return (
    <section
      ref={ref}
      class={`panel${panel.transparent ? ' panel-transparent' : ''}${hoverHeader ? ' panel-hover-header' : ''}${props.fill ? ' panel-fill' : ''}`}
      data-testid="panel"
      data-panel-id={panel.id}
      data-panel-type={panel.type}
      data-state={state}
      aria-label={title || panel.type}
      onMouseEnter={() => props.onHover(panel.id)}
      onMouseLeave={() => props.onHover(undefined)}
    >
      {loading && <div class="panel-loading" title="Loading" />}
      <header class="panel-header">
        {errors.length > 0 && (
          <button
            type="button"
            class="panel-error"
            aria-label={`Error: ${errorText}`}
            title={errorText}
            data-testid="panel-error"
          >
            !<span class="panel-tooltip panel-error-text">{errorText}</span>
          </button>
        )}
        <h2 class="panel-title" title={title} data-testid="panel-title">
          {title}
        </h2>
        {description && (
          <button type="button" class="panel-info" aria-label={`Description: ${description}`}>
            i<span class="panel-tooltip">{description}</span>
          </button>
        )}
        {Array.isArray(panel.links) && panel.links.length > 0 && (
          <PanelLinks links={panel.links as PanelLink[]} interpolate={(t) => interpolate(t, plan.scoped)} />
        )}
        {plan.timeInfo && <span class="panel-time-info">{plan.timeInfo}</span>}
        <PanelMenu
          onView={() => props.onView(panel.id)}
          onInspect={(tab) => props.onInspect(panel.id, tab)}
          onExplore={explore ? () => navigate(explore) : undefined}
        />
      </header>
      <div class="panel-content" style={{ width: `${innerWidth}px`, height: `${innerHeight}px` }}>
        {noData ? (
          <div class="panel-empty" data-testid="panel-nodata">
            {typeof panel.fieldConfig?.defaults?.noValue === 'string' &&
            panel.fieldConfig.defaults.noValue !== ''
              ? panel.fieldConfig.defaults.noValue
              : 'No data'}
          </div>
        ) : waiting ? null : innerWidth > 0 && innerHeight > 0 ? (
          <PanelBody
            Comp={getPanelComponent(panel.type)}
            props={{
              panel,
              frames,
              width: innerWidth,
              height: innerHeight,
              timeRange: plan.range,
              onChangeTimeRange: props.onChangeTimeRange,
              replaceVariables,
              timeZone,
              graphTooltip: props.graphTooltip,
            }}
          />
        ) : null}
      </div>
    </section>
  );
}

/** The panel component, with a crash caught and shown in place (the dashboard keeps rendering). */
function PanelBody({ Comp, props }: { Comp: preact.ComponentType<PanelProps>; props: PanelProps }) {
  const [error] = useErrorBoundary((err: unknown) => console.error(`panel ${props.panel.id}:`, err));
  if (error) {
    return (
      <div class="panel-empty panel-crash">
        Panel error: {error instanceof Error ? error.message : String(error)}
      </div>
    );
  }
  return <Comp {...props} />;
}

interface PanelLink {
  title?: string;
  url?: string;
  targetBlank?: boolean;
}

/** The panel's links (`panel.links`): an icon in the header opening the list, variables filled in. */
function PanelLinks({ links, interpolate }: { links: PanelLink[]; interpolate: (text: string) => string }) {
  const [open, setOpen, ref] = usePopover();
  return (
    <div class="panel-links" ref={ref}>
      <button
        type="button"
        class="panel-links-button"
        aria-label="Panel links"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        ⧉
      </button>
      {open && (
        <div class="menu" role="menu">
          {links.map((l, i) => (
            <a
              key={`${i}-${l.url}`}
              role="menuitem"
              class="menu-item"
              href={interpolate(l.url ?? '')}
              target={l.targetBlank ? '_blank' : undefined}
              rel={l.targetBlank ? 'noopener noreferrer' : undefined}
            >
              {interpolate(l.title || l.url || 'Link')}
            </a>
          ))}
        </div>
      )}
    </div>
  );
}

function PanelMenu({
  onView,
  onInspect,
  onExplore,
}: {
  onView: () => void;
  onInspect: (tab: InspectTab) => void;
  onExplore?: () => void;
}) {
  const [open, setOpen, ref] = usePopover();
  const item = (label: string, key: string, action: () => void) => (
    <button
      type="button"
      role="menuitem"
      class="menu-item"
      onClick={() => {
        setOpen(false);
        action();
      }}
    >
      <span>{label}</span>
      <kbd>{key}</kbd>
    </button>
  );
  return (
    <div class="panel-menu" ref={ref}>
      <button
        type="button"
        class="panel-menu-button"
        aria-label="Menu"
        data-testid="panel-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        ⋮
      </button>
      {open && (
        <div class="menu" role="menu">
          {item('View', 'v', onView)}
          {onExplore && item('Explore', 'x', onExplore)}
          {item('Inspect', 'i', () => onInspect('data'))}
          {item('Inspect query', 'q', () => onInspect('query'))}
          {item('Panel JSON', 'j', () => onInspect('json'))}
        </div>
      )}
    </div>
  );
}
