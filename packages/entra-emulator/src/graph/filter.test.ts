import { FilterError, matches, parseFilter } from './filter';

const known = new Set([
  'id',
  'displayName',
  'mail',
  'accountEnabled',
  'groupTypes',
  'department',
  'age',
]);
const ada = {
  id: 'a1',
  displayName: 'Ada Lovelace',
  mail: null,
  accountEnabled: true,
  groupTypes: ['Unified', 'DynamicMembership'],
  department: "O'Brien & Co",
  age: 36,
};
const bob = {
  id: 'b2',
  displayName: 'bob',
  mail: 'bob@x.example',
  accountEnabled: false,
  groupTypes: [],
  department: 'Ops',
  age: 40,
};

const test = (filter: string, obj: Record<string, unknown> = ada) =>
  matches(parseFilter(filter), obj, known);

describe('$filter parser', () => {
  it('parses comparisons into nodes', () => {
    expect(parseFilter("displayName eq 'Ada'")).toEqual({
      op: 'eq',
      prop: 'displayName',
      value: 'Ada',
    });
    expect(parseFilter('accountEnabled ne false')).toEqual({
      op: 'ne',
      prop: 'accountEnabled',
      value: false,
    });
    expect(parseFilter('mail eq null')).toEqual({
      op: 'eq',
      prop: 'mail',
      value: null,
    });
    expect(parseFilter('age eq -3.5')).toEqual({
      op: 'eq',
      prop: 'age',
      value: -3.5,
    });
    expect(parseFilter("startswith(displayName,'A')")).toEqual({
      op: 'startswith',
      prop: 'displayName',
      value: 'A',
    });
    expect(parseFilter("id in ('a', 'b')")).toEqual({
      op: 'in',
      prop: 'id',
      values: ['a', 'b'],
    });
    expect(parseFilter("groupTypes/any(c:c eq 'Unified')")).toEqual({
      op: 'any',
      prop: 'groupTypes',
      value: 'Unified',
    });
    expect(parseFilter("groupTypes/any(x: x eq 'Unified')")).toEqual({
      op: 'any',
      prop: 'groupTypes',
      value: 'Unified',
    });
    expect(parseFilter("displayName ge 'M'")).toEqual({
      op: 'ge',
      prop: 'displayName',
      value: 'M',
    });
  });

  it('binds and tighter than or, and honours parentheses and not', () => {
    expect(parseFilter("id eq 'a' or id eq 'b' and mail eq null")).toEqual({
      op: 'or',
      left: { op: 'eq', prop: 'id', value: 'a' },
      right: {
        op: 'and',
        left: { op: 'eq', prop: 'id', value: 'b' },
        right: { op: 'eq', prop: 'mail', value: null },
      },
    });
    expect(
      parseFilter("(id eq 'a' or id eq 'b') and not (mail eq null)"),
    ).toEqual({
      op: 'and',
      left: {
        op: 'or',
        left: { op: 'eq', prop: 'id', value: 'a' },
        right: { op: 'eq', prop: 'id', value: 'b' },
      },
      right: { op: 'not', inner: { op: 'eq', prop: 'mail', value: null } },
    });
    // Keywords are case-insensitive.
    expect(parseFilter("id EQ 'a' OR StartsWith(displayName,'b')")).toEqual({
      op: 'or',
      left: { op: 'eq', prop: 'id', value: 'a' },
      right: { op: 'startswith', prop: 'displayName', value: 'b' },
    });
  });

  it("reads '' inside a string as one quote", () => {
    expect(parseFilter("department eq 'O''Brien & Co'")).toEqual({
      op: 'eq',
      prop: 'department',
      value: "O'Brien & Co",
    });
    expect(test("department eq 'O''Brien & Co'")).toBe(true);
  });

  it.each([
    ["displayName gt 'A'", /Operator 'gt' is not supported/],
    ["endswith(mail,'x')", /Function 'endswith' is not supported/],
    [
      "groupTypes/all(c:c eq 'x')",
      /Function 'groupTypes\/all' is not supported/,
    ],
    ["groupTypes/any(c:d eq 'x')", /Unsupported lambda/],
    ['startswith(displayName, 3)', /startswith takes a string/],
    ['age ge 3', /compares strings only/],
    ["displayName eq 'x' extra", /Unexpected 'extra'/],
    ['displayName eq', /Unexpected end/],
    ["displayName eq 'open", /Syntax error/],
    ["(displayName eq 'x'", /Unexpected end/],
    ["displayName eq 'x')", /Unexpected '\)'/],
    ['displayName eq other', /Expected a literal/],
    ["'x' eq displayName", /Syntax error/],
    ["displayName > 'x'", /Syntax error/],
    [
      `id in (${Array.from({ length: 16 }, (_, i) => `'${i}'`).join(',')})`,
      /at most 15/,
    ],
  ])('refuses %s', (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(FilterError);
    expect(() => parseFilter(filter)).toThrow(message);
  });

  it('accepts 15 values in in()', () => {
    const node = parseFilter(
      `id in (${Array.from({ length: 15 }, (_, i) => `'${i}'`).join(',')})`,
    );
    expect(node).toMatchObject({ op: 'in' });
  });
});

describe('$filter evaluation', () => {
  it('compares strings case-insensitively and other values exactly', () => {
    expect(test("displayName eq 'ada lovelace'")).toBe(true);
    expect(test("displayName eq 'Ada'")).toBe(false);
    expect(test('accountEnabled eq true')).toBe(true);
    expect(test('accountEnabled eq true', bob)).toBe(false);
    expect(test("accountEnabled eq 'true'")).toBe(false);
    expect(test('age eq 36')).toBe(true);
    expect(test('mail eq null')).toBe(true);
    expect(test('mail eq null', bob)).toBe(false);
    expect(test('mail ne null', bob)).toBe(true);
  });

  it('evaluates startswith, in, any, ge and le', () => {
    expect(test("startswith(displayName,'ADA')")).toBe(true);
    expect(test("startswith(displayName,'Lovelace')")).toBe(false);
    expect(test("startswith(mail,'a')")).toBe(false); // null never starts with anything
    expect(test("id in ('x','A1')")).toBe(true);
    expect(test("id in ('x','y')")).toBe(false);
    expect(test("groupTypes/any(c:c eq 'unified')")).toBe(true);
    expect(test("groupTypes/any(c:c eq 'Unified')", bob)).toBe(false);
    expect(test("displayName ge 'B'", bob)).toBe(true);
    expect(test("displayName le 'B'")).toBe(true);
    expect(test("displayName ge 'B'")).toBe(false);
  });

  it('combines with and, or and not', () => {
    expect(test("startswith(displayName,'a') and accountEnabled eq true")).toBe(
      true,
    );
    expect(
      test("startswith(displayName,'b') and accountEnabled eq true", bob),
    ).toBe(false);
    expect(
      test("startswith(displayName,'b') or accountEnabled eq true", bob),
    ).toBe(true);
    expect(test('not (accountEnabled eq true)', bob)).toBe(true);
    expect(test('not accountEnabled eq true')).toBe(false);
  });

  it('refuses a property the type does not have', () => {
    expect(() => test("favouriteColour eq 'blue'")).toThrow(FilterError);
    expect(() => test("favouriteColour eq 'blue'")).toThrow(/favouriteColour/);
    // Even when the other side of an or would decide.
    expect(() => test("id eq 'a1' and nope eq 1")).toThrow(/nope/);
  });
});
