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
