/**
 * SNS subscription filter policies: their type, the limits SNS enforces on them, and an evaluator that decides
 * whether a message would be delivered, with the reason for each key. No AWS call and no dependency: it runs in
 * tests, in exercises and at synth.
 *
 * Semantics follow the Amazon SNS developer guide ("Amazon SNS subscription filter policies" and the pages it
 * links): AND across keys, OR across the values of one key, `$or`, exact string and number matching, `prefix`,
 * `suffix`, `equals-ignore-case`, `anything-but` (values, `prefix`, `suffix`, `equals-ignore-case`), `numeric`
 * ranges, `exists` and `cidr` (IPv4 here). With scope `MessageAttributes` only String, String.Array and Number
 * attributes take part (Binary ones are ignored); with scope `MessageBody` the body must be a JSON object, keys
 * may nest, and an array matches when one of its elements does.
 */

/** Whether a policy applies to the message attributes (SNS's default) or to the JSON message body. */
export type FilterPolicyScope = 'MessageAttributes' | 'MessageBody';

/** `anything-but` excludes values, or strings by prefix, suffix or case-insensitive equality. */
export type AnythingBut =
  | string
  | number
  | readonly (string | number)[]
  | { readonly prefix: string }
  | { readonly suffix: string }
  | { readonly 'equals-ignore-case': string };

/** An operator in a filter policy's value array; exactly one key per object. */
export interface FilterOperator {
  readonly prefix?: string;
  readonly suffix?: string;
  readonly 'equals-ignore-case'?: string;
  readonly 'anything-but'?: AnythingBut;
  /** Comparisons: `['=', 5]`, `['>=', 100]` or a range `['>', 0, '<=', 150]`. */
  readonly numeric?: readonly (string | number)[];
  /** `true`: the key is present; `false`: it is absent. */
  readonly exists?: boolean;
  /** An IP address range, e.g. `10.0.0.0/24`. */
  readonly cidr?: string;
}

/** One accepted value of a key: a literal (exact match) or an operator. */
export type FilterCondition = string | number | boolean | null | FilterOperator;

/**
 * A filter policy as SNS stores it: key → array of accepted values (OR), keys ANDed; with scope `MessageBody` a
 * key may hold a nested policy; `$or` holds two or more alternative policies.
 */
export interface FilterPolicy {
  readonly [key: string]: readonly FilterCondition[] | FilterPolicy | readonly FilterPolicy[];
}

/** The limits SNS enforces (developer guide, "Filter policy constraints in Amazon SNS"). */
export const SNS_FILTER_POLICY_LIMITS = {
  /** Keys per policy: every key with attribute scope, top-level keys with body scope. */
  maxKeys: 5,
  /** Product of the value counts of the keys, summed over `$or` alternatives. */
  maxCombinations: 150,
  /** Size of the policy's JSON. */
  maxSizeBytes: 256 * 1024,
  /** Numbers in a policy lie within ±10^9. */
  maxNumber: 1e9,
  /** Filter policies per topic (a default quota, raisable). */
  maxFilterPoliciesPerTopic: 200,
} as const;

const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'anything-but', 'numeric', 'exists', 'cidr'] as const;
const RESERVED = new Set<string>(OPERATORS);
const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);

type Leaf = string | number | boolean | null;

/** A message attribute as `Publish` takes it (the SDK's `MessageAttributeValue`, string-valued types only). */
export interface SnsMessageAttribute {
  /** `String`, `String.Array`, `Number` or `Binary` (Binary attributes are ignored by filter policies). */
  readonly DataType: string;
  readonly StringValue?: string;
}

/** What a filter policy is evaluated against. */
export interface SnsMessage {
  readonly attributes?: Readonly<Record<string, SnsMessageAttribute>>;
  /** The `Message` passed to `Publish`. */
  readonly body?: string;
}

/** The verdict for one message, with one reason per key of the policy that was evaluated. */
export interface FilterResult {
  readonly matches: boolean;
  readonly reasons: readonly string[];
}

/**
 * Thrown by `evaluateFilterPolicy` for a policy SNS accepts but this evaluator cannot evaluate (an IPv6 `cidr`): a
 * limit of the evaluator, not a problem of the policy. Carries a stable code, like the constructs' errors; this file
 * stays free of dependencies, so it does not use `lib/core`'s error classes.
 */
export class FilterPolicyEvaluationError extends Error {
  constructor(
    /** Stable identifier, e.g. `FilterPolicy.Ipv6CidrUnsupported`. */
    public readonly code: string,
    message: string,
  ) {
    super(`[${code}] ${message}`);
    this.name = 'FilterPolicyEvaluationError';
  }
}

/** A problem of a policy against SNS's rules: a code (as in `FanOut.<code>`) and what to change. */
export interface FilterPolicyProblem {
  readonly code:
    | 'FilterPolicyEmpty'
    | 'FilterPolicyKeys'
    | 'FilterPolicyCombinations'
    | 'FilterPolicySize'
    | 'FilterPolicyNested'
    | 'FilterPolicyCondition'
    | 'FilterPolicyOr';
  readonly message: string;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** SNS reads `$or` as an operator only with 2+ objects none of which uses an operator name as a key. */
function isOrOperator(value: unknown): value is readonly FilterPolicy[] {
  return (
    Array.isArray(value) &&
    value.length >= 2 &&
    value.every((branch) => isPlainObject(branch) && !Object.keys(branch).some((k) => RESERVED.has(k)))
  );
}

const roundTo5 = (n: number) => Math.round(n * 1e5);
const show = (value: unknown) => JSON.stringify(value);

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

/** Leaf values per dotted path; arrays are flattened, so a path holds every element found under it. */
type Document = Map<string, Leaf[]>;

function flattenBody(value: unknown, path: string, into: Document): void {
  if (Array.isArray(value)) {
    for (const element of value) flattenBody(element, path, into);
  } else if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) flattenBody(child, path ? `${path}.${key}` : key, into);
  } else if (path) {
    const leaves = into.get(path) ?? [];
    leaves.push(value as Leaf);
    into.set(path, leaves);
  }
}

function attributeDocument(attributes: SnsMessage['attributes'] = {}): Document {
  const document: Document = new Map();
  for (const [name, { DataType, StringValue }] of Object.entries(attributes)) {
    const type = DataType.split('.')[0];
    if (type === 'String' && DataType === 'String.Array') {
      try {
        const parsed: unknown = JSON.parse(StringValue ?? '');
        if (Array.isArray(parsed)) document.set(name, parsed.filter((v) => !isPlainObject(v) && !Array.isArray(v)) as Leaf[]);
      } catch {
        // SNS rejects a String.Array that is not a JSON array at Publish; nothing to match here.
      }
    } else if (type === 'String') {
      document.set(name, [StringValue ?? '']);
    } else if (type === 'Number') {
      const n = Number(StringValue);
      if (!Number.isNaN(n)) document.set(name, [n]);
    }
    // Binary attributes are ignored by filter policies.
  }
  return document;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function inCidr(value: string, cidr: string): boolean {
  const [network, bitsText] = cidr.split('/');
  if (network.includes(':')) {
    throw new FilterPolicyEvaluationError(
      'FilterPolicy.Ipv6CidrUnsupported',
      `cidr ${cidr}: IPv6 ranges are valid in SNS but this evaluator only evaluates IPv4`,
    );
  }
  const base = parseIpv4(network);
  const address = parseIpv4(value);
  if (base === undefined || address === undefined) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  const size = 2 ** (32 - bits);
  return Math.floor(address / size) === Math.floor(base / size);
}

function excludedBy(exclusion: AnythingBut, value: Leaf): boolean {
  if (Array.isArray(exclusion)) return exclusion.some((e) => excludedBy(e as string | number, value));
  if (typeof exclusion === 'string') return value === exclusion;
  if (typeof exclusion === 'number') return typeof value === 'number' && roundTo5(value) === roundTo5(exclusion);
  if (typeof value !== 'string') return false;
  const rule = exclusion as Record<string, string>;
  if ('prefix' in rule) return value.startsWith(rule.prefix);
  if ('suffix' in rule) return value.endsWith(rule.suffix);
  return value.toLowerCase() === rule['equals-ignore-case'].toLowerCase();
}

function numericMatches(comparisons: readonly (string | number)[], value: number): boolean {
  for (let i = 0; i < comparisons.length; i += 2) {
    const operand = roundTo5(Number(comparisons[i + 1]));
    const v = roundTo5(value);
    const ok = { '=': v === operand, '>': v > operand, '>=': v >= operand, '<': v < operand, '<=': v <= operand }[
      comparisons[i] as '=' | '>' | '>=' | '<' | '<='
    ];
    if (!ok) return false;
  }
  return true;
}

function conditionMatches(condition: FilterCondition, leaves: readonly Leaf[]): boolean {
  if (isPlainObject(condition)) {
    const op = condition as FilterOperator;
    if (op.exists !== undefined) return op.exists ? leaves.length > 0 : leaves.length === 0;
    if (op.prefix !== undefined) return leaves.some((v) => typeof v === 'string' && v.startsWith(op.prefix!));
    if (op.suffix !== undefined) return leaves.some((v) => typeof v === 'string' && v.endsWith(op.suffix!));
    if (op['equals-ignore-case'] !== undefined) {
      const expected = op['equals-ignore-case'].toLowerCase();
      return leaves.some((v) => typeof v === 'string' && v.toLowerCase() === expected);
    }
    if (op.numeric !== undefined) return leaves.some((v) => typeof v === 'number' && numericMatches(op.numeric!, v));
    if (op.cidr !== undefined) return leaves.some((v) => typeof v === 'string' && inCidr(v, op.cidr!));
    if (op['anything-but'] !== undefined) {
      // The key must be present; an array matches when one of its elements is not excluded.
      return leaves.some((v) => !excludedBy(op['anything-but']!, v));
    }
    return false;
  }
  if (typeof condition === 'number') return leaves.some((v) => typeof v === 'number' && roundTo5(v) === roundTo5(condition));
  return leaves.some((v) => v === condition);
}

function describeLeaves(path: string, leaves: readonly Leaf[] | undefined): string {
  if (!leaves || leaves.length === 0) return `${path} is absent`;
  return `${path}=${show(leaves.length === 1 ? leaves[0] : leaves)}`;
}

function evaluateLevel(policy: FilterPolicy, document: Document, prefix: string, reasons: string[]): boolean {
  let matches = true;
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && isOrOperator(value)) {
      const branchReasons: string[][] = [];
      const hit = value.findIndex((branch) => {
        const r: string[] = [];
        branchReasons.push(r);
        return evaluateLevel(branch, document, prefix, r);
      });
      if (hit >= 0) {
        reasons.push(`$or: alternative ${hit + 1} of ${value.length} matched (${branchReasons[hit].join('; ')})`);
      } else {
        reasons.push(`$or: none of the ${value.length} alternatives matched (${branchReasons.map((r) => r.join('; ')).join(' | ')})`);
        matches = false;
      }
      continue;
    }
    const path = prefix ? `${prefix}.${key}` : key;
    if (Array.isArray(value)) {
      const leaves = document.get(path) ?? [];
      const hit = (value as readonly FilterCondition[]).find((c) => conditionMatches(c, leaves));
      if (hit !== undefined) {
        reasons.push(`${describeLeaves(path, leaves)} matched ${show(hit)}`);
      } else {
        reasons.push(`${describeLeaves(path, leaves)} matched none of ${show(value)}`);
        matches = false;
      }
    } else if (isPlainObject(value)) {
      if (!evaluateLevel(value as FilterPolicy, document, path, reasons)) matches = false;
    }
  }
  return matches;
}

/**
 * Whether SNS would deliver `message` to a subscription with this filter policy and scope, and why. A missing
 * policy delivers everything. Throws `FilterPolicyEvaluationError` (`FilterPolicy.Ipv6CidrUnsupported`) only for an
 * IPv6 `cidr`, which SNS accepts but this evaluator does not evaluate.
 */
export function evaluateFilterPolicy(
  policy: FilterPolicy | undefined,
  message: SnsMessage,
  scope: FilterPolicyScope = 'MessageAttributes',
): FilterResult {
  if (!policy || Object.keys(policy).length === 0) return { matches: true, reasons: ['no filter policy: every message'] };
  let document: Document;
  if (scope === 'MessageBody') {
    let body: unknown;
    try {
      body = JSON.parse(message.body ?? '');
    } catch {
      return { matches: false, reasons: ['the body is not JSON, so a MessageBody policy cannot match it'] };
    }
    if (!isPlainObject(body)) return { matches: false, reasons: ['the body is not a JSON object'] };
    document = new Map();
    flattenBody(body, '', document);
  } else {
    document = attributeDocument(message.attributes);
  }
  const reasons: string[] = [];
  const matches = evaluateLevel(policy, document, '', reasons);
  return { matches, reasons };
}

/** `evaluateFilterPolicy(...).matches`. */
export function matchesFilterPolicy(policy: FilterPolicy | undefined, message: SnsMessage, scope?: FilterPolicyScope): boolean {
  return evaluateFilterPolicy(policy, message, scope).matches;
}

// ---------------------------------------------------------------------------------------------------------------
// Limits and shape

/** Value combinations as SNS counts them: per level the product of the keys' counts, `$or` alternatives summed. */
export function filterPolicyCombinations(policy: FilterPolicy): number {
  let product = 1;
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && isOrOperator(value)) product *= value.reduce((sum, branch) => sum + filterPolicyCombinations(branch), 0);
    else if (Array.isArray(value)) product *= Math.max(1, value.length);
    else if (isPlainObject(value)) product *= filterPolicyCombinations(value as FilterPolicy);
  }
  return product;
}

/**
 * The keys SNS counts against its limit of 5: every attribute name with scope MessageAttributes, the top-level
 * keys with scope MessageBody. Keys inside top-level `$or` alternatives are counted too, once each.
 */
export function filterPolicyKeys(policy: FilterPolicy): string[] {
  const keys = new Set<string>();
  for (const [key, value] of Object.entries(policy)) {
    if (key === '$or' && isOrOperator(value)) for (const branch of value) for (const k of filterPolicyKeys(branch)) keys.add(k);
    else keys.add(key);
  }
  return [...keys];
}

function checkNumber(n: number, where: string, problems: FilterPolicyProblem[]): void {
  if (!Number.isFinite(n) || Math.abs(n) > SNS_FILTER_POLICY_LIMITS.maxNumber) {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: ${n} is outside ±1,000,000,000, the range SNS compares` });
  }
}

function checkNumeric(comparisons: unknown, where: string, problems: FilterPolicyProblem[]): void {
  const bad = (why: string): void => {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: numeric ${show(comparisons)} ${why}` });
  };
  if (!Array.isArray(comparisons) || (comparisons.length !== 2 && comparisons.length !== 4)) {
    return bad('must be [operator, number] or [lower operator, number, upper operator, number]');
  }
  for (let i = 0; i < comparisons.length; i += 2) {
    if (!['=', '>', '>=', '<', '<='].includes(comparisons[i])) return bad(`uses ${show(comparisons[i])}; operators are =, >, >=, <, <=`);
    if (typeof comparisons[i + 1] !== 'number') return bad('compares with something that is not a number');
    checkNumber(comparisons[i + 1], where, problems);
  }
  if (comparisons.length === 4) {
    const [lower, low, upper, high] = comparisons;
    if (!LOWER_BOUNDS.has(lower) || !UPPER_BOUNDS.has(upper)) return bad('must give the lower bound (> or >=) first, then the upper bound (< or <=)');
    if (low >= high) return bad('is an empty range');
  }
}

function checkAnythingBut(value: unknown, where: string, problems: FilterPolicyProblem[]): void {
  const bad = (): void => {
    problems.push({
      code: 'FilterPolicyCondition',
      message: `${where}: anything-but takes a string, a number, a non-empty array of them, or one of {prefix}, {suffix}, {equals-ignore-case}; got ${show(value)}`,
    });
  };
  if (typeof value === 'string') return;
  if (typeof value === 'number') return checkNumber(value, where, problems);
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every((v) => typeof v === 'string' || typeof v === 'number')) return bad();
    return;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && ['prefix', 'suffix', 'equals-ignore-case'].includes(keys[0]) && typeof value[keys[0]] === 'string') return;
  }
  bad();
}

function checkCondition(condition: unknown, where: string, problems: FilterPolicyProblem[]): void {
  if (condition === null || typeof condition === 'string' || typeof condition === 'boolean') return;
  if (typeof condition === 'number') return checkNumber(condition, where, problems);
  if (!isPlainObject(condition)) {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: ${show(condition)} is neither a value nor an operator` });
    return;
  }
  const keys = Object.keys(condition);
  if (keys.length !== 1 || !RESERVED.has(keys[0])) {
    problems.push({
      code: 'FilterPolicyCondition',
      message: `${where}: ${show(condition)} must be one operator of ${OPERATORS.join(', ')}`,
    });
    return;
  }
  const [operator] = keys;
  const value = condition[operator];
  const needsString = ['prefix', 'suffix', 'equals-ignore-case', 'cidr'].includes(operator);
  if (needsString && (typeof value !== 'string' || value === '')) {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: ${operator} takes a non-empty string, got ${show(value)}` });
  } else if (operator === 'cidr' && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(value as string)) {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: cidr ${show(value)} is not an address range like 10.0.0.0/24` });
  } else if (operator === 'exists' && typeof value !== 'boolean') {
    problems.push({ code: 'FilterPolicyCondition', message: `${where}: exists takes true or false, got ${show(value)}` });
  } else if (operator === 'numeric') {
    checkNumeric(value, where, problems);
  } else if (operator === 'anything-but') {
    checkAnythingBut(value, where, problems);
  }
}

function checkLevel(policy: FilterPolicy, scope: FilterPolicyScope, prefix: string, problems: FilterPolicyProblem[]): void {
  for (const [key, value] of Object.entries(policy)) {
    const where = prefix ? `${prefix}.${key}` : key;
    if (key === '$or') {
      if (!isOrOperator(value)) {
        problems.push({
          code: 'FilterPolicyOr',
          message: `${where} needs an array of at least 2 policies that use no operator name as a key; otherwise SNS reads "$or" as an attribute name`,
        });
      } else {
        value.forEach((branch, i) => checkLevel(branch, scope, `${prefix ? `${prefix}.` : ''}$or[${i}]`, problems));
      }
    } else if (Array.isArray(value)) {
      if (value.length === 0) problems.push({ code: 'FilterPolicyCondition', message: `${where}: an empty array matches nothing` });
      for (const condition of value) checkCondition(condition, where, problems);
    } else if (isPlainObject(value)) {
      if (scope === 'MessageAttributes') {
        problems.push({
          code: 'FilterPolicyNested',
          message: `${where}: attribute policies cannot nest keys; use filterPolicyScope 'MessageBody' to filter on nested fields of the body`,
        });
      } else if (Object.keys(value).length === 0) {
        problems.push({ code: 'FilterPolicyCondition', message: `${where}: an empty nested policy matches nothing` });
      } else {
        checkLevel(value as FilterPolicy, scope, where, problems);
      }
    } else {
      problems.push({ code: 'FilterPolicyCondition', message: `${where}: values must be in an array, e.g. [${show(value)}]` });
    }
  }
}

/** Every way `policy` breaks SNS's rules for `scope`; empty when SNS accepts it. */
export function checkFilterPolicy(policy: FilterPolicy, scope: FilterPolicyScope = 'MessageAttributes'): FilterPolicyProblem[] {
  const problems: FilterPolicyProblem[] = [];
  if (Object.keys(policy).length === 0) {
    return [{ code: 'FilterPolicyEmpty', message: 'an empty filter policy is refused by SNS; omit filterPolicy to receive every message' }];
  }
  const keys = filterPolicyKeys(policy);
  if (keys.length > SNS_FILTER_POLICY_LIMITS.maxKeys) {
    problems.push({
      code: 'FilterPolicyKeys',
      message: `${keys.length} keys (${keys.join(', ')}); SNS allows at most ${SNS_FILTER_POLICY_LIMITS.maxKeys}` +
        (scope === 'MessageBody' ? ' top-level keys' : ''),
    });
  }
  const combinations = filterPolicyCombinations(policy);
  if (combinations > SNS_FILTER_POLICY_LIMITS.maxCombinations) {
    problems.push({
      code: 'FilterPolicyCombinations',
      message: `${combinations} value combinations; SNS allows at most ${SNS_FILTER_POLICY_LIMITS.maxCombinations} (the product of the array lengths, summed over $or alternatives)`,
    });
  }
  const size = Buffer.byteLength(JSON.stringify(policy), 'utf8');
  if (size > SNS_FILTER_POLICY_LIMITS.maxSizeBytes) {
    problems.push({ code: 'FilterPolicySize', message: `${size} bytes of JSON; SNS allows at most 256 KB (262,144 bytes)` });
  }
  checkLevel(policy, scope, '', problems);
  return problems;
}
