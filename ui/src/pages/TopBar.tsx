// The bar atop every page: home, breadcrumbs (folder / dashboard), links to
// Dashboards and Explore, the signed-in user and sign out.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, currentUser, getFrontendSettings, logout } from '../api';
import { loginUrl } from '../router';
import { Link } from './Link';

export interface Crumb {
  text: string;
  url?: string;
  testid?: string;
}

export function TopBar({ crumbs, children }: { crumbs: Crumb[]; children?: ComponentChildren }) {
  const [login, setLogin] = useState<string>();
  const [anonymous, setAnonymous] = useState(false);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let live = true;
    // The app has booted once the user and the settings are known (the browser tests wait for it).
    // A failure other than 401 (which leaves for the login page) still boots the app, without a name.
    Promise.allSettled([currentUser(), getFrontendSettings()]).then(([u]) => {
      if (!live) return;
      if (u.status === 'fulfilled') {
        setLogin(u.value.login);
        setAnonymous(u.value.isAnonymous === true);
      } else if (u.reason instanceof ApiError && u.reason.status === 401) {
        return;
      }
      setReady(true);
    });
    return () => {
      live = false;
    };
  }, []);
  return (
    <header class="topbar" data-testid={ready ? 'app-ready' : undefined}>
      <Link href="/" class="topbar-logo" title="Home">
        <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
          <path fill="#f05a28" d="M12 2a10 10 0 1 0 10 10h-3a7 7 0 1 1-7-7z" />
          <circle cx="12" cy="12" r="3" fill="#fbca0a" />
        </svg>
      </Link>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <Link href="/">Home</Link>
        {crumbs.map((c, i) => (
          <span key={`${i}-${c.text}`} class="crumb">
            <span class="crumb-sep">›</span>
            {c.url && i < crumbs.length - 1 ? (
              <Link href={c.url} testid={c.testid}>
                {c.text}
              </Link>
            ) : (
              <span data-testid={c.testid}>{c.text}</span>
            )}
          </span>
        ))}
      </nav>
      <div class="topbar-actions">
        {children}
        <Link href="/dashboards" class="topbar-link" testid="nav-dashboards">
          Dashboards
        </Link>
        <Link href="/explore" class="topbar-link" testid="nav-explore">
          Explore
        </Link>
        {anonymous ? (
          <Link
            href={loginUrl({ path: window.location.pathname, search: window.location.search })}
            class="btn btn-primary btn-sm"
          >
            Sign in
          </Link>
        ) : (
          <>
            <Link href="/profile/password" class="topbar-link" title="Profile: change password">
              {login ?? 'Profile'}
            </Link>
            <button type="button" class="btn btn-secondary btn-sm" onClick={() => logout()}>
              Sign out
            </button>
          </>
        )}
      </div>
    </header>
  );
}
