// The dashboard's links beside the variables (`dashboard.links`): plain links, and links to the
// dashboards with some tags (one drop-down, or one link each), carrying the time range and variables
// when the link asks for them.

import { useEffect, useState } from 'preact/hooks';
import { type SearchHit, search } from '../api';
import { Link } from '../pages/Link';
import { usePopover } from './popover';

export interface DashboardLink {
  type?: 'link' | 'dashboards' | string;
  title?: string;
  url?: string;
  tags?: string[];
  asDropdown?: boolean;
  targetBlank?: boolean;
  keepTime?: boolean;
  includeVars?: boolean;
  tooltip?: string;
}

interface LinksProps {
  links: DashboardLink[];
  /** The current dashboard (left out of tag lists). */
  uid: string;
  /** `from=..&to=..` of the current range. */
  timeParams: string;
  /** `var-x=..` of the current variables. */
  varParams: string;
  interpolate: (text: string) => string;
}

/** `url` with the time range and/or variables appended as the link asks. */
export function linkUrl(url: string, link: DashboardLink, timeParams: string, varParams: string): string {
  const extra = [link.keepTime ? timeParams : '', link.includeVars ? varParams : '']
    .filter(Boolean)
    .join('&');
  if (extra === '') return url;
  const [base, hash] = url.split('#', 2);
  const joined = `${base}${base.includes('?') ? '&' : '?'}${extra}`;
  return hash === undefined ? joined : `${joined}#${hash}`;
}

function isInternal(url: string): boolean {
  return url.startsWith('/') && !url.startsWith('//');
}

function Anchor({ href, blank, children }: { href: string; blank?: boolean; children: string }) {
  if (isInternal(href) && !blank) {
    return (
      <Link href={href} class="btn btn-secondary btn-sm dashboard-link">
        {children}
      </Link>
    );
  }
  return (
    <a
      href={href}
      class="btn btn-secondary btn-sm dashboard-link"
      target={blank ? '_blank' : undefined}
      rel={blank ? 'noopener noreferrer' : undefined}
    >
      {children}
    </a>
  );
}

export function DashboardLinks({ links, uid, timeParams, varParams, interpolate }: LinksProps) {
  if (links.length === 0) return null;
  return (
    <div class="dashboard-links">
      {links.map((link, i) =>
        link.type === 'dashboards' ? (
          <TaggedDashboards
            key={`${i}-${link.title}`}
            link={link}
            uid={uid}
            timeParams={timeParams}
            varParams={varParams}
          />
        ) : (
          <Anchor
            key={`${i}-${link.title}`}
            href={linkUrl(interpolate(link.url ?? ''), link, timeParams, varParams)}
            blank={link.targetBlank}
          >
            {interpolate(link.title ?? link.url ?? 'Link')}
          </Anchor>
        ),
      )}
    </div>
  );
}

function TaggedDashboards({
  link,
  uid,
  timeParams,
  varParams,
}: {
  link: DashboardLink;
  uid: string;
  timeParams: string;
  varParams: string;
}) {
  const [hits, setHits] = useState<SearchHit[]>();
  const [open, setOpen, ref] = usePopover();
  const tags = link.tags ?? [];
  useEffect(() => {
    const ctl = new AbortController();
    search({ type: 'dash-db', tag: tags }, ctl.signal)
      // The server filters already; checking again keeps folders and this dashboard out whatever it does.
      .then((list) =>
        setHits(
          list.filter(
            (h) => h.type === 'dash-db' && h.uid !== uid && tags.every((t) => (h.tags ?? []).includes(t)),
          ),
        ),
      )
      .catch(() => setHits([]));
    return () => ctl.abort();
  }, [tags.join('\u0000'), uid]);
  const list = hits ?? [];
  if (!link.asDropdown) {
    return (
      <>
        {list.map((h) => (
          <Anchor key={h.uid} href={linkUrl(h.url, link, timeParams, varParams)} blank={link.targetBlank}>
            {h.title}
          </Anchor>
        ))}
      </>
    );
  }
  return (
    <div class="dashboard-links-dropdown" ref={ref}>
      <button
        type="button"
        class="btn btn-secondary btn-sm"
        aria-haspopup="menu"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        {link.title || 'Dashboards'}
        <span class="caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <div class="menu" role="menu">
          {list.length === 0 && <div class="menu-item muted">No dashboards found</div>}
          {list.map((h) => {
            const href = linkUrl(h.url, link, timeParams, varParams);
            return link.targetBlank ? (
              <a
                key={h.uid}
                role="menuitem"
                class="menu-item"
                href={href}
                target="_blank"
                rel="noopener noreferrer"
              >
                {h.title}
              </a>
            ) : (
              <Link key={h.uid} href={href} class="menu-item">
                {h.title}
              </Link>
            );
          })}
        </div>
      )}
    </div>
  );
}
