import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetPolicyCommand, GetPolicyVersionCommand, IAMClient, SimulateCustomPolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeActiveReceiptRuleSetCommand, SESClient } from '@aws-sdk/client-ses';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Context, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '../../../lambda/ses-feedback';
import { simulatorAddress } from '../../../labs/ses/constants';
import { smtpServer, steps, timing } from '../../../labs/ses/exercise';
import { sesLab } from '../../../labs/ses/lab';
import { smtpPassword } from '../../../labs/ses/smtp-password';
import { ExerciseCheckFailed, LabNotReady, provide, ProvidedFixture, runExercise, startExerciseRun } from '../../../labs/support/exercise';
import { identityDecision, PolicyDocument, resolveValue } from '../../support/local-iam';
import { labTemplate } from '../../support/lab-template';
import { LocalSesServer, localSesServer, StandInAnswers, startSesFront, StoredEmail, storedEmails } from './local-ses';
import { startSmtpStandIn } from './local-smtp';

// What aws-ses-v2-local serves is driven there: GetAccount, SendEmail (v2). What it lacks is answered by stand-ins
// built from the lab's template (GetEmailIdentity, GetConfigurationSet, GetConfigurationSetEventDestinations over
// HTTP), and SDK doubles: DynamoDB (the suppression table the real handler writes), Secrets Manager, S3, SQS and the
// SES v1 API (receipt rules).

const SENDER = 'sender@example.com';
const SHORT_TIMING = { feedbackDeadlineSeconds: 0.3, pollIntervalSeconds: 0.05, inboundDeadlineSeconds: 0.3 };

/** The lab's template with a sender and every feature, as `-c ses:email=... -c labs:all-features=true` deploys it. */
const template = labTemplate(sesLab, { allFeatures: true, context: { 'ses:email': SENDER } });
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type).map((r) => r.Properties);

/** The outputs of a deployment: the template's output names, with the values the stand-ins know. */
const DEPLOYED: Record<string, string> = {
  ConfigurationSetName: 'SesLab-config',
  SuppressionTableName: 'SesLab-suppressed',
  FeedbackFunctionName: 'SesLab-feedback',
  RejectedFeedbackQueueUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/SesLab-rejected',
  FeedbackTopicArn: 'arn:aws:sns:us-east-1:111111111111:SesLab-feedback',
  SenderAddress: SENDER,
  IdentityName: SENDER,
  SendingPolicyArn: 'arn:aws:iam::111111111111:policy/SesLab-sending',
  SmtpUserName: 'SesLab-smtp',
  SmtpCredentialsSecretArn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:SesLab-smtp',
  ReceiptRuleSetName: 'SesLab-inbound',
  InboundBucketName: 'seslab-inbound',
  InboundTopicArn: 'arn:aws:sns:us-east-1:111111111111:SesLab-inbound',
  InboundQueueUrl: 'https://sqs.us-east-1.amazonaws.com/111111111111/SesLab-inbound',
};

/** CloudFormation's event type names (`deliveryDelay`) as the SES v2 API returns them (`DELIVERY_DELAY`). */
const apiEventType = (type: string) => type.replace(/([A-Z])/g, '_$1').toUpperCase();

/** The answers SES would give about the lab's configuration set and identity, read from the template. */
function answersFromTemplate(): StandInAnswers {
  const name = DEPLOYED.ConfigurationSetName;
  const [set] = ofType('AWS::SES::ConfigurationSet') as {
    DeliveryOptions: object;
    ReputationOptions: object;
    SendingOptions: object;
    SuppressionOptions: object;
  }[];
  const destinations = ofType('AWS::SES::ConfigurationSetEventDestination').map((p, index) => {
    const { MatchingEventTypes, SnsDestination, CloudWatchDestination, Enabled } = p.EventDestination as Record<string, unknown>;
    return {
      Name: `destination-${index}`,
      Enabled,
      MatchingEventTypes: (MatchingEventTypes as string[]).map(apiEventType),
      ...(SnsDestination ? { SnsDestination: { TopicArn: DEPLOYED.FeedbackTopicArn } } : {}),
      ...(CloudWatchDestination ? { CloudWatchDestination } : {}),
    };
  });
  const [identity] = ofType('AWS::SES::EmailIdentity') as { EmailIdentity: string; ConfigurationSetAttributes?: object }[];
  return new Map<string, object>([
    [`/v2/email/configuration-sets/${name}`, { ConfigurationSetName: name, ...set }],
    [`/v2/email/configuration-sets/${name}/event-destinations`, { EventDestinations: destinations }],
    [
      `/v2/email/identities/${identity.EmailIdentity}`,
      {
        IdentityType: 'EMAIL_ADDRESS',
        VerifiedForSendingStatus: true,
        VerificationStatus: 'SUCCESS',
        ConfigurationSetName: identity.ConfigurationSetAttributes ? name : undefined,
      },
    ],
  ]);
}

const SANDBOX_ACCOUNT = {
  DedicatedIpAutoWarmupEnabled: false,
  Details: {
    AdditionalContactEmailAddresses: [],
    ContactLanguage: 'EN',
    MailType: 'TRANSACTIONAL',
    ReviewDetails: { CaseId: 'none', Status: 'PENDING' },
    UseCaseDescription: 'lab',
    WebsiteURL: 'https://example.com',
  },
  EnforcementStatus: 'HEALTHY',
  ProductionAccessEnabled: false,
  SendingEnabled: true,
  SendQuota: { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 3 },
  SuppressionAttributes: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
};

/** The sending policy as IAM would store it: the template's document with its references resolved. */
function deployedSendingPolicy(): PolicyDocument {
  const refs: Record<string, string> = { SenderIdentity: SENDER, SenderConfigurationSet: DEPLOYED.ConfigurationSetName };
  const deployed = Object.fromEntries(
    Object.keys(resources).flatMap((id) => {
      const prefix = Object.keys(refs).find((p) => new RegExp(`^${p}[0-9A-F]{8}$`).test(id));
      return prefix ? [[id, { ref: refs[prefix], attributes: {} }]] : [];
    }),
  );
  const [policy] = ofType('AWS::IAM::ManagedPolicy');
  return resolveValue(policy.PolicyDocument, { account: '111111111111', region: 'us-east-1', stackName: 'SesLab', resources: deployed }) as PolicyDocument;
}

/** IAM's policy simulator, evaluated by the local IAM evaluator on the policy documents it is given. */
function simulateCustomPolicy(policy: PolicyDocument) {
  iamClient.on(GetPolicyCommand, { PolicyArn: DEPLOYED.SendingPolicyArn }).resolves({ Policy: { DefaultVersionId: 'v1' } });
  iamClient.on(GetPolicyVersionCommand, { PolicyArn: DEPLOYED.SendingPolicyArn, VersionId: 'v1' }).resolves({
    PolicyVersion: { Document: encodeURIComponent(JSON.stringify(policy)) },
  });
  iamClient.on(SimulateCustomPolicyCommand).callsFake(async ({ PolicyInputList, ActionNames, ResourceArns, ContextEntries }) => {
    const sessionKeys = Object.fromEntries(ContextEntries.map((e: { ContextKeyName: string; ContextKeyValues: string[] }) => [e.ContextKeyName, e.ContextKeyValues]));
    const caller = { arn: 'arn:aws:iam::111111111111:user/simulated', account: '111111111111', identityPolicies: PolicyInputList.map((p: string) => JSON.parse(p)), sessionKeys };
    const decision = identityDecision(caller, { action: ActionNames[0], resource: ResourceArns[0] });
    return { EvaluationResults: [{ EvalActionName: ActionNames[0], EvalDecision: decision === 'Allow' ? 'allowed' : decision === 'ExplicitDeny' ? 'explicitDeny' : 'implicitDeny' }] };
  });
}

const iamClient = mockClient(IAMClient);
const dynamodb = mockClient(DynamoDBClient);
const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);
const sesV1 = mockClient(SESClient);
const sqs = mockClient(SQSClient);
const table = new Map<string, Record<string, AttributeValue>>();

let server: LocalSesServer;
let front: Awaited<ReturnType<typeof startSesFront>>;
let answers: StandInAnswers;
const lines: string[] = [];
/** Feedback SES's simulator would publish for mail it took, fed to the real handler: off to show a missing event fails. */
let simulatorFeedback = true;
const delivered = new Set<string>();

/** Documented SNS event shapes of the simulator's outcomes (SES Developer Guide, event publishing examples). */
function simulatorEvent(mail: StoredEmail): object | undefined {
  const [to] = mail.destination.to;
  const base = { mail: { messageId: mail.messageId, source: mail.from, destination: [to], timestamp: new Date().toISOString() } };
  const at = { timestamp: new Date().toISOString(), feedbackId: `feedback-${mail.messageId}` };
  if (to.startsWith('bounce+')) {
    return {
      eventType: 'Bounce',
      ...base,
      bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: to, action: 'failed', status: '5.1.1' }], ...at },
    };
  }
  if (to.startsWith('complaint+')) {
    return { eventType: 'Complaint', ...base, complaint: { complainedRecipients: [{ emailAddress: to }], complaintFeedbackType: 'abuse', ...at } };
  }
  if (to.startsWith('success+')) return { eventType: 'Delivery', ...base, delivery: { recipients: [to], ...at } };
  return undefined;
}

async function publishSimulatorFeedback(): Promise<void> {
  if (!simulatorFeedback) return;
  for (const mail of await storedEmails(server.endpoint)) {
    const event = simulatorEvent(mail);
    if (!event || delivered.has(mail.messageId)) continue;
    delivered.add(mail.messageId);
    const sns = { Records: [{ Sns: { MessageId: `sns-${mail.messageId}`, Message: JSON.stringify(event), TopicArn: DEPLOYED.FeedbackTopicArn } }] };
    await handler(sns as unknown as SNSEvent, {} as Context);
  }
}

beforeAll(async () => {
  server = await localSesServer();
  answers = answersFromTemplate();
  front = await startSesFront(server.endpoint, answers);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: front.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SUPPRESSION_TABLE: DEPLOYED.SuppressionTableName,
  });
});
afterAll(() => front.close());
beforeEach(async () => {
  lines.length = 0;
  table.clear();
  simulatorFeedback = true;
  dynamodb.reset();
  dynamodb.on(PutItemCommand).callsFake(async ({ TableName, Item }) => {
    expect(TableName).toBe(DEPLOYED.SuppressionTableName);
    table.set(Item.address.S, Item);
    return {};
  });
  dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => {
    await publishSimulatorFeedback();
    return { Item: table.get(Key.address.S) };
  });
  secrets.reset();
  s3.reset();
  sesV1.reset();
  sqs.reset();
  iamClient.reset();
  await server.setAccount(SANDBOX_ACCOUNT);
});

/** The outputs without `names`: a deployment without a parameter or a feature. */
const without = (outputs: Record<string, string>, ...names: string[]) =>
  Object.fromEntries(Object.entries(outputs).filter(([name]) => !names.includes(name)));

const run = (only: string, outputs: Record<string, string> = DEPLOYED, extra: ProvidedFixture[] = []) =>
  runExercise(steps, { outputs, log: (line) => lines.push(line), provide: [provide(timing, SHORT_TIMING), ...extra] }, only);

test('the stand-in outputs are the outputs the template declares with a sender and every feature', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(Object.keys(DEPLOYED).sort());
});

describe('account', () => {
  test('reads the sandbox and its quotas from GetAccount', async () => {
    await run('account');
    expect(lines).toContain('quota: 200 messages per 24 h, 1 per second, 3 sent in the last 24 h');
    expect(lines.some((l) => l.startsWith('sandbox: only verified recipients and the mailbox simulator'))).toBe(true);
  });

  test('says production access when the account has it', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, ProductionAccessEnabled: true, SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 } });
    await run('account');
    expect(lines.some((l) => l.startsWith('production access'))).toBe(true);
  });

  test('fails on an account without a sending quota', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, SendQuota: { Max24HourSend: 0, MaxSendRate: 0, SentLast24Hours: 0 } });
    await expect(run('account')).rejects.toThrow(/GetAccount returned no usable SendQuota: \{"Max24HourSend":0/);
  });

  test('fails when SES paused sending for the account', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, SendingEnabled: false, EnforcementStatus: 'SHUTDOWN' });
    await expect(run('account')).rejects.toThrow(new ExerciseCheckFailed('SendingEnabled is false: SES paused sending for this account in this Region (see EnforcementStatus)'));
  });
});

describe('identity', () => {
  const name = DEPLOYED.ConfigurationSetName;
  const patch = (key: string, change: (answer: Record<string, unknown>) => Record<string, unknown>) => {
    const original = answers.get(key) as Record<string, unknown>;
    answers.set(key, change(structuredClone(original)));
    return () => answers.set(key, original);
  };

  test('passes on the configuration set the template builds, and names its destinations', async () => {
    await run('identity');
    expect(lines).toContain(`configuration set ${name}: reputation metrics on, TLS required, suppresses BOUNCE and COMPLAINT`);
    expect(lines).toContain(
      'events: BOUNCE, COMPLAINT, DELIVERY, REJECT, DELIVERY_DELAY → SNS; SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, OPEN, CLICK, RENDERING_FAILURE → CloudWatch metrics',
    );
  });

  test.each([
    ['reputation metrics off', `/v2/email/configuration-sets/${name}`, (a: Record<string, unknown>) => ({ ...a, ReputationOptions: { ReputationMetricsEnabled: false } }), /reputation metrics are off/],
    ['TLS optional', `/v2/email/configuration-sets/${name}`, (a: Record<string, unknown>) => ({ ...a, DeliveryOptions: { TlsPolicy: 'OPTIONAL' } }), /TlsPolicy is OPTIONAL/],
    ['complaints not suppressed', `/v2/email/configuration-sets/${name}`, (a: Record<string, unknown>) => ({ ...a, SuppressionOptions: { SuppressedReasons: ['BOUNCE'] } }), /suppresses \["BOUNCE"\]/],
    [
      'no open events',
      `/v2/email/configuration-sets/${name}/event-destinations`,
      (a: Record<string, unknown>) => ({
        EventDestinations: (a.EventDestinations as { MatchingEventTypes: string[] }[]).map((d) => ({ ...d, MatchingEventTypes: d.MatchingEventTypes.filter((t) => t !== 'OPEN') })),
      }),
      /CloudWatch destination misses OPEN/,
    ],
    [
      'the SNS destination disabled',
      `/v2/email/configuration-sets/${name}/event-destinations`,
      (a: Record<string, unknown>) => ({
        EventDestinations: (a.EventDestinations as { SnsDestination?: object }[]).map((d) => (d.SnsDestination ? { ...d, Enabled: false } : d)),
      }),
      /SNS destination misses BOUNCE, COMPLAINT, DELIVERY/,
    ],
    ['another default configuration set', `/v2/email/identities/${SENDER}`, (a: Record<string, unknown>) => ({ ...a, ConfigurationSetName: 'other' }), /default configuration set is other/],
  ])('fails with %s', async (_what, key, change, message) => {
    const restore = patch(key, change);
    try {
      await expect(run('identity')).rejects.toThrow(message);
    } finally {
      restore();
    }
  });

  test('an unverified address is not ready: it says to click the link', async () => {
    const restore = patch(`/v2/email/identities/${SENDER}`, (a) => ({ ...a, VerifiedForSendingStatus: false }));
    try {
      await expect(run('identity')).rejects.toThrow(new LabNotReady(`${SENDER} is not verified yet: click the link SES mailed to it (valid 24 h), then retry`));
    } finally {
      restore();
    }
  });

  test('a lab deployed without ses:email is not ready for sending', async () => {
    const withoutSender = without(DEPLOYED, 'SenderAddress', 'IdentityName', 'SendingPolicyArn');
    await expect(run('identity', withoutSender)).rejects.toThrow(LabNotReady);
    await expect(run('send', withoutSender)).rejects.toThrow(/ses:email=you@example.com/);
  });
});

describe('policy', () => {
  test('the deployed policy allows the sender on its identity, and nothing else', async () => {
    simulateCustomPolicy(deployedSendingPolicy());
    await run('policy');
    expect(lines.slice(1, 5)).toEqual([
      `ses:SendEmail on identity/${SENDER} From ${SENDER}: allowed`,
      `ses:SendRawEmail on identity/${SENDER} From ${SENDER}: allowed`,
      `ses:SendEmail on identity/${SENDER} From someone-else@example.com: implicitDeny`,
      expect.stringMatching(new RegExp(`^ses:SendEmail on identity/other-run-\\w+\\.example\\.com From ${SENDER}: implicitDeny$`)),
    ]);
  });

  test('fails on a policy without the From condition', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Condition: undefined })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(`the sending policy gives allowed for ses:SendEmail on identity/${SENDER} From someone-else@example.com, expected implicitDeny`);
  });

  test('fails on a policy for every identity', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Resource: '*' })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(/gives allowed for ses:SendEmail on identity\/other-run-\w+\.example\.com From sender@example\.com, expected implicitDeny/);
  });

  test('asks about ARNs in the partition of the policy, not always arn:aws', async () => {
    const policyArn = 'arn:aws-us-gov:iam::222222222222:policy/SesLab-sending';
    iamClient.on(GetPolicyCommand, { PolicyArn: policyArn }).resolves({ Policy: { DefaultVersionId: 'v1' } });
    iamClient.on(GetPolicyVersionCommand, { PolicyArn: policyArn }).resolves({ PolicyVersion: { Document: encodeURIComponent('{}') } });
    iamClient.on(SimulateCustomPolicyCommand).resolves({ EvaluationResults: [{ EvalActionName: 'ses:SendEmail', EvalDecision: 'allowed' }] });
    await expect(run('policy', { ...DEPLOYED, SendingPolicyArn: policyArn })).rejects.toThrow(ExerciseCheckFailed);
    expect(iamClient.commandCalls(SimulateCustomPolicyCommand)[0].args[0].input.ResourceArns).toEqual([`arn:aws-us-gov:ses:us-east-1:222222222222:identity/${SENDER}`]);
  });

  test('fails on a policy that forgets SMTP (SendRawEmail)', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Action: 'ses:SendEmail' })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(`the sending policy gives implicitDeny for ses:SendRawEmail on identity/${SENDER} From ${SENDER}, expected allowed`);
  });
});

test('send: the v2 API takes a message from the sender to the simulator, through the configuration set', async () => {
  await run('send');
  const runId = lines.find((l) => l.startsWith('SendEmail'))?.match(/success\+(run-[a-z0-9]+)@/)?.[1];
  const mail = (await storedEmails(server.endpoint)).find((m) => m.destination.to.includes(simulatorAddress('success', runId ?? '')));
  expect(mail).toMatchObject({ from: SENDER, subject: `success ${runId}` });
  expect(mail?.body.html).toContain('<a href=');
});

describe('feedback', () => {
  test('the bounce and the complaint reach the handler, which records them; the delivery is not recorded', async () => {
    await run('feedback');
    const recorded = [...table.values()].map((item) => [item.address.S?.split('+')[0], item.reason.S, item.detail.S]);
    expect(recorded).toEqual([
      ['bounce', 'permanent-bounce', 'General'],
      ['complaint', 'complaint', 'abuse'],
    ]);
    expect(lines.some((l) => /^success\+run-[a-z0-9]+@simulator\.amazonses\.com is not recorded/.test(l))).toBe(true);
  });

  test('fails, naming both addresses, when no event arrives', async () => {
    simulatorFeedback = false;
    await expect(run('feedback')).rejects.toThrow(/no record of bounce\+run-\w+@simulator\.amazonses\.com, complaint\+run-\w+@simulator\.amazonses\.com in SesLab-suppressed within 0.3 s/);
  });

  test('fails when a record of an earlier message stands for this one', async () => {
    simulatorFeedback = false;
    dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => ({
      Item: { address: Key.address, reason: { S: 'complaint' }, messageId: { S: 'an-earlier-message' } },
    }));
    await expect(run('feedback')).rejects.toThrow(/no record of bounce/);
  });

  test('fails when the complaint is recorded as a bounce', async () => {
    dynamodb.on(PutItemCommand).callsFake(async ({ Item }) => {
      table.set(Item.address.S, { ...Item, reason: { S: 'permanent-bounce' } });
      return {};
    });
    await expect(run('feedback')).rejects.toThrow(/complaint\+run-\w+@simulator\.amazonses\.com was recorded as permanent-bounce, expected complaint/);
  });

  test('fails when a delivered address is recorded too', async () => {
    dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => {
      await publishSimulatorFeedback();
      const item = table.get(Key.address.S);
      return { Item: item ?? (Key.address.S.startsWith('success+') ? { address: Key.address, reason: { S: 'complaint' } } : undefined) };
    });
    await expect(run('feedback')).rejects.toThrow(/success\+run-\w+@simulator\.amazonses\.com was delivered, yet it is recorded as suppressed/);
  });
});

describe('smtp', () => {
  test('connects to the Region\'s SES SMTP endpoint on 587 with STARTTLS required, unless a test gives another', async () => {
    const exerciseRun = startExerciseRun({ outputs: DEPLOYED, log: () => undefined });
    try {
      await expect(exerciseRun.context.use(smtpServer)).resolves.toEqual({ host: 'email-smtp.us-east-1.amazonaws.com', port: 587, requireTLS: true });
    } finally {
      await exerciseRun.close();
    }
  });

  const key = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

  test('without -c ses:smtp=true, derives the password of the docs example key offline, per Region', async () => {
    await run('smtp', without(DEPLOYED, 'SmtpCredentialsSecretArn', 'SmtpUserName'));
    expect(lines).toContain(`SMTP password of the docs' example key in us-east-1: ${smtpPassword(key.secretAccessKey, 'us-east-1')}`);
    expect(lines.some((l) => l.includes('-c ses:smtp=true'))).toBe(true);
  });

  test('logs in with the password derived from the secret and sends from the sender', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: DEPLOYED.SmtpCredentialsSecretArn }).resolves({ SecretString: JSON.stringify(key) });
    const smtp = await startSmtpStandIn({ user: key.accessKeyId, password: smtpPassword(key.secretAccessKey, 'us-east-1') });
    try {
      await run('smtp', DEPLOYED, [provide(smtpServer, { host: '127.0.0.1', port: smtp.port, requireTLS: false })]);
      expect(smtp.accepted).toHaveLength(1);
      expect(smtp.accepted[0]).toMatchObject({ user: key.accessKeyId, from: SENDER });
      expect(smtp.accepted[0].to[0]).toMatch(/^success\+run-\w+-smtp@simulator\.amazonses\.com$/);
      expect(smtp.accepted[0].data).toMatch(new RegExp(`^X-SES-CONFIGURATION-SET: ${DEPLOYED.ConfigurationSetName}$`, 'im'));
    } finally {
      await smtp.close();
    }
  });

  test('a password derived for another Region is refused', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(key) });
    const smtp = await startSmtpStandIn({ user: key.accessKeyId, password: smtpPassword(key.secretAccessKey, 'eu-west-1') });
    try {
      await expect(run('smtp', DEPLOYED, [provide(smtpServer, { host: '127.0.0.1', port: smtp.port, requireTLS: false })])).rejects.toThrow(/535/);
      expect(smtp.accepted).toHaveLength(0);
    } finally {
      await smtp.close();
    }
  });

  test('fails on a secret without the key', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '{}' });
    await expect(run('smtp')).rejects.toThrow(new ExerciseCheckFailed('the SMTP secret holds no accessKeyId and secretAccessKey'));
  });
});

describe('receiving', () => {
  const withDomain = { ...DEPLOYED, InboundDomain: 'mail.example.com' };
  const inboundMails = async () => (await storedEmails(server.endpoint)).filter((m) => m.destination.to.some((to) => to.endsWith('@mail.example.com')));
  /** S3 as SES's S3 action leaves it: the raw message of each mail the local engine took for the domain. */
  const objects = new Map<string, string>();
  /** What SES publishes for each stored mail (SES Developer Guide, "Notification examples"), as SQS holds it (raw delivery). */
  const receivedNotification = (m: StoredEmail, key: string) => ({
    notificationType: 'Received',
    mail: { messageId: m.messageId, source: m.from, destination: m.destination.to, commonHeaders: { from: [m.from], to: m.destination.to, subject: m.subject } },
    receipt: {
      recipients: m.destination.to,
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      action: { type: 'S3', topicArn: DEPLOYED.InboundTopicArn, bucketName: DEPLOYED.InboundBucketName, objectKeyPrefix: 'inbound/', objectKey: key },
    },
  });
  /** The queue subscribed to the topic: an older run's notification first, then one per mail the engine took. */
  function inboundQueue(notify: (m: StoredEmail, key: string) => object | undefined = receivedNotification) {
    sqs.on(ReceiveMessageCommand, { QueueUrl: DEPLOYED.InboundQueueUrl }).callsFake(async () => {
      const older = { ...receivedNotification({ messageId: 'older', from: SENDER, destination: { to: ['lab+run-older@mail.example.com'] }, subject: 'inbound run-older', body: {} }, 'inbound/older') };
      objects.set('inbound/older', 'Subject: inbound run-older\r\n\r\n');
      const messages = [{ Body: JSON.stringify(older), ReceiptHandle: 'older' }];
      for (const m of await inboundMails()) {
        const key = `inbound/${m.messageId}`;
        objects.set(key, `From: ${m.from}\r\nSubject: ${m.subject}\r\n\r\n${m.body.text ?? ''}`);
        const body = notify(m, key);
        if (body) messages.push({ Body: JSON.stringify(body), ReceiptHandle: `handle-${m.messageId}` });
      }
      return { Messages: messages };
    });
    s3.on(GetObjectCommand, { Bucket: DEPLOYED.InboundBucketName }).callsFake(async ({ Key }) => ({ Body: { transformToString: async () => objects.get(Key) ?? '' } }));
  }
  const active = (name?: string) => sesV1.on(DescribeActiveReceiptRuleSetCommand).resolves(name ? { Metadata: { Name: name } } : {});

  beforeEach(() => objects.clear());

  test('with the lab\'s rule set active, reads the notification of the message it sent and the object it names', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue();
    await run('receiving', withDomain);
    const stored = lines.find((l) => l.startsWith('notification: stored as'));
    expect(stored).toMatch(/^notification: stored as s3:\/\/seslab-inbound\/inbound\/[\w-]+, spam PASS, virus PASS$/);
    expect(stored).not.toContain('inbound/older');
    const key = stored?.match(/s3:\/\/seslab-inbound\/(\S+),/)?.[1];
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual([`handle-${key?.split('/')[1]}`]);
    expect(lines).toContain(`${DEPLOYED.ReceiptRuleSetName} is the Region's active receipt rule set`);
  });

  test.each([
    ['another set', 'someone-elses-rules'],
    ['none', undefined],
  ])('is not ready when the active rule set is %s, and says how to activate the lab\'s', async (_what, name) => {
    active(name);
    inboundQueue();
    const mailsBefore = (await inboundMails()).length;
    await expect(run('receiving', withDomain)).rejects.toThrow(
      new LabNotReady(
        `the active receipt rule set is ${name ?? 'none'}, not the lab's: activate it (this deactivates the other), then retry:\n` +
          `  aws ses set-active-receipt-rule-set --rule-set-name ${DEPLOYED.ReceiptRuleSetName}`,
      ),
    );
    // Nothing is sent to a domain whose mail SES would not take in.
    expect(await inboundMails()).toHaveLength(mailsBefore);
  });

  test('fails, pointing at the MX record, when no notification of this run arrives (an older one does not count)', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue(() => undefined);
    await expect(run('receiving', withDomain)).rejects.toThrow(/no notification for the mail with subject "inbound run-\w+" within 0.3 s: does the MX record of mail\.example\.com/);
  });

  test('fails when the notification names an object that holds another message', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue((m) => receivedNotification(m, 'inbound/older'));
    await expect(run('receiving', withDomain)).rejects.toThrow(/s3:\/\/seslab-inbound\/inbound\/older does not hold the message with subject "inbound run-\w+"/);
  });

  test('fails when the notification is of an action other than the S3 action into the lab\'s bucket', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue((m, key) => {
      const notification = receivedNotification(m, key);
      return { ...notification, receipt: { ...notification.receipt, action: { ...notification.receipt.action, bucketName: 'another-bucket' } } };
    });
    await expect(run('receiving', withDomain)).rejects.toThrow(/the notification's action is .*"bucketName":"another-bucket".*, not the S3 action into seslab-inbound/);
  });

  test('is not ready without the feature or without a domain', async () => {
    await expect(run('receiving', without(withDomain, 'ReceiptRuleSetName'))).rejects.toThrow(/-c ses:receiving=true/);
    await expect(run('receiving', DEPLOYED)).rejects.toThrow(/ses:domain=/);
  });
});
