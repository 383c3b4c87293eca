/**
 * A small evaluator of CloudWatch Logs filter patterns (the syntax metric filters, subscription filters and
 * FilterLogEvents share), for tests: no package on the npm registry evaluates them. It covers what the lab uses and
 * what the "Filter pattern syntax" page documents for two of the three kinds:
 * - terms: `ERROR`, `"exact phrase"`, `ERROR -ARGUMENTS` (exclude), `?ERROR ?WARN` (any of), case-sensitive;
 * - JSON: `{ $.a.b[0] = "x*" }`, `!=`, `<`, `<=`, `>`, `>=`, `IS TRUE|FALSE|NULL`, `NOT EXISTS`, `&&`, `||`, parentheses.
 * Space-delimited patterns (`[ip, user, ...]`) and regular expressions (`%...%`) are refused, not guessed.
 */
export class UnsupportedFilterPattern extends Error {}

export function matchesFilterPattern(pattern: string, message: string): boolean {
  const trimmed = pattern.trim();
  if (trimmed === '' || trimmed === '""') return true;
  if (trimmed.startsWith('{')) return matchesJson(trimmed, message);
  if (trimmed.startsWith('[') || trimmed.includes('%')) throw new UnsupportedFilterPattern(`not supported here: ${pattern}`);
  return matchesTerms(trimmed, message);
}

function matchesTerms(pattern: string, message: string): boolean {
  const terms = [...pattern.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)].map((m) => ({ prefix: m[1], text: m[2] ?? m[3] }));
  const optional = terms.filter((t) => t.prefix === '?');
  if (optional.length > 0) return optional.some((t) => message.includes(t.text));
  return terms.every((t) => (t.prefix === '-' ? !message.includes(t.text) : message.includes(t.text)));
}

type Token = { kind: 'op' | 'string' | 'number' | 'word' | 'selector' | 'paren'; text: string };

function tokenize(body: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(&&|\|\||!=|<=|>=|=|<|>)|"((?:[^"\\]|\\.)*)"|(\$[\w.[\]'-]*)|([()])|(-?\d+(?:\.\d+)?(?![\w.*]))|([^\s()=!<>&|]+))/y;
  let match: RegExpExecArray | null;
  while (re.lastIndex < body.length && (match = re.exec(body))) {
    if (match[1]) tokens.push({ kind: 'op', text: match[1] });
    else if (match[2] !== undefined) tokens.push({ kind: 'string', text: match[2] });
    else if (match[3]) tokens.push({ kind: 'selector', text: match[3] });
    else if (match[4]) tokens.push({ kind: 'paren', text: match[4] });
    else if (match[5]) tokens.push({ kind: 'number', text: match[5] });
    else if (match[6]) tokens.push({ kind: 'word', text: match[6] });
  }
  if (body.slice(re.lastIndex).trim() !== '') throw new UnsupportedFilterPattern(`cannot read "${body.slice(re.lastIndex)}"`);
  return tokens;
}

/** The value at `$.a.b[0]` (or `$.['dotted.key']`), or `missing` when a step does not exist. */
const MISSING = Symbol('missing');
function select(document: unknown, selector: string): unknown {
  const steps = [...selector.slice(1).matchAll(/\.\['([^']+)'\]|\.([\w-]+)|\[(\d+)\]/g)].map((m) => m[1] ?? m[2] ?? Number(m[3]));
  let value: unknown = document;
  for (const step of steps) {
    if (value === null || typeof value !== 'object' || !(step in (value as object))) return MISSING;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

const wildcard = (expected: string) => new RegExp(`^${expected.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function compare(actual: unknown, op: string, expected: Token): boolean {
  if (actual === MISSING) return false;
  if (expected.kind === 'number' && typeof actual === 'number') {
    const n = Number(expected.text);
    return { '=': actual === n, '!=': actual !== n, '<': actual < n, '<=': actual <= n, '>': actual > n, '>=': actual >= n }[op] ?? false;
  }
  // <, <=, >, >= compare numbers only: a string never satisfies them.
  if (op !== '=' && op !== '!=') return false;
  const equal = (typeof actual === 'string' || typeof actual === 'number') && wildcard(expected.text).test(String(actual));
  return op === '=' ? equal : !equal;
}

function matchesJson(pattern: string, message: string): boolean {
  if (!pattern.endsWith('}')) throw new UnsupportedFilterPattern(`a JSON pattern ends with }: ${pattern}`);
  let document: unknown;
  try {
    document = JSON.parse(message);
  } catch {
    return false;
  }
  const tokens = tokenize(pattern.slice(1, -1).trim());
  let at = 0;
  const peek = () => tokens[at];
  const next = () => tokens[at++];
  const expect = (text: string) => {
    const token = next();
    if (token?.text.toUpperCase() !== text) throw new UnsupportedFilterPattern(`expected ${text} in ${pattern}`);
  };

  const primary = (): boolean => {
    const token = next();
    if (token?.kind === 'paren' && token.text === '(') {
      const value = or();
      expect(')');
      return value;
    }
    if (token?.kind !== 'selector') throw new UnsupportedFilterPattern(`expected a selector in ${pattern}`);
    const actual = select(document, token.text);
    const op = next();
    if (op?.kind === 'word' && op.text.toUpperCase() === 'IS') {
      const what = next()?.text.toUpperCase();
      if (what === 'TRUE') return actual === true;
      if (what === 'FALSE') return actual === false;
      if (what === 'NULL') return actual === null;
      throw new UnsupportedFilterPattern(`IS ${what} in ${pattern}`);
    }
    if (op?.kind === 'word' && op.text.toUpperCase() === 'NOT') {
      expect('EXISTS');
      return actual === MISSING;
    }
    if (op?.kind !== 'op') throw new UnsupportedFilterPattern(`expected an operator in ${pattern}`);
    const value = next();
    if (!value || !['string', 'number', 'word'].includes(value.kind)) throw new UnsupportedFilterPattern(`expected a value in ${pattern}`);
    return compare(actual, op.text, value);
  };
  const and = (): boolean => {
    let value = primary();
    while (peek()?.text === '&&') {
      next();
      value = primary() && value;
    }
    return value;
  };
  const or = (): boolean => {
    let value = and();
    while (peek()?.text === '||') {
      next();
      value = and() || value;
    }
    return value;
  };
  const result = or();
  if (at !== tokens.length) throw new UnsupportedFilterPattern(`unexpected ${peek()?.text} in ${pattern}`);
  return result;
}
