// TEMPORARY stand-ins, with the brief's API, for modules other lanes write in parallel:
// src/panels/registry.ts (ui-panels) and the frontend settings call of src/api.ts (ui-shell). Deleted
// once those are in main.
import { type ComponentType, h } from 'preact';
import type { DataSourceSettings, Panel } from '../dashboard/model';
import type { DataFrame } from '../data/frame';

// --- src/panels/types.ts and registry.ts ------------------------------------------------------

export interface PanelProps {
  panel: Panel;
  frames: DataFrame[];
  width: number;
  height: number;
  timeRange: { from: number; to: number };
  onChangeTimeRange: (range: { from: number; to: number }) => void;
  replaceVariables: (text: string) => string;
  timeZone?: string;
}

function Placeholder({ panel, frames }: PanelProps) {
  const rows = frames.reduce((n, f) => n + f.length, 0);
  return h(
    'div',
    { class: 'explore-panel-placeholder' },
    `${panel.type}: ${frames.length} frame(s), ${rows} row(s)`,
  );
}

export function getPanelComponent(_type: string): ComponentType<PanelProps> {
  return Placeholder;
}

// --- src/api.ts -------------------------------------------------------------------------------

export interface FrontendSettings {
  datasources: Record<string, DataSourceSettings>;
  defaultDatasource?: string;
}

export async function getFrontendSettings(): Promise<FrontendSettings> {
  const response = await fetch('/api/frontend/settings', { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`frontend settings: ${response.status} ${response.statusText}`);
  return (await response.json()) as FrontendSettings;
}
