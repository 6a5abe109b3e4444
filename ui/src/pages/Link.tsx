// An anchor that navigates inside the app without reloading (a modified
// click, e.g. ctrl-click for a new tab, keeps the browser's behaviour).
import type { ComponentChildren } from 'preact';
import { navigate } from '../router';

interface LinkProps {
  href: string;
  class?: string;
  title?: string;
  /** The browser tests' handle (`data-testid`). */
  testid?: string;
  /** Extra `data-*` attributes, e.g. `{ 'data-uid': uid }`. */
  data?: Record<string, string>;
  children?: ComponentChildren;
}

export function Link({ href, children, testid, data, ...rest }: LinkProps) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey || e.defaultPrevented) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} data-testid={testid} {...data} {...rest}>
      {children}
    </a>
  );
}
