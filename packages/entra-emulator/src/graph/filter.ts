/**
 * The subset of OData `$filter` that Graph supports on users and groups and that Gatehouse
 * uses: `eq`, `ne`, `ge`, `le`, `startswith()`, `in (...)`, `any()` on string collections,
 * `and`, `or`, `not`, and parentheses. Anything else is refused with Graph's error.
 */
export class FilterError extends Error {}

type Value = string | number | boolean | null;
export type FilterNode =
  | { op: 'eq' | 'ne' | 'ge' | 'le'; prop: string; value: Value }
  | { op: 'in'; prop: string; values: Value[] }
  | { op: 'startswith'; prop: string; value: string }
  | { op: 'any'; prop: string; value: Value }
  | { op: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { op: 'not'; inner: FilterNode };

const TOKEN = /\s*('(?:[^']|'')*'|\(|\)|,|[A-Za-z_][\w/.:]*|-?\d+(?:\.\d+)?)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (!m)
      throw new FilterError(`Syntax error at position ${pos} in '${text}'.`);
    out.push(m[1]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const t = tokens[i++];
    if (t === undefined)
      throw new FilterError(`Unexpected end of $filter '${text}'.`);
    return t;
  };
  const expect = (t: string) => {
    const got = next();
    if (got.toLowerCase() !== t)
      throw new FilterError(`Expected '${t}' but found '${got}' in $filter.`);
  };
  const literal = (): Value => {
    const t = next();
    if (t.startsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
    if (t === 'true') return true;
    if (t === 'false') return false;
    if (t === 'null') return null;
    if (/^-?\d/.test(t)) return Number(t);
    throw new FilterError(`Expected a literal but found '${t}' in $filter.`);
  };
  // The grammar is recursive (a parenthesis holds a whole expression): function declarations.
  function primary(): FilterNode {
    const t = next();
    if (t === '(') {
      const n = orExpr();
      expect(')');
      return n;
    }
    if (t.toLowerCase() === 'not') return { op: 'not', inner: primary() };
    if (t.toLowerCase() === 'startswith') {
      expect('(');
      const prop = next();
      expect(',');
      const value = literal();
      expect(')');
      if (typeof value !== 'string')
        throw new FilterError('startswith takes a string.');
      return { op: 'startswith', prop, value };
    }
    const anyMatch = /^(\w+)\/any$/i.exec(t);
    if (anyMatch) {
      expect('(');
      const lambda = next();
      const variable = lambda.replace(/:.*/, '');
      const rest = lambda.slice(variable.length + 1);
      const lhs = rest || next();
      if (lhs !== variable)
        throw new FilterError('Unsupported lambda expression in $filter.');
      expect('eq');
      const value = literal();
      expect(')');
      return { op: 'any', prop: anyMatch[1], value };
    }
    if (t === ')' || t === ',' || t.startsWith("'") || /^-?\d/.test(t)) {
      throw new FilterError(`Syntax error: unexpected '${t}' in $filter.`);
    }
    if (peek() === '(') {
      throw new FilterError(
        `Unsupported Query. Function '${t}' is not supported in $filter.`,
      );
    }
    const op = next().toLowerCase();
    if (op === 'eq' || op === 'ne') return { op, prop: t, value: literal() };
    if (op === 'ge' || op === 'le') {
      const value = literal();
      if (typeof value !== 'string')
        throw new FilterError(`'${op}' compares strings only.`);
      return { op, prop: t, value };
    }
    if (op === 'in') {
      expect('(');
      const values = [literal()];
      while (peek() === ',') {
        next();
        values.push(literal());
      }
      expect(')');
      if (values.length > 15)
        throw new FilterError(
          "Too many values in the 'in' operator (at most 15).",
        );
      return { op: 'in', prop: t, values };
    }
    throw new FilterError(
      `Unsupported Query. Operator '${op}' is not supported in $filter.`,
    );
  }
  function andExpr(): FilterNode {
    let left = primary();
    while (peek()?.toLowerCase() === 'and') {
      next();
      left = { op: 'and', left, right: primary() };
    }
    return left;
  }
  function orExpr(): FilterNode {
    let left = andExpr();
    while (peek()?.toLowerCase() === 'or') {
      next();
      left = { op: 'or', left, right: andExpr() };
    }
    return left;
  }
  const node = orExpr();
  if (i !== tokens.length)
    throw new FilterError(`Unexpected '${tokens[i]}' in $filter.`);
  return node;
}

function get(
  obj: Record<string, unknown>,
  prop: string,
  known: Set<string>,
): unknown {
  if (!known.has(prop)) {
    throw new FilterError(
      `Could not find a property named '${prop}' on the type being filtered.`,
    );
  }
  return obj[prop];
}

function eq(a: unknown, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string')
    return a.toLowerCase() === b.toLowerCase();
  return (a ?? null) === b;
}

export function matches(
  node: FilterNode,
  obj: Record<string, unknown>,
  known: Set<string>,
): boolean {
  switch (node.op) {
    case 'eq':
      return eq(get(obj, node.prop, known), node.value);
    case 'ne':
      return !eq(get(obj, node.prop, known), node.value);
    case 'ge':
    case 'le': {
      const v = get(obj, node.prop, known);
      if (typeof v !== 'string') return false;
      const a = v.toLowerCase();
      const b = String(node.value).toLowerCase();
      return node.op === 'ge' ? a >= b : a <= b;
    }
    case 'in':
      return node.values.some(v => eq(get(obj, node.prop, known), v));
    case 'startswith': {
      const v = get(obj, node.prop, known);
      return (
        typeof v === 'string' &&
        v.toLowerCase().startsWith(node.value.toLowerCase())
      );
    }
    case 'any': {
      const v = get(obj, node.prop, known);
      return Array.isArray(v) && v.some(x => eq(x, node.value));
    }
    case 'and':
      return matches(node.left, obj, known) && matches(node.right, obj, known);
    case 'or':
      return matches(node.left, obj, known) || matches(node.right, obj, known);
    case 'not':
      return !matches(node.inner, obj, known);
    default:
      return false;
  }
}
