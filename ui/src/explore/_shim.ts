// TEMPORARY stand-in, with the brief's API, for the frontend settings call of src/api.ts (ui-shell),
// written in parallel. Deleted once that is in main.
import type { DataSourceSettings } from '../dashboard/model';

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
