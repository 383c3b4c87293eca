import { CodeCommitClient, CreateBranchCommand, DeleteBranchCommand, GetBranchCommand } from '@aws-sdk/client-codecommit';
import { CodestarNotificationsClient, DescribeNotificationRuleCommand, DescribeNotificationRuleCommandOutput, TargetStatus } from '@aws-sdk/client-codestar-notifications';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsStub, mockClient } from 'aws-sdk-client-mock';
import { REPOSITORY_ACCESS } from '../../../labs/cicd-bluegreen/constants';
import { steps } from '../../../labs/cicd-bluegreen/exercise';
import { repositoryAccessTiming } from '../../../labs/cicd-bluegreen/repository-access-exercise';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';

// No local engine answers CodeCommit, CodeStar Notifications, KMS key policies, IAM's policy simulator or STS: the SDK answers are mocked as the
// deployed lab gives them, then broken one fact at a time so that each check shows it catches what it claims to.
// This client's pinned release (3.687) depends on an older @smithy/types than aws-sdk-client-mock's: the same class at
// run time, another type at compile time, hence the casts of its stub.
const notifications = mockClient(CodestarNotificationsClient as never) as unknown as AwsStub<object, { $metadata: object }, never>;
const ruleIs = (rule: Partial<DescribeNotificationRuleCommandOutput>) => notifications.on(DescribeNotificationRuleCommand as never).resolves(rule as never);
const codecommit = mockClient(CodeCommitClient);
const kms = mockClient(KMSClient);
const sns = mockClient(SNSClient);
const iam = mockClient(IAMClient);
const sts = mockClient(STSClient);

const ACCOUNT = '111122223333';
const repositoryArn = `arn:aws:codecommit:us-east-1:${ACCOUNT}:CicdBluegreenLab-repository`;
const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:repository-events`;
const roleArn = `arn:aws:iam::${ACCOUNT}:role/CicdBluegreenLab-DeveloperRole`;
const outputs = {
  RepositoryArn: repositoryArn,
  RepositoryNotificationRuleArn: `arn:aws:codestar-notifications:us-east-1:${ACCOUNT}:notificationrule/abc`,
  RepositoryNotificationTopicArn: topicArn,
  DeveloperRoleArn: roleArn,
  TrustedAccountId: ACCOUNT,
};
const lines: string[] = [];
const MAIN_COMMIT = '0123456789abcdef0123456789abcdef01234567';
// Quick polls; a deadline no loaded machine reaches (a settled status ends the wait), except where a test is about it.
const TIMING = { deliveryPollSeconds: 0.01, deliveryDeadlineSeconds: 30 };
const run = (timing = TIMING) =>
  runExercise(steps.filter((s) => s.id === 'repository-access'), {
    outputs,
    log: (l) => lines.push(l),
    runId: 'run-test',
    provide: [provide(repositoryAccessTiming, timing)],
  });
const failureOf = async (timing = TIMING) => {
  const error = await run(timing).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  return (error as Error).message;
};

const publishStatement = {
  Sid: 'CodeStarNotificationsOfThisAccountPublish',
  Effect: 'Allow',
  Principal: { Service: 'codestar-notifications.amazonaws.com' },
  Action: 'sns:Publish',
  Resource: topicArn,
  Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
};
const tlsOnly = { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sns:Publish', Resource: topicArn, Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
const topicPolicy = (...statements: object[]) => ({ Attributes: { Policy: JSON.stringify({ Statement: statements }) } });
const encoded = (document: object) => encodeURIComponent(JSON.stringify(document));
const trustPolicy = (...statements: object[]) => ({ Role: { RoleName: 'r', Path: '/', RoleId: 'id', Arn: roleArn, CreateDate: new Date(), MaxSessionDuration: 3600, AssumeRolePolicyDocument: encoded({ Statement: statements }) } });
const trustAccount = (principal: string) => ({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: principal } });
const trust = (principal: string) => trustPolicy(trustAccount(principal));
const rootOfAccount = trustAccount(`arn:aws:iam::${ACCOUNT}:root`);
const gitPolicy = (allow: object) => ({
  RoleName: 'r',
  PolicyName: 'GitOnThisRepository',
  PolicyDocument: encoded({
    Statement: [
      allow,
      { Effect: 'Deny', Action: 'codecommit:GitPush', Resource: repositoryArn, Condition: { StringEqualsIfExists: { 'codecommit:References': ['refs/heads/main'] }, Null: { 'codecommit:References': 'false' } } },
    ],
  }),
});
const pullAndPush = { Effect: 'Allow', Action: ['codecommit:GitPull', 'codecommit:GitPush'], Resource: repositoryArn };
/** What IAM's simulator decides for the deployed role: Deny on the protected branch, nothing outside the repository. */
const decide = (input: { ActionNames?: string[]; ResourceArns?: string[]; ContextEntries?: { ContextKeyValues?: string[] }[] }) => {
  const reference = input.ContextEntries?.[0]?.ContextKeyValues?.[0];
  const decision = input.ResourceArns?.[0] !== repositoryArn ? 'implicitDeny' : reference === `refs/heads/${REPOSITORY_ACCESS.protectedBranch}` ? 'explicitDeny' : 'allowed';
  return { EvaluationResults: [{ EvalActionName: input.ActionNames?.[0], EvalDecision: decision }] } as never;
};

beforeEach(() => {
  for (const mock of [notifications, codecommit, kms, sns, iam, sts]) mock.reset();
  lines.length = 0;
  ruleIs({
    Arn: outputs.RepositoryNotificationRuleArn,
    Name: 'CicdBluegreenLab-repository-events',
    Resource: repositoryArn,
    Status: 'ENABLED',
    DetailType: 'BASIC',
    EventTypes: REPOSITORY_ACCESS.notifiedEvents.map((EventTypeId) => ({ EventTypeId })),
    Targets: [{ TargetType: 'SNS', TargetAddress: topicArn, TargetStatus: 'ACTIVE' }],
  });
  codecommit.on(GetBranchCommand).resolves({ branch: { branchName: 'main', commitId: MAIN_COMMIT } });
  codecommit.on(CreateBranchCommand).resolves({});
  codecommit.on(DeleteBranchCommand).resolves({ deletedBranch: { branchName: 'exercise/run-test', commitId: MAIN_COMMIT } });
  sns.on(GetTopicAttributesCommand).resolves(topicPolicy(publishStatement, tlsOnly));
  iam.on(GetRoleCommand).resolves(trust(`arn:aws:iam::${ACCOUNT}:root`));
  iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['GitOnThisRepository'] });
  iam.on(GetRolePolicyCommand).resolves(gitPolicy(pullAndPush));
  iam.on(SimulatePrincipalPolicyCommand).callsFake(decide);
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT });
  sts.on(AssumeRoleCommand).resolves({ AssumedRoleUser: { AssumedRoleId: 'AROA:x', Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/CicdBluegreenLab-DeveloperRole/run-test-developer` } });
});

// What the step prints against the deployed lab, line by line (its title first; only the seconds waited vary): the
// lab's lesson is in these lines.
const PRINTED = [
  '\n== 1/1 repository-access: the repository: notification rule and topic policy, the cross-account developer role and its protected branch',
  'notification rule CicdBluegreenLab-repository-events (ENABLED, BASIC) on arn:aws:codecommit:us-east-1:111122223333:CicdBluegreenLab-repository: codecommit-repository-branches-and-tags-created, codecommit-repository-pull-request-created, codecommit-repository-pull-request-merged',
  '  → SNS arn:aws:sns:us-east-1:111122223333:repository-events: ACTIVE',
  'topic policy allows {"Service":"codestar-notifications.amazonaws.com"} sns:Publish {"StringEquals":{"aws:SourceAccount":"111122223333"}}',
  'the topic is not encrypted at rest: the AWS managed SNS key cannot be opened to CodeStar Notifications (flag encryption adds a customer managed key)',
  'created branch exercise/run-test at main (0123456): the rule sends it to the topic',
  '  the topic\'s target status after N s: ACTIVE',
  'deleted branch exercise/run-test',
  'role CicdBluegreenLab-DeveloperRole may be assumed by arn:aws:iam::111122223333:root (sts:AssumeRole) for at most 1 h',
  '  Allow codecommit:GitPull, codecommit:GitPush on arn:aws:codecommit:us-east-1:111122223333:CicdBluegreenLab-repository {}',
  '  Deny codecommit:GitPush on arn:aws:codecommit:us-east-1:111122223333:CicdBluegreenLab-repository {"StringEqualsIfExists":{"codecommit:References":["refs/heads/main"]},"Null":{"codecommit:References":"false"}}',
  'IAM policy simulator: codecommit:GitPull on CicdBluegreenLab-repository → allowed',
  'IAM policy simulator: codecommit:GitPush on CicdBluegreenLab-repository to refs/heads/feature/exercise → allowed',
  'IAM policy simulator: codecommit:GitPush on CicdBluegreenLab-repository to refs/heads/main → explicitDeny',
  'IAM policy simulator: codecommit:GitPull on CicdBluegreenLab-repository-other → implicitDeny',
  'a developer of account 111122223333 adds to ~/.aws/config: [profile cicd-developer] role_arn = arn:aws:iam::111122223333:role/CicdBluegreenLab-DeveloperRole, source_profile = <their profile>',
  'then: git clone codecommit::us-east-1://cicd-developer@CicdBluegreenLab-repository (git-remote-codecommit signs with the role\'s temporary credentials)',
  'assumed: arn:aws:sts::111122223333:assumed-role/CicdBluegreenLab-DeveloperRole/run-test-developer',
];

test('passes against the deployed lab, assuming the role from the trusted account and showing the clone URL', async () => {
  await run();
  expect(lines.map((line) => line.replace(/after \d+\.\d s/, 'after N s'))).toEqual(PRINTED);
  expect(lines).toContain('IAM policy simulator: codecommit:GitPush on CicdBluegreenLab-repository to refs/heads/main → explicitDeny');
  expect(lines).toContain(`a developer of account ${ACCOUNT} adds to ~/.aws/config: [profile cicd-developer] role_arn = ${roleArn}, source_profile = <their profile>`);
  expect(lines).toContain('then: git clone codecommit::us-east-1://cicd-developer@CicdBluegreenLab-repository (git-remote-codecommit signs with the role\'s temporary credentials)');
  expect(lines.at(-1)).toBe(`assumed: arn:aws:sts::${ACCOUNT}:assumed-role/CicdBluegreenLab-DeveloperRole/run-test-developer`);
  expect(sts.commandCalls(AssumeRoleCommand)[0].args[0].input).toMatchObject({ RoleArn: roleArn, RoleSessionName: 'run-test-developer', DurationSeconds: 900 });
  // The branch-created event: a branch of this run at main's commit, deleted afterwards.
  expect(codecommit.commandCalls(GetBranchCommand)[0].args[0].input).toEqual({ repositoryName: 'CicdBluegreenLab-repository', branchName: 'main' });
  expect(codecommit.commandCalls(CreateBranchCommand)[0].args[0].input).toEqual({ repositoryName: 'CicdBluegreenLab-repository', branchName: 'exercise/run-test', commitId: MAIN_COMMIT });
  expect(codecommit.commandCalls(DeleteBranchCommand).map((c) => c.args[0].input)).toEqual([{ repositoryName: 'CicdBluegreenLab-repository', branchName: 'exercise/run-test' }]);
  // codecommit:References is a single-valued String key: the simulator gets one reference of type string.
  const pushes = iam.commandCalls(SimulatePrincipalPolicyCommand).map((c) => c.args[0].input).filter((input) => input.ContextEntries);
  expect(pushes.map((input) => input.ContextEntries)).toEqual([
    [{ ContextKeyName: 'codecommit:References', ContextKeyValues: ['refs/heads/feature/exercise'], ContextKeyType: 'string' }],
    [{ ContextKeyName: 'codecommit:References', ContextKeyValues: ['refs/heads/main'], ContextKeyType: 'string' }],
  ]);
  // Unencrypted by default: no key to read.
  expect(kms.calls()).toHaveLength(0);
});

describe('the branch-created event', () => {
  const withTarget = (TargetStatus: TargetStatus): Partial<DescribeNotificationRuleCommandOutput> => ({
    Arn: outputs.RepositoryNotificationRuleArn,
    Resource: repositoryArn,
    Status: 'ENABLED',
    EventTypes: REPOSITORY_ACCESS.notifiedEvents.map((EventTypeId) => ({ EventTypeId })),
    Targets: [{ TargetType: 'SNS', TargetAddress: topicArn, TargetStatus }],
  });

  test('waits while the topic is PENDING and passes once CodeStar Notifications delivered (ACTIVE)', async () => {
    notifications
      .on(DescribeNotificationRuleCommand as never)
      .resolvesOnce(withTarget('PENDING') as never)
      .resolvesOnce(withTarget('PENDING') as never)
      .resolvesOnce(withTarget('PENDING') as never)
      .resolves(withTarget('ACTIVE') as never);
    await run();
    expect(notifications.commandCalls(DescribeNotificationRuleCommand as never)).toHaveLength(4);
    expect(lines.some((l) => /^ {2}the topic's target status after [\d.]+ s: ACTIVE$/.test(l))).toBe(true);
  });

  test('fails when the topic is still PENDING at the deadline, and deletes the branch', async () => {
    ruleIs(withTarget('PENDING'));
    expect(await failureOf({ ...TIMING, deliveryDeadlineSeconds: 0.1 })).toBe(
      'the topic is still PENDING 0.1 s after the branch-created event: CodeStar Notifications has not confirmed a delivery, so the path is not verified',
    );
    expect(codecommit.commandCalls(DeleteBranchCommand)).toHaveLength(1);
  });

  test('fails when the delivery makes the topic UNREACHABLE, and deletes the branch', async () => {
    // The first read is the configuration check, before the event; the wait reads again after it.
    notifications.on(DescribeNotificationRuleCommand as never).resolvesOnce(withTarget('PENDING') as never).resolves(withTarget('UNREACHABLE') as never);
    expect(await failureOf()).toContain('the topic is UNREACHABLE for CodeStar Notifications');
    expect(codecommit.commandCalls(DeleteBranchCommand)).toHaveLength(1);
  });

  test('fails when the repository has no main branch to start from, creating nothing', async () => {
    codecommit.on(GetBranchCommand).resolves({ branch: { branchName: 'main' } });
    expect(await failureOf()).toBe('the repository has no main branch to start exercise/run-test from');
    expect(codecommit.commandCalls(CreateBranchCommand)).toHaveLength(0);
  });
});

describe('the encrypted topic (flag encryption)', () => {
  const keyArn = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
  const keyStatement = {
    Sid: 'CodeStarNotificationsPublishToTheEncryptedTopic',
    Effect: 'Allow',
    Principal: { Service: 'codestar-notifications.amazonaws.com' },
    Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    Resource: '*',
    Condition: { StringEquals: { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' } },
  };
  const accountRoot = { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' };
  const keyPolicy = (...statements: object[]) => kms.on(GetKeyPolicyCommand).resolves({ PolicyName: 'default', Policy: JSON.stringify({ Statement: statements }) });

  beforeEach(() => {
    sns.on(GetTopicAttributesCommand).resolves({ Attributes: { ...topicPolicy(publishStatement, tlsOnly).Attributes, KmsMasterKeyId: keyArn } });
    kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', Arn: keyArn, KeyManager: 'CUSTOMER' } });
    keyPolicy(accountRoot, keyStatement);
  });

  test('passes when the key policy lets CodeStar Notifications use the key through SNS only', async () => {
    await run();
    expect(kms.commandCalls(GetKeyPolicyCommand)[0].args[0].input).toEqual({ KeyId: keyArn, PolicyName: 'default' });
    expect(lines).toContain(`the topic is encrypted at rest with ${keyArn}, whose policy lets CodeStar Notifications kms:Decrypt, kms:GenerateDataKey* through sns.us-east-1.amazonaws.com only`);
  });

  test.each<[string, () => void, string]>([
    ['the AWS managed SNS key', () => kms.on(DescribeKeyCommand).resolves({ KeyMetadata: { KeyId: 'k', Arn: keyArn, KeyManager: 'AWS' } }), `the topic is encrypted with ${keyArn}, an AWS managed key`],
    ['a key policy without the service', () => keyPolicy(accountRoot), `the key ${keyArn} does not let CodeStar Notifications use it`],
    ['a key policy missing Decrypt', () => keyPolicy(accountRoot, { ...keyStatement, Action: 'kms:GenerateDataKey*' }), 'the key policy lets CodeStar Notifications kms:GenerateDataKey*; it needs exactly kms:Decrypt, kms:GenerateDataKey*'],
    ['a key policy giving the service kms:*', () => keyPolicy(accountRoot, { ...keyStatement, Action: 'kms:*' }), 'the key policy lets CodeStar Notifications kms:*; it needs exactly'],
    ['no kms:ViaService condition', () => keyPolicy(accountRoot, { ...keyStatement, Condition: undefined }), 'use the key directly (kms:ViaService), not only through sns.us-east-1.amazonaws.com'],
    ['SNS of another Region', () => keyPolicy(accountRoot, { ...keyStatement, Condition: { StringEquals: { 'kms:ViaService': 'sns.eu-west-1.amazonaws.com' } } }), 'through sns.eu-west-1.amazonaws.com (kms:ViaService), not only through sns.us-east-1.amazonaws.com'],
    ['a second, unconditioned grant to the service', () => keyPolicy(accountRoot, keyStatement, { ...keyStatement, Sid: 'Wide', Action: 'kms:Decrypt', Condition: undefined }), 'use the key directly (kms:ViaService)'],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    expect(await failureOf()).toContain(message);
  });
});

test('from another account it says where to assume the role instead of assuming it', async () => {
  sts.on(GetCallerIdentityCommand).resolves({ Account: '999988887777' });
  await run();
  expect(lines.at(-1)).toBe(`you are in account 999988887777, not ${ACCOUNT}: assume the role from there`);
  expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
});

const rule = (changes: object) => () => ruleIs({ Arn: outputs.RepositoryNotificationRuleArn, Resource: repositoryArn, Status: 'ENABLED', EventTypes: REPOSITORY_ACCESS.notifiedEvents.map((EventTypeId) => ({ EventTypeId })), Targets: [{ TargetType: 'SNS', TargetAddress: topicArn, TargetStatus: 'ACTIVE' }], ...changes });
const simulator = (action: string, decision: string) => () =>
  iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => (input.ActionNames?.[0] === action ? ({ EvaluationResults: [{ EvalActionName: action, EvalDecision: decision }] } as never) : decide(input)));

test.each<[string, () => void, string]>([
  ['a rule on another resource', rule({ Resource: 'arn:aws:codecommit:us-east-1:111122223333:other' }), 'the notification rule watches arn:aws:codecommit:us-east-1:111122223333:other, not the repository'],
  ['a disabled rule', rule({ Status: 'DISABLED' }), 'the notification rule is DISABLED'],
  ['a rule without pull-request events', rule({ EventTypes: [{ EventTypeId: 'codecommit-repository-branches-and-tags-created' }] }), 'does not send codecommit-repository-pull-request-created, codecommit-repository-pull-request-merged'],
  ['a rule targeting another topic', rule({ Targets: [{ TargetType: 'SNS', TargetAddress: `${topicArn}-other`, TargetStatus: 'ACTIVE' }] }), `the notification rule does not target the topic ${topicArn}`],
  ['an unreachable topic', rule({ Targets: [{ TargetType: 'SNS', TargetAddress: topicArn, TargetStatus: 'UNREACHABLE' }] }), 'the topic is UNREACHABLE for CodeStar Notifications'],
  ['a topic policy without the service', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy(tlsOnly)), 'the topic policy does not let CodeStar Notifications publish'],
  ['a service allowed more than Publish', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy({ ...publishStatement, Action: ['sns:Publish', 'sns:Subscribe'] }, tlsOnly)), 'do more than publish: sns:Publish, sns:Subscribe'],
  ['no aws:SourceAccount condition', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy({ ...publishStatement, Condition: undefined }, tlsOnly)), 'CodeStar Notifications may publish on behalf of any account'],
  ['another account as the source', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy({ ...publishStatement, Condition: { StringEquals: { 'aws:SourceAccount': '999988887777' } } }, tlsOnly)), 'on behalf of 999988887777 (aws:SourceAccount), not only 111122223333'],
  ['a publish statement that also names any AWS principal', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy({ ...publishStatement, Principal: { Service: 'codestar-notifications.amazonaws.com', AWS: '*' } }, tlsOnly)), 'the statement that lets CodeStar Notifications publish also names *'],
  ['a publish statement that also names EventBridge', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy({ ...publishStatement, Principal: { Service: ['codestar-notifications.amazonaws.com', 'events.amazonaws.com'] } }, tlsOnly)), 'the statement that lets CodeStar Notifications publish also names Service:events.amazonaws.com'],
  ['a topic open to another principal', () => sns.on(GetTopicAttributesCommand).resolves(topicPolicy(publishStatement, { Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sns:Subscribe', Resource: topicArn })), 'the topic policy allows more than CodeStar Notifications: {"Service":"codestar-notifications.amazonaws.com"}, {"AWS":"*"}'],
  ['a role trusting another account', () => iam.on(GetRoleCommand).resolves(trust('arn:aws:iam::999988887777:root')), `the role trusts arn:aws:iam::999988887777:root, not only account ${ACCOUNT}`],
  ['a second statement trusting a service', () => iam.on(GetRoleCommand).resolves(trustPolicy(rootOfAccount, { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } })), `the role trusts Service:lambda.amazonaws.com, not only account ${ACCOUNT}`],
  ['a statement trusting anyone with sts:*', () => iam.on(GetRoleCommand).resolves(trustPolicy(rootOfAccount, { Effect: 'Allow', Action: 'sts:*', Principal: { AWS: '*' } })), `the role trusts *, not only account ${ACCOUNT}`],
  ['web identities of a federated provider', () => iam.on(GetRoleCommand).resolves(trustPolicy(rootOfAccount, { Effect: 'Allow', Action: 'sts:AssumeRoleWithWebIdentity', Principal: { Federated: 'cognito-identity.amazonaws.com' } })), `the role trusts Federated:cognito-identity.amazonaws.com, not only account ${ACCOUNT}`],
  ['the trusted account allowed sts:*', () => iam.on(GetRoleCommand).resolves(trustPolicy({ ...rootOfAccount, Action: 'sts:*' })), 'the trust policy allows sts:*; expected only sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity'],
  ['a trust policy with NotPrincipal', () => iam.on(GetRoleCommand).resolves(trustPolicy(rootOfAccount, { Effect: 'Allow', Action: 'sts:AssumeRole', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } })), 'the trust policy allows with NotPrincipal or NotAction'],
  ['a trust policy naming no principal', () => iam.on(GetRoleCommand).resolves(trustPolicy()), `the role trusts no one: its trust policy names no principal of account ${ACCOUNT}`],
  ['a managed policy on the role', () => iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [{ PolicyName: 'AWSCodeCommitPowerUser' }] }), 'managed policies widen the role: AWSCodeCommitPowerUser'],
  ['an action beyond Git', () => iam.on(GetRolePolicyCommand).resolves(gitPolicy({ ...pullAndPush, Action: [...pullAndPush.Action, 'codecommit:DeleteBranch'] })), 'the role allows codecommit:DeleteBranch, codecommit:GitPull, codecommit:GitPush; expected only'],
  ['Git on every repository', () => iam.on(GetRolePolicyCommand).resolves(gitPolicy({ ...pullAndPush, Resource: 'arn:aws:codecommit:us-east-1:111122223333:*' })), "the role's Git permissions reach arn:aws:codecommit:us-east-1:111122223333:*, not only"],
  ['a push to the protected branch allowed', simulator('codecommit:GitPush', 'allowed'), 'codecommit:GitPush on CicdBluegreenLab-repository to refs/heads/main: IAM decides allowed, expected explicitDeny'],
  ['a pull refused', simulator('codecommit:GitPull', 'implicitDeny'), 'codecommit:GitPull on CicdBluegreenLab-repository: IAM decides implicitDeny, expected allowed'],
  ['every push refused', simulator('codecommit:GitPush', 'explicitDeny'), 'codecommit:GitPush on CicdBluegreenLab-repository to refs/heads/feature/exercise: IAM decides explicitDeny, expected allowed'],
  ['an identity not allowed to assume the role', () => sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('User: arn:aws:iam::111122223333:root is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' })), `your identity needs sts:AssumeRole on ${roleArn}; root cannot assume roles`],
  ['an assumed session of another role', () => sts.on(AssumeRoleCommand).resolves({ AssumedRoleUser: { AssumedRoleId: 'x', Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/run-test-developer` } }), `assuming ${roleArn} gave arn:aws:sts::${ACCOUNT}:assumed-role/Admin/run-test-developer`],
])('fails on %s', async (_name, breakIt, message) => {
  breakIt();
  const error = await run().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  expect((error as Error).message).toContain(message);
});

test('fails when the simulator lets the role pull from another repository', async () => {
  iam.on(SimulatePrincipalPolicyCommand).callsFake((input) => (input.ResourceArns?.[0]?.endsWith('-other') ? ({ EvaluationResults: [{ EvalActionName: 'codecommit:GitPull', EvalDecision: 'allowed' }] } as never) : decide(input)));
  await expect(run()).rejects.toThrow('codecommit:GitPull on CicdBluegreenLab-repository-other: IAM decides allowed, expected implicitDeny');
});
