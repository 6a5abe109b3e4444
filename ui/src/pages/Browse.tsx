// The dashboard browser at /dashboards (and /): folders with their
// dashboards, a search box filtering by title or tag, tag filters; the search
// and tags live in the URL (`?query=`, `?tag=`).
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type SearchHit, search } from '../api';
import { setSearch } from '../router';
import { Link } from './Link';
import { TopBar } from './TopBar';

/** Whether a dashboard matches the search words (in its title or a tag) and carries every tag asked for. */
export function matchesSearch(hit: SearchHit, query: string, tags: string[]): boolean {
  const hitTags = (hit.tags ?? []).map((t) => t.toLowerCase());
  if (!tags.every((t) => hitTags.includes(t.toLowerCase()))) return false;
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  return hit.title.toLowerCase().includes(q) || hitTags.some((t) => t.includes(q));
}

interface FolderGroup {
  uid: string;
  title: string;
  url?: string;
  dashboards: SearchHit[];
}

/** Folders (by title) with their dashboards (by title); dashboards outside any folder last, under "Dashboards". */
export function groupByFolder(hits: SearchHit[]): FolderGroup[] {
  const byTitle = (a: { title: string }, b: { title: string }) => a.title.localeCompare(b.title);
  const groups = new Map<string, FolderGroup>();
  for (const f of hits.filter((h) => h.type === 'dash-folder')) {
    groups.set(f.uid, { uid: f.uid, title: f.title, url: f.url, dashboards: [] });
  }
  const root: FolderGroup = { uid: '', title: 'Dashboards', dashboards: [] };
  for (const d of hits.filter((h) => h.type === 'dash-db')) {
    const uid = d.folderUid ?? '';
    if (uid === '') {
      root.dashboards.push(d);
      continue;
    }
    let g = groups.get(uid);
    if (!g) {
      g = { uid, title: d.folderTitle ?? uid, url: d.folderUrl, dashboards: [] };
      groups.set(uid, g);
    }
    g.dashboards.push(d);
  }
  const out = [...groups.values()].sort(byTitle);
  for (const g of out) g.dashboards.sort(byTitle);
  root.dashboards.sort(byTitle);
  if (root.dashboards.length) out.push(root);
  return out;
}

function Tags({ tags, onTag }: { tags: string[]; onTag: (t: string) => void }) {
  return (
    <span class="tags">
      {tags.map((t) => (
        <button
          type="button"
          key={t}
          class="tag"
          style={{ background: tagColor(t) }}
          onClick={() => onTag(t)}
        >
          {t}
        </button>
      ))}
    </span>
  );
}

// A stable colour per tag name, as Grafana colours tags by a hash of the name.
const TAG_COLORS = [
  '#1f78c1',
  '#7eb26d',
  '#eab839',
  '#6ed0e0',
  '#ef843c',
  '#e24d42',
  '#705da0',
  '#508642',
  '#cca300',
];
function tagColor(tag: string): string {
  let h = 0;
  for (const ch of tag) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return TAG_COLORS[h % TAG_COLORS.length];
}

/** The dashboard browser; with `folderUid`, one folder's page (`/dashboards/f/<uid>/`). */
export function Browse({ search: qs, folderUid }: { search: string; folderUid?: string }) {
  const params = new URLSearchParams(qs);
  const query = params.get('query') ?? '';
  const tags = params.getAll('tag');
  const [hits, setHits] = useState<SearchHit[]>();
  const [error, setError] = useState<string>();
  const [open, setOpen] = useState<Record<string, boolean>>({});
  const [text, setText] = useState(query);

  useEffect(() => {
    const ctl = new AbortController();
    search({}, ctl.signal)
      .then(setHits)
      .catch((err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError')) {
          setError(err instanceof Error ? err.message : String(err));
        }
      });
    return () => ctl.abort();
  }, []);

  const writeUrl = (q: string, t: string[]) => {
    const p = new URLSearchParams();
    if (q) p.set('query', q);
    for (const tag of t) p.append('tag', tag);
    setSearch(p.toString(), { replace: true });
  };
  const addTag = (t: string) => {
    if (!tags.includes(t)) writeUrl(text, [...tags, t]);
  };

  const allGroups = useMemo(() => groupByFolder(hits ?? []), [hits]);
  const folder = folderUid === undefined ? undefined : allGroups.find((g) => g.uid === folderUid);
  const groups = folderUid === undefined ? allGroups : folder ? [folder] : [];
  const filtering = query.trim() !== '' || tags.length > 0;
  const matches = useMemo(
    () =>
      (hits ?? [])
        .filter(
          (h) =>
            h.type === 'dash-db' &&
            (folderUid === undefined || h.folderUid === folderUid) &&
            matchesSearch(h, query, tags),
        )
        .sort((a, b) => a.title.localeCompare(b.title)),
    [hits, query, tags.join('\u0000'), folderUid],
  );

  return (
    <div class="app">
      <TopBar
        crumbs={
          folderUid === undefined
            ? [{ text: 'Dashboards', url: '/dashboards' }]
            : [
                { text: 'Dashboards', url: '/dashboards' },
                { text: folder?.title ?? folderUid, url: '' },
              ]
        }
      />
      <main class="page-body">
        <h1 class="page-title">{folderUid === undefined ? 'Dashboards' : (folder?.title ?? 'Folder')}</h1>
        <p class="muted page-subtitle">
          {folderUid === undefined
            ? 'Create and manage dashboards to visualize your data'
            : 'Dashboards in this folder'}
        </p>
        <div class="browse-filters">
          <input
            class="input search-input"
            data-testid="search-input"
            type="search"
            placeholder="Search for dashboards and folders"
            aria-label="Search dashboards"
            value={text}
            onInput={(e) => {
              const v = e.currentTarget.value;
              setText(v);
              writeUrl(v, tags);
            }}
          />
          {tags.length > 0 && (
            <span class="active-tags">
              {tags.map((t) => (
                <button
                  type="button"
                  key={t}
                  class="tag tag-removable"
                  style={{ background: tagColor(t) }}
                  title="Remove this tag filter"
                  onClick={() =>
                    writeUrl(
                      text,
                      tags.filter((x) => x !== t),
                    )
                  }
                >
                  {t} ×
                </button>
              ))}
            </span>
          )}
        </div>
        {error && <div class="alert alert-error">{error}</div>}
        {!hits && !error && <div class="loading-text">Loading...</div>}
        {hits && (
          <div class="browse-table">
            <div class="browse-head">
              <span>Name</span>
              <span>{filtering ? 'Location' : ''}</span>
              <span>Tags</span>
            </div>
            {filtering ? (
              matches.length === 0 ? (
                <div class="empty-state">No results found for your query.</div>
              ) : (
                matches.map((d) => (
                  <div class="browse-row" key={d.uid}>
                    <span class="browse-name">
                      <DashIcon />
                      <Link href={d.url} testid="dashboard-link" data={{ 'data-uid': d.uid }}>
                        {d.title}
                      </Link>
                    </span>
                    <span class="muted">{d.folderTitle ?? 'Dashboards'}</span>
                    <Tags tags={d.tags ?? []} onTag={addTag} />
                  </div>
                ))
              )
            ) : groups.length === 0 ? (
              <div class="empty-state">
                {folderUid === undefined ? 'No dashboards yet.' : 'Folder not found.'}
              </div>
            ) : (
              groups.map((g) => {
                const isOpen = open[g.uid] ?? (g.uid === '' || g.uid === folderUid);
                return (
                  <div
                    key={g.uid || '(root)'}
                    class="browse-folder"
                    data-testid="folder"
                    data-folder-uid={g.uid}
                  >
                    {g.uid !== '' && (
                      <div class="browse-row">
                        <button
                          type="button"
                          class="browse-name folder-toggle"
                          aria-expanded={isOpen}
                          onClick={() => setOpen({ ...open, [g.uid]: !isOpen })}
                        >
                          <span class="chevron">{isOpen ? '⌄' : '›'}</span>
                          <FolderIcon open={isOpen} />
                          {g.title}
                        </button>
                        <span />
                        <span />
                      </div>
                    )}
                    {isOpen &&
                      g.dashboards.map((d) => (
                        <div class={`browse-row${g.uid !== '' ? ' indented' : ''}`} key={d.uid}>
                          <span class="browse-name">
                            <DashIcon />
                            <Link href={d.url} testid="dashboard-link" data={{ 'data-uid': d.uid }}>
                              {d.title}
                            </Link>
                          </span>
                          <span />
                          <Tags tags={d.tags ?? []} onTag={addTag} />
                        </div>
                      ))}
                    {isOpen && g.uid !== '' && g.dashboards.length === 0 && (
                      <div class="browse-row indented muted">No dashboards in this folder</div>
                    )}
                  </div>
                );
              })
            )}
          </div>
        )}
      </main>
    </div>
  );
}

function DashIcon() {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path fill="currentColor" d="M1 1h6v8H1zM9 1h6v4H9zM9 7h6v8H9zM1 11h6v4H1z" opacity="0.8" />
    </svg>
  );
}

function FolderIcon({ open }: { open: boolean }) {
  return (
    <svg class="icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">
      <path fill="currentColor" d={open ? 'M1 3h5l1 1h7v2H3l-2 7z M3 7h12l-2 6H1z' : 'M1 3h5l1 1h8v9H1z'} />
    </svg>
  );
}
