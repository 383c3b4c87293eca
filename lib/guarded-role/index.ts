import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PropsValidator, tokenInSeconds } from '../core/validation';

/** IAM's limits these props are checked against at synth. */
export const ROLE_LIMITS = {
  minSessionSeconds: 3_600,
  maxSessionSeconds: 43_200,
  /** The smallest `aws:MultiFactorAuthAge` bound that lets anyone in. */
  minMfaMaxAgeSeconds: 1,
  externalIdPattern: /^[\w+=,.@:/-]{2,1224}$/,
} as const;

/** An MFA-authenticated session required by the trust policy. */
export interface MfaOptions {
  /** How long ago the MFA code may have been entered (`aws:MultiFactorAuthAge`), whole seconds. @default Duration.hours(1) */
  readonly maxAge?: Duration;
}

export interface GuardedRoleProps {
  /** Account whose principals may assume the role (if their IAM policies allow sts:AssumeRole on it). @default - this stack's account */
  readonly trustedAccount?: string;
  /**
   * Require an MFA-authenticated session: `aws:MultiFactorAuthPresent` true and `aws:MultiFactorAuthAge` below maxAge
   * (`{}` for a maximum age of one hour). @default - not required
   */
  readonly requireMfa?: MfaOptions;
  /**
   * Require this `sts:ExternalId` in AssumeRole: what a third party you grant access to must send, so that another of
   * its customers cannot make it act on your account (the confused-deputy problem). 2–1,224 characters of
   * letters, digits and `+=,.@:/-`. @default - no external id
   */
  readonly externalId?: string;
  /** Customer managed policies to attach (reusable, versioned, attached to many identities). @default - none */
  readonly managedPolicies?: iam.IManagedPolicy[];
  /** Inline policies, embedded in this role only and deleted with it. @default - none */
  readonly inlinePolicies?: Record<string, iam.PolicyDocument>;
  /** The most the identity policies can grant: the role may do only what both allow. @default - no boundary */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /** How long a session may last (1–12 hours, whole seconds); role chaining caps it at 1 hour anyway. @default Duration.hours(1) */
  readonly maxSessionDuration?: Duration;
  /** What the role is for. @default - none */
  readonly description?: string;
}

/**
 * An IAM role whose trust policy can demand MFA and/or an external id, with customer managed and inline policies and
 * an optional permissions boundary. Refuses wildcard actions (`*`, `service:*`) in its inline policies and warns on
 * AWS managed policies.
 */
export class GuardedRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: GuardedRoleProps = {}) {
    super(scope, id);
    const maxAge = props.requireMfa ? (props.requireMfa.maxAge ?? Duration.hours(1)) : undefined;
    const mfaAgeSeconds = validate(this, props, maxAge);

    const conditions: Record<string, Record<string, unknown>> = {};
    if (mfaAgeSeconds !== undefined) {
      conditions.Bool = { 'aws:MultiFactorAuthPresent': 'true' };
      conditions.NumericLessThan = { 'aws:MultiFactorAuthAge': String(mfaAgeSeconds) };
    }
    if (props.externalId !== undefined) conditions.StringEquals = { 'sts:ExternalId': props.externalId };
    const account = props.trustedAccount ?? Stack.of(this).account;
    const trusted = new iam.AccountPrincipal(account);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: Object.keys(conditions).length ? trusted.withConditions(conditions) : trusted,
      managedPolicies: props.managedPolicies,
      inlinePolicies: props.inlinePolicies,
      permissionsBoundary: props.permissionsBoundary,
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      description: props.description,
    });
  }

  get roleArn(): string {
    return this.role.roleArn;
  }

  /** Lets `grantee` call sts:AssumeRole on this role (its trust policy must trust the grantee's account too). */
  grantAssumeRole(grantee: iam.IPrincipal): iam.Grant {
    return this.role.grantAssumeRole(grantee);
  }
}

function actionsOf(document: iam.PolicyDocument, scope: Construct): string[] {
  const json = Stack.of(scope).resolve(document.toJSON()) as { Statement?: { Action?: string | string[] }[] } | undefined;
  return (json?.Statement ?? []).flatMap((s) => [s.Action ?? []].flat());
}

/** Validates the props; returns the MFA age in seconds (a number, or a token given in seconds), undefined without `requireMfa`. */
function validate(scope: Construct, props: GuardedRoleProps, maxAge: Duration | undefined): number | undefined {
  const check = new PropsValidator(scope, 'GuardedRole');
  if (props.externalId !== undefined && !Token.isUnresolved(props.externalId)) {
    check.require(
      ROLE_LIMITS.externalIdPattern.test(props.externalId),
      'ExternalIdFormat',
      `externalId must be 2–1224 characters of letters, digits and +=,.@:/-, got "${props.externalId}"`,
    );
  }
  const seconds = check.seconds(props.maxSessionDuration, 'maxSessionDuration');
  if (seconds !== undefined) {
    check.inRange(
      seconds,
      { min: ROLE_LIMITS.minSessionSeconds, max: ROLE_LIMITS.maxSessionSeconds },
      'MaxSessionDurationRange',
      `maxSessionDuration must be between 1 and 12 hours, got ${seconds} seconds`,
    );
  }
  const mfaAge = check.seconds(maxAge, 'requireMfa.maxAge');
  const mfaAgeToken = tokenInSeconds(maxAge);
  if (mfaAge !== undefined) {
    check.require(
      mfaAge >= ROLE_LIMITS.minMfaMaxAgeSeconds,
      'MfaMaxAgeRange',
      `requireMfa.maxAge must be at least ${ROLE_LIMITS.minMfaMaxAgeSeconds} second, got ${mfaAge}`,
    );
  }
  for (const [name, document] of Object.entries(props.inlinePolicies ?? {})) {
    const wildcards = actionsOf(document, scope).filter((a) => a === '*' || /^[a-z0-9-]+:\*$/i.test(a));
    check.require(
      wildcards.length === 0,
      'WildcardAction',
      `inline policy ${name} allows ${wildcards.join(', ')}: list the actions the role needs`,
    );
  }
  for (const policy of props.managedPolicies ?? []) {
    const arn = policy.managedPolicyArn;
    const text = Token.isUnresolved(arn) ? JSON.stringify(Stack.of(scope).resolve(arn)) : arn;
    const awsManaged = /:iam::aws:policy\/([\w+=,.@/-]+)/.exec(text)?.[1];
    check.warnUnless(
      awsManaged === undefined,
      'AwsManagedPolicy',
      `${awsManaged} is an AWS managed policy: AWS can change it and it is rarely least privilege; prefer a customer managed policy`,
    );
  }
  check.throwIfInvalid();
  return mfaAge ?? mfaAgeToken;
}
