// The text panel: markdown (marked) or HTML content with dashboard variables replaced, always sanitised.
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'preact/hooks';
import type { PanelProps } from './types';
import './panels.css';

interface TextOptions {
  mode?: 'markdown' | 'html' | 'code';
  content?: string;
  code?: { language?: string };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** DOMPurify where there is a DOM; without one (never in a browser) the HTML is shown escaped, never raw. */
function defaultSanitize(html: string): string {
  return DOMPurify.isSupported ? DOMPurify.sanitize(html) : escapeHtml(html);
}

/** The HTML a text panel shows: variables replaced, markdown rendered, then sanitised (scripts, handlers gone). */
export function renderTextContent(
  options: TextOptions,
  replaceVariables: (s: string) => string,
  sanitize: (html: string) => string = defaultSanitize,
): string {
  const content = replaceVariables(String(options.content ?? ''));
  const mode = options.mode ?? 'markdown';
  let html: string;
  if (mode === 'html') html = content;
  else if (mode === 'code') html = `<pre><code>${escapeHtml(content)}</code></pre>`;
  else html = marked.parse(content, { async: false, gfm: true, breaks: false }) as string;
  return sanitize(html);
}

export function TextPanel(props: PanelProps) {
  const { panel, width, height, replaceVariables } = props;
  const o = (panel.options ?? {}) as TextOptions;
  // Panels from before Grafana 7 keep content and mode at the top level.
  const opts: TextOptions = {
    mode: o.mode ?? (panel.mode as TextOptions['mode']),
    content: o.content ?? (panel.content as string | undefined),
  };
  const html = useMemo(
    () => renderTextContent(opts, replaceVariables),
    [opts.mode, opts.content, replaceVariables],
  );
  return (
    <div
      class="panel-text markdown"
      style={{ width: `${width}px`, height: `${height}px` }}
      // The HTML is sanitised by DOMPurify in renderTextContent.
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
