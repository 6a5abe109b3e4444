// A dashboard's JSON model as Grafana writes it at schemaVersion 41, after
// src/dashboard/migrate.ts has brought an older one up to date. Unknown keys
// are kept (a panel type we do not draw still keeps its options).
import type { FieldConfigSource } from '../data/fieldConfig';

export interface DataSourceRef {
  type?: string;
  uid?: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId: string;
  datasource?: DataSourceRef | null;
  hide?: boolean;
  /** PromQL or LogQL. */
  expr?: string;
  /** Prometheus: range and/or instant; Loki: queryType 'range' | 'instant'. */
  range?: boolean;
  instant?: boolean;
  queryType?: string;
  format?: 'time_series' | 'table' | 'heatmap' | string;
  legendFormat?: string;
  interval?: string;
  intervalFactor?: number;
  maxLines?: number;
  step?: string;
  [key: string]: unknown;
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef | null;
  targets?: Target[];
  fieldConfig?: FieldConfigSource;
  options?: Record<string, unknown>;
  /** Panel-level query options. */
  interval?: string;
  maxDataPoints?: number;
  timeFrom?: string;
  timeShift?: string;
  transparent?: boolean;
  repeat?: string;
  repeatDirection?: 'h' | 'v';
  maxPerRow?: number;
  /** Set on the copies of a repeated panel: the variable's value this copy shows. */
  scopedVars?: Record<string, { text: string; value: string }>;
  /** Rows only: whether collapsed, and (when collapsed) the panels they hold. */
  collapsed?: boolean;
  panels?: Panel[];
  /** Text panels. */
  [key: string]: unknown;
}

export interface VariableOption {
  text: string | string[];
  value: string | string[];
  selected?: boolean;
}

export type VariableType = 'query' | 'custom' | 'interval' | 'constant' | 'textbox' | 'datasource' | 'adhoc';

export interface Variable {
  name: string;
  type: VariableType;
  label?: string;
  /** 0 shown, 1 label hidden, 2 variable hidden. */
  hide?: number;
  datasource?: DataSourceRef | null;
  /** query: a string (`label_values(up, job)`) or an object with `query`. */
  query?: string | { query?: string; qryType?: number; refId?: string; [key: string]: unknown };
  definition?: string;
  regex?: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: VariableOption;
  options?: VariableOption[];
  /** query variables: 1 on dashboard load, 2 on time range change. */
  refresh?: number;
  sort?: number;
  /** interval variables. */
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  tags?: string[];
  schemaVersion: number;
  version?: number;
  time: { from: string; to: string };
  timezone?: string;
  refresh?: string | false;
  timepicker?: {
    refresh_intervals?: string[];
    hidden?: boolean;
    /** Replaces the time picker's quick ranges. */
    quick_ranges?: { from: string; to: string; display: string }[];
  };
  templating: { list: Variable[] };
  annotations?: { list: unknown[] };
  panels: Panel[];
  graphTooltip?: number;
  editable?: boolean;
  [key: string]: unknown;
}

/** What /api/dashboards/uid/<uid> answers beside the dashboard. */
export interface DashboardMeta {
  slug: string;
  url: string;
  folderUid?: string;
  folderTitle?: string;
  provisioned?: boolean;
  canSave?: boolean;
  canEdit?: boolean;
  version?: number;
  updated?: string;
}

/** A datasource as /api/frontend/settings lists it. */
export interface DataSourceSettings {
  uid: string;
  name: string;
  type: string;
  isDefault?: boolean;
  jsonData: { timeInterval?: string; [key: string]: unknown };
}
