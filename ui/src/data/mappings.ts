// Value mappings: value -> text/colour/icon, by exact value, numeric range,
// regex, or special value (null, NaN, true, false, empty), first match wins.
import type { MappingResult, ValueMapping } from './fieldConfig';

/**
 * A regex option as Grafana reads it: "/re/flags" is a JS regex, anything else
 * must match the whole value. Throws on a "/..."-looking string that is not one.
 */
export function stringToJsRegex(str: string): RegExp {
  if (!str.startsWith('/')) return new RegExp(`^${str}$`);
  const m = /^\/(.*?)\/(g?i?m?y?s?)$/.exec(str);
  if (!m) throw new Error(`'${str}' is not a valid regular expression.`);
  return new RegExp(m[1], m[2]);
}

function isNaNNumber(v: unknown): boolean {
  return typeof v === 'number' && Number.isNaN(v);
}

function special(match: string, value: unknown): boolean {
  switch (match) {
    case 'null':
      return value == null;
    case 'nan':
      return isNaNNumber(value);
    case 'null+nan':
      return value == null || isNaNNumber(value);
    case 'true':
      return value === true || value === 'true';
    case 'false':
      return value === false || value === 'false';
    case 'empty':
      return value === '';
  }
  return false;
}

/**
 * The first mapping result matching `value`, or null. Value mappings compare
 * the value's string form with the keys; ranges parse it as a number
 * (inclusive, open ends when null); regex mappings substitute capture groups
 * ($1) into the text. As in Grafana, a regex mapping that does not match goes
 * on to test its own options as a special-value mapping (harmless: it has no
 * `match`), and an invalid regex throws.
 */
export function getValueMappingResult(mappings: ValueMapping[], value: unknown): MappingResult | null {
  for (const m of mappings) {
    switch (m.type) {
      case 'value': {
        if (value == null) continue;
        // Own keys only: Grafana's plain lookup would also "find" e.g. "constructor".
        const key = String(value);
        const hit = Object.hasOwn(m.options, key) ? m.options[key] : undefined;
        if (hit) return hit;
        break;
      }
      case 'range': {
        if (value == null) continue;
        const n = Number.parseFloat(String(value));
        if (Number.isNaN(n)) continue;
        const from = m.options.from ?? Number.NEGATIVE_INFINITY;
        if (!Number.isNaN(from) && n < from) continue;
        const to = m.options.to ?? Number.POSITIVE_INFINITY;
        if (!Number.isNaN(to) && n > to) continue;
        return m.options.result;
      }
      case 'regex': {
        if (value == null || typeof value !== 'string') continue;
        const re = stringToJsRegex(m.options.pattern);
        if (value.match(re)) {
          const res = { ...m.options.result };
          if (res.text != null) res.text = value.replace(re, m.options.result.text || '');
          return res;
        }
        const opts = m.options as { match?: string; result: MappingResult };
        if (opts.match && special(opts.match, value)) return opts.result;
        break;
      }
      case 'special':
        if (special(m.options.match, value)) return m.options.result;
        break;
    }
  }
  return null;
}
