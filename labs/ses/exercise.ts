import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetPolicyCommand, GetPolicyVersionCommand, IAMClient, SimulateCustomPolicyCommand } from '@aws-sdk/client-iam';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeActiveReceiptRuleSetCommand, SESClient } from '@aws-sdk/client-ses';
import {
  GetAccountCommand,
  GetConfigurationSetCommand,
  GetConfigurationSetEventDestinationsCommand,
  GetEmailIdentityCommand,
  SendEmailCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createTransport } from 'nodemailer';
import {
  check,
  defineFixture,
  defineTiming,
  ExerciseContext,
  ExerciseStep,
  LabNotReady,
  requireOutput,
} from '../support/exercise';
import { SES_LAB, simulatorAddress } from './constants';
import { SMTP_PASSWORD_ALGORITHM, smtpEndpoint, smtpPassword } from './smtp-password';

export const timing = defineTiming(SES_LAB.exerciseTiming);

/** Where the smtp step connects: SES's SMTP endpoint of the Region, STARTTLS on port 587 (a test gives a local one). */
export const smtpServer = defineFixture('SMTP endpoint', async (context: ExerciseContext) => ({
  host: smtpEndpoint(await regionOf(context)),
  port: 587,
  requireTLS: true,
}));

const sesOf = (context: ExerciseContext) => context.client(SESv2Client, 'SESV2');
const regionOf = (context: ExerciseContext) => sesOf(context).config.region();
const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** The sender's address and identity, or a LabNotReady saying how to deploy with one. */
function senderOf(context: ExerciseContext): { address: string; identity: string; configurationSet: string } {
  const { outputs } = context;
  if (!outputs.SenderAddress) {
    throw new LabNotReady('the lab has no sender: redeploy with npx cdk deploy SesLab -c ses:email=you@example.com, then click the link SES mails you');
  }
  return { address: outputs.SenderAddress, identity: requireOutput(outputs, 'IdentityName'), configurationSet: requireOutput(outputs, 'ConfigurationSetName') };
}

/** Sends one simple message through the v2 API and the lab's configuration set; returns its message id. */
async function send(context: ExerciseContext, to: string, subject: string): Promise<string> {
  const sender = senderOf(context);
  const { MessageId } = await sesOf(context).send(
    new SendEmailCommand({
      FromEmailAddress: sender.address,
      Destination: { ToAddresses: [to] },
      ConfigurationSetName: sender.configurationSet,
      EmailTags: [{ Name: 'run', Value: context.runId }],
      Content: {
        Simple: {
          Subject: { Data: subject },
          Body: {
            Text: { Data: `${subject}\n\nSent by the SES lab exercise, run ${context.runId}.` },
            // An HTML part with a link: SES adds its open pixel and rewrites the link, for the open and click events.
            Html: { Data: `<p>${subject}</p><p><a href="https://docs.aws.amazon.com/ses/">SES docs</a></p>` },
          },
        },
      },
    }),
  );
  check(typeof MessageId === 'string' && MessageId.length > 0, `SendEmail to ${to} returned no MessageId`);
  return MessageId;
}

async function account(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const got = await sesOf(context).send(new GetAccountCommand({}));
  const quota = got.SendQuota;
  check(got.SendingEnabled === true, 'SendingEnabled is false: SES paused sending for this account in this Region (see EnforcementStatus)');
  check(quota !== undefined && (quota.Max24HourSend ?? 0) > 0, `GetAccount returned no usable SendQuota: ${JSON.stringify(quota)}`);
  log(`EnforcementStatus=${got.EnforcementStatus}, SendingEnabled=${got.SendingEnabled}`);
  log(`quota: ${quota.Max24HourSend} messages per 24 h, ${quota.MaxSendRate} per second, ${quota.SentLast24Hours ?? 0} sent in the last 24 h`);
  if (got.ProductionAccessEnabled) {
    log('production access: any recipient, quotas raised on request (Service Quotas)');
  } else {
    const { max24HourSend, maxSendRate } = SES_LAB.sandboxQuota;
    log(`sandbox: only verified recipients and the mailbox simulator, ${max24HourSend} per day at ${maxSendRate} per second; ask for production access to leave it`);
  }
}

async function identity(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const sender = senderOf(context);
  const got = await sesOf(context).send(new GetEmailIdentityCommand({ EmailIdentity: sender.identity }));
  log(`${sender.identity}: ${got.IdentityType}, VerifiedForSendingStatus=${got.VerifiedForSendingStatus}, DKIM ${got.DkimAttributes?.Status ?? 'n/a'}`);
  if (got.VerifiedForSendingStatus !== true) {
    throw new LabNotReady(
      got.IdentityType === 'DOMAIN'
        ? `${sender.identity} is not verified yet: SES checks the DKIM CNAME records in your zone (up to 72 h, usually minutes); retry later`
        : `${sender.identity} is not verified yet: click the link SES mailed to it (valid 24 h), then retry`,
    );
  }
  check(got.ConfigurationSetName === sender.configurationSet, `the identity's default configuration set is ${got.ConfigurationSetName}, not the lab's ${sender.configurationSet}`);

  const set = await sesOf(context).send(new GetConfigurationSetCommand({ ConfigurationSetName: sender.configurationSet }));
  check(set.ReputationOptions?.ReputationMetricsEnabled === true, 'reputation metrics are off on the configuration set');
  check(set.DeliveryOptions?.TlsPolicy === 'REQUIRE', `TlsPolicy is ${set.DeliveryOptions?.TlsPolicy}, not REQUIRE`);
  const reasons = set.SuppressionOptions?.SuppressedReasons ?? [];
  check(reasons.includes('BOUNCE') && reasons.includes('COMPLAINT'), `the configuration set suppresses ${JSON.stringify(reasons)}, not bounces and complaints`);
  log(`configuration set ${sender.configurationSet}: reputation metrics on, TLS required, suppresses ${reasons.join(' and ')}`);

  const { EventDestinations = [] } = await sesOf(context).send(
    new GetConfigurationSetEventDestinationsCommand({ ConfigurationSetName: sender.configurationSet }),
  );
  const sns = EventDestinations.find((d) => d.SnsDestination);
  const metrics = EventDestinations.find((d) => d.CloudWatchDestination);
  const missing = (types: string[], d?: { MatchingEventTypes?: string[]; Enabled?: boolean }) =>
    d?.Enabled ? types.filter((t) => !(d.MatchingEventTypes ?? []).includes(t)) : types;
  check(missing(['BOUNCE', 'COMPLAINT', 'DELIVERY'], sns).length === 0, `the SNS destination misses ${missing(['BOUNCE', 'COMPLAINT', 'DELIVERY'], sns).join(', ')}`);
  check(missing(['OPEN', 'CLICK'], metrics).length === 0, `the CloudWatch destination misses ${missing(['OPEN', 'CLICK'], metrics).join(', ')}`);
  log(`events: ${sns?.MatchingEventTypes?.join(', ')} → SNS; ${metrics?.MatchingEventTypes?.join(', ')} → CloudWatch metrics`);
}

async function sendingPolicy(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const sender = senderOf(context);
  const policyArn = requireOutput(outputs, 'SendingPolicyArn');
  const iam = context.client(IAMClient, 'IAM');
  const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
  const { PolicyVersion } = await iam.send(new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: Policy?.DefaultVersionId }));
  // IAM returns policy documents URL-encoded.
  const document = decodeURIComponent(PolicyVersion?.Document ?? '');
  const [, partition, , , account] = policyArn.split(':');
  const prefix = `arn:${partition}:ses:${await regionOf(context)}:${account}`;
  const ownIdentity = `${prefix}:identity/${sender.identity}`;
  const otherIdentity = `${prefix}:identity/other-${context.runId}.example.com`;
  const otherFrom = `someone-else@${sender.address.split('@')[1]}`;
  const decide = async (action: string, resource: string, from: string) => {
    const { EvaluationResults = [] } = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [document],
        ActionNames: [action],
        ResourceArns: [resource],
        ContextEntries: [{ ContextKeyName: 'ses:FromAddress', ContextKeyValues: [from], ContextKeyType: 'string' }],
      }),
    );
    return EvaluationResults[0]?.EvalDecision;
  };
  const cases = [
    { action: 'ses:SendEmail', resource: ownIdentity, from: sender.address, expected: 'allowed' },
    { action: 'ses:SendRawEmail', resource: ownIdentity, from: sender.address, expected: 'allowed' },
    { action: 'ses:SendEmail', resource: ownIdentity, from: otherFrom, expected: 'implicitDeny' },
    { action: 'ses:SendEmail', resource: otherIdentity, from: sender.address, expected: 'implicitDeny' },
  ];
  for (const { action, resource, from, expected } of cases) {
    const decision = await decide(action, resource, from);
    const what = `${action} on ${resource.split(':').pop()} From ${from}`;
    check(decision === expected, `the sending policy gives ${decision} for ${what}, expected ${expected}`);
    log(`${what}: ${decision}`);
  }
  log('the policy allows this one From address, on this identity: a leaked key cannot send as anyone else');
}

async function sendToSimulator(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const to = simulatorAddress('success', context.runId);
  const messageId = await send(context, to, `success ${context.runId}`);
  log(`SendEmail (v2 API) to ${to} → MessageId ${messageId}`);
  log('the simulator accepts it: a Delivery event reaches the SNS topic, Send and Delivery count in CloudWatch');
}

async function feedback(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const table = requireOutput(outputs, 'SuppressionTableName');
  const expected = [
    { address: simulatorAddress('bounce', context.runId), reason: 'permanent-bounce' },
    { address: simulatorAddress('complaint', context.runId), reason: 'complaint' },
  ];
  const sent = new Map<string, string>();
  for (const { address } of expected) {
    sent.set(address, await send(context, address, `${address.split('+')[0]} ${context.runId}`));
    log(`sent to ${address} → ${sent.get(address)}`);
  }
  const successAddress = simulatorAddress('success', context.runId);

  const { feedbackDeadlineSeconds, pollIntervalSeconds } = await context.use(timing);
  const dynamodb = context.client(DynamoDBClient, 'DYNAMODB');
  const read = async (address: string) =>
    (await dynamodb.send(new GetItemCommand({ TableName: table, Key: { address: { S: address } }, ConsistentRead: true }))).Item;
  const found = new Map<string, Awaited<ReturnType<typeof read>>>();
  const deadline = Date.now() + feedbackDeadlineSeconds * 1000;
  for (;;) {
    for (const { address } of expected) {
      const item = found.get(address) ?? (await read(address));
      if (item?.messageId?.S === sent.get(address)) found.set(address, item);
    }
    if (found.size === expected.length || Date.now() >= deadline) break;
    await sleep(pollIntervalSeconds);
  }
  const absent = expected.filter((e) => !found.has(e.address)).map((e) => e.address);
  check(absent.length === 0, `no record of ${absent.join(', ')} in ${table} within ${feedbackDeadlineSeconds} s: is the SNS destination enabled, is the function failing?`);
  for (const { address, reason } of expected) {
    const item = found.get(address);
    check(item?.reason?.S === reason, `${address} was recorded as ${item?.reason?.S}, expected ${reason}`);
    log(`${address}: ${reason} (${item?.detail?.S}) recorded by the function`);
  }
  check((await read(successAddress)) === undefined, `${successAddress} was delivered, yet it is recorded as suppressed`);
  log(`${successAddress} is not recorded: a delivery suppresses nothing`);
}

async function smtp(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const region = await regionOf(context);
  if (!outputs.SmtpCredentialsSecretArn) {
    // Offline: the derivation on AWS's documentation example key, for two Regions.
    const example = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const here = smtpPassword(example, region);
    const elsewhere = smtpPassword(example, region === 'eu-west-1' ? 'us-east-1' : 'eu-west-1');
    const bytes = Buffer.from(here, 'base64');
    check(bytes.length === 33 && bytes[0] === SMTP_PASSWORD_ALGORITHM.version, 'the derived password is not version byte 0x04 + a 32-byte HMAC');
    check(here !== elsewhere, 'the derived password does not depend on the Region');
    log(`SMTP password of the docs' example key in ${region}: ${here}`);
    log(`the same key in another Region gives ${elsewhere}: derive it per Region`);
    log('to send over SMTP, redeploy with -c ses:smtp=true (an IAM user and a secret, $0.40/month)');
    return;
  }
  const sender = senderOf(context);
  const { SecretString } = await context.client(SecretsManagerClient, 'SECRETS_MANAGER').send(
    new GetSecretValueCommand({ SecretId: outputs.SmtpCredentialsSecretArn }),
  );
  const key = JSON.parse(SecretString ?? '{}') as { accessKeyId?: string; secretAccessKey?: string };
  check(typeof key.accessKeyId === 'string' && typeof key.secretAccessKey === 'string', 'the SMTP secret holds no accessKeyId and secretAccessKey');
  const server = await context.use(smtpServer);
  const transport = createTransport({
    host: server.host,
    port: server.port,
    secure: false,
    requireTLS: server.requireTLS,
    auth: { user: key.accessKeyId, pass: smtpPassword(key.secretAccessKey, region) },
  });
  const to = simulatorAddress('success', `${context.runId}-smtp`);
  try {
    const info = await transport.sendMail({
      from: sender.address,
      to,
      subject: `smtp ${context.runId}`,
      text: 'Sent over SMTP with a password derived from an IAM access key.',
      headers: { 'X-SES-CONFIGURATION-SET': sender.configurationSet },
    });
    check(info.accepted.map(String).includes(to), `the SMTP server did not accept ${to}: ${info.response}`);
    check(/^250\b/.test(info.response), `the SMTP server answered ${info.response}, not 250`);
    log(`SMTP ${server.host}:${server.port} (user ${key.accessKeyId}) accepted the message: ${info.response}`);
  } finally {
    transport.close();
  }
}

/** What SES publishes for a message its S3 action stored (SES Developer Guide, "Notification contents"), the parts read here. */
interface ReceivedNotification {
  notificationType?: string;
  mail?: { messageId?: string; commonHeaders?: { subject?: string } };
  receipt?: { spamVerdict?: { status?: string }; virusVerdict?: { status?: string }; action?: { type?: string; bucketName?: string; objectKey?: string } };
}

async function receiving(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  if (!outputs.ReceiptRuleSetName) throw new LabNotReady('receiving is off: redeploy with -c ses:receiving=true (and ses:domain, ses:hostedZoneId)');
  if (!outputs.InboundDomain) throw new LabNotReady('receiving needs a domain whose MX points at SES: redeploy with -c ses:domain=... -c ses:hostedZoneId=...');
  const bucket = requireOutput(outputs, 'InboundBucketName');
  const queueUrl = requireOutput(outputs, 'InboundQueueUrl');
  const ruleSet = outputs.ReceiptRuleSetName;
  // Receipt rules exist in the v1 API only. SES applies one rule set per Region, the active one, which CloudFormation cannot set.
  const { Metadata } = await context.client(SESClient, 'SES').send(new DescribeActiveReceiptRuleSetCommand({}));
  if (Metadata?.Name !== ruleSet) {
    throw new LabNotReady(
      `the active receipt rule set is ${Metadata?.Name ?? 'none'}, not the lab's: activate it (this deactivates the other), then retry:\n` +
        `  aws ses set-active-receipt-rule-set --rule-set-name ${ruleSet}`,
    );
  }
  log(`${ruleSet} is the Region's active receipt rule set`);
  const to = `lab+${context.runId}@${outputs.InboundDomain}`;
  const subject = `inbound ${context.runId}`;
  const messageId = await send(context, to, subject);
  log(`sent to ${to} → ${messageId}; SES receives it through the domain's MX record, stores it in S3 and notifies the topic`);

  const sqs = context.client(SQSClient, 'SQS');
  const { inboundDeadlineSeconds, pollIntervalSeconds } = await context.use(timing);
  const deadline = Date.now() + inboundDeadlineSeconds * 1000;
  let notification: ReceivedNotification | undefined;
  while (!notification) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: Math.min(20, Math.floor(pollIntervalSeconds)) }),
    );
    for (const message of Messages) {
      const body = JSON.parse(message.Body ?? '{}') as ReceivedNotification;
      // Notifications of earlier runs are left for their retention to expire.
      if (body.mail?.commonHeaders?.subject !== subject) continue;
      notification = body;
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
    if (notification) break;
    check(
      Date.now() < deadline,
      `no notification for the mail with subject "${subject}" within ${inboundDeadlineSeconds} s: does the MX record of ` +
        `${outputs.InboundDomain} point at inbound-smtp.<region>.amazonaws.com (dig MX ${outputs.InboundDomain}), and does the Region receive mail?`,
    );
    await sleep(pollIntervalSeconds);
  }
  const { receipt } = notification;
  const action = receipt?.action;
  check(notification.notificationType === 'Received', `the notification is ${notification.notificationType}, not Received`);
  check(action?.type === 'S3' && action.bucketName === bucket, `the notification's action is ${JSON.stringify(action)}, not the S3 action into ${bucket}`);
  check(action.objectKey?.startsWith(SES_LAB.inboundPrefix) === true, `the stored object ${action.objectKey} is not under ${SES_LAB.inboundPrefix}`);
  log(`notification: stored as s3://${bucket}/${action.objectKey}, spam ${receipt?.spamVerdict?.status}, virus ${receipt?.virusVerdict?.status}`);

  const { Body } = await context.client(S3Client, 'S3').send(new GetObjectCommand({ Bucket: bucket, Key: action.objectKey }));
  const raw = (await Body?.transformToString()) ?? '';
  check(raw.includes(`Subject: ${subject}`), `s3://${bucket}/${action.objectKey} does not hold the message with subject "${subject}"`);
  log(`s3://${bucket}/${action.objectKey}: ${raw.length} bytes, the raw MIME message with SES's verdict headers`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'account', title: 'sandbox or production, and the sending quotas (GetAccount)', run: account },
  { id: 'identity', title: 'the verified identity and its configuration set: reputation, TLS, suppression, event destinations', run: identity },
  { id: 'policy', title: 'the sending policy in the IAM policy simulator: this From address, this identity only', run: sendingPolicy },
  { id: 'send', title: 'send through the v2 API to the mailbox simulator', run: sendToSimulator },
  { id: 'feedback', title: 'bounce and complaint from the simulator reach the function, which records the addresses', run: feedback },
  { id: 'smtp', title: 'SMTP credentials derived from an IAM access key, and a message sent over SMTP', run: smtp },
  { id: 'receiving', title: 'receive a message for the domain into S3', run: receiving },
];
