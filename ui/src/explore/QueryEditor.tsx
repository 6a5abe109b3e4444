// A PromQL or LogQL query editor: a CodeMirror 6 view owned by a Preact component. The component keeps
// the view's document in step with `value` and swaps the language when the datasource changes; the
// view itself holds the text while the user types.
import { EditorState } from '@codemirror/state';
import { useEffect, useRef } from 'preact/hooks';
import type { Fetcher } from './completion';
import { Compartment, type EditorHandlers, EditorView, editorExtensions, languageExtensions } from './editor';
import type { QueryLanguage } from './syntax';

export interface QueryEditorProps {
  value: string;
  language: QueryLanguage;
  /** Datasource API access for completion. */
  fetcher: Fetcher;
  timeRange?: () => { from: number; to: number };
  onChange: (value: string) => void;
  onRun: () => void;
  onBlur?: () => void;
}

export function QueryEditor(props: QueryEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const language = useRef(new Compartment());
  // The view is built once; its handlers read the latest props through this ref.
  const latest = useRef(props);
  latest.current = props;
  /*
   * Texts the editor reported that no render has brought back yet. A `value` among them is the echo of
   * the user's own typing (possibly a stale one: effects run after the user typed on) and must not
   * overwrite the editor; anything else was set from outside (URL restored) and replaces the text.
   */
  const echoes = useRef<string[]>([]);

  useEffect(() => {
    if (!host.current) return;
    const handlers: EditorHandlers = {
      onChange: (v) => {
        echoes.current.push(v);
        if (echoes.current.length > 100) echoes.current.shift();
        latest.current.onChange(v);
      },
      onRun: () => latest.current.onRun(),
      onBlur: () => latest.current.onBlur?.(),
    };
    const p = latest.current;
    const options = {
      language: p.language,
      fetcher: p.fetcher,
      timeRange: () => latest.current.timeRange?.() ?? timeRangeUnknown(),
    };
    view.current = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: p.value,
        extensions: editorExtensions(language.current, options, handlers),
      }),
    });
    return () => {
      view.current?.destroy();
      view.current = null;
    };
  }, []);

  useEffect(() => {
    view.current?.dispatch({
      effects: language.current.reconfigure(
        languageExtensions({
          language: props.language,
          fetcher: props.fetcher,
          timeRange: () => latest.current.timeRange?.() ?? timeRangeUnknown(),
        }),
      ),
    });
  }, [props.language, props.fetcher]);

  useEffect(() => {
    const v = view.current;
    if (!v) return;
    const echo = echoes.current.indexOf(props.value);
    if (echo >= 0) {
      echoes.current.splice(0, echo + 1);
      return;
    }
    if (v.state.doc.toString() === props.value) return;
    echoes.current = [];
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value } });
  }, [props.value]);

  return <div class="explore-editor" ref={host} data-testid="query-editor" />;
}

/** Without a range, lookups cover the last hour, as Grafana's default Explore range does. */
function timeRangeUnknown(): { from: number; to: number } {
  const to = Date.now();
  return { from: to - 3_600_000, to };
}
