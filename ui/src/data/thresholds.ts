// Thresholds: which step a value falls in (absolute, or percentage of the
// field's min..max range), as Grafana picks them.
import type { Threshold, ThresholdsConfig } from './fieldConfig';

/** Grafana's threshold when a field has none. */
export const FALLBACK_THRESHOLD: Threshold = { value: 0, color: '#808080' };

/** A step's value; the base step (null in dashboard JSON) is -Infinity. */
export function thresholdValue(step: Threshold): number {
  return step.value === null || step.value === undefined ? Number.NEGATIVE_INFINITY : step.value;
}

/**
 * The last step whose value is <= `value`, scanning steps in order (they are
 * sorted ascending); the first step when none is. NaN stays on the first step.
 */
export function getActiveThreshold(value: number, steps: Threshold[] | undefined): Threshold {
  if (!steps || steps.length === 0) return FALLBACK_THRESHOLD;
  let active = steps[0];
  for (const step of steps) {
    if (value >= thresholdValue(step)) active = step;
    else break;
  }
  return active;
}

/** The active step for a field's thresholds; percentage mode compares `percent` (0-1) * 100. */
export function getActiveThresholdForValue(
  thresholds: ThresholdsConfig | undefined,
  value: number,
  percent: number,
): Threshold {
  if (thresholds?.mode === 'percentage') return getActiveThreshold(percent * 100, thresholds.steps);
  return getActiveThreshold(value, thresholds?.steps);
}

/** Steps sorted ascending with the base step first (what the editor saves). */
export function sortThresholds(steps: Threshold[]): Threshold[] {
  return [...steps].sort((a, b) => thresholdValue(a) - thresholdValue(b));
}
