// Data frames: what /api/ds/query answers (Grafana's data-frame JSON,
// decoded), and what every panel reads.
import type { FieldConfig } from './fieldConfig';

export type FieldType = 'time' | 'number' | 'string' | 'boolean' | 'other';

export interface Field {
  name: string;
  type: FieldType;
  /** Series labels (Prometheus/Loki metric frames put them on the value field). */
  labels?: Record<string, string>;
  /** Field config from the datasource (e.g. `displayNameFromDS`, `interval`), before the panel's. */
  config: FieldConfig;
  /** Column values; numbers may be null (missing), NaN or ±Infinity. Times are epoch ms. */
  values: unknown[];
  /** Computed by applyFieldOverrides (src/data/fieldOverrides.ts); absent on raw frames. */
  state?: FieldState;
}

/** What applyFieldOverrides works out for a field (as Grafana's `field.state`). */
export interface FieldState {
  /** The field's display name (getFieldDisplayName over the panel's frames). */
  displayName?: string | null;
  /** Position among the panel's non-time fields, across frames: picks palette colours. */
  seriesIndex?: number;
  /** min/max/delta that percentages (thresholds, gauges, continuous colours) use. */
  range?: { min: number | null; max: number | null; delta: number };
}

export interface FrameMeta {
  /** Grafana's frame type: 'timeseries-multi', 'numeric-multi', 'log-lines', ... */
  type?: string;
  /** The query as the datasource ran it (shown by inspect). */
  executedQueryString?: string;
  preferredVisualisationType?: 'graph' | 'table' | 'logs';
  custom?: Record<string, unknown>;
}

export interface DataFrame {
  name?: string;
  refId?: string;
  meta?: FrameMeta;
  fields: Field[];
  /** Number of rows (the length of every field's values). */
  length: number;
}

/** The answer for one query (refId) of /api/ds/query. */
export interface QueryResult {
  refId: string;
  frames: DataFrame[];
  error?: string;
  status?: number;
}

/** Grafana's data-frame JSON as sent by the server (`schema` + `data`). */
export interface FrameJSON {
  schema: {
    name?: string;
    refId?: string;
    meta?: FrameMeta;
    fields: { name: string; type: FieldType; labels?: Record<string, string>; config?: FieldConfig }[];
  };
  data?: {
    values: unknown[][];
    /** Positions whose value is NaN / +Inf / -Inf (JSON has no such numbers), per field. */
    entities?: ({ NaN?: number[]; Inf?: number[]; NegInf?: number[] } | null)[];
  };
}

/** Decodes one frame of Grafana's JSON, restoring NaN and infinities. */
export function frameFromJSON(json: FrameJSON): DataFrame {
  const values = json.data?.values ?? [];
  const fields: Field[] = json.schema.fields.map((f, i) => {
    const column = values[i] ? [...values[i]] : [];
    const special = json.data?.entities?.[i];
    if (special) {
      for (const at of special.NaN ?? []) column[at] = Number.NaN;
      for (const at of special.Inf ?? []) column[at] = Number.POSITIVE_INFINITY;
      for (const at of special.NegInf ?? []) column[at] = Number.NEGATIVE_INFINITY;
    }
    return { name: f.name, type: f.type, labels: f.labels, config: f.config ?? {}, values: column };
  });
  return {
    name: json.schema.name,
    refId: json.schema.refId,
    meta: json.schema.meta,
    fields,
    length: fields[0]?.values.length ?? 0,
  };
}
