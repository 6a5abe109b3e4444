// The page for a path the app does not know.
import { TopBar } from './TopBar';

export function NotFound({ path }: { path: string }) {
  return (
    <div class="app">
      <TopBar crumbs={[{ text: 'Page not found' }]} />
      <main class="page-body">
        <div class="empty-state">
          <h2>Page not found</h2>
          <p>Nothing lives at {path}.</p>
        </div>
      </main>
    </div>
  );
}
