/**
 * `user.filter` and `group.filter`, evaluated here rather than by Graph: delta queries accept a
 * `$filter` by object id only, so the sync reads every user and group and keeps the ones the
 * filter matches. Supported: `eq`, `ne`, `gt`, `ge`, `lt`, `le`, `in (...)`, `startswith()`,
 * `endswith()`, `prop/any(x: x eq '...')`, `and`, `or`, `not`, parentheses. Strings compare
 * case-insensitively, as Graph compares them.
 */

type Literal = string | number | boolean | null;
type Comparison = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

/** A parsed filter. */
export type ODataFilter =
  | { op: Comparison; path: string[]; value: Literal }
  | { op: 'in'; path: string[]; values: Literal[] }
  | { op: 'startswith' | 'endswith'; path: string[]; value: string }
  | { op: 'any'; path: string[]; cmp: Comparison; value: Literal }
  | { op: 'and' | 'or'; left: ODataFilter; right: ODataFilter }
  | { op: 'not'; inner: ODataFilter };

/** Thrown for a filter this evaluator cannot read; the message says what is supported. */
export class FilterSyntaxError extends Error {
  readonly code = 'ENTRA_ORG_FILTER_UNSUPPORTED';
  constructor(filter: string, problem: string) {
    super(
      `Cannot evaluate the $filter "${filter}": ${problem}. Delta queries cannot filter on the ` +
        'server, so Gatehouse evaluates the filter itself; it supports eq, ne, gt, ge, lt, le, ' +
        "in, startswith, endswith, any(x: x eq '...'), and, or, not and parentheses.",
    );
    this.name = 'FilterSyntaxError';
  }
}

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
// `+` counts as a space: filters copied from URLs (and upstream's docs) spell spaces so.
const SPACE = /^[\s+]*$/;
const TOKEN =
  /[\s+]*('(?:[^']|'')*'|\(|\)|,|:|-?\d+(?:\.\d+)?(?![\w.])|[A-Za-z_][\w/.@]*)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length && !SPACE.test(text.slice(pos))) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m)
      throw new FilterSyntaxError(text, `unexpected text at position ${pos}`);
    out.push(m[1]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a filter, or throws `FilterSyntaxError`. */
export function parseFilter(text: string): ODataFilter {
  const tokens = tokenize(text);
  let i = 0;
  const fail = (problem: string): never => {
    throw new FilterSyntaxError(text, problem);
  };
  const next = () => tokens[i++] ?? fail('it ends too early');
  const peek = () => tokens[i]?.toLowerCase();
  const expect = (t: string) => {
    const got = next();
    if (got.toLowerCase() !== t) fail(`expected '${t}' but found '${got}'`);
  };
  const literal = (): Literal => {
    const t = next();
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (/^-?\d/.test(t)) return Number(t);
    return fail(`expected a value but found '${t}'`);
  };
  const path = (t: string) => {
    if (!/^[A-Za-z_]/.test(t) || t.endsWith('/'))
      fail(`expected a property but found '${t}'`);
    return t.split('/');
  };

  function primary(): ODataFilter {
    const t = next();
    const lower = t.toLowerCase();
    if (t === '(') {
      const inner = or();
      expect(')');
      return inner;
    }
    if (lower === 'not') return { op: 'not', inner: primary() };
    if ((lower === 'startswith' || lower === 'endswith') && peek() === '(') {
      expect('(');
      const p = path(next());
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string') fail(`${lower} takes a string`);
      return { op: lower as 'startswith', path: p, value: value as string };
    }
    const any = /^(.+)\/any$/i.exec(t);
    if (any) {
      expect('(');
      const variable = next();
      expect(':');
      if (next() !== variable) fail('any() must compare its own variable');
      const cmp = next().toLowerCase();
      if (!COMPARISONS.has(cmp)) fail(`unsupported operator '${cmp}'`);
      const value = literal();
      expect(')');
      return { op: 'any', path: path(any[1]), cmp: cmp as Comparison, value };
    }
    if (peek() === '(') fail(`unsupported function '${t}'`);
    const p = path(t);
    const op = next().toLowerCase();
    if (COMPARISONS.has(op))
      return { op: op as Comparison, path: p, value: literal() };
    if (op === 'in') {
      expect('(');
      const values = [literal()];
      while (peek() === ',') {
        next();
        values.push(literal());
      }
      expect(')');
      return { op: 'in', path: p, values };
    }
    return fail(`unsupported operator '${op}'`);
  }
  function and(): ODataFilter {
    let left = primary();
    while (peek() === 'and') {
      next();
      left = { op: 'and', left, right: primary() };
    }
    return left;
  }
  function or(): ODataFilter {
    let left = and();
    while (peek() === 'or') {
      next();
      left = { op: 'or', left, right: and() };
    }
    return left;
  }
  const node = or();
  if (i !== tokens.length) fail(`unexpected '${tokens[i]}'`);
  return node;
}

/** The top-level properties a filter reads: the sync adds them to its `$select`. */
export function filterProperties(node: ODataFilter): string[] {
  switch (node.op) {
    case 'and':
    case 'or':
      return [...filterProperties(node.left), ...filterProperties(node.right)];
    case 'not':
      return filterProperties(node.inner);
    default:
      return [node.path[0]];
  }
}

function norm(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v ?? null;
}

function compare(op: Comparison, a: unknown, b: Literal): boolean {
  const x = norm(a);
  const y = norm(b);
  if (op === 'eq') return x === y;
  if (op === 'ne') return x !== y;
  if (x === null || y === null || typeof x !== typeof y) return false;
  const [p, q] = [x as string | number, y as string | number];
  if (op === 'gt') return p > q;
  if (op === 'ge') return p >= q;
  if (op === 'lt') return p < q;
  return p <= q;
}

function read(obj: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = obj;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Whether an object (a user or group as Graph returned it) matches the filter. */
export function matchesFilter(
  node: ODataFilter,
  obj: Record<string, unknown>,
): boolean {
  switch (node.op) {
    case 'and':
      return matchesFilter(node.left, obj) && matchesFilter(node.right, obj);
    case 'or':
      return matchesFilter(node.left, obj) || matchesFilter(node.right, obj);
    case 'not':
      return !matchesFilter(node.inner, obj);
    case 'in':
      return node.values.some(v => compare('eq', read(obj, node.path), v));
    case 'startswith':
    case 'endswith': {
      const v = read(obj, node.path);
      if (typeof v !== 'string') return false;
      const s = v.toLowerCase();
      const w = node.value.toLowerCase();
      return node.op === 'startswith' ? s.startsWith(w) : s.endsWith(w);
    }
    case 'any': {
      const v = read(obj, node.path);
      return Array.isArray(v) && v.some(x => compare(node.cmp, x, node.value));
    }
    default:
      return compare(node.op, read(obj, node.path), node.value);
  }
}

/** The group settings that are shorthands for a filter. */
export interface GroupFilterShorthands {
  /** Only security groups (`securityEnabled eq true`). */
  securityGroupsOnly?: boolean;
  /** Only groups whose display name starts with one of these (case-insensitive, as Graph). */
  displayNamePrefixes?: string[];
}

const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * `group.filter` and the shorthands, as one filter: all of them must hold. Undefined when
 * none is set.
 */
export function composeGroupFilter(
  filter: string | undefined,
  shorthands: GroupFilterShorthands,
): string | undefined {
  const parts: string[] = [];
  if (filter) parts.push(`(${filter})`);
  if (shorthands.securityGroupsOnly) parts.push('securityEnabled eq true');
  const prefixes = shorthands.displayNamePrefixes ?? [];
  if (prefixes.length) {
    parts.push(
      `(${prefixes
        .map(p => `startswith(displayName, ${quote(p)})`)
        .join(' or ')})`,
    );
  }
  return parts.length ? parts.join(' and ') : undefined;
}
