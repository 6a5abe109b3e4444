// The app shell: routes the browser's path to its page (src/pages/).

import { useEffect } from 'preact/hooks';
// Explore's styles ride with the main bundle: a lazily loaded chunk's CSS is not linked by the page.
import './explore/explore.css';
import { Browse } from './pages/Browse';
import { ChangePassword } from './pages/ChangePassword';
import { DashboardPage } from './pages/DashboardPage';
import { ExplorePage } from './pages/ExplorePage';
import { Login } from './pages/Login';
import { NotFound } from './pages/NotFound';
import { matchRoute, type Route, useLocation } from './router';

/** The browser tab's title per page (a dashboard sets its own once loaded). */
const TITLES: Record<Exclude<Route['name'], 'dashboard'>, string> = {
  login: 'Login',
  browse: 'Dashboards',
  explore: 'Explore',
  password: 'Change password',
  notFound: 'Page not found',
};

export function App() {
  const loc = useLocation();
  const route = matchRoute(loc.path);
  useEffect(() => {
    if (route.name !== 'dashboard') document.title = `${TITLES[route.name]} - vigil`;
  }, [route.name]);
  switch (route.name) {
    case 'login':
      return <Login search={loc.search} />;
    case 'browse':
      return <Browse search={loc.search} folderUid={route.folderUid} />;
    case 'dashboard':
      // Keyed by uid: another dashboard is a fresh page, not an update of this one.
      return <DashboardPage key={route.uid} uid={route.uid} />;
    case 'explore':
      return <ExplorePage />;
    case 'password':
      return <ChangePassword />;
    default:
      return <NotFound path={route.path} />;
  }
}
