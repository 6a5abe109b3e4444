// Panel registry and the text panel's content (variables, markdown, sanitising).
import { describe, expect, it } from 'vitest';
import { Placeholder } from '../../src/panels/Placeholder';
import { getPanelComponent, isPanelTypeSupported } from '../../src/panels/registry';
import { renderTextContent } from '../../src/panels/TextPanel';

describe('registry', () => {
  it.each(['stat', 'gauge', 'bargauge', 'timeseries', 'logs', 'table', 'text'])(
    '%s has its own component',
    (t) => {
      expect(isPanelTypeSupported(t)).toBe(true);
      expect(getPanelComponent(t)).not.toBe(Placeholder);
    },
  );
  it.each(['heatmap', 'piechart', 'row', ''])('%j gets the placeholder', (t) => {
    expect(getPanelComponent(t)).toBe(Placeholder);
  });
});

describe('text content', () => {
  const vars = (s: string) => s.replace(/\$job/g, 'api');
  const strip = (html: string) => html.replace(/<script[\s\S]*?<\/script>/g, '');
  it('renders markdown with variables replaced', () => {
    expect(renderTextContent({ mode: 'markdown', content: '# $job\n\n**b**' }, vars, strip)).toBe(
      '<h1>api</h1>\n<p><strong>b</strong></p>\n',
    );
  });
  it('passes HTML through the sanitiser', () => {
    expect(renderTextContent({ mode: 'html', content: '<b>$job</b><script>x()</script>' }, vars, strip)).toBe(
      '<b>api</b>',
    );
  });
  it('escapes code mode', () => {
    expect(renderTextContent({ mode: 'code', content: '<b>' }, vars, (h) => h)).toBe(
      '<pre><code>&#60;b&#62;</code></pre>',
    );
  });
  it('without a DOM the HTML is escaped, never raw', () => {
    expect(renderTextContent({ mode: 'html', content: '<img onerror=x>' }, vars)).not.toContain('<img');
  });
});
