// Where the cursor is in a PromQL or LogQL query, for completion: a metric or function name, a label
// name, a label value, a range duration, a LogQL pipeline stage. Pure: the lezer tree says which
// construct holds the cursor (selector, grouping, range, pipeline stage); a small scan of that
// construct's text says where inside it, because the error recovery of a half-typed query (an
// unclosed string, a missing value) is too irregular to read positions from.
import { parse, type QueryLanguage, type SyntaxNode, type Tree } from './syntax';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  /** Unescaped. */
  value: string;
}

/** The text a completion replaces: `from` up to the cursor, of which `prefix` is what is typed. */
export interface Span {
  from: number;
  prefix: string;
}

/** Where label names or values come from: a selector `{}`, a `by (...)` grouping, a LogQL pipeline. */
export type LabelPlace = 'selector' | 'grouping' | 'pipeline';

export interface LabelScope {
  /** PromQL: the metric name of the selector (or its `__name__="..."` matcher). */
  metric?: string;
  /** The other complete matchers of the selector (not the one being typed). */
  matchers: LabelMatcher[];
  /** LogQL pipeline: the log query up to the stage being typed (selector and earlier stages). */
  logQuery?: string;
}

export type Situation =
  | { kind: 'none' }
  /** A new expression: PromQL metric names, functions, aggregations; LogQL functions and selectors. */
  | ({ kind: 'expression' } & Span)
  | ({ kind: 'labelName'; place: LabelPlace } & Span & LabelScope)
  | ({
      kind: 'labelValue';
      place: LabelPlace;
      label: string;
      op: MatchOp;
      /** True when the cursor is already inside the value's opening quote. */
      quoted: boolean;
    } & Span &
      LabelScope)
  /** PromQL after a complete operand and a blank: binary operators' keywords, `by`, `offset`, ... */
  | ({ kind: 'operator' } & Span)
  /** Inside a range `[...]` (or after a subquery's `:`). */
  | ({ kind: 'duration' } & Span)
  /** LogQL right after `|`: a parser, formatter, or a label filter's label name. */
  | ({ kind: 'pipeline' } & Span & LabelScope);

const NONE: Situation = { kind: 'none' };

/** Which completion applies at `pos` in `text`. `tree` is the parse of `text` when the caller has it. */
export function completionSituation(
  language: QueryLanguage,
  text: string,
  pos: number,
  tree: Tree = parse(language, text),
): Situation {
  // Structure is read at the last non-blank character before the cursor: a trailing blank is outside
  // every node, but `sum by ( ` is still inside its grouping.
  let anchor = pos;
  while (anchor > 0 && /\s/.test(text[anchor - 1])) anchor--;
  const leaf = tree.resolveInner(anchor, -1);
  for (let n: SyntaxNode | null = leaf; n; n = n.parent) {
    const found = language === 'promql' ? promqlConstruct(n, text, pos) : logqlConstruct(n, text, pos);
    if (found) return found;
  }
  return freeExpression(language, text, pos, anchor);
}

/**
 * The node's text ends with `close`, i.e. the construct is closed (error recovery may stretch a node
 * over the blanks after it, so those are skipped).
 */
function closedBy(text: string, node: SyntaxNode, close: string): boolean {
  return text.slice(node.from, node.to).trimEnd().endsWith(close);
}

/** The cursor is past `node`'s opening character and before its closing one (or it is unclosed). */
function inside(text: string, node: SyntaxNode, pos: number, close: string): boolean {
  return pos > node.from && (pos < node.to || !closedBy(text, node, close));
}

function promqlConstruct(n: SyntaxNode, text: string, pos: number): Situation | undefined {
  switch (n.name) {
    case 'LabelMatchers': {
      if (!inside(text, n, pos, '}')) return undefined;
      const vs = n.parent;
      const id = vs?.name === 'VectorSelector' ? vs.getChild('Identifier') : null;
      const metric = id ? text.slice(id.from, id.to) : undefined;
      return selectorSituation(text, n.from + 1, pos, closedBy(text, n, '}') ? n.to - 1 : n.to, metric);
    }
    case 'StringLiteral':
    case 'QuotedLabelName': {
      // A string outside a selector (label_replace's arguments, a count_values label) completes nothing;
      // one inside a selector is handled by the LabelMatchers case further up.
      if (pos <= n.from || (pos >= n.to && stringClosed(text.slice(n.from, n.to)))) return undefined;
      let up = n.parent;
      while (up && up.name !== 'LabelMatchers' && up.name !== 'PromQL') up = up.parent;
      return up?.name === 'LabelMatchers' ? undefined : NONE;
    }
    case 'GroupingLabels': {
      // After a closed `by (...)` or `on (...)`, the enclosing expression decides.
      if (!inside(text, n, pos, ')')) return undefined;
      const agg = n.parent?.parent;
      const scope = agg?.name === 'AggregateExpr' ? promqlScopeOf(agg, text) : { matchers: [] };
      return groupingSituation(text, n.from + 1, pos, scope);
    }
    case 'MatchingModifierClause':
      // `a / on(job) ` and `a * group_left(x) `: the right-hand operand comes next.
      return pos >= n.to && closedBy(text, n, ')')
        ? { kind: 'expression', from: pos, prefix: '' }
        : undefined;
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return rangeSituation(text, n.from, pos);
    default:
      return undefined;
  }
}

function logqlConstruct(n: SyntaxNode, text: string, pos: number): Situation | undefined {
  switch (n.name) {
    case 'Selector': {
      if (!inside(text, n, pos, '}')) return NONE;
      return selectorSituation(text, n.from + 1, pos, closedBy(text, n, '}') ? n.to - 1 : n.to, undefined);
    }
    case 'Grouping': {
      const open = text.indexOf('(', n.from);
      if (open < 0 || open >= pos || (pos >= n.to && closedBy(text, n, ')'))) return NONE;
      const agg = n.parent;
      const selector = agg ? firstDescendant(agg, 'Selector') : null;
      if (!selector) return groupingSituation(text, open + 1, pos, { matchers: [] });
      const end = closedBy(text, selector, '}') ? selector.to - 1 : selector.to;
      const scope: LabelScope = { matchers: scanMatchers(text, selector.from + 1, end) };
      // With a pipeline, the labels its parsers add can be grouped on too: the log query is sampled.
      const pipeline = selector.nextSibling;
      if (pipeline?.name === 'PipelineExpr') scope.logQuery = text.slice(selector.from, pipeline.to).trim();
      return groupingSituation(text, open + 1, pos, scope);
    }
    case 'Range':
      return inside(text, n, pos, ']') ? rangeSituation(text, n.from, pos) : NONE;
    case 'PipelineStage':
      return pipelineSituation(n, text, pos);
    case 'String': {
      if (pos <= n.from || (pos >= n.to && stringClosed(text.slice(n.from, n.to)))) return undefined;
      // Inside a selector or a pipeline stage, those cases further up decide.
      let up = n.parent;
      while (up && up.name !== 'Selector' && up.name !== 'PipelineStage') up = up.parent;
      return up ? undefined : NONE;
    }
    default:
      return undefined;
  }
}

/** No construct holds the cursor: a name being typed, or the start of an operand. */
function freeExpression(language: QueryLanguage, text: string, pos: number, anchor: number): Situation {
  const before = text.slice(0, pos);
  const word = (language === 'promql' ? /[A-Za-z_:][A-Za-z0-9_:]*$/ : /[A-Za-z_][A-Za-z0-9_]*$/).exec(before);
  const typed = word?.[0] ?? '';
  const start = pos - typed.length;
  // `1e3`, `0x1f`, `5m`: the tail of a number or duration, not a name.
  if (typed && start > 0 && /[0-9.]/.test(text[start - 1])) return NONE;
  // A blank after a complete operand: what comes next is an operator or a keyword (`by`, `offset`, `and`).
  const head = text.slice(0, start);
  const operand = head.trimEnd();
  if (language === 'promql' && operand.length < head.length && endsOperand(operand)) {
    return { kind: 'operator', from: start, prefix: typed };
  }
  if (typed) return { kind: 'expression', from: start, prefix: typed };
  const prev = anchor > 0 ? text[anchor - 1] : '';
  if (prev === '' || /[(,+\-*/%^=<>!]/.test(prev) || /\b(and|or|unless)$/.test(text.slice(0, anchor))) {
    return { kind: 'expression', from: pos, prefix: '' };
  }
  return NONE;
}

/** Keywords after which an operand, not an operator, comes next. */
const OPERAND_NEXT = /\b(and|or|unless|by|without|on|ignoring|group_left|group_right|bool|offset|atan2)$/;

/** Whether PromQL text ends with a complete operand (a name, a number, a closed bracket). */
function endsOperand(text: string): boolean {
  if (/[)\]}]$/.test(text)) return true;
  return /[A-Za-z0-9_:.]$/.test(text) && !OPERAND_NEXT.test(text);
}

/** A `[` ... `]` range or a subquery `[range:step]`: the duration being typed after `[` or `:`. */
function rangeSituation(text: string, from: number, pos: number): Situation | undefined {
  const head = text.slice(from, pos);
  const open = head.lastIndexOf('[');
  if (open < 0) return undefined;
  const inner = head.slice(open + 1);
  if (inner.includes(']')) return undefined;
  const typed = /[^\s:]*$/.exec(inner)?.[0] ?? '';
  if (!/^[0-9A-Za-z_$]*$/.test(typed)) return NONE;
  return { kind: 'duration', from: pos - typed.length, prefix: typed };
}

/** Inside `by (` / `without (`: the label name after the last `(` or `,`. */
function groupingSituation(text: string, from: number, pos: number, scope: LabelScope): Situation {
  const segment = text.slice(from, pos);
  const last = segment.slice(segment.lastIndexOf(',') + 1);
  const typed = /^\s*([A-Za-z_][A-Za-z0-9_]*)?$/.exec(last);
  if (!typed) return NONE;
  const prefix = typed[1] ?? '';
  return { kind: 'labelName', place: 'grouping', from: pos - prefix.length, prefix, ...scope };
}

/** The metric and matchers of the first vector selector under an aggregation (its grouping aside). */
function promqlScopeOf(agg: SyntaxNode, text: string): LabelScope {
  const body = agg.getChild('FunctionCallBody');
  const vs = body ? firstDescendant(body, 'VectorSelector') : null;
  if (!vs) return { matchers: [] };
  const id = vs.getChild('Identifier');
  const lm = vs.getChild('LabelMatchers');
  const matchers = lm ? scanMatchers(text, lm.from + 1, closedBy(text, lm, '}') ? lm.to - 1 : lm.to) : [];
  return withMetric(id ? text.slice(id.from, id.to) : undefined, matchers);
}

function withMetric(metric: string | undefined, matchers: LabelMatcher[]): LabelScope {
  if (metric) return { metric, matchers };
  const name = matchers.find((m) => m.name === '__name__' && m.op === '=');
  return name
    ? { metric: name.value, matchers: matchers.filter((m) => m !== name) }
    : { metric: undefined, matchers };
}

function firstDescendant(node: SyntaxNode, name: string): SyntaxNode | null {
  const cursor = node.cursor();
  while (cursor.next() && cursor.from < node.to) {
    if (cursor.name === name) return cursor.node;
  }
  return null;
}

// --- selectors ---------------------------------------------------------------------------------

type Token =
  | { t: 'ident'; from: number; to: number; text: string }
  | { t: 'string'; from: number; to: number; closed: boolean; body: string; quote: string }
  | { t: 'op'; from: number; to: number; text: MatchOp }
  | { t: 'comma'; from: number; to: number }
  | { t: 'other'; from: number; to: number };

/** Tokens of a selector's (or label filter's) text in `[from, to)`. */
function* tokens(whole: string, from: number, to: number): Generator<Token> {
  // Cut at `to` so that no token runs past the cursor.
  const text = whole.slice(0, to);
  let i = from;
  while (i < to) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let closed = false;
      while (j < to) {
        if (text[j] === '\\' && c !== '`') j += 2;
        else if (text[j] === c) {
          closed = true;
          break;
        } else j++;
      }
      const end = Math.min(j, to);
      yield {
        t: 'string',
        from: i,
        to: closed ? end + 1 : end,
        closed,
        body: text.slice(i + 1, end),
        quote: c,
      };
      i = closed ? end + 1 : end;
      continue;
    }
    // Sticky expressions match only at `i`.
    const ident = /[A-Za-z_][A-Za-z0-9_]*/y;
    ident.lastIndex = i;
    const name = ident.exec(text);
    const op = /=~|!~|!=|=/y;
    op.lastIndex = i;
    const opMatch = name ? null : op.exec(text);
    if (name) {
      yield { t: 'ident', from: i, to: i + name[0].length, text: name[0] };
      i += name[0].length;
    } else if (opMatch) {
      yield { t: 'op', from: i, to: i + opMatch[0].length, text: opMatch[0] as MatchOp };
      i += opMatch[0].length;
    } else {
      yield c === ',' ? { t: 'comma', from: i, to: i + 1 } : { t: 'other', from: i, to: i + 1 };
      i++;
    }
  }
}

/** A string literal's value: backslash escapes resolved (backquoted strings are raw). */
export function unquote(body: string, quote: string): string {
  if (quote === '`') return body;
  const named: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
  return body.replace(/\\(.)/g, (_, c: string) => named[c] ?? c);
}

function stringClosed(literal: string): boolean {
  if (literal.length < 2) return false;
  const q = literal[0];
  if (literal[literal.length - 1] !== q) return false;
  if (q === '`') return true;
  // The closing quote must not be escaped: count the backslashes before it.
  let k = literal.length - 2;
  let slashes = 0;
  while (k > 0 && literal[k] === '\\') {
    slashes++;
    k--;
  }
  return slashes % 2 === 0;
}

interface ScanState {
  matchers: LabelMatcher[];
  /** What the cursor is on when the scan stops at it. */
  at?:
    | { kind: 'name'; from: number; prefix: string }
    | { kind: 'value'; from: number; prefix: string; label: string; op: MatchOp; quoted: boolean }
    | { kind: 'none' };
}

/**
 * Scans `name op "value", ...` in `[from, to)`. With `cursor`, stops there and says what is being typed;
 * either way collects the complete matchers (excluding the one at the cursor).
 */
function scan(text: string, from: number, to: number, cursor?: number): ScanState {
  const matchers: LabelMatcher[] = [];
  let expect: 'name' | 'op' | 'value' | 'comma' = 'name';
  let name = '';
  let op: MatchOp = '=';
  const stop = cursor ?? to;
  for (const tok of tokens(text, from, stop)) {
    const atCursor = cursor !== undefined && tok.to >= cursor;
    if (tok.t === 'comma') {
      expect = 'name';
    } else if (expect === 'name' && (tok.t === 'ident' || tok.t === 'string')) {
      if (atCursor) {
        return tok.t === 'ident'
          ? { matchers, at: { kind: 'name', from: tok.from, prefix: tok.text } }
          : { matchers, at: { kind: 'none' } };
      }
      name = tok.t === 'ident' ? tok.text : unquote(tok.body, tok.quote);
      expect = 'op';
    } else if (expect === 'op' && tok.t === 'op') {
      op = tok.text;
      expect = 'value';
    } else if (expect === 'value' && tok.t === 'string') {
      if (atCursor && !tok.closed) {
        return {
          matchers,
          at: { kind: 'value', from: tok.from + 1, prefix: tok.body, label: name, op, quoted: true },
        };
      }
      matchers.push({ name, op, value: unquote(tok.body, tok.quote) });
      expect = 'comma';
    } else if (expect === 'value' && tok.t === 'ident' && atCursor) {
      // An unquoted value being typed: completing it adds the quotes.
      return {
        matchers,
        at: { kind: 'value', from: tok.from, prefix: tok.text, label: name, op, quoted: false },
      };
    } else {
      expect = 'comma';
    }
  }
  if (cursor === undefined) return { matchers };
  if (expect === 'name') return { matchers, at: { kind: 'name', from: cursor, prefix: '' } };
  if (expect === 'value') {
    return { matchers, at: { kind: 'value', from: cursor, prefix: '', label: name, op, quoted: false } };
  }
  return { matchers, at: { kind: 'none' } };
}

/** The complete matchers of a selector's inner text `[from, to)`. */
export function scanMatchers(text: string, from: number, to: number): LabelMatcher[] {
  return scan(text, from, to).matchers;
}

/** The situation inside a selector whose matchers span `[from, end)`. */
function selectorSituation(
  text: string,
  from: number,
  pos: number,
  end: number,
  metric: string | undefined,
): Situation {
  const state = scan(text, from, end, pos);
  // Matchers after the cursor narrow the suggestions too: scan from the next comma on.
  const next = nextComma(text, pos, end);
  const after = next < 0 ? [] : scanMatchers(text, next + 1, end);
  const scope = withMetric(metric, [...state.matchers, ...after]);
  return fromScan(state, 'selector', scope);
}

function fromScan(state: ScanState, place: LabelPlace, scope: LabelScope): Situation {
  const at = state.at;
  if (!at || at.kind === 'none') return NONE;
  if (at.kind === 'name') return { kind: 'labelName', place, from: at.from, prefix: at.prefix, ...scope };
  return {
    kind: 'labelValue',
    place,
    from: at.from,
    prefix: at.prefix,
    label: at.label,
    op: at.op,
    quoted: at.quoted,
    ...scope,
  };
}

/** The first comma at or after `pos` outside a string, before `end`; -1 when none. */
function nextComma(text: string, pos: number, end: number): number {
  let quote = '';
  for (let i = pos; i < end; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === ',') return i;
  }
  return -1;
}

// --- LogQL pipelines ---------------------------------------------------------------------------

const LINE_FILTER = /^\s*(\|=|!=|\|~|!~|\|>|!>)/;

function pipelineSituation(stage: SyntaxNode, text: string, pos: number): Situation {
  const stageText = text.slice(stage.from, pos);
  if (LINE_FILTER.test(stageText)) return NONE;
  const bar = stageText.indexOf('|');
  if (bar < 0) return NONE;
  const rest = stageText.slice(bar + 1);
  const scope = logScope(stage, text);

  const keyword = /^\s*([A-Za-z_][A-Za-z0-9_]*)?$/.exec(rest);
  if (keyword) {
    const prefix = keyword[1] ?? '';
    return { kind: 'pipeline', from: pos - prefix.length, prefix, ...scope };
  }
  const unwrap = /^\s*unwrap\s+(?:(?:bytes|duration|duration_seconds)\(\s*)?([A-Za-z_][A-Za-z0-9_]*)?$/.exec(
    rest,
  );
  if (unwrap) {
    const prefix = unwrap[1] ?? '';
    return { kind: 'labelName', place: 'pipeline', from: pos - prefix.length, prefix, ...scope };
  }
  const dropKeep = /^\s*(?:drop|keep)\s+(?:[^|]*,\s*)?([A-Za-z_][A-Za-z0-9_]*)?$/.exec(rest);
  if (dropKeep) {
    const prefix = dropKeep[1] ?? '';
    return { kind: 'labelName', place: 'pipeline', from: pos - prefix.length, prefix, ...scope };
  }
  // A label filter `name op "value"`, possibly after others joined by `and`, `or` or `,`.
  if (
    /^\s*[A-Za-z_]/.test(rest) &&
    !/^\s*(json|logfmt|regexp|pattern|unpack|line_format|label_format)\b/.test(rest)
  ) {
    const start = stage.from + bar + 1;
    const last = lastFilterStart(text, start, pos);
    const state = scan(text, last, pos, pos);
    return fromScan(state, 'pipeline', scope);
  }
  return NONE;
}

/** Where the last label filter of a stage starts (after the last `and`/`or`/`,` outside strings). */
function lastFilterStart(text: string, from: number, pos: number): number {
  let start = from;
  let quote = '';
  for (let i = from; i < pos; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === ',' || c === '(') start = i + 1;
    else {
      const join = /\s(and|or)\s/y;
      join.lastIndex = i;
      const m = join.exec(text);
      if (m && m.index + m[0].length <= pos) {
        start = i + m[0].length;
        i += m[0].length - 1;
      }
    }
  }
  return start;
}

/** The stream selector's matchers and the log query before this stage. */
function logScope(stage: SyntaxNode, text: string): LabelScope {
  let up: SyntaxNode | null = stage.parent;
  while (up && up.name !== 'LogExpr' && up.name !== 'LogRangeExpr') up = up.parent;
  const selector = up?.getChild('Selector');
  if (!selector) return { matchers: [] };
  const end = closedBy(text, selector, '}') ? selector.to - 1 : selector.to;
  return {
    matchers: scanMatchers(text, selector.from + 1, end),
    logQuery: text.slice(selector.from, stage.from).trim(),
  };
}
