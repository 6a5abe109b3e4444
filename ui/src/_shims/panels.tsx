// TEMPORARY shim for src/panels/{types,registry}.ts (lane ui-panels); deleted once they are merged.
import type { ComponentType } from 'preact';
import type { Panel } from '../dashboard/model';
import type { DataFrame } from '../data/frame';

export interface PanelProps {
  panel: Panel;
  frames: DataFrame[];
  width: number;
  height: number;
  timeRange: { from: number; to: number };
  onChangeTimeRange: (range: { from: number; to: number }) => void;
  replaceVariables: (text: string) => string;
  timeZone?: string;
  graphTooltip?: number;
}

function Placeholder({ panel, frames }: PanelProps) {
  return (
    <div class="panel-placeholder">
      {panel.type}: {frames.length} frame(s)
    </div>
  );
}

export function getPanelComponent(_type: string): ComponentType<PanelProps> {
  return Placeholder;
}
