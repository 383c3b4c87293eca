import {
  FilterPolicyEvaluationError,
  checkFilterPolicy,
  evaluateFilterPolicy,
  FilterPolicy,
  filterPolicyCombinations,
  filterPolicyKeys,
  matchesFilterPolicy,
  SnsMessage,
} from '../../lib/fan-out/filter-policy';

// Examples from the Amazon SNS developer guide (string, numeric, key matching, AND/OR logic, constraints).
const attrs = (attributes: Readonly<Record<string, readonly [string, string]>>): SnsMessage => ({
  attributes: Object.fromEntries(Object.entries(attributes).map(([k, [DataType, StringValue]]) => [k, { DataType, StringValue }])),
});
const body = (value: unknown): SnsMessage => ({ body: JSON.stringify(value) });
const onAttributes = (policy: FilterPolicy, message: SnsMessage) => matchesFilterPolicy(policy, message, 'MessageAttributes');
const onBody = (policy: FilterPolicy, value: unknown) => matchesFilterPolicy(policy, body(value), 'MessageBody');

describe('attribute matching', () => {
  const interests = { customer_interests: ['rugby', 'tennis'] };

  test.each([
    ['String rugby', { customer_interests: ['String', 'rugby'] }, true],
    ['String tennis', { customer_interests: ['String', 'tennis'] }, true],
    ['String baseball', { customer_interests: ['String', 'baseball'] }, false],
    ['String.Array with rugby', { customer_interests: ['String.Array', '["rugby","tennis"]'] }, true],
    ['String.Array without', { customer_interests: ['String.Array', '["baseball"]'] }, false],
    ['a differently named attribute', { interests: ['String', 'rugby'] }, false],
    ['string matching is case-sensitive', { customer_interests: ['String', 'Rugby'] }, false],
  ] as const)('exact strings: %s', (_name, attributes, expected) => {
    expect(onAttributes(interests, attrs(attributes))).toBe(expected);
  });

  test('numeric = compares numbers, whatever their notation', () => {
    const policy = { price_usd: [{ numeric: ['=', 301.5] }] };
    expect(onAttributes(policy, attrs({ price_usd: ['Number', '301.5'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ price_usd: ['Number', '3.015e2'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ price_usd: ['Number', '301.6'] }))).toBe(false);
  });

  test('numeric ranges include or exclude their bounds as written', () => {
    const policy = { price_usd: [{ numeric: ['>', 0, '<=', 150] }] };
    expect(['0', '0.00001', '150', '150.1'].map((v) => onAttributes(policy, attrs({ price_usd: ['Number', v] })))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  // SNS compares numbers to 5 decimal places: just below, at and just above the operand for every operator.
  test.each([
    ['=', [false, true, false]],
    ['>', [false, false, true]],
    ['>=', [false, true, true]],
    ['<', [true, false, false]],
    ['<=', [true, true, false]],
  ] as const)('numeric %s 100 at 99.99999, 100 and 100.00001', (operator, expected) => {
    const policy = { total: [{ numeric: [operator, 100] }] };
    expect(['99.99999', '100', '100.00001'].map((v) => onAttributes(policy, attrs({ total: ['Number', v] })))).toEqual(expected);
  });

  test('numeric compares at 5 decimal places: a difference in the 6th does not count', () => {
    expect(onAttributes({ total: [{ numeric: ['=', 100] }] }, attrs({ total: ['Number', '100.000004'] }))).toBe(true);
    expect(onAttributes({ total: [{ numeric: ['>', 100] }] }, attrs({ total: ['Number', '100.000004'] }))).toBe(false);
  });

  test('numbers and strings do not match each other', () => {
    expect(onAttributes({ total: [{ numeric: ['>=', 100] }] }, attrs({ total: ['String', '250'] }))).toBe(false);
    expect(onAttributes({ total: ['250'] }, attrs({ total: ['Number', '250'] }))).toBe(false);
    expect(onAttributes({ total: [250] }, attrs({ total: ['Number', '250'] }))).toBe(true);
  });

  test('anything-but needs the key, and excludes strings or numbers', () => {
    const policy = { price: [{ 'anything-but': [100, 500] }] };
    expect(onAttributes(policy, attrs({ price: ['Number', '101'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ price: ['Number', '100.1'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ price: ['Number', '100'] }))).toBe(false);
    expect(onAttributes(policy, attrs({}))).toBe(false);
    expect(onAttributes({ sport: [{ 'anything-but': 'rugby' }] }, attrs({ sport: ['String', 'golf'] }))).toBe(true);
  });

  test('anything-but on an array matches when one element is not excluded', () => {
    const policy = { customer_interests: [{ 'anything-but': ['rugby', 'tennis'] }] };
    expect(onAttributes(policy, attrs({ customer_interests: ['String.Array', '["rugby","baseball"]'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ customer_interests: ['String.Array', '["rugby","tennis"]'] }))).toBe(false);
  });

  test('anything-but with prefix, suffix or equals-ignore-case', () => {
    expect(onAttributes({ event: [{ 'anything-but': { prefix: 'order-' } }] }, attrs({ event: ['String', 'data-entry'] }))).toBe(true);
    expect(onAttributes({ event: [{ 'anything-but': { prefix: 'order-' } }] }, attrs({ event: ['String', 'order-cancelled'] }))).toBe(false);
    expect(onAttributes({ event: [{ 'anything-but': { suffix: '.png' } }] }, attrs({ event: ['String', 'a.png'] }))).toBe(false);
    expect(onAttributes({ event: [{ 'anything-but': { 'equals-ignore-case': 'X' } }] }, attrs({ event: ['String', 'x'] }))).toBe(false);
  });

  test('prefix, suffix and equals-ignore-case', () => {
    const prefix = { customer_interests: [{ prefix: 'bas' }] };
    expect(onAttributes(prefix, attrs({ customer_interests: ['String', 'baseball'] }))).toBe(true);
    expect(onAttributes(prefix, attrs({ customer_interests: ['String', 'basketball'] }))).toBe(true);
    expect(onAttributes(prefix, attrs({ customer_interests: ['String', 'rugby'] }))).toBe(false);
    expect(onAttributes({ f: [{ suffix: 'ball' }] }, attrs({ f: ['String', 'baseball'] }))).toBe(true);
    expect(onAttributes({ f: [{ 'equals-ignore-case': 'RUGBY' }] }, attrs({ f: ['String', 'Rugby'] }))).toBe(true);
  });

  test('exists true and false; Binary attributes do not count', () => {
    expect(onAttributes({ store: [{ exists: true }] }, attrs({ store: ['String', 'example_corp'] }))).toBe(true);
    expect(onAttributes({ store: [{ exists: true }] }, attrs({}))).toBe(false);
    expect(onAttributes({ store: [{ exists: false }] }, attrs({}))).toBe(true);
    expect(onAttributes({ store: [{ exists: false }] }, attrs({ store: ['Binary', ''] }))).toBe(true);
    expect(onAttributes({ store: [{ exists: false }, 'corp'] }, attrs({ store: ['String', 'corp'] }))).toBe(true);
  });

  test('cidr matches IPv4 addresses in the range; IPv6 is refused by this evaluator', () => {
    const policy = { source_ip: [{ cidr: '10.0.0.0/24' }] };
    expect(onAttributes(policy, attrs({ source_ip: ['String', '10.0.0.255'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ source_ip: ['String', '10.0.1.0'] }))).toBe(false);
    expect(() => onAttributes({ ip: [{ cidr: '2001:db8::/32' }] }, attrs({ ip: ['String', '2001:db8::1'] }))).toThrow(/IPv6/);
    expect(new FilterPolicyEvaluationError('FilterPolicy.X', 'x').name).toBe('FilterPolicyEvaluationError');
    expect(() => onAttributes({ ip: [{ cidr: '2001:db8::/32' }] }, attrs({ ip: ['String', '2001:db8::1'] }))).toThrow(
      new FilterPolicyEvaluationError(
        'FilterPolicy.Ipv6CidrUnsupported',
        'cidr 2001:db8::/32: IPv6 ranges are valid in SNS but this evaluator only evaluates IPv4',
      ),
    );
    try {
      onAttributes({ ip: [{ cidr: '2001:db8::/32' }] }, attrs({ ip: ['String', '2001:db8::1'] }));
    } catch (error) {
      expect(error).toBeInstanceOf(FilterPolicyEvaluationError);
      expect((error as FilterPolicyEvaluationError).code).toBe('FilterPolicy.Ipv6CidrUnsupported');
    }
  });

  test('AND across keys, OR across one key\'s values; no policy delivers everything', () => {
    const policy = { customer_interests: ['rugby'], price_usd: [{ numeric: ['>', 100] }] };
    expect(onAttributes(policy, attrs({ customer_interests: ['String', 'rugby'], price_usd: ['Number', '101'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ customer_interests: ['String', 'rugby'], price_usd: ['Number', '99'] }))).toBe(false);
    expect(matchesFilterPolicy(undefined, attrs({}))).toBe(true);
  });

  test('$or: source && (metricName || namespace)', () => {
    const policy: FilterPolicy = { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] };
    expect(onAttributes(policy, attrs({ source: ['String', 'aws.cloudwatch'], namespace: ['String', 'AWS/EC2'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ source: ['String', 'aws.cloudwatch'], metricName: ['String', 'CPUUtilization'] }))).toBe(true);
    expect(onAttributes(policy, attrs({ source: ['String', 'aws.cloudwatch'], metricName: ['String', 'ReadLatency'] }))).toBe(false);
    expect(onAttributes(policy, attrs({ source: ['String', 'aws.s3'], namespace: ['String', 'AWS/EC2'] }))).toBe(false);
  });
});

describe('message body matching', () => {
  test('nested keys reach into the JSON body', () => {
    const policy = { shipping: { method: ['express'] }, status: [{ 'anything-but': ['cancelled'] }] };
    expect(onBody(policy, { shipping: { method: 'express' }, status: 'placed' })).toBe(true);
    expect(onBody(policy, { shipping: { method: 'express' }, status: 'cancelled' })).toBe(false);
    expect(onBody(policy, { shipping: 'express', status: 'placed' })).toBe(false);
  });

  test('an array in the body matches when one element does, objects in arrays included', () => {
    expect(onBody({ customer_interests: ['rugby'] }, { customer_interests: ['soccer', 'rugby'] })).toBe(true);
    expect(onBody({ items: { category: ['book'] } }, { items: [{ category: 'toy' }, { category: 'book' }] })).toBe(true);
    expect(onBody({ price: [{ numeric: ['<', 10] }] }, { price: [50, 5] })).toBe(true);
  });

  test('null, booleans and numbers in the body', () => {
    expect(onBody({ gift: [true] }, { gift: true })).toBe(true);
    expect(onBody({ gift: [true] }, { gift: 'true' })).toBe(false);
    expect(onBody({ coupon: [null] }, { coupon: null })).toBe(true);
    expect(onBody({ coupon: [null] }, {})).toBe(false);
    expect(onBody({ price_usd: [{ numeric: ['=', 301.5] }] }, { price_usd: 3.015e2 })).toBe(true);
  });

  test('a body that is not a JSON object matches no policy', () => {
    expect(evaluateFilterPolicy({ a: ['x'] }, { body: 'plain text' }, 'MessageBody')).toEqual({
      matches: false,
      reasons: ['the body is not JSON, so a MessageBody policy cannot match it'],
    });
    expect(onBody({ a: ['x'] }, ['x'])).toBe(false);
  });
});

describe('reasons', () => {
  test('name each key, its value and the condition that matched or none did', () => {
    const policy: FilterPolicy = { eventType: ['order.placed'], total: [{ numeric: ['>=', 100] }], warehouse: [{ exists: true }] };
    expect(evaluateFilterPolicy(policy, attrs({ eventType: ['String', 'order.placed'], total: ['Number', '25'] }))).toEqual({
      matches: false,
      reasons: [
        'eventType="order.placed" matched "order.placed"',
        'total=25 matched none of [{"numeric":[">=",100]}]',
        'warehouse is absent matched none of [{"exists":true}]',
      ],
    });
  });

  test('say which $or alternative matched, and show arrays whole', () => {
    const policy: FilterPolicy = { $or: [{ a: ['x'] }, { b: ['y'] }] };
    expect(evaluateFilterPolicy(policy, attrs({ b: ['String.Array', '["z","y"]'] })).reasons).toEqual([
      '$or: alternative 2 of 2 matched (b=["z","y"] matched "y")',
    ]);
  });
});

describe('SNS limits', () => {
  test('combinations: the product of the array lengths (the guide\'s 3 × 1 × 2 = 6)', () => {
    expect(filterPolicyCombinations({ key_a: ['v1', 'v2', 'v3'], key_b: ['v1'], key_c: ['v1', 'v2'] })).toBe(6);
  });

  test('combinations: $or alternatives are summed (the guide\'s example gives 7)', () => {
    const policy: FilterPolicy = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], $or: [{ metricId: [1234, 4321] }, { spaceId: [1000, 2000, 3000] }] },
      ],
    };
    expect(filterPolicyCombinations(policy)).toBe(7);
  });

  test('keys: every attribute key; with body scope only top-level keys (the guide\'s example has 4)', () => {
    const finding: FilterPolicy = {
      state: ['SUCCESS'],
      severity: [{ exists: true }],
      message: [{ exists: true }],
      finding: { standard_control: [{ exists: true }], region: [{ exists: true }], account: [{ exists: true }] },
    };
    expect(filterPolicyKeys(finding)).toEqual(['state', 'severity', 'message', 'finding']);
    expect(checkFilterPolicy(finding, 'MessageBody')).toEqual([]);
    expect(filterPolicyKeys({ a: ['x'], $or: [{ b: ['y'] }, { a: ['z'], c: ['w'] }] })).toEqual(['a', 'b', 'c']);
  });

  test('each limit is checked at its edge: at the limit accepted, one past it refused', () => {
    const codes = (policy: object, scope: 'MessageAttributes' | 'MessageBody' = 'MessageAttributes') =>
      checkFilterPolicy(policy as FilterPolicy, scope).map((p) => p.code);
    const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, ['x']]));
    expect(codes(keys(5))).toEqual([]);
    expect(codes(keys(6))).toEqual(['FilterPolicyKeys']);
    const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    expect(codes({ a: values(150) })).toEqual([]);
    expect(codes({ a: values(75), b: ['x', 'y'] })).toEqual([]);
    expect(codes({ a: values(151) })).toEqual(['FilterPolicyCombinations']);
    expect(codes({ n: [{ numeric: ['>=', 1e9] }] })).toEqual([]);
    expect(codes({ n: [{ numeric: ['>=', -1e9] }] })).toEqual([]);
    expect(codes({ n: [{ numeric: ['<', 1e9 + 1] }] })).toEqual(['FilterPolicyCondition']);
    expect(codes({ n: [{ numeric: ['>', -1e9 - 1] }] })).toEqual(['FilterPolicyCondition']);
    expect(codes({ n: [{ numeric: ['>', 5, '<', 5.00001] }] })).toEqual([]);
    expect(codes({ n: [{ numeric: ['>', 5, '<', 5] }] })).toEqual(['FilterPolicyCondition']);
  });

  test('every problem of a policy at once, with its code', () => {
    const values = Array.from({ length: 151 }, (_, i) => `v${i}`);
    const policy = {
      k1: values,
      k2: [{ numeric: ['>', 5, '<', 1] }],
      k3: [{ numeric: ['>=', 2e9] }],
      k4: [{ prefix: 1 }],
      k5: [{ wildcard: 'a*' }],
      k6: { nested: ['x'] },
      $or: [{ a: ['x'] }],
      k7: [],
    } as unknown as FilterPolicy;
    expect(checkFilterPolicy(policy, 'MessageAttributes')).toEqual([
      { code: 'FilterPolicyKeys', message: '8 keys (k1, k2, k3, k4, k5, k6, $or, k7); SNS allows at most 5' },
      {
        code: 'FilterPolicyCombinations',
        message: '151 value combinations; SNS allows at most 150 (the product of the array lengths, summed over $or alternatives)',
      },
      { code: 'FilterPolicyCondition', message: 'k2: numeric [">",5,"<",1] is an empty range' },
      { code: 'FilterPolicyCondition', message: 'k3: 2000000000 is outside ±1,000,000,000, the range SNS compares' },
      { code: 'FilterPolicyCondition', message: 'k4: prefix takes a non-empty string, got 1' },
      {
        code: 'FilterPolicyCondition',
        message: 'k5: {"wildcard":"a*"} must be one operator of prefix, suffix, equals-ignore-case, anything-but, numeric, exists, cidr',
      },
      {
        code: 'FilterPolicyNested',
        message: "k6: attribute policies cannot nest keys; use filterPolicyScope 'MessageBody' to filter on nested fields of the body",
      },
      {
        code: 'FilterPolicyOr',
        message: '$or needs an array of at least 2 policies that use no operator name as a key; otherwise SNS reads "$or" as an attribute name',
      },
      { code: 'FilterPolicyCondition', message: 'k7: an empty array matches nothing' },
    ]);
  });

  test('numeric needs operator–number pairs, lower bound first', () => {
    const problems = (numeric: unknown[]) => checkFilterPolicy({ n: [{ numeric }] } as unknown as FilterPolicy).map((p) => p.message);
    expect(problems(['=', 5])).toEqual([]);
    expect(problems(['<', 10, '>', 1])).toEqual(['n: numeric ["<",10,">",1] must give the lower bound (> or >=) first, then the upper bound (< or <=)']);
    expect(problems(['~', 1])).toEqual(['n: numeric ["~",1] uses "~"; operators are =, >, >=, <, <=']);
    expect(problems(['>', '1'])).toEqual(['n: numeric [">","1"] compares with something that is not a number']);
    expect(problems(['>'])).toEqual(['n: numeric [">"] must be [operator, number] or [lower operator, number, upper operator, number]']);
  });

  test('an empty policy, a policy over 256 KB, and values outside arrays are refused', () => {
    expect(checkFilterPolicy({}).map((p) => p.code)).toEqual(['FilterPolicyEmpty']);
    expect(checkFilterPolicy({ big: ['x'.repeat(262_144)] }).map((p) => p.code)).toEqual(['FilterPolicySize']);
    expect(checkFilterPolicy({ k: 'x' } as unknown as FilterPolicy)).toEqual([
      { code: 'FilterPolicyCondition', message: 'k: values must be in an array, e.g. ["x"]' },
    ]);
  });

  test('the lab\'s policies and SNS\'s documented operators pass', () => {
    const ok: FilterPolicy[] = [
      { eventType: ['order.placed'], total: [{ numeric: ['>=', 100] }] },
      { a: [{ 'anything-but': { prefix: 'x' } }, { exists: false }], b: [{ cidr: '10.0.0.0/8' }], c: [null, true, 1] },
      { d: [{ 'anything-but': ['x', 1] }], e: [{ 'equals-ignore-case': 'X' }], f: [{ suffix: '.png' }] },
    ];
    for (const policy of ok) expect(checkFilterPolicy(policy)).toEqual([]);
  });
});

describe('attribute types and values at the edges', () => {
  test('a String attribute without a value is the empty string; a custom String or Number type counts as its base type', () => {
    expect(onAttributes({ a: [''] }, { attributes: { a: { DataType: 'String' } } })).toBe(true);
    expect(onAttributes({ a: ['x'] }, attrs({ a: ['String.custom', 'x'] }))).toBe(true);
    expect(onAttributes({ n: [{ numeric: ['>', 4] }] }, attrs({ n: ['Number.float', '5'] }))).toBe(true);
  });

  test('a String.Array that is not a JSON array, or a Number that is not a number, is absent', () => {
    for (const attribute of [['String.Array', 'rugby'], ['String.Array', '{"a":1}'], ['Number', 'many']] as const) {
      expect(evaluateFilterPolicy({ a: [{ exists: false }] }, attrs({ a: attribute })).matches).toBe(true);
    }
    expect(evaluateFilterPolicy({ a: [{ exists: true }] }, { attributes: { a: { DataType: 'String.Array' } } }).matches).toBe(false);
  });

  test('a String.Array keeps its plain values only: nested objects and arrays never match', () => {
    expect(evaluateFilterPolicy({ a: ['y'] }, attrs({ a: ['String.Array', '["x",{"k":"y"},["y"]]'] })).reasons).toEqual([
      'a="x" matched none of ["y"]',
    ]);
  });

  test('cidr: a malformed address or range never matches; /32 is one address, /0 every one, no mask one address', () => {
    const matches = (cidr: string, ip: string) => onAttributes({ ip: [{ cidr }] }, attrs({ ip: ['String', ip] }));
    expect(['10.0.0', '10.0.0.256', '10.0.0.1.2', '10.0.0.x', '10.0.0.1234'].map((ip) => matches('10.0.0.0/8', ip))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    // /0 contains every address: only the check of the address itself can refuse these.
    expect(['10.0.0', '1.2.3.256', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 '].map((ip) => matches('0.0.0.0/0', ip))).toEqual([false, false, false, false, false]);
    expect(matches('10.0.0/8', '10.0.0.1')).toBe(false);
    expect(matches('10.0.0.1/32', '10.0.0.1')).toBe(true);
    expect(matches('10.0.0.1/32', '10.0.0.2')).toBe(false);
    expect(matches('10.0.0.0/0', '192.168.1.1')).toBe(true);
    expect(matches('10.0.0.7', '10.0.0.7')).toBe(true);
    expect(matches('10.0.0.7', '10.0.0.6')).toBe(false);
    expect(matches('10.0.0.0/31', '10.0.0.1')).toBe(true);
    expect(matches('10.0.0.0/31', '10.0.0.2')).toBe(false);
    expect(onAttributes({ ip: [{ cidr: '10.0.0.0/8' }] }, attrs({ ip: ['Number', '10'] }))).toBe(false);
  });

  test('anything-but excludes only values of its own type, and string rules only strings', () => {
    const passes = (exclusion: unknown, attribute: readonly [string, string]) =>
      onAttributes({ a: [{ 'anything-but': exclusion }] } as unknown as FilterPolicy, attrs({ a: attribute }));
    expect(passes(100, ['String', '100'])).toBe(true);
    expect(passes('100', ['Number', '100'])).toBe(true);
    expect(passes(100, ['Number', '100.000004'])).toBe(false);
    expect(passes({ prefix: '1' }, ['Number', '10'])).toBe(true);
    expect(passes({ suffix: '.png' }, ['String', 'a.jpg'])).toBe(true);
    expect(passes({ 'equals-ignore-case': 'X' }, ['String', 'y'])).toBe(true);
    expect(passes({ 'equals-ignore-case': 'x' }, ['String', 'X'])).toBe(false);
  });

  test('string operators ignore numbers; a number literal ignores strings; an operator-less object matches nothing', () => {
    expect(onAttributes({ a: [{ prefix: '1' }] }, attrs({ a: ['Number', '10'] }))).toBe(false);
    expect(onAttributes({ a: [{ suffix: '0' }] }, attrs({ a: ['Number', '10'] }))).toBe(false);
    expect(onAttributes({ a: [{ suffix: 'ball' }] }, attrs({ a: ['String', 'balls'] }))).toBe(false);
    expect(onAttributes({ a: [{ 'equals-ignore-case': '10' }] }, attrs({ a: ['Number', '10'] }))).toBe(false);
    expect(onAttributes({ a: [{ 'equals-ignore-case': 'rugby' }] }, attrs({ a: ['String', 'rugby!'] }))).toBe(false);
    expect(onAttributes({ a: [{ numeric: ['>', 1] }] }, attrs({ a: ['String', '10'] }))).toBe(false);
    expect(onAttributes({ a: [10] }, attrs({ a: ['String', '10'] }))).toBe(false);
    expect(onAttributes({ a: [10] }, attrs({ a: ['Number', '10.000004'] }))).toBe(true);
    expect(onAttributes({ a: [{} as never] }, attrs({ a: ['String', 'x'] }))).toBe(false);
    expect(onAttributes({ a: [250] }, attrs({ a: ['Number', '251'] }))).toBe(false);
    expect(onAttributes({ store: [{ exists: false }] }, attrs({ store: ['String', 'corp'] }))).toBe(false);
  });

  test('every operator matches an array when one of its elements does', () => {
    const one = (condition: object) => onAttributes({ a: [condition as never] }, attrs({ a: ['String.Array', '["zzz","basket.ball","10.0.0.1"]'] }));
    expect([{ prefix: 'bas' }, { suffix: 'ball' }, { 'equals-ignore-case': 'BASKET.BALL' }, { cidr: '10.0.0.0/24' }].map(one)).toEqual([true, true, true, true]);
    expect(onBody({ price: [5] }, { price: [50, 5] })).toBe(true);
  });

  test('numeric ranges need both comparisons to hold', () => {
    const policy = { n: [{ numeric: ['>=', 10, '<', 20] }] };
    expect(['9', '10', '19', '20'].map((v) => onAttributes(policy, attrs({ n: ['Number', v] })))).toEqual([false, true, true, false]);
  });
});

describe('evaluation results', () => {
  test('an empty policy delivers everything, and says so', () => {
    expect(evaluateFilterPolicy({}, attrs({}))).toEqual({ matches: true, reasons: ['no filter policy: every message'] });
    expect(evaluateFilterPolicy(undefined, body('x'), 'MessageBody')).toEqual({ matches: true, reasons: ['no filter policy: every message'] });
  });

  test('attributes are the default scope: a body is not looked at', () => {
    expect(evaluateFilterPolicy({ a: ['x'] }, { body: JSON.stringify({ a: 'x' }) }).matches).toBe(false);
    expect(evaluateFilterPolicy({ a: ['x'] }, { attributes: { a: { DataType: 'String', StringValue: 'x' } }, body: '{}' }).matches).toBe(true);
  });

  test('a MessageBody policy on a missing body, a JSON array or a JSON scalar says why it cannot match', () => {
    expect(evaluateFilterPolicy({ a: ['x'] }, {}, 'MessageBody')).toEqual({
      matches: false,
      reasons: ['the body is not JSON, so a MessageBody policy cannot match it'],
    });
    for (const value of [['x'], 'x', 5, null]) {
      expect(evaluateFilterPolicy({ a: ['x'] }, body(value), 'MessageBody')).toEqual({ matches: false, reasons: ['the body is not a JSON object'] });
    }
  });

  test('nested keys are named by their dotted path, and a nested miss fails the whole policy', () => {
    const policy: FilterPolicy = { order: { shipping: { method: ['express'] } }, status: ['placed'] };
    expect(evaluateFilterPolicy(policy, body({ order: { shipping: { method: 'ground' } }, status: 'placed' }), 'MessageBody')).toEqual({
      matches: false,
      reasons: ['order.shipping.method="ground" matched none of ["express"]', 'status="placed" matched "placed"'],
    });
    expect(evaluateFilterPolicy({ a: ['x'] }, body({ b: { a: 'x' } }), 'MessageBody').reasons).toEqual(['a is absent matched none of ["x"]']);
  });

  test('$or that no alternative matches lists each alternative\'s reasons', () => {
    const policy: FilterPolicy = { $or: [{ a: ['x'] }, { b: ['y'], c: ['z'] }] };
    expect(evaluateFilterPolicy(policy, attrs({ a: ['String', 'w'], b: ['String', 'y'] }))).toEqual({
      matches: false,
      reasons: [
        '$or: none of the 2 alternatives matched (a="w" matched none of ["x"] | b="y" matched "y"; c is absent matched none of ["z"])',
      ],
    });
    expect(evaluateFilterPolicy(policy, attrs({ a: ['String', 'x'] })).reasons).toEqual(['$or: alternative 1 of 2 matched (a="x" matched "x")']);
    expect(evaluateFilterPolicy(policy, attrs({ b: ['String', 'y'], c: ['String', 'z'] })).reasons).toEqual([
      '$or: alternative 2 of 2 matched (b="y" matched "y"; c="z" matched "z")',
    ]);
  });

  test('an $or that is not the operator (one alternative) is an attribute named "$or", which nothing matches', () => {
    expect(evaluateFilterPolicy({ $or: [{ a: ['x'] }] }, attrs({ a: ['String', 'x'] })).matches).toBe(false);
  });
});

describe('limits and shape at the edges', () => {
  const messages = (policy: unknown, scope: 'MessageAttributes' | 'MessageBody' = 'MessageAttributes') =>
    checkFilterPolicy(policy as FilterPolicy, scope).map((p) => `${p.code}: ${p.message}`);
  const isOrProblem = (policy: unknown) => checkFilterPolicy(policy as FilterPolicy).some((p) => p.code === 'FilterPolicyOr');

  test('combinations: an empty array counts as one, a nested policy multiplies', () => {
    expect(filterPolicyCombinations({ a: [], b: ['x', 'y'] })).toBe(2);
    expect(filterPolicyCombinations({ a: ['x', 'y'], n: { b: ['1', '2', '3'] } })).toBe(6);
    // One alternative is no $or: its array counts as one value.
    expect(filterPolicyCombinations({ a: ['x', 'y'], $or: [{ b: ['1', '2'] }] } as unknown as FilterPolicy)).toBe(2);
  });

  test('only a key named $or is the operator: the same alternatives under another key are values', () => {
    const policy = { k: [{ a: ['x', 'y'] }, { b: ['z'] }] } as unknown as FilterPolicy;
    expect(filterPolicyKeys(policy)).toEqual(['k']);
    expect(filterPolicyCombinations(policy)).toBe(2);
    expect(evaluateFilterPolicy(policy, attrs({ a: ['String', 'x'] })).matches).toBe(false);
    expect(isOrProblem({ $or: [{ a: ['x'], prefix: ['y'] }, { b: ['z'] }] })).toBe(true);
  });

  test('without a scope, a policy is checked as an attribute policy', () => {
    expect(checkFilterPolicy({ k: { nested: ['x'] } }).map((p) => p.code)).toEqual(['FilterPolicyNested']);
    expect(checkFilterPolicy({})).toEqual([
      { code: 'FilterPolicyEmpty', message: 'an empty filter policy is refused by SNS; omit filterPolicy to receive every message' },
    ]);
  });

  test('a body policy over 5 keys says they are top-level keys', () => {
    const keys = Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`k${i}`, ['x']]));
    expect(messages(keys, 'MessageBody')).toEqual(['FilterPolicyKeys: 6 keys (k0, k1, k2, k3, k4, k5); SNS allows at most 5 top-level keys']);
  });

  test('256 KB of JSON is accepted, one byte more refused', () => {
    // {"big":["…"]} is 12 bytes besides the string.
    expect(messages({ big: ['x'.repeat(262_132)] })).toEqual([]);
    expect(messages({ big: ['x'.repeat(262_133)] })).toEqual(['FilterPolicySize: 262145 bytes of JSON; SNS allows at most 256 KB (262,144 bytes)']);
  });

  test('$or needs 2+ objects without operator names as keys', () => {
    const orProblem =
      'FilterPolicyOr: $or needs an array of at least 2 policies that use no operator name as a key; otherwise SNS reads "$or" as an attribute name';
    expect(messages({ $or: [{ prefix: ['x'] }, { b: ['y'] }] })).toEqual([orProblem]);
    expect(messages({ $or: [{ a: ['x'] }, 'b'] })).toEqual([orProblem]);
    expect(messages({ $or: { a: ['x'] } }, 'MessageBody')).toEqual([orProblem]);
  });

  test('problems inside $or alternatives and nested body policies are named by their path', () => {
    expect(messages({ $or: [{ a: [] }, { b: ['x'] }] })).toEqual(['FilterPolicyCondition: $or[0].a: an empty array matches nothing']);
    expect(messages({ x: { $or: [{ b: ['y'] }, { a: [] }] } }, 'MessageBody')).toEqual([
      'FilterPolicyCondition: x.$or[1].a: an empty array matches nothing',
    ]);
    expect(messages({ x: { y: [] } }, 'MessageBody')).toEqual(['FilterPolicyCondition: x.y: an empty array matches nothing']);
    expect(messages({ x: {} }, 'MessageBody')).toEqual(['FilterPolicyCondition: x: an empty nested policy matches nothing']);
  });

  test('each malformed condition, by its message', () => {
    expect(messages({ a: [['x']] })).toEqual(['FilterPolicyCondition: a: ["x"] is neither a value nor an operator']);
    expect(messages({ a: [{ prefix: 'x', suffix: 'y' }] })).toEqual([
      'FilterPolicyCondition: a: {"prefix":"x","suffix":"y"} must be one operator of prefix, suffix, equals-ignore-case, anything-but, numeric, exists, cidr',
    ]);
    expect(messages({ a: [{ suffix: '' }] })).toEqual(['FilterPolicyCondition: a: suffix takes a non-empty string, got ""']);
    expect(messages({ a: [{ 'equals-ignore-case': '' }] })).toEqual(['FilterPolicyCondition: a: equals-ignore-case takes a non-empty string, got ""']);
    expect(messages({ a: [{ prefix: '' }] })).toEqual(['FilterPolicyCondition: a: prefix takes a non-empty string, got ""']);
    expect(messages({ a: [{ cidr: 8 }] })).toEqual(['FilterPolicyCondition: a: cidr takes a non-empty string, got 8']);
    expect(messages({ a: [{ cidr: 'x10.0.0.0/8' }] })).toEqual(['FilterPolicyCondition: a: cidr "x10.0.0.0/8" is not an address range like 10.0.0.0/24']);
    expect(messages({ a: [{ cidr: '10.0.0.0/24x' }] })).toEqual(['FilterPolicyCondition: a: cidr "10.0.0.0/24x" is not an address range like 10.0.0.0/24']);
    expect(messages({ a: [{ cidr: 'ten/8' }] })).toEqual(['FilterPolicyCondition: a: cidr "ten/8" is not an address range like 10.0.0.0/24']);
    expect(messages({ a: [{ cidr: '10.0.0.1' }] })).toEqual(['FilterPolicyCondition: a: cidr "10.0.0.1" is not an address range like 10.0.0.0/24']);
    expect(messages({ a: [{ cidr: '2001:db8::/32' }, { cidr: '10.0.0.0/8' }] })).toEqual([]);
    expect(messages({ a: [{ exists: 'yes' }] })).toEqual(['FilterPolicyCondition: a: exists takes true or false, got "yes"']);
    expect(messages({ a: [null, false, 'x', 1e9] })).toEqual([]);
    expect(messages({ a: [Number.POSITIVE_INFINITY] })).toEqual(['FilterPolicyCondition: a: Infinity is outside ±1,000,000,000, the range SNS compares']);
  });

  test('anything-but: what it takes, and every other shape refused', () => {
    const refused = (value: unknown) =>
      `FilterPolicyCondition: a: anything-but takes a string, a number, a non-empty array of them, or one of {prefix}, {suffix}, {equals-ignore-case}; got ${JSON.stringify(value)}`;
    for (const value of ['x', 5, ['x', 5], { prefix: 'x' }, { suffix: 'x' }, { 'equals-ignore-case': 'x' }]) {
      expect(messages({ a: [{ 'anything-but': value }] })).toEqual([]);
    }
    for (const value of [[], [true], ['x', true], [['x']], { prefix: 1 }, { prefix: 'x', suffix: 'y' }, { wildcard: 'x' }, true, null]) {
      expect(messages({ a: [{ 'anything-but': value }] })).toEqual([refused(value)]);
    }
    expect(messages({ a: [{ 'anything-but': 2e9 }] })).toEqual(['FilterPolicyCondition: a: 2000000000 is outside ±1,000,000,000, the range SNS compares']);
  });

  test('numeric ranges: the lower bound must be > or >=, the upper < or <=, both numbers, the range not empty', () => {
    const problems = (numeric: unknown) => messages({ n: [{ numeric }] });
    expect(problems(['>=', 1, '<=', 2])).toEqual([]);
    expect(problems(['=', 1, '<', 2])).toEqual([
      'FilterPolicyCondition: n: numeric ["=",1,"<",2] must give the lower bound (> or >=) first, then the upper bound (< or <=)',
    ]);
    expect(problems(['>', 1, '=', 2])).toEqual([
      'FilterPolicyCondition: n: numeric [">",1,"=",2] must give the lower bound (> or >=) first, then the upper bound (< or <=)',
    ]);
    expect(problems(['>', 1, '<', 'x'])).toEqual(['FilterPolicyCondition: n: numeric [">",1,"<","x"] compares with something that is not a number']);
    expect(problems(['>', 1, '~', 2])).toEqual(['FilterPolicyCondition: n: numeric [">",1,"~",2] uses "~"; operators are =, >, >=, <, <=']);
    expect(problems(['>', 1, '<'])).toEqual([
      'FilterPolicyCondition: n: numeric [">",1,"<"] must be [operator, number] or [lower operator, number, upper operator, number]',
    ]);
    expect(problems('>')).toEqual([
      'FilterPolicyCondition: n: numeric ">" must be [operator, number] or [lower operator, number, upper operator, number]',
    ]);
    expect(problems(['>', 2, '<', 1])).toEqual(['FilterPolicyCondition: n: numeric [">",2,"<",1] is an empty range']);
  });
});
