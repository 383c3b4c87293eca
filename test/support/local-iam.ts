/**
 * A small IAM policy evaluator and template resolver for the local engines of the security labs (KMS, STS, S3).
 * It covers the policy grammar those labs synthesize (Allow/Deny, Principal, Action/NotAction, Resource, and the
 * condition operators below, with IfExists and ForAllValues/ForAnyValue) and refuses anything else loudly, so a
 * test never passes because the evaluator silently ignored a condition.
 */

export type Values = string | string[];
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | { AWS?: Values; Service?: Values; Federated?: Values };
  Action?: Values;
  NotAction?: Values;
  Resource?: Values;
  NotResource?: Values;
  Condition?: Record<string, Record<string, unknown>>;
}
export interface PolicyDocument {
  Version?: string;
  Statement: PolicyStatement[] | PolicyStatement;
}

/** Who calls: an IAM user, an assumed role session, a service. */
export interface Caller {
  /** e.g. arn:aws:iam::123456789012:user/learner or arn:aws:sts::123456789012:assumed-role/Role/session */
  readonly arn: string;
  readonly account: string;
  /** For service principals (s3.amazonaws.com ...). */
  readonly service?: string;
  /** Identity-based policies; `'allow-all'` for an administrator. */
  readonly identityPolicies: readonly PolicyDocument[] | 'allow-all';
  /** Permissions boundary: identity permissions beyond it do not apply. */
  readonly boundary?: PolicyDocument;
  /** Session condition keys: aws:MultiFactorAuthPresent, aws:MultiFactorAuthAge ... */
  readonly sessionKeys?: Record<string, Values>;
}

export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Request condition keys, e.g. kms:EncryptionContext:app, sts:ExternalId, aws:SecureTransport. */
  readonly keys?: Record<string, Values | undefined>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

const asArray = (value: Values | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const statementsOf = (doc: PolicyDocument): PolicyStatement[] => (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]);

function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const regex = new RegExp(`^${pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`, ignoreCase ? 'i' : '');
  return regex.test(value);
}

/** The role ARN behind an assumed-role session ARN, which is what a policy names. */
export function roleArnOfSession(arn: string): string | undefined {
  const match = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return match ? `arn:${match[1]}:iam::${match[2]}:role/${match[3]}` : undefined;
}

function callerMatchesArn(caller: Caller, principal: string): 'direct' | 'account' | false {
  if (principal === '*') return 'direct';
  if (/^\d{12}$/.test(principal) || /^arn:aws[a-z-]*:iam::\d{12}:root$/.test(principal)) {
    const account = /(\d{12})/.exec(principal)?.[1];
    return account === caller.account && !caller.service ? 'account' : false;
  }
  if (principal === caller.arn) return 'direct';
  const sessionRole = roleArnOfSession(caller.arn);
  const named = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(principal);
  if (sessionRole && named && sessionRole.endsWith(`:iam::${named[1]}:role/${named[2]}`)) return 'direct';
  return false;
}

/** How a statement's Principal names the caller: directly, through its account (IAM must allow too), or not. */
export function principalMatch(statement: PolicyStatement, caller: Caller): 'direct' | 'account' | false {
  const principal = statement.Principal;
  if (principal === undefined) return 'direct'; // identity-based statement
  if (principal === '*') return 'direct';
  if (caller.service) return asArray(principal.Service).includes(caller.service) ? 'direct' : false;
  let best: 'direct' | 'account' | false = false;
  for (const arn of asArray(principal.AWS)) {
    const match = callerMatchesArn(caller, arn);
    if (match === 'direct') return 'direct';
    if (match === 'account') best = 'account';
  }
  return best;
}

function actionMatches(statement: PolicyStatement, action: string): boolean {
  if (statement.NotAction !== undefined) return !asArray(statement.NotAction).some((a) => glob(a, action, true));
  return asArray(statement.Action).some((a) => glob(a, action, true));
}

function resourceMatches(statement: PolicyStatement, resource: string): boolean {
  if (statement.NotResource !== undefined) return !asArray(statement.NotResource).some((r) => glob(r, resource));
  if (statement.Resource === undefined) return true; // resource-based policies may omit it in tests' hand-written docs
  return asArray(statement.Resource).some((r) => glob(r, resource));
}

const lookup = (keys: Record<string, Values | undefined>, name: string): string[] | undefined => {
  const found = Object.entries(keys).find(([k, v]) => k.toLowerCase() === name.toLowerCase() && v !== undefined);
  return found ? asArray(found[1]) : undefined;
};

type Matcher = (requestValue: string, policyValue: string) => boolean;
const MATCHERS: Record<string, { match: Matcher; negated: boolean }> = {
  StringEquals: { match: (a, b) => a === b, negated: false },
  StringNotEquals: { match: (a, b) => a === b, negated: true },
  StringEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (a, b) => a.toLowerCase() === b.toLowerCase(), negated: true },
  StringLike: { match: (a, b) => glob(b, a), negated: false },
  StringNotLike: { match: (a, b) => glob(b, a), negated: true },
  ArnEquals: { match: (a, b) => a === b, negated: false },
  ArnLike: { match: (a, b) => glob(b, a), negated: false },
  ArnNotEquals: { match: (a, b) => a === b, negated: true },
  ArnNotLike: { match: (a, b) => glob(b, a), negated: true },
  Bool: { match: (a, b) => a.toLowerCase() === String(b).toLowerCase(), negated: false },
  NumericEquals: { match: (a, b) => Number(a) === Number(b), negated: false },
  NumericNotEquals: { match: (a, b) => Number(a) === Number(b), negated: true },
  NumericLessThan: { match: (a, b) => Number(a) < Number(b), negated: false },
  NumericLessThanEquals: { match: (a, b) => Number(a) <= Number(b), negated: false },
  NumericGreaterThan: { match: (a, b) => Number(a) > Number(b), negated: false },
  NumericGreaterThanEquals: { match: (a, b) => Number(a) >= Number(b), negated: false },
};

/** Whether one condition operator holds for the request; throws on an operator this evaluator does not know. */
function operatorHolds(operator: string, conditions: Record<string, unknown>, keys: Record<string, Values | undefined>): boolean {
  const [setOperator, rest] = operator.includes(':') ? operator.split(':') : [undefined, operator];
  const ifExists = rest.endsWith('IfExists');
  const base = ifExists ? rest.slice(0, -'IfExists'.length) : rest;
  for (const [key, raw] of Object.entries(conditions)) {
    const policyValues = asArray(raw as Values).map(String);
    const requestValues = lookup(keys, key);
    if (base === 'Null') {
      if (policyValues.length !== 1 || !['true', 'false'].includes(policyValues[0])) throw new Error(`Null takes "true" or "false", got ${raw}`);
      if ((requestValues === undefined) !== (policyValues[0] === 'true')) return false;
      continue;
    }
    const matcher = MATCHERS[base];
    if (!matcher) throw new Error(`local IAM evaluator: condition operator ${operator} is not supported`);
    if (requestValues === undefined) {
      if (setOperator === 'ForAllValues') continue;
      if (setOperator === 'ForAnyValue') return false;
      if (ifExists || matcher.negated) continue;
      return false;
    }
    const matchesAny = (value: string) => policyValues.some((p) => matcher.match(value, p));
    let holds: boolean;
    if (setOperator === 'ForAllValues') holds = requestValues.every((v) => (matcher.negated ? !matchesAny(v) : matchesAny(v)));
    else if (setOperator === 'ForAnyValue') holds = requestValues.some((v) => (matcher.negated ? !matchesAny(v) : matchesAny(v)));
    else if (setOperator !== undefined) throw new Error(`local IAM evaluator: set operator ${setOperator} is not supported`);
    else holds = matcher.negated ? !requestValues.some(matchesAny) : requestValues.some(matchesAny);
    if (!holds) return false;
  }
  return true;
}

export function conditionsHold(statement: PolicyStatement, keys: Record<string, Values | undefined>): boolean {
  return Object.entries(statement.Condition ?? {}).every(([operator, conditions]) => operatorHolds(operator, conditions, keys));
}

export interface PolicyEvaluation {
  readonly decision: Decision;
  /** 'account' when only a statement naming the caller's account allowed it: IAM must allow too. */
  readonly via?: 'direct' | 'account';
  readonly matched: PolicyStatement[];
}

/** Evaluates one policy (identity- or resource-based) for a caller and a request. */
export function evaluatePolicy(doc: PolicyDocument, caller: Caller, request: AuthorizationRequest): PolicyEvaluation {
  const keys = { ...caller.sessionKeys, 'aws:PrincipalArn': roleArnOfSession(caller.arn) ?? caller.arn, 'aws:PrincipalAccount': caller.account, ...request.keys };
  const applicable = statementsOf(doc)
    .map((statement) => ({ statement, principal: principalMatch(statement, caller) }))
    .filter(({ statement, principal }) =>
      principal !== false && actionMatches(statement, request.action) && resourceMatches(statement, request.resource) && conditionsHold(statement, keys),
    );
  const denies = applicable.filter(({ statement }) => statement.Effect === 'Deny');
  if (denies.length > 0) return { decision: 'ExplicitDeny', matched: denies.map((d) => d.statement) };
  const allows = applicable.filter(({ statement }) => statement.Effect === 'Allow');
  if (allows.length === 0) return { decision: 'ImplicitDeny', matched: [] };
  const via = allows.some((a) => a.principal === 'direct') ? 'direct' : 'account';
  return { decision: 'Allow', via, matched: allows.map((a) => a.statement) };
}

/** The caller's identity-based permissions, limited by its permissions boundary. */
export function identityDecision(caller: Caller, request: AuthorizationRequest): Decision {
  if (caller.identityPolicies === 'allow-all') return 'Allow';
  const results = caller.identityPolicies.map((doc) => evaluatePolicy(doc, caller, request).decision);
  if (results.includes('ExplicitDeny')) return 'ExplicitDeny';
  if (!results.includes('Allow')) return 'ImplicitDeny';
  if (caller.boundary) {
    const bounded = evaluatePolicy(caller.boundary, caller, request).decision;
    if (bounded !== 'Allow') return bounded === 'ExplicitDeny' ? 'ExplicitDeny' : 'ImplicitDeny';
  }
  return 'Allow';
}

/**
 * Same-account authorization with a resource policy: an explicit deny anywhere denies; a resource policy that
 * names the caller directly allows on its own; one that names the caller's account needs IAM to allow too.
 * `keyPolicyOnly` is KMS's rule: without the key policy's allow (directly or through the account), IAM cannot help.
 */
export function authorize(
  caller: Caller,
  request: AuthorizationRequest,
  resourcePolicy?: PolicyDocument,
  options: { keyPolicyOnly?: boolean } = {},
): Decision {
  const identity = identityDecision(caller, request);
  if (identity === 'ExplicitDeny') return 'ExplicitDeny';
  if (!resourcePolicy) return identity;
  const resource = evaluatePolicy(resourcePolicy, caller, request);
  if (resource.decision === 'ExplicitDeny') return 'ExplicitDeny';
  if (resource.decision === 'Allow' && resource.via === 'direct') return 'Allow';
  if (resource.decision === 'Allow' && resource.via === 'account') return identity;
  return options.keyPolicyOnly ? 'ImplicitDeny' : identity;
}

// ---------------------------------------------------------------------------------------------------------------
// Template values: Ref, Fn::GetAtt, Fn::Join, Fn::Select, Fn::Split, Fn::Sub, pseudo parameters.

export interface DeployedResource {
  /** What `Ref` returns. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, per attribute. */
  readonly attributes: Record<string, string>;
}

export interface TemplateEnvironment {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly resources: Record<string, DeployedResource>;
}

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';

export function pseudoParameters(env: TemplateEnvironment): Record<string, string> {
  return {
    'AWS::AccountId': env.account,
    'AWS::Partition': 'aws',
    'AWS::Region': env.region,
    'AWS::StackName': env.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${env.region}:${env.account}:stack/${env.stackName}/5e3c1e10-0000-4000-8000-00000000abcd`,
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::NoValue': '',
  };
}

/** Resolves the intrinsic functions CDK emits in policies and outputs; throws on what it cannot resolve. */
export function resolveValue(value: unknown, env: TemplateEnvironment): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveValue(v, env));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  if (keys.length === 1) {
    const [fn] = keys;
    const arg = object[fn];
    const pseudo = pseudoParameters(env);
    switch (fn) {
      case 'Ref': {
        const name = arg as string;
        if (name in pseudo) return pseudo[name];
        const resource = env.resources[name];
        if (!resource) throw new Error(`cannot resolve Ref ${name}: not deployed locally`);
        return resource.ref;
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = arg as [string, string];
        const resolved = env.resources[id]?.attributes[attribute];
        if (resolved === undefined) throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute}: not deployed locally`);
        return resolved;
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, unknown[]];
        return (resolveValue(parts, env) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number | string, unknown];
        return (resolveValue(list, env) as unknown[])[Number(index)];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, unknown];
        return String(resolveValue(source, env)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof arg === 'string' ? [arg, {}] : (arg as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
          if (name in (variables as object)) return String(resolveValue((variables as Record<string, unknown>)[name], env));
          if (name in pseudo) return pseudo[name];
          const [id, attribute] = name.split('.');
          return String(resolveValue(attribute ? { 'Fn::GetAtt': [id, attribute] } : { Ref: id }, env));
        });
      }
      default:
        if (fn.startsWith('Fn::')) throw new Error(`cannot resolve ${fn} locally`);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveValue(object[k], env)]));
}

/** A learner with administrator permissions, calling with the default local credentials. */
export function learner(account = LOCAL_ACCOUNT): Caller {
  return { arn: `arn:aws:iam::${account}:user/learner`, account, identityPolicies: 'allow-all' };
}
