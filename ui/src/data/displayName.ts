// Field and series display names, by Grafana's rules: the configured display
// name, the datasource's (legend format), a single shared label's value or the
// `{a="b", c="d"}` label set, the frame name, the field name; duplicates in a
// frame get " 2", " 3", ... suffixes.
import type { DataFrame, Field } from './frame';

/** Grafana's default names for a time series' columns. */
export const TIME_FIELD_NAME = 'Time';
export const VALUE_FIELD_NAME = 'Value';

/** Labels as `{a="b", c="d"}` (keys sorted); `fallback` when there are none. */
export function formatLabels(
  labels: Record<string, string> | undefined,
  fallback = '',
  withoutBraces = false,
): string {
  if (!labels || Object.keys(labels).length === 0) return fallback;
  const body = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(', ');
  return withoutBraces ? body : `{${body}}`;
}

/** The label name when every labelled field of the frames has exactly that one label; null otherwise. */
function singleLabelName(frames: DataFrame[]): string | null {
  let name: string | null = null;
  for (const frame of frames) {
    for (const field of frame.fields) {
      if (!field.labels) continue;
      for (const key of Object.keys(field.labels)) {
        if (name === null) name = key;
        else if (key !== name) return null;
      }
    }
  }
  return name;
}

/** The field's name, numbered when other fields of its frame share it ("x", "x 2"). */
function uniqueFieldName(field: Field, frame?: DataFrame): string {
  let dupes = 0;
  let seenSelf = false;
  if (frame) {
    for (const other of frame.fields) {
      if (other === field) {
        seenSelf = true;
        if (dupes > 0) {
          dupes++;
          break;
        }
      } else if (other.name === field.name) {
        dupes++;
        if (seenSelf) break;
      }
    }
  }
  return dupes ? `${field.name} ${dupes}` : field.name;
}

function isComparison(frame?: DataFrame): boolean {
  // Set by time-shifted comparison queries (Grafana's meta.timeCompare).
  const meta = frame?.meta as { timeCompare?: { isTimeShiftQuery?: boolean } } | undefined;
  return Boolean(meta?.timeCompare?.isTimeShiftQuery);
}

/**
 * The name Grafana shows for a field (legend, tooltip, table header, stat
 * title). `frame` is the field's frame and `allFrames` every frame of the
 * panel: a frame name is only added when frame names differ, and a lone label
 * name shared by all series shows just its value.
 */
export function getFieldDisplayName(field: Field, frame?: DataFrame, allFrames?: DataFrame[]): string {
  const comparison = isComparison(frame);
  const tag = (s: string) => (comparison ? `${s} (comparison)` : s);
  const configured = field.config?.displayName;
  if (configured) return tag(configured);
  if (frame && field.config?.displayNameFromDS) return tag(field.config.displayNameFromDS);
  if (field.type === 'time' && !field.labels) return field.name ?? TIME_FIELD_NAME;

  const parts: string[] = [];
  let frameNamesDiffer = false;
  if (allFrames && allFrames.length > 1) {
    for (let i = 1; i < allFrames.length; i++) {
      if (allFrames[i].name !== allFrames[i - 1].name) {
        frameNamesDiffer = true;
        break;
      }
    }
  }
  let frameNameAdded = false;
  let labelsAdded = false;
  if (frameNamesDiffer && frame?.name) {
    parts.push(frame.name);
    frameNameAdded = true;
  }
  if (field.name && field.name !== VALUE_FIELD_NAME) parts.push(field.name);
  if (field.labels && frame) {
    const single = singleLabelName(allFrames ?? [frame]);
    if (!single) {
      const all = formatLabels(field.labels);
      if (all) {
        parts.push(all);
        labelsAdded = true;
      }
    } else if (field.labels[single]) {
      parts.push(field.labels[single]);
      labelsAdded = true;
    }
  }
  // A bare "Value" field with no labels takes its frame's name.
  if (frame && !frameNameAdded && !labelsAdded && field.name === VALUE_FIELD_NAME && frame.name) {
    parts.push(frame.name);
  }
  let name: string;
  if (parts.length) name = parts.join(' ');
  else if (field.name) name = field.name;
  else name = VALUE_FIELD_NAME;
  if (name === field.name) name = uniqueFieldName(field, frame);
  return tag(name);
}

/**
 * A frame's display name: its name, else its single non-time field's display
 * name, else the non-time fields' names joined (or "Series (A)" / "Series (2)"
 * when `index` is given).
 */
export function getFrameDisplayName(frame: DataFrame, index?: number): string {
  if (frame.name) return frame.name;
  const names: string[] = [];
  for (const field of frame.fields) {
    if (field.type === 'time') continue;
    if (names.length > 1) break;
    names.push(getFieldDisplayName(field, frame));
  }
  if (names.length === 1) return names[0];
  if (index === undefined && frame.fields.length > 0) {
    return frame.fields
      .filter((f) => f.type !== 'time')
      .map((f) => getFieldDisplayName(f, frame))
      .join(', ');
  }
  if (frame.refId) return `Series (${frame.refId})`;
  return `Series (${index})`;
}
