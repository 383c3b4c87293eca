import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetPolicyCommand, GetPolicyVersionCommand, IAMClient, SimulateCustomPolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeActiveReceiptRuleSetCommand, SESClient } from '@aws-sdk/client-ses';
import { GetAccountCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
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
  // The simulator's events for mail an earlier run sent were published then.
  for (const mail of await storedEmails(server.endpoint)) delivered.add(mail.messageId);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: front.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SUPPRESSION_TABLE: DEPLOYED.SuppressionTableName,
  });
});
afterAll(() => front.close());
/** What the steps ask the SES v2 API, passed through to the local server. */
let sesV2Send: jest.SpyInstance;
const sesV2Inputs = <T extends abstract new (...args: never[]) => { input: object }>(type: T) =>
  sesV2Send.mock.calls.map(([command]) => command).filter((command) => command instanceof type).map((command) => (command as InstanceType<T>).input);
afterEach(() => sesV2Send.mockRestore());
beforeEach(async () => {
  sesV2Send = jest.spyOn(SESv2Client.prototype, 'send');
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

/** Runs one step with a fixed run id: each test that sends mail has its own, since the local server keeps every mail. */
const run = (only: string, outputs: Record<string, string> = DEPLOYED, extra: ProvidedFixture[] = [], runId = 'run-test') =>
  runExercise(steps, { outputs, log: (line) => lines.push(line), runId, provide: [provide(timing, SHORT_TIMING), ...extra] }, only);

test('the stand-in outputs are the outputs the template declares with a sender and every feature', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(Object.keys(DEPLOYED).sort());
});

describe('account', () => {
  const header = '\n== 1/1 account: sandbox or production, and the sending quotas (GetAccount)';

  test('reads the sandbox and its quotas from GetAccount', async () => {
    await run('account');
    expect(lines).toEqual([
      header,
      'EnforcementStatus=HEALTHY, SendingEnabled=true',
      'quota: 200 messages per 24 h, 1 per second, 3 sent in the last 24 h',
      'sandbox: only verified recipients and the mailbox simulator, 200 per day at 1 per second; ask for production access to leave it',
    ]);
  });

  test('says production access when the account has it', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, ProductionAccessEnabled: true, SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 } });
    await run('account');
    expect(lines).toEqual([
      header,
      'EnforcementStatus=HEALTHY, SendingEnabled=true',
      'quota: 50000 messages per 24 h, 14 per second, 0 sent in the last 24 h',
      'production access: any recipient, quotas raised on request (Service Quotas)',
    ]);
  });

  test('fails on an account without a sending quota', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, SendQuota: { Max24HourSend: 0, MaxSendRate: 0, SentLast24Hours: 0 } });
    await expect(run('account')).rejects.toThrow(
      new ExerciseCheckFailed('GetAccount returned no usable SendQuota: {"Max24HourSend":0,"MaxSendRate":0,"SentLast24Hours":0}'),
    );
  });

  test('fails on an account whose GetAccount has no SendQuota at all (every field of the answer is optional)', async () => {
    sesV2Send.mockResolvedValueOnce({ ...SANDBOX_ACCOUNT, SendQuota: undefined });
    await expect(run('account')).rejects.toThrow(new ExerciseCheckFailed('GetAccount returned no usable SendQuota: undefined'));
    expect(sesV2Inputs(GetAccountCommand)).toEqual([{}]);
  });

  test('fails when SES paused sending for the account', async () => {
    await server.setAccount({ ...SANDBOX_ACCOUNT, SendingEnabled: false, EnforcementStatus: 'SHUTDOWN' });
    await expect(run('account')).rejects.toThrow(new ExerciseCheckFailed('SendingEnabled is false: SES paused sending for this account in this Region (see EnforcementStatus)'));
  });
});

describe('identity', () => {
  const name = DEPLOYED.ConfigurationSetName;
  const header = '\n== 1/1 identity: the verified identity and its configuration set: reputation, TLS, suppression, event destinations';
  const setKey = `/v2/email/configuration-sets/${name}`;
  const destinationsKey = `/v2/email/configuration-sets/${name}/event-destinations`;
  const identityKey = `/v2/email/identities/${SENDER}`;
  const patch = (key: string, change: (answer: Record<string, unknown>) => Record<string, unknown>) => {
    const original = answers.get(key) as Record<string, unknown>;
    answers.set(key, change(structuredClone(original)));
    return () => answers.set(key, original);
  };
  type Destination = { MatchingEventTypes: string[]; SnsDestination?: object; CloudWatchDestination?: object; Enabled?: boolean };
  /** The event destinations with `change` applied to the SNS one (`sns`) or the CloudWatch one. */
  const destinations = (which: 'sns' | 'cloudwatch', change: (d: Destination) => Destination | undefined) => (a: Record<string, unknown>) => ({
    EventDestinations: (a.EventDestinations as Destination[])
      .map((d) => ((which === 'sns' ? d.SnsDestination : d.CloudWatchDestination) ? change(d) : d))
      .filter((d) => d !== undefined),
  });
  const withoutType = (type: string) => (d: Destination) => ({ ...d, MatchingEventTypes: d.MatchingEventTypes.filter((t) => t !== type) });
  const withoutKey = (key: string) => (a: Record<string, unknown>) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== key));

  test('passes on the configuration set the template builds, and names its destinations', async () => {
    await run('identity');
    expect(lines).toEqual([
      header,
      `${SENDER}: EMAIL_ADDRESS, VerifiedForSendingStatus=true, DKIM n/a`,
      `configuration set ${name}: reputation metrics on, TLS required, suppresses BOUNCE and COMPLAINT`,
      'events: BOUNCE, COMPLAINT, DELIVERY, REJECT, DELIVERY_DELAY → SNS; SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, OPEN, CLICK, RENDERING_FAILURE → CloudWatch metrics',
    ]);
  });

  test('prints the DKIM status of an identity that has one', async () => {
    const restore = patch(identityKey, (a) => ({ ...a, DkimAttributes: { SigningEnabled: true, Status: 'SUCCESS', Tokens: [] } }));
    try {
      await run('identity');
      expect(lines[1]).toBe(`${SENDER}: EMAIL_ADDRESS, VerifiedForSendingStatus=true, DKIM SUCCESS`);
    } finally {
      restore();
    }
  });

  test.each([
    ['reputation metrics off', setKey, (a: Record<string, unknown>) => ({ ...a, ReputationOptions: { ReputationMetricsEnabled: false } }), 'reputation metrics are off on the configuration set'],
    ['no reputation options', setKey, withoutKey('ReputationOptions'), 'reputation metrics are off on the configuration set'],
    ['TLS optional', setKey, (a: Record<string, unknown>) => ({ ...a, DeliveryOptions: { TlsPolicy: 'OPTIONAL' } }), 'TlsPolicy is OPTIONAL, not REQUIRE'],
    ['no delivery options', setKey, withoutKey('DeliveryOptions'), 'TlsPolicy is undefined, not REQUIRE'],
    [
      'complaints not suppressed',
      setKey,
      (a: Record<string, unknown>) => ({ ...a, SuppressionOptions: { SuppressedReasons: ['BOUNCE'] } }),
      'the configuration set suppresses ["BOUNCE"], not bounces and complaints',
    ],
    [
      'bounces not suppressed',
      setKey,
      (a: Record<string, unknown>) => ({ ...a, SuppressionOptions: { SuppressedReasons: ['COMPLAINT'] } }),
      'the configuration set suppresses ["COMPLAINT"], not bounces and complaints',
    ],
    ['no suppression options', setKey, withoutKey('SuppressionOptions'), 'the configuration set suppresses [], not bounces and complaints'],
    ['no open events', destinationsKey, destinations('cloudwatch', withoutType('OPEN')), 'the CloudWatch destination misses OPEN'],
    ['the CloudWatch destination disabled', destinationsKey, destinations('cloudwatch', (d) => ({ ...d, Enabled: false })), 'the CloudWatch destination misses OPEN, CLICK'],
    ['no delivery events to SNS', destinationsKey, destinations('sns', withoutType('DELIVERY')), 'the SNS destination misses DELIVERY'],
    ['the SNS destination disabled', destinationsKey, destinations('sns', (d) => ({ ...d, Enabled: false })), 'the SNS destination misses BOUNCE, COMPLAINT, DELIVERY'],
    ['no SNS destination', destinationsKey, destinations('sns', () => undefined), 'the SNS destination misses BOUNCE, COMPLAINT, DELIVERY'],
    ['no event destination at all', destinationsKey, () => ({}), 'the SNS destination misses BOUNCE, COMPLAINT, DELIVERY'],
    [
      'another default configuration set',
      identityKey,
      (a: Record<string, unknown>) => ({ ...a, ConfigurationSetName: 'other' }),
      `the identity's default configuration set is other, not the lab's ${name}`,
    ],
  ])('fails with %s', async (_what, key, change, message) => {
    const restore = patch(key, change);
    try {
      await expect(run('identity')).rejects.toThrow(new ExerciseCheckFailed(message));
    } finally {
      restore();
    }
  });

  test('an unverified address is not ready: it says to click the link', async () => {
    const restore = patch(identityKey, (a) => ({ ...a, VerifiedForSendingStatus: false }));
    try {
      await expect(run('identity')).rejects.toThrow(new LabNotReady(`${SENDER} is not verified yet: click the link SES mailed to it (valid 24 h), then retry`));
      expect(lines).toEqual([header, `${SENDER}: EMAIL_ADDRESS, VerifiedForSendingStatus=false, DKIM n/a`]);
    } finally {
      restore();
    }
  });

  test('an unverified domain is not ready: SES checks its DKIM records', async () => {
    answers.set('/v2/email/identities/example.com', {
      IdentityType: 'DOMAIN',
      VerifiedForSendingStatus: false,
      VerificationStatus: 'PENDING',
      DkimAttributes: { SigningEnabled: true, Status: 'PENDING', Tokens: ['token1', 'token2', 'token3'] },
      ConfigurationSetName: name,
    });
    try {
      await expect(run('identity', { ...DEPLOYED, IdentityName: 'example.com' })).rejects.toThrow(
        new LabNotReady('example.com is not verified yet: SES checks the DKIM CNAME records in your zone (up to 72 h, usually minutes); retry later'),
      );
      expect(lines).toEqual([header, 'example.com: DOMAIN, VerifiedForSendingStatus=false, DKIM PENDING']);
    } finally {
      answers.delete('/v2/email/identities/example.com');
    }
  });

  test('a lab deployed without ses:email is not ready for sending', async () => {
    const withoutSender = without(DEPLOYED, 'SenderAddress', 'IdentityName', 'SendingPolicyArn');
    const notReady = new LabNotReady(
      'the lab has no sender: redeploy with npx cdk deploy SesLab -c ses:email=you@example.com, then click the link SES mails you',
    );
    await expect(run('identity', withoutSender)).rejects.toThrow(notReady);
    await expect(run('send', withoutSender)).rejects.toThrow(notReady);
    expect(sesV2Inputs(SendEmailCommand)).toEqual([]);
  });
});

describe('policy', () => {
  const ownIdentity = `arn:aws:ses:us-east-1:111111111111:identity/${SENDER}`;
  const otherIdentity = 'arn:aws:ses:us-east-1:111111111111:identity/other-run-test.example.com';
  const from = (address: string) => [{ ContextKeyName: 'ses:FromAddress', ContextKeyValues: [address], ContextKeyType: 'string' }];

  test('the deployed policy allows the sender on its identity, and nothing else', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy(policy);
    await run('policy');
    expect(lines).toEqual([
      '\n== 1/1 policy: the sending policy in the IAM policy simulator: this From address, this identity only',
      `ses:SendEmail on identity/${SENDER} From ${SENDER}: allowed`,
      `ses:SendRawEmail on identity/${SENDER} From ${SENDER}: allowed`,
      `ses:SendEmail on identity/${SENDER} From someone-else@example.com: implicitDeny`,
      `ses:SendEmail on identity/other-run-test.example.com From ${SENDER}: implicitDeny`,
      'the policy allows this one From address, on this identity: a leaked key cannot send as anyone else',
    ]);
    // The document IAM returned URL-encoded, decoded, asked about four requests.
    const document = JSON.stringify(policy);
    expect(iamClient.commandCalls(SimulateCustomPolicyCommand).map((c) => c.args[0].input)).toEqual([
      { PolicyInputList: [document], ActionNames: ['ses:SendEmail'], ResourceArns: [ownIdentity], ContextEntries: from(SENDER) },
      { PolicyInputList: [document], ActionNames: ['ses:SendRawEmail'], ResourceArns: [ownIdentity], ContextEntries: from(SENDER) },
      { PolicyInputList: [document], ActionNames: ['ses:SendEmail'], ResourceArns: [ownIdentity], ContextEntries: from('someone-else@example.com') },
      { PolicyInputList: [document], ActionNames: ['ses:SendEmail'], ResourceArns: [otherIdentity], ContextEntries: from(SENDER) },
    ]);
  });

  test('fails on a policy without the From condition', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Condition: undefined })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(
      new ExerciseCheckFailed(`the sending policy gives allowed for ses:SendEmail on identity/${SENDER} From someone-else@example.com, expected implicitDeny`),
    );
  });

  test('fails on a policy for every identity', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Resource: '*' })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(
      new ExerciseCheckFailed(`the sending policy gives allowed for ses:SendEmail on identity/other-run-test.example.com From ${SENDER}, expected implicitDeny`),
    );
  });

  test('asks about ARNs in the partition of the policy, not always arn:aws', async () => {
    const policyArn = 'arn:aws-us-gov:iam::222222222222:policy/SesLab-sending';
    iamClient.on(GetPolicyCommand, { PolicyArn: policyArn }).resolves({ Policy: { DefaultVersionId: 'v1' } });
    iamClient.on(GetPolicyVersionCommand, { PolicyArn: policyArn }).resolves({ PolicyVersion: { Document: encodeURIComponent('{}') } });
    iamClient.on(SimulateCustomPolicyCommand).resolves({ EvaluationResults: [{ EvalActionName: 'ses:SendEmail', EvalDecision: 'allowed' }] });
    await expect(run('policy', { ...DEPLOYED, SendingPolicyArn: policyArn })).rejects.toThrow(
      new ExerciseCheckFailed(`the sending policy gives allowed for ses:SendEmail on identity/${SENDER} From someone-else@example.com, expected implicitDeny`),
    );
    expect(iamClient.commandCalls(GetPolicyVersionCommand).map((c) => c.args[0].input)).toEqual([{ PolicyArn: policyArn, VersionId: 'v1' }]);
    expect(iamClient.commandCalls(SimulateCustomPolicyCommand).map((c) => c.args[0].input.ResourceArns)).toEqual([
      [`arn:aws-us-gov:ses:us-east-1:222222222222:identity/${SENDER}`],
      [`arn:aws-us-gov:ses:us-east-1:222222222222:identity/${SENDER}`],
      [`arn:aws-us-gov:ses:us-east-1:222222222222:identity/${SENDER}`],
    ]);
  });

  test('fails on a policy that forgets SMTP (SendRawEmail)', async () => {
    const policy = deployedSendingPolicy();
    simulateCustomPolicy({ ...policy, Statement: (policy.Statement as object[]).map((st) => ({ ...st, Action: 'ses:SendEmail' })) } as PolicyDocument);
    await expect(run('policy')).rejects.toThrow(
      new ExerciseCheckFailed(`the sending policy gives implicitDeny for ses:SendRawEmail on identity/${SENDER} From ${SENDER}, expected allowed`),
    );
  });

  test('fails, saying so, when the simulator evaluates nothing', async () => {
    simulateCustomPolicy(deployedSendingPolicy());
    iamClient.on(SimulateCustomPolicyCommand).resolves({ EvaluationResults: [] });
    await expect(run('policy')).rejects.toThrow(
      new ExerciseCheckFailed(`the sending policy gives undefined for ses:SendEmail on identity/${SENDER} From ${SENDER}, expected allowed`),
    );
  });
});

describe('send', () => {
  const to = 'success+run-send@simulator.amazonses.com';

  test('the v2 API takes a message from the sender to the simulator, through the configuration set', async () => {
    await run('send', DEPLOYED, [], 'run-send');
    const messageId = lines[1]?.match(/ → MessageId (ses-\d+)$/)?.[1];
    expect(lines).toEqual([
      '\n== 1/1 send: send through the v2 API to the mailbox simulator',
      `SendEmail (v2 API) to ${to} → MessageId ${messageId}`,
      'the simulator accepts it: a Delivery event reaches the SNS topic, Send and Delivery count in CloudWatch',
    ]);
    expect(sesV2Inputs(SendEmailCommand)).toEqual([
      {
        FromEmailAddress: SENDER,
        Destination: { ToAddresses: [to] },
        ConfigurationSetName: DEPLOYED.ConfigurationSetName,
        EmailTags: [{ Name: 'run', Value: 'run-send' }],
        Content: {
          Simple: {
            Subject: { Data: 'success run-send' },
            Body: {
              Text: { Data: 'success run-send\n\nSent by the SES lab exercise, run run-send.' },
              Html: { Data: '<p>success run-send</p><p><a href="https://docs.aws.amazon.com/ses/">SES docs</a></p>' },
            },
          },
        },
      },
    ]);
    const mail = (await storedEmails(server.endpoint)).find((m) => m.messageId === messageId);
    expect(mail).toMatchObject({
      from: SENDER,
      destination: { to: [to] },
      subject: 'success run-send',
      body: {
        text: 'success run-send\n\nSent by the SES lab exercise, run run-send.',
        html: '<p>success run-send</p><p><a href="https://docs.aws.amazon.com/ses/">SES docs</a></p>',
      },
    });
  });

  test.each([
    ['no MessageId', {}],
    ['an empty MessageId', { MessageId: '' }],
  ])('fails when SendEmail returns %s', async (_what, answer) => {
    sesV2Send.mockResolvedValueOnce(answer);
    await expect(run('send', DEPLOYED, [], 'run-send')).rejects.toThrow(new ExerciseCheckFailed(`SendEmail to ${to} returned no MessageId`));
  });
});

describe('feedback', () => {
  const header = '\n== 1/1 feedback: bounce and complaint from the simulator reach the function, which records the addresses';
  const address = (outcome: 'success' | 'bounce' | 'complaint', runId: string) => simulatorAddress(outcome, runId);
  /** The MessageIds SendEmail returned, in order. */
  const sentIds = async () =>
    ((await Promise.all(sesV2Send.mock.results.map((r) => r.value))) as { MessageId?: string }[]).map((output) => output.MessageId);
  const reads = () => dynamodb.commandCalls(GetItemCommand).map((c) => c.args[0].input.Key?.address.S);
  /** A shorter wait, for the failures whose timing is not what they test. */
  const quickDeadline = provide(timing, { ...SHORT_TIMING, feedbackDeadlineSeconds: 0.1 });

  test('the bounce and the complaint reach the handler, which records them; the delivery is not recorded', async () => {
    await run('feedback', DEPLOYED, [], 'run-fb');
    const [bounceId, complaintId] = await sentIds();
    expect(lines).toEqual([
      header,
      `sent to ${address('bounce', 'run-fb')} → ${bounceId}`,
      `sent to ${address('complaint', 'run-fb')} → ${complaintId}`,
      `${address('bounce', 'run-fb')}: permanent-bounce (General) recorded by the function`,
      `${address('complaint', 'run-fb')}: complaint (abuse) recorded by the function`,
      `${address('success', 'run-fb')} is not recorded: a delivery suppresses nothing`,
    ]);
    expect(sesV2Inputs(SendEmailCommand).map((input) => [input.Destination?.ToAddresses, input.Content?.Simple?.Subject?.Data])).toEqual([
      [[address('bounce', 'run-fb')], 'bounce run-fb'],
      [[address('complaint', 'run-fb')], 'complaint run-fb'],
    ]);
    const recorded = [...table.values()].map((item) => [item.address.S, item.reason.S, item.detail.S, item.messageId.S]);
    expect(recorded).toEqual([
      [address('bounce', 'run-fb'), 'permanent-bounce', 'General', bounceId],
      [address('complaint', 'run-fb'), 'complaint', 'abuse', complaintId],
    ]);
    expect(dynamodb.commandCalls(GetItemCommand).map((c) => c.args[0].input)).toEqual(
      ['bounce', 'complaint', 'success'].map((outcome) => ({
        TableName: DEPLOYED.SuppressionTableName,
        Key: { address: { S: address(outcome as 'bounce', 'run-fb') } },
        ConsistentRead: true,
      })),
    );
  });

  test('polls until the events arrive, reading again only the addresses not found yet', async () => {
    let count = 0;
    dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => {
      // The function records the events while the step waits: after its first round of reads.
      count += 1;
      if (count > 2) await publishSimulatorFeedback();
      return { Item: table.get(Key.address.S) };
    });
    await run('feedback', DEPLOYED, [], 'run-fb-late');
    expect(reads()).toEqual([
      address('bounce', 'run-fb-late'),
      address('complaint', 'run-fb-late'),
      address('bounce', 'run-fb-late'),
      address('complaint', 'run-fb-late'),
      address('success', 'run-fb-late'),
    ]);
    expect(lines.at(-1)).toBe(`${address('success', 'run-fb-late')} is not recorded: a delivery suppresses nothing`);
  });

  test('fails, naming both addresses, when no event arrives, after polling at the interval until the deadline', async () => {
    simulatorFeedback = false;
    await expect(run('feedback', DEPLOYED, [], 'run-fb-none')).rejects.toThrow(
      new ExerciseCheckFailed(
        `no record of ${address('bounce', 'run-fb-none')}, ${address('complaint', 'run-fb-none')} in SesLab-suppressed within 0.3 s: ` +
          'is the SNS destination enabled, is the function failing?',
      ),
    );
    // 0.3 s at one round every 0.05 s: at most 7 rounds (8 with a timer that fires a little early), two reads each.
    const rounds = reads().length / 2;
    expect(rounds).toBeGreaterThanOrEqual(2);
    expect(rounds).toBeLessThanOrEqual(8);
  });

  test('fails, naming only the address whose event is missing', async () => {
    dynamodb.on(PutItemCommand).callsFake(async ({ Item }) => {
      // The bounce's record is lost; the complaint's is written.
      if (Item.reason.S !== 'permanent-bounce') table.set(Item.address.S, Item);
      return {};
    });
    await expect(run('feedback', DEPLOYED, [quickDeadline], 'run-fb-bounce')).rejects.toThrow(
      new ExerciseCheckFailed(
        `no record of ${address('bounce', 'run-fb-bounce')} in SesLab-suppressed within 0.1 s: is the SNS destination enabled, is the function failing?`,
      ),
    );
  });

  test('fails when a record of an earlier message stands for this one', async () => {
    simulatorFeedback = false;
    dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => ({
      Item: { address: Key.address, reason: { S: 'complaint' }, messageId: { S: 'an-earlier-message' } },
    }));
    await expect(run('feedback', DEPLOYED, [quickDeadline], 'run-fb-old')).rejects.toThrow(
      new ExerciseCheckFailed(
        `no record of ${address('bounce', 'run-fb-old')}, ${address('complaint', 'run-fb-old')} in SesLab-suppressed within 0.1 s: ` +
          'is the SNS destination enabled, is the function failing?',
      ),
    );
  });

  test('fails when the complaint is recorded as a bounce', async () => {
    dynamodb.on(PutItemCommand).callsFake(async ({ Item }) => {
      table.set(Item.address.S, { ...Item, reason: { S: 'permanent-bounce' } });
      return {};
    });
    await expect(run('feedback', DEPLOYED, [], 'run-fb-reason')).rejects.toThrow(
      new ExerciseCheckFailed(`${address('complaint', 'run-fb-reason')} was recorded as permanent-bounce, expected complaint`),
    );
  });

  test('fails when a delivered address is recorded too', async () => {
    dynamodb.on(GetItemCommand).callsFake(async ({ Key }) => {
      await publishSimulatorFeedback();
      const item = table.get(Key.address.S);
      return { Item: item ?? (Key.address.S.startsWith('success+') ? { address: Key.address, reason: { S: 'complaint' } } : undefined) };
    });
    await expect(run('feedback', DEPLOYED, [], 'run-fb-success')).rejects.toThrow(
      new ExerciseCheckFailed(`${address('success', 'run-fb-success')} was delivered, yet it is recorded as suppressed`),
    );
  });
});

describe('smtp', () => {
  const header = '\n== 1/1 smtp: SMTP credentials derived from an IAM access key, and a message sent over SMTP';

  test('connects to the Region\'s SES SMTP endpoint on 587 with STARTTLS required, unless a test gives another', async () => {
    const exerciseRun = startExerciseRun({ outputs: DEPLOYED, log: () => undefined });
    try {
      await expect(exerciseRun.context.use(smtpServer)).resolves.toEqual({ host: 'email-smtp.us-east-1.amazonaws.com', port: 587, requireTLS: true });
    } finally {
      await exerciseRun.close();
    }
  });

  const key = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

  test.each([
    ['us-east-1', 'eu-west-1'],
    ['eu-west-1', 'us-east-1'],
  ])('without -c ses:smtp=true, derives the password of the docs example key offline, in %s and in %s', async (region, other) => {
    const before = process.env.AWS_REGION;
    process.env.AWS_REGION = region;
    try {
      await run('smtp', without(DEPLOYED, 'SmtpCredentialsSecretArn', 'SmtpUserName'));
    } finally {
      process.env.AWS_REGION = before;
    }
    expect(lines).toEqual([
      header,
      `SMTP password of the docs' example key in ${region}: ${smtpPassword(key.secretAccessKey, region)}`,
      `the same key in another Region gives ${smtpPassword(key.secretAccessKey, other)}: derive it per Region`,
      'to send over SMTP, redeploy with -c ses:smtp=true (an IAM user and a secret, $0.40/month)',
    ]);
  });

  test('logs in with the password derived from the secret and sends from the sender', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: DEPLOYED.SmtpCredentialsSecretArn }).resolves({ SecretString: JSON.stringify(key) });
    const smtp = await startSmtpStandIn({ user: key.accessKeyId, password: smtpPassword(key.secretAccessKey, 'us-east-1') });
    try {
      await run('smtp', DEPLOYED, [provide(smtpServer, { host: '127.0.0.1', port: smtp.port, requireTLS: false })], 'run-smtp');
      expect(lines).toEqual([header, `SMTP 127.0.0.1:${smtp.port} (user ${key.accessKeyId}) accepted the message: 250 Ok stand-in-1`]);
      expect(smtp.accepted).toHaveLength(1);
      expect(smtp.accepted[0]).toMatchObject({ user: key.accessKeyId, from: SENDER, to: ['success+run-smtp-smtp@simulator.amazonses.com'] });
      const { data } = smtp.accepted[0];
      expect(data).toMatch(new RegExp(`^X-SES-CONFIGURATION-SET: ${DEPLOYED.ConfigurationSetName}$`, 'im'));
      expect(data).toMatch(/^Subject: smtp run-smtp$/m);
      expect(data).toMatch(/^To: success\+run-smtp-smtp@simulator\.amazonses\.com$/m);
      expect(data.split('\n\n').slice(1).join('\n\n')).toBe('Sent over SMTP with a password derived from an IAM access key.\n');
    } finally {
      await smtp.close();
    }
  });

  test('a password derived for another Region is refused', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(key) });
    const smtp = await startSmtpStandIn({ user: key.accessKeyId, password: smtpPassword(key.secretAccessKey, 'eu-west-1') });
    try {
      await expect(run('smtp', DEPLOYED, [provide(smtpServer, { host: '127.0.0.1', port: smtp.port, requireTLS: false })])).rejects.toThrow(
        'Invalid login: 535 Authentication Credentials Invalid',
      );
      expect(smtp.accepted).toHaveLength(0);
    } finally {
      await smtp.close();
    }
  });

  test.each([
    ['an empty secret', { SecretString: '{}' }],
    ['a secret without the secret access key', { SecretString: JSON.stringify({ accessKeyId: key.accessKeyId }) }],
    ['a secret without the access key id', { SecretString: JSON.stringify({ secretAccessKey: key.secretAccessKey }) }],
    ['a binary secret (no SecretString)', { SecretBinary: Buffer.from(JSON.stringify(key)) }],
  ])('fails on %s', async (_what, secret) => {
    secrets.on(GetSecretValueCommand).resolves(secret);
    await expect(run('smtp')).rejects.toThrow(new ExerciseCheckFailed('the SMTP secret holds no accessKeyId and secretAccessKey'));
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: DEPLOYED.SmtpCredentialsSecretArn }]);
  });
});

describe('receiving', () => {
  const withDomain = { ...DEPLOYED, InboundDomain: 'mail.example.com' };
  const header = '\n== 1/1 receiving: receive a message for the domain into S3';
  const inboundMails = async () => (await storedEmails(server.endpoint)).filter((m) => m.destination.to.some((to) => to.endsWith('@mail.example.com')));
  /** Mail the local server took before the test: SES received it, and its notifications were read, long ago. */
  let earlier = new Set<string>();
  /** S3 as SES's S3 action leaves it: the raw message of each mail the local engine took for the domain. */
  const objects = new Map<string, string>();
  const rawMessage = (m: Pick<StoredEmail, 'from' | 'subject' | 'body'>) => `From: ${m.from}\r\nSubject: ${m.subject}\r\n\r\n${m.body.text ?? ''}`;
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
  /** What SES publishes once on the topic when the rule's S3 action is set up: no mail in it. */
  const setupNotification = {
    notificationType: 'AMAZON_SES_SETUP_NOTIFICATION',
    receipt: {
      recipients: [],
      action: { type: 'S3', topicArn: DEPLOYED.InboundTopicArn, bucketName: DEPLOYED.InboundBucketName, objectKey: 'AMAZON_SES_SETUP_NOTIFICATION' },
    },
  };
  /**
   * The queue subscribed to the topic: the set-up notification and an older run's notification first, then one per
   * mail the engine took during the test; empty (no Messages, as SQS answers) for the first `emptyPolls` receives.
   */
  function inboundQueue(notify: (m: StoredEmail, key: string) => object | undefined = receivedNotification, emptyPolls = 0) {
    let polls = 0;
    sqs.on(ReceiveMessageCommand, { QueueUrl: DEPLOYED.InboundQueueUrl }).callsFake(async () => {
      polls += 1;
      if (polls <= emptyPolls) return {};
      const older = receivedNotification({ messageId: 'older', from: SENDER, destination: { to: ['lab+run-older@mail.example.com'] }, subject: 'inbound run-older', body: {} }, 'inbound/older');
      objects.set('inbound/older', 'Subject: inbound run-older\r\n\r\n');
      const messages = [
        { Body: JSON.stringify(setupNotification), ReceiptHandle: 'setup' },
        { Body: JSON.stringify(older), ReceiptHandle: 'older' },
      ];
      for (const m of (await inboundMails()).filter((mail) => !earlier.has(mail.messageId))) {
        const key = `inbound/${m.messageId}`;
        objects.set(key, rawMessage(m));
        const body = notify(m, key);
        if (body) messages.push({ Body: JSON.stringify(body), ReceiptHandle: `handle-${m.messageId}` });
      }
      return { Messages: messages };
    });
    s3.on(GetObjectCommand, { Bucket: DEPLOYED.InboundBucketName }).callsFake(async ({ Key }) => ({ Body: { transformToString: async () => objects.get(Key) ?? '' } }));
  }
  const active = (name?: string) => sesV1.on(DescribeActiveReceiptRuleSetCommand).resolves(name ? { Metadata: { Name: name } } : {});
  /** The id SendEmail gave the step's message. */
  const sentId = async () => {
    const [output] = (await Promise.all(sesV2Send.mock.results.map((r) => r.value))) as { MessageId: string }[];
    return output.MessageId;
  };
  const receives = () => sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input);
  const RECEIVE = { QueueUrl: DEPLOYED.InboundQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 };

  beforeEach(async () => {
    objects.clear();
    earlier = new Set((await inboundMails()).map((m) => m.messageId));
  });

  test('with the lab\'s rule set active, reads the notification of the message it sent and the object it names', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue();
    await run('receiving', withDomain, [], 'run-rcv');
    const id = await sentId();
    const raw = rawMessage({ from: SENDER, subject: 'inbound run-rcv', body: { text: 'inbound run-rcv\n\nSent by the SES lab exercise, run run-rcv.' } });
    expect(lines).toEqual([
      header,
      'SesLab-inbound is the Region\'s active receipt rule set',
      `sent to lab+run-rcv@mail.example.com → ${id}; SES receives it through the domain's MX record, stores it in S3 and notifies the topic`,
      `notification: stored as s3://seslab-inbound/inbound/${id}, spam PASS, virus PASS`,
      `s3://seslab-inbound/inbound/${id}: ${raw.length} bytes, the raw MIME message with SES's verdict headers`,
    ]);
    expect(sesV2Inputs(SendEmailCommand).map((input) => [input.Destination?.ToAddresses, input.Content?.Simple?.Subject?.Data])).toEqual([
      [['lab+run-rcv@mail.example.com'], 'inbound run-rcv'],
    ]);
    expect(receives()).toEqual([RECEIVE]);
    // Only this run's notification is deleted; the others are left for their retention.
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([{ QueueUrl: DEPLOYED.InboundQueueUrl, ReceiptHandle: `handle-${id}` }]);
    expect(s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([{ Bucket: DEPLOYED.InboundBucketName, Key: `inbound/${id}` }]);
  });

  test('polls the queue until the notification arrives', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue(receivedNotification, 2);
    await run('receiving', withDomain, [], 'run-rcv-late');
    expect(receives()).toEqual([RECEIVE, RECEIVE, RECEIVE]);
    expect(lines[3]).toBe(`notification: stored as s3://seslab-inbound/inbound/${await sentId()}, spam PASS, virus PASS`);
  });

  test('a notification that is there at the first receive is taken, however short the deadline', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue();
    await run('receiving', withDomain, [provide(timing, { ...SHORT_TIMING, inboundDeadlineSeconds: 0 })], 'run-rcv-now');
    expect(lines[3]).toBe(`notification: stored as s3://seslab-inbound/inbound/${await sentId()}, spam PASS, virus PASS`);
  });

  test('waits at most 20 s in one receive (the SQS maximum), however long the interval between polls', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue();
    await run('receiving', withDomain, [provide(timing, { ...SHORT_TIMING, pollIntervalSeconds: 30.5 })], 'run-rcv-long');
    expect(receives()).toEqual([{ ...RECEIVE, WaitTimeSeconds: 20 }]);
  });

  test('a rule without spam and virus scanning gives notifications without verdicts', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue((m, key) => {
      const notification = receivedNotification(m, key);
      return { ...notification, receipt: { recipients: notification.receipt.recipients, action: notification.receipt.action } };
    });
    await run('receiving', withDomain, [], 'run-rcv-noscan');
    expect(lines[3]).toBe(`notification: stored as s3://seslab-inbound/inbound/${await sentId()}, spam undefined, virus undefined`);
  });

  test.each([
    ['another set', 'someone-elses-rules'],
    ['none', undefined],
  ])('is not ready when the active rule set is %s, and says how to activate the lab\'s', async (_what, name) => {
    active(name);
    inboundQueue();
    await expect(run('receiving', withDomain)).rejects.toThrow(
      new LabNotReady(
        `the active receipt rule set is ${name ?? 'none'}, not the lab's: activate it (this deactivates the other), then retry:\n` +
          `  aws ses set-active-receipt-rule-set --rule-set-name ${DEPLOYED.ReceiptRuleSetName}`,
      ),
    );
    // Nothing is sent to a domain whose mail SES would not take in.
    expect(sesV2Inputs(SendEmailCommand)).toEqual([]);
  });

  test('fails, pointing at the MX record, when no notification of this run arrives (an older one does not count)', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue(() => undefined);
    await expect(run('receiving', withDomain, [], 'run-rcv-none')).rejects.toThrow(
      new ExerciseCheckFailed(
        'no notification for the mail with subject "inbound run-rcv-none" within 0.3 s: does the MX record of mail.example.com point at ' +
          'inbound-smtp.<region>.amazonaws.com (dig MX mail.example.com), and does the Region receive mail?',
      ),
    );
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });

  test('fails when the notification of the message is not a Received one', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    // A bounce of the message, published on the same topic: the mail and its subject, no receipt.
    inboundQueue((m) => ({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent' }, mail: receivedNotification(m, '').mail }));
    await expect(run('receiving', withDomain, [], 'run-rcv-bounce')).rejects.toThrow(new ExerciseCheckFailed('the notification is Bounce, not Received'));
  });

  test('fails when the notification names an object that holds another message', async () => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue((m) => receivedNotification(m, 'inbound/older'));
    await expect(run('receiving', withDomain, [], 'run-rcv-other')).rejects.toThrow(
      new ExerciseCheckFailed('s3://seslab-inbound/inbound/older does not hold the message with subject "inbound run-rcv-other"'),
    );
  });

  test.each([
    ['into another bucket', { bucketName: 'another-bucket' }],
    ['of another type', { type: 'Lambda', functionArn: 'arn:aws:lambda:us-east-1:111111111111:function:other', invocationType: 'Event' }],
  ])('fails when the notification is of an action %s', async (_what, change) => {
    active(DEPLOYED.ReceiptRuleSetName);
    let action: object | undefined;
    inboundQueue((m, key) => {
      const notification = receivedNotification(m, key);
      action = { ...notification.receipt.action, ...change };
      return { ...notification, receipt: { ...notification.receipt, action } };
    });
    const failure = run('receiving', withDomain, [], 'run-rcv-action');
    await expect(failure).rejects.toThrow(ExerciseCheckFailed);
    await expect(failure).rejects.toThrow(`the notification's action is ${JSON.stringify(action)}, not the S3 action into seslab-inbound`);
  });

  test.each([
    ['outside the inbound prefix', (key: string) => `other/${key}`, (id: string) => `the stored object other/inbound/${id} is not under inbound/`],
    ['not named', () => undefined, () => 'the stored object undefined is not under inbound/'],
  ])('fails when the stored object is %s', async (_what, objectKey, message) => {
    active(DEPLOYED.ReceiptRuleSetName);
    inboundQueue((m, key) => {
      const notification = receivedNotification(m, key);
      return { ...notification, receipt: { ...notification.receipt, action: { ...notification.receipt.action, objectKey: objectKey(key) } } };
    });
    const failure = run('receiving', withDomain, [], 'run-rcv-key');
    await expect(failure).rejects.toThrow(ExerciseCheckFailed);
    await expect(failure).rejects.toThrow(message(await sentId()));
  });

  test('is not ready without the feature or without a domain', async () => {
    await expect(run('receiving', without(withDomain, 'ReceiptRuleSetName'))).rejects.toThrow(
      new LabNotReady('receiving is off: redeploy with -c ses:receiving=true (and ses:domain, ses:hostedZoneId)'),
    );
    await expect(run('receiving', DEPLOYED)).rejects.toThrow(
      new LabNotReady('receiving needs a domain whose MX points at SES: redeploy with -c ses:domain=... -c ses:hostedZoneId=...'),
    );
  });
});
