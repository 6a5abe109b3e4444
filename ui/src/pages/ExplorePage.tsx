// The page at /explore: the top bar and the Explore component of src/explore/, loaded on first visit
// (its editor, grammars and completion are most of the bundle and the dashboards do not need them).
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { TopBar } from './TopBar';

let loaded: ComponentType | undefined;

export function ExplorePage() {
  const [Explore, setExplore] = useState<ComponentType | undefined>(() => loaded);
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (loaded) return;
    import('../explore/Explore')
      .then((m) => {
        loaded = m.Explore;
        setExplore(() => m.Explore);
      })
      .catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
  }, []);
  return (
    <div class="app">
      <TopBar crumbs={[{ text: 'Explore', url: '/explore' }]} />
      <main class="page-body page-explore">
        {Explore ? (
          <Explore />
        ) : error ? (
          <div class="alert alert-error">Could not load Explore: {error}</div>
        ) : (
          <div class="loading-text">Loading Explore...</div>
        )}
      </main>
    </div>
  );
}
