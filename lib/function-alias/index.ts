import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** Lambda's limits for aliases and asynchronous invocation (Lambda API reference: CreateAlias, PutFunctionEventInvokeConfig). */
export const ALIAS_LIMITS = {
  /** Letters, digits, `-` and `_`; not only digits (that would name a version). */
  aliasNamePattern: /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/,
  /** Provisioned concurrency on an alias: at least one execution environment. */
  minProvisionedConcurrency: 1,
  maxRetryAttempts: 2,
  minEventAgeSeconds: 60,
  maxEventAgeSeconds: 21_600,
} as const;

/** A second version that receives a share of the alias's invocations (`RoutingConfig.AdditionalVersionWeights`). */
export interface AliasCanaryOptions {
  /** The version that receives `weight` of the invocations; a published version of the same function. */
  readonly version: lambda.IVersion;
  /** Share of the invocations routed to `version`, strictly between 0 and 1 (0.1 = 10 %). */
  readonly weight: number;
}

export interface FunctionAliasProps {
  /** Name of the alias: 1–128 letters, digits, `-` or `_`, not only digits. @default 'live' */
  readonly aliasName?: string;
  /** The published version that receives every invocation, or `1 - canary.weight` of them. */
  readonly version: lambda.IVersion;
  /** Weighted routing to a second version (one at most: Lambda allows two versions per alias). @default - no canary */
  readonly canary?: AliasCanaryOptions;
  /**
   * Execution environments kept initialised on the alias (a whole number ≥ 1); not with `canary` (CloudFormation
   * refuses both on one alias). Billed per GB-second while configured, used or not. @default - none: nothing billed while idle
   */
  readonly provisionedConcurrency?: number;
  /** Retries after a failed asynchronous invocation (0–2); Lambda waits 1 min, then 2 min, between attempts. @default 2 */
  readonly retryAttempts?: number;
  /**
   * How long an asynchronous event may wait in Lambda's internal queue (60 s – 6 h, whole seconds) before it is
   * discarded. @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /** Where Lambda sends a record of each successful asynchronous invocation. @default - none */
  readonly onSuccess?: lambda.IDestination;
  /** Where Lambda sends a record of an asynchronous invocation that failed every attempt or expired. @default - none */
  readonly onFailure?: lambda.IDestination;
  /** Description of the alias. @default - none */
  readonly description?: string;
}

/**
 * A Lambda alias with its asynchronous invocation settings (retries, event age, destinations) and, optionally,
 * weighted routing to a second version and provisioned concurrency. Callers invoke the alias ARN; what runs behind
 * it changes by moving the alias, never the callers.
 */
export class FunctionAlias extends Construct {
  public readonly alias: lambda.Alias;
  public readonly aliasName: string;
  public readonly retryAttempts: number;
  public readonly maxEventAge: Duration;

  constructor(scope: Construct, id: string, props: FunctionAliasProps) {
    super(scope, id);
    this.aliasName = props.aliasName ?? 'live';
    this.retryAttempts = props.retryAttempts ?? 2;
    this.maxEventAge = props.maxEventAge ?? Duration.hours(6);
    validate(this, props, this.aliasName, this.retryAttempts, this.maxEventAge);

    this.alias = new lambda.Alias(this, 'Alias', {
      aliasName: this.aliasName,
      version: props.version,
      description: props.description,
      additionalVersions: props.canary ? [{ version: props.canary.version, weight: props.canary.weight }] : undefined,
      provisionedConcurrentExecutions: props.provisionedConcurrency,
      retryAttempts: this.retryAttempts,
      maxEventAge: this.maxEventAge,
      onSuccess: props.onSuccess,
      onFailure: props.onFailure,
    });
  }
}

const LATEST = '$LATEST';

function sameFunction(scope: Construct, a: lambda.IFunction, b: lambda.IFunction): boolean {
  if (a === b) return true;
  const stack = Stack.of(scope);
  return JSON.stringify(stack.resolve(a.functionArn)) === JSON.stringify(stack.resolve(b.functionArn));
}

function sameVersion(scope: Construct, a: lambda.IVersion, b: lambda.IVersion): boolean {
  if (a === b) return true;
  const stack = Stack.of(scope);
  return JSON.stringify(stack.resolve(a.version)) === JSON.stringify(stack.resolve(b.version));
}

function validate(
  scope: Construct,
  props: FunctionAliasProps,
  aliasName: string,
  retryAttempts: number,
  maxEventAge: Duration,
): void {
  const check = new PropsValidator(scope, 'FunctionAlias');
  if (!Token.isUnresolved(aliasName)) {
    check.require(
      ALIAS_LIMITS.aliasNamePattern.test(aliasName),
      'AliasName',
      `aliasName must be 1–128 letters, digits, "-" or "_" and not only digits, got "${aliasName}"`,
    );
  }
  const primaryIsLatest = props.version.version === LATEST;
  if (props.canary) {
    const { weight, version } = props.canary;
    check.require(
      Number.isFinite(weight) && weight > 0 && weight < 1,
      'CanaryWeightRange',
      `canary.weight must be between 0 and 1, exclusive (0.1 routes 10 % of invocations), got ${weight}`,
    );
    check.require(
      !primaryIsLatest && version.version !== LATEST,
      'RoutingWithLatest',
      'weighted routing needs two published versions; $LATEST cannot take part in it',
    );
    check.require(
      !sameVersion(scope, props.version, version),
      'CanaryIsPrimary',
      'canary.version is the alias\'s own version: weighted routing needs two different versions',
    );
    check.require(
      sameFunction(scope, props.version.lambda, version.lambda),
      'VersionsOfDifferentFunctions',
      'canary.version belongs to another function than version: an alias routes between versions of one function',
    );
  }
  if (props.provisionedConcurrency !== undefined) {
    check.require(
      Number.isInteger(props.provisionedConcurrency) && props.provisionedConcurrency >= ALIAS_LIMITS.minProvisionedConcurrency,
      'ProvisionedConcurrencyRange',
      `provisionedConcurrency must be a whole number of at least ${ALIAS_LIMITS.minProvisionedConcurrency}, got ${props.provisionedConcurrency}`,
    );
    check.require(
      !primaryIsLatest,
      'ProvisionedConcurrencyOnLatest',
      'provisioned concurrency needs a published version behind the alias, not $LATEST',
    );
    check.require(
      !props.canary,
      'ProvisionedConcurrencyWithCanary',
      'CloudFormation does not accept provisioned concurrency on an alias with weighted routing: drop the canary, ' +
        'or configure provisioned concurrency on the versions instead',
    );
  }
  check.inRange(
    retryAttempts,
    { min: 0, max: ALIAS_LIMITS.maxRetryAttempts, whole: true },
    'RetryAttemptsRange',
    `retryAttempts must be 0, 1 or 2, got ${retryAttempts}`,
  );
  const age = check.seconds(maxEventAge, 'maxEventAge');
  if (age !== undefined) {
    check.inRange(
      age,
      { min: ALIAS_LIMITS.minEventAgeSeconds, max: ALIAS_LIMITS.maxEventAgeSeconds },
      'MaxEventAgeRange',
      `maxEventAge must be between 60 seconds and 6 hours (21,600 seconds), got ${age}`,
    );
  }
  check.throwIfInvalid();
}
