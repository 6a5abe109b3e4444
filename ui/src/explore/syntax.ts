// The two query grammars Explore edits (Prometheus' lezer-promql and Grafana's lezer-logql), the tree
// types derived from them, and the syntax errors a tree holds. Pure: no editor, no DOM.
import { parser as logqlParser } from '@grafana/lezer-logql';
import { styleTags, tags as t } from '@lezer/highlight';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';

export type QueryLanguage = 'promql' | 'logql';

/** A lezer tree (typed through the parser so that src/ needs no direct @lezer/common import). */
export type Tree = ReturnType<typeof promqlParser.parse>;
export type SyntaxNode = Tree['topNode'];

/*
 * lezer-promql ships its own styleTags (its grammar's `propSource`); lezer-logql ships none, so the
 * LogQL node names get tags here, grouped the way the PromQL ones are so both languages share one
 * highlight style.
 */
const logqlHighlight = styleTags({
  LineComment: t.comment,
  String: t.string,
  'Number Duration Bytes': t.number,
  Identifier: t.labelName,
  'CountOverTime Rate RateCounter BytesOverTime BytesRate AvgOverTime SumOverTime MinOverTime MaxOverTime StddevOverTime StdvarOverTime QuantileOverTime FirstOverTime LastOverTime AbsentOverTime Vector LabelReplace':
    t.function(t.variableName),
  'Sum Avg Count Max Min Stddev Stdvar Bottomk Topk Sort Sort_Desc': t.operatorKeyword,
  'Json Logfmt Unpack Pattern Regexp LineFormat LabelFormat Decolorize Drop Keep Unwrap BytesConv DurationConv DurationSecondsConv Ip':
    t.keyword,
  'By Without Bool On Ignoring GroupLeft GroupRight Offset': t.modifier,
  'And Or Unless': t.logicOperator,
  'Eq Neq Re Nre PipeExact PipeMatch PipePattern Npa Pipe Gtr Gte Lss Lte Eql Add Sub Mul Div Mod Pow':
    t.operator,
  '( )': t.paren,
  '[ ]': t.squareBracket,
  '{ }': t.brace,
  '⚠': t.invalid,
});

export const parsers = {
  promql: promqlParser,
  logql: logqlParser.configure({ props: [logqlHighlight] }),
} as const;

export function parse(language: QueryLanguage, text: string): Tree {
  return parsers[language].parse(text);
}

export interface SyntaxError {
  from: number;
  to: number;
}

/**
 * The spans of a tree's error nodes, merged where they touch, each at least one character wide (an
 * empty error node at the end of the text marks the character before it) so that it can be underlined.
 */
export function syntaxErrors(tree: Tree, length: number): SyntaxError[] {
  const spans: SyntaxError[] = [];
  tree.iterate({
    enter(node) {
      if (!node.type.isError) return;
      let { from, to } = node;
      if (to === from) {
        if (to < length) to++;
        else if (from > 0) from--;
      }
      const last = spans[spans.length - 1];
      if (last && from <= last.to) last.to = Math.max(last.to, to);
      else spans.push({ from, to });
    },
  });
  return spans;
}

/** Grafana's variable forms: `$name`, `${name}` / `${name:format}`, `[[name]]`. */
const VARIABLE = /\$\{[^}]*\}|\$[A-Za-z_]\w*|\[\[[^\]]*\]\]/g;

/**
 * The text with every Grafana variable replaced, at the same length, by something the grammar accepts
 * where it stands: a duration inside `[...]`, after a subquery's `:` or after `offset`/`@`, else a
 * name. The grammars know nothing of Grafana's variables, and an Explore query with `$__interval` or
 * `$job` in it is not a syntax error; positions stay those of the original text.
 */
export function maskVariables(text: string): string {
  return text.replace(VARIABLE, (found: string, at: number) => {
    const before = text.slice(0, at).trimEnd();
    const duration = /[[:]$/.test(before) || /\b(offset|@)$/.test(before) || before.endsWith('@');
    if (duration && found.length >= 2) return `1s${' '.repeat(found.length - 2)}`;
    return `v${found.slice(1).replace(/\W/g, '_')}`;
  });
}
