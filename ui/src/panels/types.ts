// The props every panel component takes, and the small shared types of src/panels/.
import type { Panel } from '../dashboard/model';
import type { DataFrame } from '../data/frame';

export interface TimeRangeMs {
  from: number;
  to: number;
}

export interface PanelProps {
  panel: Panel;
  /** Query results with the panel's field config (defaults + overrides) already applied. */
  frames: DataFrame[];
  /** Size of the panel's content box in CSS px (inside the header). */
  width: number;
  height: number;
  timeRange: TimeRangeMs;
  /** Drag-to-zoom in a graph asks the dashboard to change its time range. */
  onChangeTimeRange: (range: TimeRangeMs) => void;
  /** Interpolates dashboard variables in a string (text panel content, display names). */
  replaceVariables: (text: string) => string;
  /** 'browser' | 'utc' | an IANA zone name. */
  timeZone?: string;
  /** The dashboard's `graphTooltip`: 0 none, 1 shared crosshair, 2 shared tooltip. */
  graphTooltip?: number;
}

/** `options.reduceOptions` of stat, gauge and bar gauge. */
export interface ReduceOptions {
  calcs: string[];
  values?: boolean;
  limit?: number;
  fields?: string;
}
