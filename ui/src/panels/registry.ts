// Panel type -> the component that draws it. Rows are drawn by the dashboard itself; any other unknown
// type gets the placeholder naming it.
import type { ComponentType } from 'preact';
import { BarGaugePanel } from './BarGaugePanel';
import { GaugePanel } from './GaugePanel';
import { LogsPanel } from './LogsPanel';
import { Placeholder } from './Placeholder';
import { StatPanel } from './StatPanel';
import { TablePanel } from './TablePanel';
import { TextPanel } from './TextPanel';
import { TimeSeriesPanel } from './timeseries/TimeSeriesPanel';
import type { PanelProps } from './types';

const PANELS: Record<string, ComponentType<PanelProps>> = {
  stat: StatPanel,
  singlestat: StatPanel,
  gauge: GaugePanel,
  bargauge: BarGaugePanel,
  timeseries: TimeSeriesPanel,
  graph: TimeSeriesPanel,
  logs: LogsPanel,
  table: TablePanel,
  'table-old': TablePanel,
  text: TextPanel,
};

export function getPanelComponent(type: string): ComponentType<PanelProps> {
  return PANELS[type] ?? Placeholder;
}

/** Whether vigil draws this panel type itself (the rest get the placeholder). */
export function isPanelTypeSupported(type: string): boolean {
  return type in PANELS;
}
