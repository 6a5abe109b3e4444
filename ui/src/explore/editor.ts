// The CodeMirror 6 setup of Explore's query editor: the PromQL and LogQL grammars as languages, their
// highlighting in the colours of Grafana's dark code editor, syntax errors underlined, completion, and
// the keys (Shift-Enter / Ctrl-Enter run the query).
import {
  autocompletion,
  closeBrackets,
  closeBracketsKeymap,
  completionKeymap,
} from '@codemirror/autocomplete';
import { history, historyKeymap, standardKeymap } from '@codemirror/commands';
import {
  bracketMatching,
  HighlightStyle,
  LRLanguage,
  syntaxHighlighting,
  syntaxTree,
} from '@codemirror/language';
import { Compartment, type EditorState, type Extension, Prec, type RangeSet } from '@codemirror/state';
import {
  Decoration,
  type DecorationSet,
  EditorView,
  keymap,
  placeholder,
  ViewPlugin,
  type ViewUpdate,
} from '@codemirror/view';
import { tags as t } from '@lezer/highlight';
import { type CompletionOptions, completionFor } from './completion';
import { maskVariables, parse, parsers, type QueryLanguage, syntaxErrors } from './syntax';

const languages: Record<QueryLanguage, LRLanguage> = {
  promql: LRLanguage.define({ name: 'promql', parser: parsers.promql, languageData: { closeBrackets: {} } }),
  logql: LRLanguage.define({ name: 'logql', parser: parsers.logql, languageData: { closeBrackets: {} } }),
};

/*
 * Grafana's code editor (Monaco, dark) draws queries with VS Code's dark token colours: keywords blue,
 * functions pale yellow, label names light blue, strings orange, numbers pale green.
 */
const highlightStyle = HighlightStyle.define([
  { tag: [t.operatorKeyword, t.keyword, t.modifier, t.logicOperator], color: '#569cd6' },
  { tag: t.function(t.variableName), color: '#dcdcaa' },
  { tag: t.variableName, color: '#4ec9b0' },
  { tag: t.labelName, color: '#9cdcfe' },
  { tag: t.string, color: '#ce9178' },
  { tag: t.number, color: '#b5cea8' },
  { tag: t.comment, color: '#6a9955', fontStyle: 'italic' },
  { tag: [t.operator, t.arithmeticOperator, t.paren, t.brace, t.squareBracket], color: '#d4d4d4' },
]);

const errorMark = Decoration.mark({ class: 'cm-syntax-error', attributes: { title: 'Syntax error' } });

function errorDecorations(state: EditorState, language: QueryLanguage): DecorationSet {
  const text = state.doc.toString();
  const masked = maskVariables(text);
  // With variables in the text, the errors come from a parse of the masked text (same positions).
  const tree = masked === text ? syntaxTree(state) : parse(language, masked);
  const spans = syntaxErrors(tree, state.doc.length).filter((s) => s.from < s.to);
  return Decoration.set(spans.map((s) => errorMark.range(s.from, s.to)));
}

/** The language of a state: the one whose LRLanguage is active. */
function languageOf(state: EditorState): QueryLanguage {
  return languages.logql.isActiveAt(state, 0) ? 'logql' : 'promql';
}

/** Underlines the error nodes of the syntax tree, like a linter's marks but without a delay. */
const syntaxErrorMarks = ViewPlugin.fromClass(
  class {
    decorations: RangeSet<Decoration>;
    constructor(view: EditorView) {
      this.decorations = errorDecorations(view.state, languageOf(view.state));
    }
    update(update: ViewUpdate) {
      if (update.docChanged || syntaxTree(update.state) !== syntaxTree(update.startState)) {
        this.decorations = errorDecorations(update.state, languageOf(update.state));
      }
    }
  },
  { decorations: (plugin) => plugin.decorations },
);

const theme = EditorView.theme(
  {
    '&': {
      backgroundColor: '#111217',
      color: '#ccccdc',
      border: '1px solid rgba(204, 204, 220, 0.2)',
      borderRadius: '2px',
      fontSize: '14px',
    },
    '&.cm-focused': { outline: 'none', borderColor: '#3d71d9' },
    '.cm-content': { fontFamily: "'Roboto Mono', monospace", padding: '6px 0', caretColor: '#ccccdc' },
    '.cm-line': { padding: '0 8px' },
    '.cm-cursor': { borderLeftColor: '#ccccdc' },
    '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: '#264f78' },
    '.cm-placeholder': { color: 'rgba(204, 204, 220, 0.45)' },
    '.cm-syntax-error': { textDecoration: 'underline wavy #f2495c', textUnderlineOffset: '3px' },
    '.cm-matchingBracket': { backgroundColor: 'rgba(204, 204, 220, 0.16)' },
    '.cm-tooltip': {
      backgroundColor: '#22252b',
      border: '1px solid rgba(204, 204, 220, 0.2)',
      color: '#ccccdc',
    },
    '.cm-tooltip-autocomplete > ul': { fontFamily: "'Roboto Mono', monospace", maxHeight: '16em' },
    '.cm-tooltip-autocomplete > ul > li[aria-selected]': { backgroundColor: '#3d71d9', color: '#ffffff' },
    '.cm-completionDetail': { color: 'rgba(204, 204, 220, 0.65)', marginLeft: '1em' },
    '.cm-tooltip.cm-completionInfo': { maxWidth: '28em', padding: '4px 8px' },
  },
  { dark: true },
);

export interface EditorOptions extends CompletionOptions {
  language: QueryLanguage;
}

const PLACEHOLDER: Record<QueryLanguage, string> = {
  promql: 'Enter a PromQL query… (run with Shift+Enter)',
  logql: 'Enter a Loki query… (run with Shift+Enter)',
};

/** The language-dependent part, swapped in place when the datasource changes. */
export function languageExtensions(options: EditorOptions): Extension {
  return [
    languages[options.language],
    placeholder(PLACEHOLDER[options.language]),
    autocompletion({ override: [completionFor(options.language, options)], activateOnTyping: true }),
  ];
}

export interface EditorHandlers {
  onChange: (value: string) => void;
  onRun: () => void;
  /** Editor blurred: Grafana runs the query then too when it changed. */
  onBlur?: () => void;
}

/** Every extension of the editor; `language` is the compartment holding languageExtensions(). */
export function editorExtensions(
  language: Compartment,
  options: EditorOptions,
  handlers: EditorHandlers,
): Extension {
  const run = () => {
    handlers.onRun();
    return true;
  };
  return [
    language.of(languageExtensions(options)),
    Prec.highest(
      keymap.of([
        { key: 'Shift-Enter', run },
        { key: 'Mod-Enter', run },
      ]),
    ),
    history(),
    closeBrackets(),
    bracketMatching(),
    syntaxHighlighting(highlightStyle),
    syntaxErrorMarks,
    keymap.of([...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...standardKeymap]),
    EditorView.lineWrapping,
    theme,
    EditorView.updateListener.of((update) => {
      if (update.docChanged) handlers.onChange(update.state.doc.toString());
    }),
    EditorView.domEventHandlers({
      blur: () => {
        handlers.onBlur?.();
        return false;
      },
    }),
  ];
}

export { Compartment, EditorView };
