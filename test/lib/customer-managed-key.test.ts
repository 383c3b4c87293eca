import { CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConstructUsageError } from '../../lib/core/validation';
import { ACCOUNT_ADMIN_ACTIONS, CustomerManagedKey, KEY_ADMIN_ACTIONS, KEY_USER_CRYPTO_ACTIONS } from '../../lib/customer-managed-key';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const problemsOf = (build: (stack: Stack) => void) => problemMessagesOf(() => build(newStack()));

const CRYPTO = /^kms:(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|Sign|Verify|GenerateMac|VerifyMac|DeriveSharedSecret)/;

describe('CustomerManagedKey', () => {
  const stack = newStack();
  const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
  const user = new iam.Role(stack, 'User', { assumedBy: new iam.AccountRootPrincipal() });
  const cmk = new CustomerManagedKey(stack, 'Data', { admins: [admin], users: [user], requiredEncryptionContext: { app: 'billing' } });
  const template = Template.fromStack(stack);
  const statements = () =>
    (Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement as { Sid: string; Action: string | string[]; Principal: unknown; Condition?: unknown }[]);
  const statement = (sid: string) => statements().find((s) => s.Sid === sid)!;
  const actions = (sid: string) => [statement(sid).Action].flat();

  test('a symmetric key rotating every 365 days by default, deleted after 30 days', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 30 });
    expect(cmk.rotationPeriod.toDays()).toBe(365);
  });

  test('an alias named after the deployed stack, not a hard-coded name', () => {
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: { 'Fn::Join': ['', ['alias/', { Ref: 'AWS::StackName' }, '/Data']] },
      TargetKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('DataKey'), 'Arn'] },
    });
  });

  test('the account administers the key through IAM but cannot use it: no kms:*, no cryptographic action', () => {
    const account = statement('AccountAdministersThroughIamOnly');
    expect(account.Principal).toEqual({ AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } });
    expect(actions('AccountAdministersThroughIamOnly')).toEqual(ACCOUNT_ADMIN_ACTIONS);
    expect(actions('AccountAdministersThroughIamOnly').filter((a) => CRYPTO.test(a))).toEqual([]);
  });

  test('administrators manage but cannot use the key, nor grant or re-write who can', () => {
    expect(statement('KeyAdministratorsManageButCannotUse').Principal).toEqual({ AWS: { 'Fn::GetAtt': [expect.stringMatching(/^Admin/), 'Arn'] } });
    const admins = actions('KeyAdministratorsManageButCannotUse');
    expect(admins).toEqual([...KEY_ADMIN_ACTIONS]);
    expect(admins.filter((a) => CRYPTO.test(a))).toEqual([]);
    expect(admins).not.toContain('kms:CreateGrant');
    expect(admins).not.toContain('kms:PutKeyPolicy');
    expect(admins).toEqual(expect.arrayContaining(['kms:ScheduleKeyDeletion', 'kms:EnableKeyRotation', 'kms:DisableKey']));
  });

  test('users use but cannot manage the key, and only with the required encryption context', () => {
    const users = statement('KeyUsersUseButCannotManage');
    expect(actions('KeyUsersUseButCannotManage')).toEqual([...KEY_USER_CRYPTO_ACTIONS]);
    expect(users.Condition).toEqual({ StringEquals: { 'kms:EncryptionContext:app': 'billing' } });
    expect(actions('KeyUsersDescribe')).toEqual(['kms:DescribeKey']);
    const all = [...actions('KeyUsersUseButCannotManage'), ...actions('KeyUsersDescribe')];
    expect(all.filter((a) => ACCOUNT_ADMIN_ACTIONS.includes(a) && a !== 'kms:DescribeKey')).toEqual([]);
  });

  test('no statement has a wildcard action; every statement is about this key (Resource "*" in a key policy)', () => {
    for (const s of statements()) expect([s.Action].flat().filter((a) => a.includes('*'))).toEqual([]);
    expect(statements().map((s) => [s.Sid, (s as { Resource?: unknown }).Resource])).toEqual([
      ['AccountAdministersThroughIamOnly', '*'],
      ['KeyAdministratorsManageButCannotUse', '*'],
      ['KeyUsersUseButCannotManage', '*'],
      ['KeyUsersDescribe', '*'],
    ]);
  });

  test('described by its path unless told otherwise; keyArn is the key\'s', () => {
    template.hasResourceProperties('AWS::KMS::Key', { Description: 'Customer managed key Test/Data' });
    expect(cmk.keyArn).toBe(cmk.key.keyArn);
  });

  test('statements without principals are left out', () => {
    const bare = newStack();
    new CustomerManagedKey(bare, 'Bare');
    const sids = (Object.values(Template.fromStack(bare).findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy.Statement as { Sid: string }[]).map((s) => s.Sid);
    expect(sids).toEqual(['AccountAdministersThroughIamOnly']);
  });

  test('addUser adds a principal to the users statements', () => {
    const grown = newStack();
    const key = new CustomerManagedKey(grown, 'Grown');
    const role = new iam.Role(grown, 'Fn', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    key.addUser(role);
    Template.fromStack(grown).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'KeyUsersUseButCannotManage', Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('Fn'), 'Arn'] } } })]) },
    });
  });
});

describe('CustomerManagedKey validation', () => {
  test('rotation 90–2560 whole days, pending window 7–30 whole days', () => {
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: Duration.days(89), pendingWindow: Duration.days(6) }))).toEqual([
      'CustomerManagedKey.RotationPeriodRange: rotationPeriod must be a whole number of days between 90 and 2560, got 89',
      'CustomerManagedKey.PendingWindowRange: pendingWindow must be a whole number of days between 7 and 30, got 6',
    ]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: Duration.days(2561), pendingWindow: Duration.days(31) }))).toHaveLength(2);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: Duration.hours(2200) }))).toEqual([
      'CustomerManagedKey.RotationPeriodRange: rotationPeriod must be a whole number of days between 90 and 2560, got 91.66666666666667',
    ]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { pendingWindow: Duration.millis(7 * 86_400_000 + 500) }))).toEqual([
      'CustomerManagedKey.PendingWindowRange: pendingWindow must be a whole number of days between 7 and 30, got 7.000005787037037',
    ]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: Duration.days(90), pendingWindow: Duration.days(7) }))).toEqual([]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: Duration.days(2560), pendingWindow: Duration.days(30) }))).toEqual([]);
  });

  test('alias format, reserved prefix, and the encryption context', () => {
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { alias: 'my key!', requiredEncryptionContext: { aws: 'x', '': 'y' } }))).toEqual([
      'CustomerManagedKey.AliasFormat: alias must be "alias/" followed by letters, digits, "/", "_" or "-" (256 characters at most), got "alias/my key!"',
      'CustomerManagedKey.EncryptionContextReserved: requiredEncryptionContext key "aws" starts with "aws", a prefix AWS reserves',
      'CustomerManagedKey.EncryptionContextEmpty: requiredEncryptionContext keys and values must not be empty',
    ]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { alias: 'alias/aws/mine' }))).toEqual([
      'CustomerManagedKey.AliasReserved: alias "alias/aws/mine" is under alias/aws/, which AWS reserves for AWS managed keys',
    ]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { alias: 'orders/data' }))).toEqual([]);
    const aliasOf = (length: number) => `alias/${'a'.repeat(length - 'alias/'.length)}`;
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { alias: aliasOf(256) }))).toEqual([]);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { alias: aliasOf(257) })).map((m) => m.split(':')[0])).toEqual(['CustomerManagedKey.AliasFormat']);
    expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { requiredEncryptionContext: { app: '' } }))).toEqual([
      'CustomerManagedKey.EncryptionContextEmpty: requiredEncryptionContext keys and values must not be empty',
    ]);
  });

  test('a principal cannot be both administrator and user', () => {
    expect(
      problemsOf((s) => {
        const role = new iam.Role(s, 'Both', { assumedBy: new iam.AccountRootPrincipal() });
        new CustomerManagedKey(s, 'K', { admins: [role], users: [role] });
      }),
    ).toEqual(['CustomerManagedKey.AdminIsUser: Test/Both cannot become a user: it is already an administrator. Keep managing and using the key apart.']);
    // addAdmin / addUser are methods: their misuse is a ConstructUsageError with the same code and message.
    const key = new CustomerManagedKey(newStack(), 'K', { users: [new iam.ArnPrincipal('arn:aws:iam::111122223333:role/app')] });
    expect(() => key.addAdmin(new iam.ArnPrincipal('arn:aws:iam::111122223333:role/app'))).toThrow(ConstructUsageError);
    expect(() => key.addAdmin(new iam.ArnPrincipal('arn:aws:iam::111122223333:role/app'))).toThrow(
      /^Test\/K: \[CustomerManagedKey.AdminIsUser\] .* cannot become an administrator: it is already a user/,
    );
    const admin = new iam.ArnPrincipal('arn:aws:iam::111122223333:role/ops');
    const other = new CustomerManagedKey(newStack(), 'K', { admins: [admin] });
    expect(() => other.addUser(admin)).toThrow(
      /^Test\/K: \[CustomerManagedKey.AdminIsUser\] .* cannot become a user: it is already an administrator. Keep managing and using the key apart.$/,
    );
  });
});

test('rotationPeriod and pendingWindow cannot be tokens: both refused at once, before kms.Key fails on the placeholder', () => {
  const tokenDays = (stack: Stack, id: string) => Duration.days(Token.asNumber(new CfnParameter(stack, id, { type: 'Number' })));
  expect(problemsOf((s) => new CustomerManagedKey(s, 'K', { rotationPeriod: tokenDays(s, 'Rotation'), pendingWindow: tokenDays(s, 'Pending') }))).toEqual([
    "CustomerManagedKey.DurationToken: rotationPeriod cannot be a token: CDK's kms.Key checks its range at synth, so give a number of days",
    "CustomerManagedKey.DurationToken: pendingWindow cannot be a token: CDK's kms.Key checks its range at synth, so give a number of days",
  ]);
});
