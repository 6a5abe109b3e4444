// TEMPORARY shim for src/dashboard/migrate.ts (lane ui-time); deleted once it is merged.
import type { Dashboard, DataSourceSettings } from '../dashboard/model';

export function migrateDashboard(
  json: unknown,
  _datasources: DataSourceSettings[],
  _defaultName: string,
): Dashboard {
  const d = json as Dashboard;
  return {
    ...d,
    time: d.time ?? { from: 'now-6h', to: 'now' },
    templating: d.templating ?? { list: [] },
    panels: d.panels ?? [],
    schemaVersion: 41,
  };
}
