import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { GuardedRole } from '../../lib/guarded-role';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
const ACCOUNT_ROOT = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] };

const problemsOf = (build: (stack: Stack) => void) => problemMessagesOf(() => build(newStack()));

test('requires MFA in the last hour by default when asked', () => {
  const stack = newStack();
  new GuardedRole(stack, 'Mfa', { requireMfa: {} });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: ACCOUNT_ROOT },
          Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' } },
        },
      ],
    },
    MaxSessionDuration: 3600,
  });
});

test('requires the external id, trusting another account', () => {
  const stack = newStack();
  new GuardedRole(stack, 'Partner', { externalId: 'partner-4f1c', trustedAccount: '111122223333', requireMfa: { maxAge: Duration.minutes(15) } });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [
        Match.objectLike({
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] } },
          Condition: { StringEquals: { 'sts:ExternalId': 'partner-4f1c' }, Bool: { 'aws:MultiFactorAuthPresent': 'true' }, NumericLessThan: { 'aws:MultiFactorAuthAge': '900' } },
        }),
      ],
    },
  });
});

test('attaches customer managed policies, inline policies and a permissions boundary', () => {
  const stack = newStack();
  const managed = new iam.ManagedPolicy(stack, 'Read', { statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] })] });
  const boundary = new iam.ManagedPolicy(stack, 'Boundary', { statements: [new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })] });
  new GuardedRole(stack, 'Role', {
    managedPolicies: [managed],
    inlinePolicies: { Write: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: ['arn:aws:s3:::b/*'] })] }) },
    permissionsBoundary: boundary,
    maxSessionDuration: Duration.hours(4),
  });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    // Neither MFA nor an external id asked for: no condition at all.
    AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: ACCOUNT_ROOT }, Condition: Match.absent() }] },
    ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^Read') }],
    Policies: [{ PolicyName: 'Write', PolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Action: 's3:PutObject' })] }) }],
    PermissionsBoundary: { Ref: Match.stringLikeRegexp('^Boundary') },
    MaxSessionDuration: 14_400,
  });
});

test('validation: external id format, session duration, MFA age, wildcard actions', () => {
  expect(
    problemsOf((s) =>
      new GuardedRole(s, 'Role', {
        externalId: 'a b',
        maxSessionDuration: Duration.hours(13),
        requireMfa: { maxAge: Duration.seconds(0) },
        inlinePolicies: {
          Admin: new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions: ['*'], resources: ['*'] }), new iam.PolicyStatement({ actions: ['s3:*', 'sqs:SendMessage'], resources: ['*'] })] }),
        },
      }),
    ),
  ).toEqual([
    'GuardedRole.ExternalIdFormat: externalId must be 2–1224 characters of letters, digits and +=,.@:/-, got "a b"',
    'GuardedRole.MaxSessionDurationRange: maxSessionDuration must be between 1 and 12 hours, got 46800 seconds',
    'GuardedRole.MfaMaxAgeRange: requireMfa.maxAge must be at least 1 second, got 0',
    'GuardedRole.WildcardAction: inline policy Admin allows *, s3:*: list the actions the role needs',
  ]);
  expect(problemsOf((s) => new GuardedRole(s, 'Role', { maxSessionDuration: Duration.minutes(30) }))).toEqual([
    'GuardedRole.MaxSessionDurationRange: maxSessionDuration must be between 1 and 12 hours, got 1800 seconds',
  ]);
});

test('accepted at the edges: MFA age of 1 second, whole-service wildcards only rejected, an empty inline policy, a token external id', () => {
  const documentAllowing = (...actions: string[]) => new iam.PolicyDocument({ statements: [new iam.PolicyStatement({ actions, resources: ['*'] })] });
  expect(
    problemsOf((s) =>
      new GuardedRole(s, 'Role', {
        requireMfa: { maxAge: Duration.seconds(1) },
        externalId: Token.asString({ Ref: 'ExternalId' }),
        inlinePolicies: { Read: documentAllowing('s3:Get*', 's3:*Object'), Empty: new iam.PolicyDocument() },
      }),
    ),
  ).toEqual([]);
});

test('roleArn and grantAssumeRole expose the role', () => {
  const stack = newStack();
  const guarded = new GuardedRole(stack, 'Guarded');
  const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
  guarded.grantAssumeRole(caller);
  expect(guarded.roleArn).toBe(guarded.role.roleArn);
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^GuardedRole'), 'Arn'] } }] },
    Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
  });
});

test('durations must be whole seconds: listed with the other problems, not thrown by CDK', () => {
  expect(
    problemsOf((s) => new GuardedRole(s, 'Role', { externalId: 'a b', maxSessionDuration: Duration.millis(3_600_500), requireMfa: { maxAge: Duration.millis(1500) } })),
  ).toEqual([
    'GuardedRole.ExternalIdFormat: externalId must be 2–1224 characters of letters, digits and +=,.@:/-, got "a b"',
    'GuardedRole.NotWholeSeconds: maxSessionDuration must be a whole number of seconds, got 3600.5 s',
    'GuardedRole.NotWholeSeconds: requireMfa.maxAge must be a whole number of seconds, got 1.5 s',
  ]);
});

test('a maxAge from a token given in seconds goes into the condition as the token; no range check on it', () => {
  const stack = newStack();
  new GuardedRole(stack, 'Role', { requireMfa: { maxAge: Duration.seconds(Token.asNumber({ Ref: 'MfaAge' })) } });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: Match.objectLike({ NumericLessThan: { 'aws:MultiFactorAuthAge': { Ref: 'MfaAge' } } }) })] },
  });
});

test('a maxAge from a token in another unit than seconds is listed with the other problems, not thrown by CDK', () => {
  expect(
    problemsOf((s) => new GuardedRole(s, 'Role', { externalId: 'a b', requireMfa: { maxAge: Duration.minutes(Token.asNumber({ Ref: 'MfaAge' })) } })),
  ).toEqual([
    'GuardedRole.ExternalIdFormat: externalId must be 2–1224 characters of letters, digits and +=,.@:/-, got "a b"',
    'GuardedRole.TokenNotInSeconds: requireMfa.maxAge is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)',
  ]);
});

test('warns on an AWS managed policy, which fails strict synth until acknowledged next to the construct', () => {
  const stack = newStack();
  new GuardedRole(stack, 'Role', { managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')] });
  expect(() => Template.fromStack(stack)).toThrow(/ReadOnlyAccess is an AWS managed policy: AWS can change it and it is rarely least privilege/);

  const acknowledged = newStack();
  const role = new GuardedRole(acknowledged, 'Role', { managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('ReadOnlyAccess')] });
  Validations.of(role).acknowledge({ id: 'Annotation::GuardedRole.AwsManagedPolicy', reason: 'a read-only auditor role' });
  expect(Annotations.fromStack(acknowledged).findWarning('*', Match.anyValue())).toEqual([]);
});
