import { matchesFilterPattern, UnsupportedFilterPattern } from './filter-pattern';

// The examples of the CloudWatch Logs page "Filter pattern syntax for metric filters, subscription filters, and filter
// log events": the same log events, the same patterns, the same answers.
describe('terms in unstructured log events', () => {
  const events = ['[ERROR 400] BAD REQUEST', '[ERROR 401] UNAUTHORIZED REQUEST', '[ERROR 419] MISSING ARGUMENTS', '[ERROR 420] INVALID ARGUMENTS'];
  const matching = (pattern: string) => events.filter((e) => matchesFilterPattern(pattern, e));

  test.each([
    ['ERROR', events],
    ['ERROR ARGUMENTS', ['[ERROR 419] MISSING ARGUMENTS', '[ERROR 420] INVALID ARGUMENTS']],
    ['ERROR -ARGUMENTS', ['[ERROR 400] BAD REQUEST', '[ERROR 401] UNAUTHORIZED REQUEST']],
    ['?BAD ?INVALID', ['[ERROR 400] BAD REQUEST', '[ERROR 420] INVALID ARGUMENTS']],
    ['"INVALID ARGUMENTS"', ['[ERROR 420] INVALID ARGUMENTS']],
    ['error', []],
    ['', events],
  ])('%j matches %j', (pattern, expected) => {
    expect(matching(pattern)).toEqual(expected);
  });
});

describe('JSON log events', () => {
  const event = JSON.stringify({
    eventType: 'UpdateTrail',
    sourceIPAddress: '111.111.111.111',
    arrayKey: ['value', 'another value'],
    objectList: [
      { name: 'a', id: 1 },
      { name: 'b', id: 2 },
    ],
    SomeObject: null,
    'cluster.name': 'c',
    ThisFlag: true,
    latency: 250,
  });

  test.each([
    ['{ $.eventType = "UpdateTrail" }', true],
    ['{ $.eventType = "Update*" }', true],
    ['{ $.eventType = "CreateTrail" }', false],
    ['{ $.sourceIPAddress != 123.123.* }', true],
    ['{ $.sourceIPAddress != 111.111.* }', false],
    ['{ $.arrayKey[0] = "value" }', true],
    ['{ $.objectList[1].id = 2 }', true],
    ['{ $.objectList[1].id = 1 }', false],
    ['{ $.SomeObject IS NULL }', true],
    ['{ $.SomeOtherObject NOT EXISTS }', true],
    ['{ $.SomeObject NOT EXISTS }', false],
    ['{ $.ThisFlag IS TRUE }', true],
    ['{ $.ThisFlag IS FALSE }', false],
    ['{ $.[\'cluster.name\'] = "c" }', true],
    ['{ $.latency > 200 }', true],
    ['{ $.latency >= 250 && $.latency < 251 }', true],
    ['{ $.latency <= 249 }', false],
    ['{ $.eventType > 1 }', false],
    ['{ ($.eventType = "UpdateTrail") && ($.ThisFlag IS TRUE) }', true],
    ['{ ($.eventType = "CreateTrail") || ($.objectList[0].name = "a") }', true],
    ['{ ($.eventType = "CreateTrail") || ($.objectList[0].name = "b") }', false],
    ['{ $.missing != "x" }', false],
  ])('%s → %s', (pattern, expected) => {
    expect(matchesFilterPattern(pattern, event)).toBe(expected);
  });

  test('a line that is not JSON never matches a JSON pattern', () => {
    expect(matchesFilterPattern('{ $.level = "ERROR" }', 'ERROR something broke')).toBe(false);
  });
});

test('space-delimited patterns and regular expressions are refused, not guessed', () => {
  expect(() => matchesFilterPattern('[ip, user, ...]', '1.2.3.4 alice')).toThrow(UnsupportedFilterPattern);
  expect(() => matchesFilterPattern('%ERR(OR)?%', 'ERROR')).toThrow(UnsupportedFilterPattern);
  expect(() => matchesFilterPattern('{ $.a = }', '{"a":1}')).toThrow(UnsupportedFilterPattern);
});
