import {
  filterProperties,
  FilterSyntaxError,
  matchesFilter,
  parseFilter,
} from './filter';

const alex = {
  id: 'u1',
  displayName: 'Alex Wilber',
  userType: 'Member',
  accountEnabled: true,
  jobTitle: null,
  department: 'Engineering',
  employeeOrgData: { costCenter: 'CC-12' },
};
const allStaff = {
  id: 'g1',
  displayName: 'All Staff',
  securityEnabled: false,
  mailEnabled: true,
  groupTypes: ['Unified'],
};

describe('filters evaluated by the sync', () => {
  it.each([
    ['accountEnabled eq true', alex, true],
    ["userType eq 'member'", alex, true], // strings compare case-insensitively
    ["userType ne 'Member'", alex, false],
    ['jobTitle eq null', alex, true],
    ["startswith(displayName, 'alex')", alex, true],
    ["endswith(displayName,'Wilber')", alex, true],
    ["department in ('Product', 'Engineering')", alex, true],
    ["department ge 'F' or department lt 'E'", alex, false],
    ["employeeOrgData/costCenter eq 'CC-12'", alex, true],
    ["not (userType eq 'Guest') and accountEnabled eq true", alex, true],
    ["groupTypes/any(c:c eq 'Unified')", allStaff, true],
    // As upstream's docs write it, spaces as `+`.
    [
      "securityEnabled+eq+false+and+mailEnabled+eq+true+and+groupTypes/any(c:c+eq+'Unified')",
      allStaff,
      true,
    ],
    ['securityEnabled eq true', allStaff, false],
  ])('%s', (filter, obj, expected) => {
    expect(matchesFilter(parseFilter(filter), obj)).toBe(expected);
  });

  it('names the properties it reads, so the sync can select them', () => {
    expect(
      filterProperties(
        parseFilter(
          "userType eq 'Member' and (startswith(mail, 'a') or employeeOrgData/costCenter eq 'x')",
        ),
      ),
    ).toEqual(['userType', 'mail', 'employeeOrgData']);
  });

  it.each([
    "userType eq 'Member' and",
    'contains(displayName, "a")',
    "displayName has 'x'",
    "userType eq 'Member')",
    "groupTypes/any(c:d eq 'Unified')",
  ])('refuses %s with a message saying what is supported', filter => {
    expect(() => parseFilter(filter)).toThrow(FilterSyntaxError);
    expect(() => parseFilter(filter)).toThrow(/supports eq, ne/);
  });
});
