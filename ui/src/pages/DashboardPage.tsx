// The page at /d/<uid>/<slug>: loads the dashboard and the datasources,
// migrates the JSON to the current schema, shows it, and reloads it when its
// provisioned file changes (polling its version every 10 s).
import { useEffect, useState } from 'preact/hooks';
import {
  ApiError,
  type DashboardResponse,
  datasourceList,
  type FrontendSettings,
  getDashboard,
  getFrontendSettings,
} from '../api';
import { Dashboard } from '../dashboard/Dashboard';
import { migrateDashboard } from '../dashboard/migrate';
import type { DashboardMeta, Dashboard as DashboardModel } from '../dashboard/model';
import { navigate } from '../router';
import { type Crumb, TopBar } from './TopBar';

/** How often the page asks whether the dashboard changed (Grafana's provisioning polls files at 10 s too). */
export const POLL_MS = 10_000;

interface Loaded {
  model: DashboardModel;
  meta: DashboardMeta;
  settings: FrontendSettings;
  /** Changes when the stored dashboard does: a new one replaces the view. */
  revision: string;
}

/** What identifies a stored version of the dashboard: its meta version, update time and JSON version. */
export function revisionOf(res: DashboardResponse): string {
  return `${res.meta?.version ?? ''}|${res.meta?.updated ?? ''}|${res.dashboard?.version ?? ''}`;
}

function load(res: DashboardResponse, settings: FrontendSettings): Loaded {
  const { dashboard, warnings } = migrateDashboard(
    res.dashboard,
    datasourceList(settings),
    settings.defaultDatasource,
  );
  // What the migration could not convert stays as it was; say so where a developer looks.
  for (const w of warnings) console.info(`dashboard ${res.dashboard?.uid ?? ''}: ${w}`);
  return { model: dashboard, meta: res.meta, settings, revision: revisionOf(res) };
}

export function DashboardPage({ uid }: { uid: string }) {
  const [loaded, setLoaded] = useState<Loaded>();
  const [error, setError] = useState<{ status: number; message: string }>();

  useEffect(() => {
    const ctl = new AbortController();
    Promise.all([getFrontendSettings(), getDashboard(uid, ctl.signal)])
      .then(([settings, res]) => {
        const next = load(res, settings);
        setLoaded(next);
        document.title = `${next.model.title} - Dashboards - vigil`;
        // The canonical URL carries the slug (Grafana corrects /d/<uid> and stale slugs the same way).
        const path = `/d/${encodeURIComponent(uid)}/${res.meta.slug}`;
        if (res.meta.slug && window.location.pathname !== path) {
          navigate(path + window.location.search, { replace: true });
        }
      })
      .catch((err: unknown) => {
        if (err instanceof DOMException && err.name === 'AbortError') return;
        if (err instanceof ApiError) setError({ status: err.status, message: err.message });
        else setError({ status: 0, message: err instanceof Error ? err.message : String(err) });
      });
    return () => ctl.abort();
  }, [uid]);

  // Provisioned dashboards change under us when their file does: poll and swap in the new model.
  useEffect(() => {
    if (!loaded) return;
    let busy = false;
    const id = window.setInterval(() => {
      if (busy || document.visibilityState === 'hidden') return;
      busy = true;
      getDashboard(uid)
        .then((res) => {
          if (revisionOf(res) !== loaded.revision) setLoaded(load(res, loaded.settings));
        })
        .catch(() => {
          // A failed poll (server restarting) is retried at the next tick; the view stays.
        })
        .finally(() => {
          busy = false;
        });
    }, POLL_MS);
    return () => window.clearInterval(id);
  }, [uid, loaded]);

  const crumbs: Crumb[] = [{ text: 'Dashboards', url: '/dashboards' }];
  if (loaded?.meta.folderTitle) {
    crumbs.push({
      text: loaded.meta.folderTitle,
      url: loaded.meta.folderUid
        ? `/dashboards/f/${encodeURIComponent(loaded.meta.folderUid)}/`
        : '/dashboards',
    });
  }
  crumbs.push({
    text: loaded?.model.title ?? (error ? 'Error' : 'Loading...'),
    url: '',
    testid: loaded ? 'dashboard-title' : undefined,
  });

  // Kiosk mode (`?kiosk`): the panels only, for a wall screen.
  const kiosk = new URLSearchParams(window.location.search).has('kiosk');
  return (
    <div class={`app${kiosk ? ' kiosk' : ''}`}>
      {!kiosk && <TopBar crumbs={crumbs} />}
      <main class="page-body page-dashboard">
        {error ? (
          <div class="empty-state">
            <h2>{error.status === 404 ? 'Dashboard not found' : 'Could not load the dashboard'}</h2>
            {error.message !== 'Dashboard not found' && <p class="muted">{error.message}</p>}
          </div>
        ) : loaded ? (
          <Dashboard key={loaded.revision} model={loaded.model} settings={loaded.settings} />
        ) : (
          <div class="loading-text">Loading dashboard...</div>
        )}
      </main>
    </div>
  );
}
