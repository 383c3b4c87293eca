/**
 * The `repository-access` step: who may reach the lab's CodeCommit repository and who hears about it, read from the
 * deployed notification rule, topic policy, topic key and developer role; a branch-created event sent through the rule;
 * and the role's permissions evaluated by IAM itself.
 */
import { CodeCommitClient, CreateBranchCommand, DeleteBranchCommand, GetBranchCommand } from '@aws-sdk/client-codecommit';
import { CodestarNotificationsClient, DescribeNotificationRuleCommand } from '@aws-sdk/client-codestar-notifications';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PolicyEvaluationDecisionType,
  SimulatePrincipalPolicyCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { check, defineTiming, elapsedSeconds, ExerciseContext, requireOutput } from '../support/exercise';
import { REPOSITORY_ACCESS } from './constants';

export const repositoryAccessTiming = defineTiming(REPOSITORY_ACCESS.exerciseTiming);

const { notificationsPrincipal, gitActions, developerProfile, protectedBranch } = REPOSITORY_ACCESS;
/** What a trust policy may allow the trusted account: assuming the role, with session tags and a source identity. */
const TRUST_ACTIONS = ['sts:AssumeRole', 'sts:TagSession', 'sts:SetSourceIdentity'];
/** What SNS asks KMS for on CodeStar Notifications' behalf when it publishes to an encrypted topic. */
const TOPIC_KEY_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey*'];
/** Target states that end the wait: delivered, or refused by the topic (or its key). */
const SETTLED_TARGET_STATES = ['ACTIVE', 'UNREACHABLE'];

interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect?: string;
  readonly Principal?: string | Record<string, string | string[]>;
  readonly NotPrincipal?: unknown;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());
const statementsOf = (document: string): PolicyStatement[] => [(JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] }).Statement ?? []].flat();
const principalsOf = (statement: PolicyStatement, kind: 'AWS' | 'Service'): string[] =>
  typeof statement.Principal === 'object' ? list(statement.Principal[kind]) : [];
/** Every principal a statement names, of every kind: `*`, an AWS account or ARN as is, others as `Service:<name>` ... */
const allPrincipalsOf = (statement: PolicyStatement): string[] =>
  typeof statement.Principal === 'object'
    ? Object.entries(statement.Principal).flatMap(([kind, values]) => list(values).map((value) => (kind === 'AWS' ? value : `${kind}:${value}`)))
    : list(statement.Principal);
/** IAM action names are case-insensitive. */
const sameActions = (actions: string[], expected: string[]) =>
  JSON.stringify([...new Set(actions.map((a) => a.toLowerCase()))].sort()) === JSON.stringify(expected.map((a) => a.toLowerCase()).sort());
/** A condition's values, whatever case IAM or SNS gave its key. */
const conditionValues = (statement: PolicyStatement, operator: string, key: string): string[] =>
  list(Object.entries(statement.Condition?.[operator] ?? {}).find(([name]) => name.toLowerCase() === key.toLowerCase())?.[1]);
/** `arn:aws:sns:us-east-1:111122223333:name` → its fields. */
const arnField = (arn: string, field: 'region' | 'account') => arn.split(':')[field === 'region' ? 3 : 4];
const lastArnField = (arn: string) => arn.split(':').pop() ?? arn;

async function checkNotificationRule(context: ExerciseContext, ruleArn: string, repositoryArn: string, topicArn: string) {
  const { log } = context;
  const rule = await context.client(CodestarNotificationsClient, 'CODESTAR_NOTIFICATIONS').send(new DescribeNotificationRuleCommand({ Arn: ruleArn }));
  const events = (rule.EventTypes ?? []).map((e) => e.EventTypeId ?? '');
  log(`notification rule ${rule.Name} (${rule.Status}, ${rule.DetailType}) on ${rule.Resource}: ${events.join(', ')}`);
  for (const target of rule.Targets ?? []) log(`  → ${target.TargetType} ${target.TargetAddress}: ${target.TargetStatus}`);
  check(rule.Resource === repositoryArn, `the notification rule watches ${rule.Resource}, not the repository ${repositoryArn}`);
  check(rule.Status === 'ENABLED', `the notification rule is ${rule.Status}: it sends nothing`);
  const missing = REPOSITORY_ACCESS.notifiedEvents.filter((event) => !events.includes(event));
  check(missing.length === 0, `the notification rule does not send ${missing.join(', ')}`);
  const target = (rule.Targets ?? []).find((t) => t.TargetAddress === topicArn);
  check(target?.TargetType === 'SNS', `the notification rule does not target the topic ${topicArn}`);
}

/** The topic's target status as the rule reports it now. */
async function targetStatus(context: ExerciseContext, ruleArn: string, topicArn: string): Promise<string | undefined> {
  const rule = await context.client(CodestarNotificationsClient, 'CODESTAR_NOTIFICATIONS').send(new DescribeNotificationRuleCommand({ Arn: ruleArn }));
  return (rule.Targets ?? []).find((t) => t.TargetAddress === topicArn)?.TargetStatus;
}

/**
 * Creates a branch at the protected branch's commit, which the rule sends as `branches-and-tags-created`, and waits
 * until CodeStar Notifications settles the topic's status: ACTIVE once it delivered, UNREACHABLE when the topic (or its
 * key) refused it. PENDING says nothing either way, so it fails when the wait ends. The branch is deleted in any case
 * (the pipeline releases only from the protected branch, so it never runs for it).
 */
async function deliverBranchCreatedEvent(context: ExerciseContext, ruleArn: string, repositoryArn: string, topicArn: string) {
  const { log } = context;
  const { deliveryPollSeconds, deliveryDeadlineSeconds } = await context.use(repositoryAccessTiming);
  const codecommit = context.client(CodeCommitClient, 'CODECOMMIT');
  const repositoryName = lastArnField(repositoryArn);
  const branchName = `exercise/${context.runId}`;
  const { branch: main } = await codecommit.send(new GetBranchCommand({ repositoryName, branchName: protectedBranch }));
  check(main?.commitId !== undefined, `the repository has no ${protectedBranch} branch to start ${branchName} from`);
  await codecommit.send(new CreateBranchCommand({ repositoryName, branchName, commitId: main.commitId }));
  log(`created branch ${branchName} at ${protectedBranch} (${main.commitId.slice(0, 7)}): the rule sends it to the topic`);
  try {
    const started = Date.now();
    let status = await targetStatus(context, ruleArn, topicArn);
    while (!SETTLED_TARGET_STATES.includes(String(status)) && Date.now() - started < deliveryDeadlineSeconds * 1000) {
      await new Promise((resolve) => setTimeout(resolve, deliveryPollSeconds * 1000));
      status = await targetStatus(context, ruleArn, topicArn);
    }
    log(`  the topic's target status after ${elapsedSeconds(started)} s: ${status}`);
    check(
      status !== 'UNREACHABLE',
      'the topic is UNREACHABLE for CodeStar Notifications: the topic policy (or its key\'s policy) does not let the service publish',
    );
    check(
      status === 'ACTIVE',
      `the topic is still ${status} ${deliveryDeadlineSeconds} s after the branch-created event: CodeStar Notifications has not confirmed a delivery, so the path is not verified`,
    );
  } finally {
    await codecommit.send(new DeleteBranchCommand({ repositoryName, branchName }));
    log(`deleted branch ${branchName}`);
  }
}

async function checkTopicPolicy(context: ExerciseContext, topicArn: string): Promise<string | undefined> {
  const { log } = context;
  const { Attributes: attributes = {} } = await context.client(SNSClient, 'SNS').send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
  const allows = statementsOf(attributes.Policy ?? '{}').filter((s) => s.Effect === 'Allow');
  for (const s of allows) log(`topic policy allows ${JSON.stringify(s.Principal)} ${list(s.Action).join(', ')} ${JSON.stringify(s.Condition ?? {})}`);
  const publish = allows.find((s) => principalsOf(s, 'Service').includes(notificationsPrincipal));
  check(publish !== undefined, 'the topic policy does not let CodeStar Notifications publish: every notification is dropped');
  check(
    JSON.stringify(allPrincipalsOf(publish)) === JSON.stringify([`Service:${notificationsPrincipal}`]),
    `the statement that lets CodeStar Notifications publish also names ${allPrincipalsOf(publish).filter((p) => p !== `Service:${notificationsPrincipal}`).join(', ')}`,
  );
  check(
    list(publish.Action).every((a) => a.toLowerCase() === 'sns:publish'),
    `the topic policy lets CodeStar Notifications do more than publish: ${list(publish.Action).join(', ')}`,
  );
  const sourceAccounts = conditionValues(publish, 'StringEquals', 'aws:SourceAccount');
  check(
    sourceAccounts.length === 1 && sourceAccounts[0] === arnField(topicArn, 'account'),
    `CodeStar Notifications may publish on behalf of ${sourceAccounts.length ? sourceAccounts.join(', ') : 'any account'} (aws:SourceAccount), not only ${arnField(topicArn, 'account')}`,
  );
  check(allows.length === 1, `the topic policy allows more than CodeStar Notifications: ${allows.map((s) => JSON.stringify(s.Principal)).join(', ')}`);
  return attributes.KmsMasterKeyId;
}

/** With encryption, the topic's key must let CodeStar Notifications have SNS use it, and nothing more. */
async function checkTopicKey(context: ExerciseContext, keyId: string | undefined, topicArn: string) {
  const { log } = context;
  if (!keyId) {
    log('the topic is not encrypted at rest: the AWS managed SNS key cannot be opened to CodeStar Notifications (flag encryption adds a customer managed key)');
    return;
  }
  const kms = context.client(KMSClient, 'KMS');
  const { KeyMetadata: key } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
  check(key?.KeyManager === 'CUSTOMER', `the topic is encrypted with ${keyId}, an AWS managed key: its policy cannot let CodeStar Notifications use it, so every notification is dropped`);
  const { Policy: policy = '{}' } = await kms.send(new GetKeyPolicyCommand({ KeyId: key.Arn ?? keyId, PolicyName: 'default' }));
  const grants = statementsOf(policy).filter((s) => s.Effect === 'Allow' && principalsOf(s, 'Service').includes(notificationsPrincipal));
  check(grants.length > 0, `the key ${key.Arn} does not let CodeStar Notifications use it: every notification to the encrypted topic is dropped`);
  const actions = grants.flatMap((s) => list(s.Action));
  check(sameActions(actions, TOPIC_KEY_ACTIONS), `the key policy lets CodeStar Notifications ${actions.join(', ')}; it needs exactly ${TOPIC_KEY_ACTIONS.join(', ')}`);
  const viaSns = `sns.${arnField(topicArn, 'region')}.amazonaws.com`;
  for (const grant of grants) {
    const via = conditionValues(grant, 'StringEquals', 'kms:ViaService');
    check(
      via.length === 1 && via[0] === viaSns,
      `the key policy lets CodeStar Notifications use the key ${via.length ? `through ${via.join(', ')}` : 'directly'} (kms:ViaService), not only through ${viaSns}`,
    );
  }
  log(`the topic is encrypted at rest with ${key.Arn}, whose policy lets CodeStar Notifications ${TOPIC_KEY_ACTIONS.join(', ')} through ${viaSns} only`);
}

async function checkDeveloperRole(context: ExerciseContext, roleArn: string, repositoryArn: string, trustedAccount: string) {
  const { log } = context;
  const iam = context.client(IAMClient, 'IAM');
  const roleName = roleArn.split('/').pop() ?? roleArn;
  const { Role: role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  const trust = statementsOf(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '{}')).filter((s) => s.Effect === 'Allow');
  const trusted = trust.flatMap(allPrincipalsOf);
  const trustActions = trust.flatMap((s) => list(s.Action));
  log(`role ${roleName} may be assumed by ${trusted.join(', ')} (${trustActions.join(', ')}) for at most ${(role?.MaxSessionDuration ?? 0) / 3600} h`);
  const isTrustedAccount = (p: string) => p === trustedAccount || new RegExp(`^arn:aws[\\w-]*:iam::${trustedAccount}:root$`).test(p);
  check(
    trust.every((s) => s.NotPrincipal === undefined && s.NotAction === undefined),
    'the trust policy allows with NotPrincipal or NotAction: it trusts everyone it does not name',
  );
  const others = trusted.filter((p) => !isTrustedAccount(p));
  check(others.length === 0, `the role trusts ${others.join(', ')}, not only account ${trustedAccount}`);
  check(trusted.length > 0, `the role trusts no one: its trust policy names no principal of account ${trustedAccount}`);
  const wider = trustActions.filter((a) => !TRUST_ACTIONS.some((allowed) => allowed.toLowerCase() === a.toLowerCase()));
  check(wider.length === 0, `the trust policy allows ${wider.join(', ')}; expected only ${TRUST_ACTIONS.join(', ')}`);

  const { AttachedPolicies: attached = [] } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  check(attached.length === 0, `managed policies widen the role: ${attached.map((p) => p.PolicyName).join(', ')}`);
  const { PolicyNames: names = [] } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  const statements: PolicyStatement[] = [];
  for (const name of names) {
    const { PolicyDocument: document = '{}' } = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
    statements.push(...statementsOf(decodeURIComponent(document)));
  }
  for (const s of statements) log(`  ${s.Effect} ${list(s.Action).join(', ')} on ${list(s.Resource).join(', ')} ${JSON.stringify(s.Condition ?? {})}`);
  const allowed = statements.filter((s) => s.Effect === 'Allow');
  const actions = [...new Set(allowed.flatMap((s) => list(s.Action)))].sort();
  check(JSON.stringify(actions) === JSON.stringify(gitActions), `the role allows ${actions.join(', ')}; expected only ${gitActions.join(', ')}`);
  const resources = [...new Set(allowed.flatMap((s) => list(s.Resource)))];
  check(resources.length === 1 && resources[0] === repositoryArn, `the role's Git permissions reach ${resources.join(', ')}, not only ${repositoryArn}`);

  // What IAM decides, evaluated by IAM: the protected branch, another branch, another repository.
  const protectedRef = `refs/heads/${protectedBranch}`;
  const cases: [string, string, string | undefined, PolicyEvaluationDecisionType][] = [
    ['codecommit:GitPull', repositoryArn, undefined, 'allowed'],
    ['codecommit:GitPush', repositoryArn, 'refs/heads/feature/exercise', 'allowed'],
    ['codecommit:GitPush', repositoryArn, protectedRef, 'explicitDeny'],
    ['codecommit:GitPull', `${repositoryArn}-other`, undefined, 'implicitDeny'],
  ];
  for (const [action, resource, reference, expected] of cases) {
    const { EvaluationResults: results = [] } = await iam.send(
      new SimulatePrincipalPolicyCommand({
        PolicySourceArn: roleArn,
        ActionNames: [action],
        ResourceArns: [resource],
        // codecommit:References is single-valued (String): one pushed reference per evaluation.
        ContextEntries: reference ? [{ ContextKeyName: 'codecommit:References', ContextKeyValues: [reference], ContextKeyType: 'string' }] : undefined,
      }),
    );
    const decision = results[0]?.EvalDecision;
    const what = `${action} on ${lastArnField(resource)}${reference ? ` to ${reference}` : ''}`;
    log(`IAM policy simulator: ${what} → ${decision}`);
    check(decision === expected, `${what}: IAM decides ${decision}, expected ${expected}`);
  }
}

async function assumeWhenTrusted(context: ExerciseContext, roleArn: string, repositoryArn: string, trustedAccount: string) {
  const { log } = context;
  const sts = context.client(STSClient, 'STS');
  const { Account: account } = await sts.send(new GetCallerIdentityCommand({}));
  const cloneUrl = `codecommit::${arnField(repositoryArn, 'region')}://${developerProfile}@${lastArnField(repositoryArn)}`;
  log(`a developer of account ${trustedAccount} adds to ~/.aws/config: [profile ${developerProfile}] role_arn = ${roleArn}, source_profile = <their profile>`);
  log(`then: git clone ${cloneUrl} (git-remote-codecommit signs with the role's temporary credentials)`);
  if (account !== trustedAccount) {
    log(`you are in account ${account}, not ${trustedAccount}: assume the role from there`);
    return;
  }
  let user: { Arn?: string } | undefined;
  try {
    ({ AssumedRoleUser: user } = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `${context.runId}-developer`, DurationSeconds: 900 }),
    ));
  } catch (error) {
    check((error as { name?: string }).name !== 'AccessDenied', `your identity needs sts:AssumeRole on ${roleArn}; root cannot assume roles`);
    throw error;
  }
  const roleName = roleArn.split('/').pop();
  log(`assumed: ${user?.Arn}`);
  check(user?.Arn?.includes(`:assumed-role/${roleName}/`) === true, `assuming ${roleArn} gave ${user?.Arn}, not a session of the role`);
}

export async function repositoryAccess(context: ExerciseContext): Promise<void> {
  const { outputs } = context;
  const repositoryArn = requireOutput(outputs, 'RepositoryArn');
  const ruleArn = requireOutput(outputs, 'RepositoryNotificationRuleArn');
  const topicArn = requireOutput(outputs, 'RepositoryNotificationTopicArn');
  const roleArn = requireOutput(outputs, 'DeveloperRoleArn');
  const trustedAccount = requireOutput(outputs, 'TrustedAccountId');
  await checkNotificationRule(context, ruleArn, repositoryArn, topicArn);
  const keyId = await checkTopicPolicy(context, topicArn);
  await checkTopicKey(context, keyId, topicArn);
  await deliverBranchCreatedEvent(context, ruleArn, repositoryArn, topicArn);
  await checkDeveloperRole(context, roleArn, repositoryArn, trustedAccount);
  await assumeWhenTrusted(context, roleArn, repositoryArn, trustedAccount);
}
