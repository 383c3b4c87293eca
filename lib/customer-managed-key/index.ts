import { Aws, Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ConstructUsageError, PropsValidator } from '../core/validation';

/** KMS limits these props are checked against at synth (KMS developer guide: rotation, deletion, aliases). */
export const KMS_LIMITS = {
  minRotationDays: 90,
  maxRotationDays: 2560,
  minPendingWindowDays: 7,
  maxPendingWindowDays: 30,
  maxAliasLength: 256,
  /** `alias/` followed by letters, digits, `/`, `_` or `-`. */
  aliasPattern: /^alias\/[a-zA-Z0-9/_-]+$/,
  /** Aliases AWS reserves for AWS managed keys. */
  reservedAliasPattern: /^alias\/aws\//,
  /** Encryption context keys AWS reserves (any case). */
  reservedEncryptionContextKeyPattern: /^aws/i,
} as const;

/**
 * What key administrators may do: the key's life cycle (enable, disable, rotate, alias, tag, schedule and cancel
 * deletion) and reading its configuration. No cryptographic operation, no `kms:CreateGrant` (a grant could give
 * the administrator the use of the key) and no `kms:PutKeyPolicy` (a new policy could too): the account keeps those.
 */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
] as const;

/** What the account itself may do through IAM policies (CloudFormation's deploy role among them): administration only. */
export const ACCOUNT_ADMIN_ACTIONS = [...KEY_ADMIN_ACTIONS, 'kms:PutKeyPolicy'].sort();

/** What key users may do: envelope encryption (data keys), direct Encrypt/Decrypt of up to 4 KB, ReEncrypt. */
export const KEY_USER_CRYPTO_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

export interface CustomerManagedKeyProps {
  /**
   * Alias, with or without the `alias/` prefix: letters, digits, `/`, `_`, `-`; not under `alias/aws/`.
   * @default - `alias/<stack name>/<construct id>`, the stack name resolved at deploy time (no hard-coded name)
   */
  readonly alias?: string;
  /** What the key protects, shown in the console. @default - the construct path */
  readonly description?: string;
  /** Principals that manage the key but cannot use it (`KEY_ADMIN_ACTIONS`). @default - none: the account administers it through IAM */
  readonly admins?: iam.IPrincipal[];
  /** Principals that use the key but cannot manage it (`KEY_USER_CRYPTO_ACTIONS` + `kms:DescribeKey`). @default - none; add with `addUser` */
  readonly users?: iam.IPrincipal[];
  /**
   * Encryption context every cryptographic request of a key user must carry, as `kms:EncryptionContext:<key>`
   * conditions on the users' statement: data labelled otherwise cannot be encrypted or decrypted with this key.
   * @default - no condition: any encryption context, or none
   */
  readonly requiredEncryptionContext?: Record<string, string>;
  /** Time between automatic rotations of the key material (90–2,560 whole days). @default Duration.days(365) */
  readonly rotationPeriod?: Duration;
  /** Waiting period between scheduling deletion (on stack deletion) and the key's destruction (7–30 whole days). @default Duration.days(30) */
  readonly pendingWindow?: Duration;
}

/**
 * A symmetric customer managed KMS key with automatic rotation, an alias and a key policy that separates those
 * who manage the key from those who use it. The account statement lists administrative actions only (no
 * `kms:*`), so IAM policies alone can never grant the use of the key: a user must be named in the key policy.
 */
export class CustomerManagedKey extends Construct {
  public readonly key: kms.Key;
  public readonly alias: kms.Alias;
  public readonly rotationPeriod: Duration;
  public readonly pendingWindow: Duration;
  private readonly usersStatement: iam.PolicyStatement;
  private readonly describeStatement: iam.PolicyStatement;
  private readonly adminsStatement: iam.PolicyStatement;
  private readonly adminPrincipals: iam.IPrincipal[] = [];
  private readonly userPrincipals: iam.IPrincipal[] = [];

  constructor(scope: Construct, id: string, props: CustomerManagedKeyProps = {}) {
    super(scope, id);
    this.rotationPeriod = props.rotationPeriod ?? Duration.days(365);
    this.pendingWindow = props.pendingWindow ?? Duration.days(30);
    const aliasName = normalizeAlias(props.alias) ?? `alias/${Aws.STACK_NAME}/${id}`;
    validate(this, props, this.rotationPeriod, this.pendingWindow, normalizeAlias(props.alias));

    const account = new iam.AccountRootPrincipal();
    this.adminsStatement = new iam.PolicyStatement({ sid: 'KeyAdministratorsManageButCannotUse', actions: [...KEY_ADMIN_ACTIONS], resources: ['*'] });
    const context = props.requiredEncryptionContext ?? {};
    this.usersStatement = new iam.PolicyStatement({
      sid: 'KeyUsersUseButCannotManage',
      actions: [...KEY_USER_CRYPTO_ACTIONS],
      resources: ['*'],
      conditions: Object.keys(context).length
        ? { StringEquals: Object.fromEntries(Object.entries(context).map(([k, v]) => [`kms:EncryptionContext:${k}`, v])) }
        : undefined,
    });
    this.describeStatement = new iam.PolicyStatement({ sid: 'KeyUsersDescribe', actions: ['kms:DescribeKey'], resources: ['*'] });
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministersThroughIamOnly',
          principals: [account],
          actions: ACCOUNT_ADMIN_ACTIONS,
          resources: ['*'],
        }),
      ],
    });

    this.key = new kms.Key(this, 'Key', {
      description: props.description ?? `Customer managed key ${this.node.path}`,
      enableKeyRotation: true,
      rotationPeriod: this.rotationPeriod,
      pendingWindow: this.pendingWindow,
      policy,
    });
    this.alias = this.key.addAlias(aliasName);
    // A statement without principals is invalid: each is added to the policy with its first principal.
    for (const admin of props.admins ?? []) this.addAdmin(admin);
    for (const user of props.users ?? []) this.addUser(user);
  }

  /** Lets `principal` manage the key (never use it). Throws `CustomerManagedKey.AdminIsUser` if it is already a user. */
  addAdmin(principal: iam.IPrincipal): void {
    this.refuseOverlap(principal, this.userPrincipals, 'an administrator', 'a user');
    if (this.adminPrincipals.length === 0) this.key.addToResourcePolicy(this.adminsStatement);
    this.adminPrincipals.push(principal);
    this.adminsStatement.addPrincipals(principal);
  }

  /**
   * Lets `principal` use the key for cryptographic operations (never manage it), with the required encryption context.
   * Throws `CustomerManagedKey.AdminIsUser` if it is already an administrator.
   */
  addUser(principal: iam.IPrincipal): void {
    this.refuseOverlap(principal, this.adminPrincipals, 'a user', 'an administrator');
    if (this.userPrincipals.length === 0) {
      this.key.addToResourcePolicy(this.usersStatement);
      this.key.addToResourcePolicy(this.describeStatement);
    }
    this.userPrincipals.push(principal);
    this.usersStatement.addPrincipals(principal);
    this.describeStatement.addPrincipals(principal);
  }

  /** The key's ARN, for IAM policies and the `KeyId` of SDK calls. */
  get keyArn(): string {
    return this.key.keyArn;
  }

  private refuseOverlap(principal: iam.IPrincipal, others: iam.IPrincipal[], becoming: string, already: string): void {
    if (containsPrincipal(this, others, principal)) {
      throw new ConstructUsageError(this.node.path, 'CustomerManagedKey.AdminIsUser', overlapMessage(principal, becoming, already));
    }
  }
}

function containsPrincipal(scope: Construct, principals: readonly iam.IPrincipal[], principal: iam.IPrincipal): boolean {
  const json = (p: iam.IPrincipal) => JSON.stringify(Stack.of(scope).resolve(p.policyFragment.principalJson));
  return principals.some((other) => other === principal || json(other) === json(principal));
}

function overlapMessage(principal: iam.IPrincipal, becoming: string, already: string): string {
  return `${principalName(principal)} cannot become ${becoming}: it is already ${already}. Keep managing and using the key apart.`;
}

function normalizeAlias(alias: string | undefined): string | undefined {
  if (alias === undefined) return undefined;
  return alias.startsWith('alias/') ? alias : `alias/${alias}`;
}

function principalName(principal: iam.IPrincipal): string {
  return (principal as Partial<Construct>).node?.path ?? principal.toString();
}

const SECONDS_PER_DAY = 86_400;

function validate(scope: Construct, props: CustomerManagedKeyProps, rotation: Duration, pending: Duration, alias: string | undefined): void {
  const check = new PropsValidator(scope, 'CustomerManagedKey');
  const days = (duration: Duration, name: string) => {
    // kms.Key checks both ranges at synth, on the token's placeholder number too: a token can never pass.
    if (duration.isUnresolved()) {
      check.require(false, 'DurationToken', `${name} cannot be a token: CDK's kms.Key checks its range at synth, so give a number of days`);
      return undefined;
    }
    const seconds = check.seconds(duration, name, { integral: false });
    return seconds === undefined ? undefined : seconds / SECONDS_PER_DAY;
  };
  const rotationDays = days(rotation, 'rotationPeriod');
  check.inRange(
    rotationDays,
    { min: KMS_LIMITS.minRotationDays, max: KMS_LIMITS.maxRotationDays, whole: true },
    'RotationPeriodRange',
    `rotationPeriod must be a whole number of days between ${KMS_LIMITS.minRotationDays} and ${KMS_LIMITS.maxRotationDays}, got ${rotationDays}`,
  );
  const pendingDays = days(pending, 'pendingWindow');
  check.inRange(
    pendingDays,
    { min: KMS_LIMITS.minPendingWindowDays, max: KMS_LIMITS.maxPendingWindowDays, whole: true },
    'PendingWindowRange',
    `pendingWindow must be a whole number of days between ${KMS_LIMITS.minPendingWindowDays} and ${KMS_LIMITS.maxPendingWindowDays}, got ${pendingDays}`,
  );
  if (alias !== undefined && !Token.isUnresolved(alias)) {
    check.require(
      KMS_LIMITS.aliasPattern.test(alias) && alias.length <= KMS_LIMITS.maxAliasLength,
      'AliasFormat',
      `alias must be "alias/" followed by letters, digits, "/", "_" or "-" (${KMS_LIMITS.maxAliasLength} characters at most), got "${alias}"`,
    );
    check.require(
      !KMS_LIMITS.reservedAliasPattern.test(alias),
      'AliasReserved',
      `alias "${alias}" is under alias/aws/, which AWS reserves for AWS managed keys`,
    );
  }
  for (const [key, value] of Object.entries(props.requiredEncryptionContext ?? {})) {
    check.require(key.length > 0 && value.length > 0, 'EncryptionContextEmpty', 'requiredEncryptionContext keys and values must not be empty');
    check.require(!KMS_LIMITS.reservedEncryptionContextKeyPattern.test(key), 'EncryptionContextReserved', `requiredEncryptionContext key "${key}" starts with "aws", a prefix AWS reserves`);
  }
  // Administrators are added first: a principal among the users too cannot then become a user.
  for (const user of props.users ?? []) {
    check.require(
      !containsPrincipal(scope, props.admins ?? [], user),
      'AdminIsUser',
      overlapMessage(user, 'a user', 'an administrator'),
    );
  }
  check.throwIfInvalid();
}
