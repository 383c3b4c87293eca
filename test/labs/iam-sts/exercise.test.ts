import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { createHandler } from '../../../lambda/parameter-reader';
import { iamStsLab } from '../../../labs/iam-sts/lab';
import { jitter, steps } from '../../../labs/iam-sts/exercise';
import { IAM_STS_LAB } from '../../../labs/iam-sts/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalAws, startLocalAws } from '../../support/local-aws';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { addLocalEc2, addLocalIamSimulator, LocalSecretsManager, LocalSsm } from '../../support/local-iam-tools';
import { labTemplate } from '../../support/lab-template';

// The retries step waits real backoff delays (up to about 2 s), as it does against AWS.
jest.setTimeout(20_000);

const lab = iamStsLab;
// All features on: the Secrets Manager secret is read too.
const template = labTemplate(lab, { allFeatures: true });

let aws: LocalAws;
let ssm: LocalSsm;
let deployed: LocallyDeployedStack;
const lines: string[] = [];
const context = (outputs = deployed.outputs, runId?: string): ExerciseRunOptions => ({ outputs, log: (line) => lines.push(line), runId });
const step = (id: string) => steps.filter((s) => s.id === id);

beforeAll(async () => {
  aws = await startLocalAws();
  aws.useFromEnv();
  ssm = new LocalSsm(aws);
  const secrets = new LocalSecretsManager(aws);
  addLocalEc2(aws);
  addLocalIamSimulator(aws);
  const client = (credentials: { accessKeyId: string; secretAccessKey: string }) => ({ endpoint: aws.endpoint, region: 'us-east-1', credentials });
  deployed = deployStackLocally(template, aws, {
    stackName: lab.stackName,
    functions: {
      ParameterReader: (credentials, environment) =>
        createHandler({ ssm: new SSMClient(client(credentials)), secrets: new SecretsManagerClient(client(credentials)) }, environment),
    },
  });
  ssm.put(deployed.outputs.LabParameterName, IAM_STS_LAB.labParameterValue);
  secrets.secrets.set(deployed.outputs.SecretArn, 'generated-password-0123456789');
});
afterAll(() => aws.stop());
beforeEach(() => {
  lines.length = 0;
  delete process.env.LAB_MFA_SERIAL;
  delete process.env.LAB_MFA_CODE;
});

describe('against the lab\'s roles, policies and function on local STS, IAM, SSM, EC2 and Lambda', () => {
  const matching = (pattern: RegExp) => expect.stringMatching(pattern);
  /** What the learner reads for each step of run `run-t` (times, random values and paths vary). */
  const transcripts: Record<string, (string | ReturnType<typeof matching>)[]> = {
    'assume-role': [
      '\n== 1/1 assume-role: AssumeRole and GetCallerIdentity',
      'you are arn:aws:iam::123456789012:user/learner (account 123456789012)',
      matching(/^AssumeRole \(DurationSeconds 900\) → temporary credentials ASIA… expiring \d{4}-\d\d-\d\dT[\d:.]+Z$/),
      'GetCallerIdentity with them → arn:aws:sts::123456789012:assumed-role/BoundedRoleFFA37864/run-t-assume: a role session, named by RoleSessionName (CloudTrail records it)',
    ],
    policies: [
      '\n== 1/1 policies: customer managed + inline policy, under a permissions boundary',
      'as BoundedRole: ssm:GetParameter → "hello from the iam-sts lab" (customer managed policy allows it, and so does the boundary)',
      'as BoundedRole: ssm:PutParameter → AccessDeniedException: the inline policy allows it, the permissions boundary does not',
      '  "User: arn:aws:sts::123456789012:assumed-role/BoundedRoleFFA37864/run-t-bounded is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:us-east-1…"',
    ],
    'external-id': [
      '\n== 1/1 external-id: a cross-account role that demands sts:ExternalId',
      'AssumeRole PartnerRole without ExternalId → AccessDenied; with a wrong one → AccessDenied',
      'with ExternalId=5e3c1e10-0000-4000-8000-00000000abcd → credentials: a partner must send the id you gave it, so another of its customers cannot point it at your role',
    ],
    mfa: [
      '\n== 1/1 mfa: a role that demands MFA; GetSessionToken with an MFA code',
      'AssumeRole MfaRole from a session without MFA → AccessDenied (aws:MultiFactorAuthPresent is not true)',
      'skipping the MFA session: missing MFA device: set LAB_MFA_SERIAL to the ARN of your MFA device (arn:aws:iam::<account>:mfa/<name>)',
      '  LAB_MFA_SERIAL=arn:aws:iam::<account>:mfa/<device> LAB_MFA_CODE=123456 npm run lab -- exercise iam-sts mfa',
    ],
    decode: [
      '\n== 1/1 decode: EC2 DryRun, and an encoded authorization failure decoded by STS',
      matching(/^as BoundedRole: RunInstances --dry-run → UnauthorizedOperation with an encoded message \(\d+ characters\)$/),
      'sts:DecodeAuthorizationMessage (allowed by the role\'s policies) → allowed=false, explicitDeny=false,',
      '  action=ec2:RunInstances, resource=arn:aws:ec2:us-east-1:123456789012:instance/*, principal=arn:aws:sts::123456789012:assumed-role/BoundedRoleFFA37864/run-t-bounded',
      'with your credentials: RunInstances --dry-run → DryRunOperation "Request would have succeeded, but DryRun flag is set": nothing launched, nothing billed',
    ],
    simulate: [
      '\n== 1/1 simulate: SimulateCustomPolicy with context keys and a boundary',
      'GetContextKeysForCustomPolicy → aws:MultiFactorAuthPresent: the keys SimulateCustomPolicy needs values for',
      'SimulateCustomPolicy, aws:MultiFactorAuthPresent=true → GetParameter allowed; =false → implicitDeny',
      'with a permissions boundary allowing GetParameter only → PutParameter implicitDeny: both must allow',
    ],
    'credential-chain': [
      '\n== 1/1 credential-chain: the credential provider chain, link by link',
      'the SDK v3 default chain, in order (the first link with credentials wins):',
      '  1. environment        ● access key loca…  [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN)]',
      matching(/^ {2}2\. sso {16}○ .+ {2}\[IAM Identity Center profile in .+ \(aws sso login\)\]$/),
      matching(/^ {2}3\. ini {16}○ .+ {2}\[static keys in .+, or role_arn \+ source_profile in .+\]$/),
      matching(/^ {2}4\. process {12}○ .+ {2}\[credential_process in .+\]$/),
      '  5. web-identity       ○ not set  [AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (EKS pods, CI with OIDC)]',
      '  6. container          ○ not set  [AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI (ECS tasks, EKS Pod Identity)]',
      '  7. instance-metadata  ○ disabled by AWS_EC2_METADATA_DISABLED  [EC2 instance profile through IMDSv2 (169.254.169.254)]',
      'first configured link: environment',
      'resolved: environment (access key loca…, no expiry: long-term keys) → arn:aws:iam::123456789012:user/learner',
      'the CLI reads the same sources, after its own command-line options (--profile, --region)',
    ],
    retries: [
      '\n== 1/1 retries: SDK retry modes, maxAttempts, and backoff with jitter for a raw HTTP call',
      matching(/^SDK, retryMode standard, maxAttempts 3: 503, 503, 200 → success after 3 attempts; waited \d{1,4} ms, \d{1,4} ms \(random, ≤ 100 ms × 2\^n\)$/),
      'SDK, maxAttempts 2: 503, 503 → ServiceUnavailable after 2 attempts ($metadata.attempts=2)',
      matching(/^SDK, retryMode adaptive: Throttling, Throttling, 200 → success; waited \d{1,4} ms, \d{1,4} ms \(throttling backs off from 500 ms, and the client also rate-limits itself\)$/),
      matching(/^raw HTTP with fetchWithRetry \(full jitter, base 200 ms, cap 1 s\): 3 attempts, delays \d+ ms, \d+ ms$/),
      '  within the ceilings 200 ms, 400 ms; the notes\' fixed 1/2/4 s works too, but clients failing together then retry together',
    ],
    sigv4: [
      '\n== 1/1 sigv4: a raw request signed with SigV4, then presigned as a query string',
      'GET <sts>/?Action=GetCallerIdentity&Version=2011-06-15 signed with @smithy/signature-v4:',
      matching(/^ {2}Authorization: AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/sts\/aws4_request, SignedHeaders=host;x-amz-date, Signature=…… → 200, arn:aws:iam::123456789012:user\/learner$/),
      'the same request presigned (60 s): X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature in the query string, no headers → 200',
      'change one signed parameter → 403 SignatureDoesNotMatch: the signature covers the whole canonical request',
    ],
    parameters: [
      '\n== 1/1 parameters: Parameter Store SecureString (and Secrets Manager) read by a Lambda with Powertools',
      'put /IamStsLab/db-password as a SecureString (encrypted with aws/ssm): CloudFormation cannot create SecureStrings, so the exercise does',
      matching(/^invoked the reader \(Powertools SSMProvider, decrypt, maxAge 30 s, forceFetch\): fingerprint [0-9a-f]{16} matches; the value never left the function$/),
      '  forceFetch because the value just changed: without it, a warm function returns what it cached for up to 30 s',
      'and the Secrets Manager secret (SecretsProvider): fingerprint 1dde918a5996fb9c matches what GetSecretValue returns',
      'deleted /IamStsLab/db-password',
    ],
  };
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks and prints what it saw', async (id, s) => {
    await runExercise([s], context(deployed.outputs, 'run-t'));
    expect(lines).toEqual(transcripts[id]);
  });

  test('the parameters step leaves no SecureString behind', () => {
    expect(ssm.parameters.has(deployed.outputs.SecureParameterName)).toBe(false);
  });
});

test('the mfa step assumes the MFA role from a GetSessionToken session when given a device and a code', async () => {
  const serial = `arn:aws:iam::${aws.account}:mfa/learner`;
  aws.addMfaDevice(serial, '123456');
  Object.assign(process.env, { LAB_MFA_SERIAL: serial, LAB_MFA_CODE: '123456' });
  await runExercise(step('mfa'), context());
  expect(lines).toEqual([
    '\n== 1/1 mfa: a role that demands MFA; GetSessionToken with an MFA code',
    'AssumeRole MfaRole from a session without MFA → AccessDenied (aws:MultiFactorAuthPresent is not true)',
    expect.stringMatching(/^GetSessionToken with SerialNumber \+ TokenCode → an MFA session \(ASIA…\)$/),
    'AssumeRole MfaRole from the MFA session → credentials (AssumeRole also takes SerialNumber + TokenCode directly)',
  ]);
  const assumed = aws.requests.filter((r) => r.operation === 'AssumeRole' && r.body.includes('MfaRole')).length;
  expect(assumed).toBeGreaterThanOrEqual(2);
});

test('the mfa step refuses a malformed code with a clear error, before calling AWS', async () => {
  Object.assign(process.env, { LAB_MFA_SERIAL: `arn:aws:iam::${aws.account}:mfa/learner`, LAB_MFA_CODE: '12ab' });
  await runExercise(step('mfa'), context());
  expect(lines.join('\n')).toContain('skipping the MFA session: MFA code must be exactly 6 digits, got "12ab"');
});

test('the external-id step fails when the role does not demand the external id', async () => {
  const role = aws.role(deployed.outputs.PartnerRoleArn)!;
  const statements = role.trustPolicy.Statement as { Condition?: unknown }[];
  const original = statements[0].Condition;
  delete statements[0].Condition;
  try {
    const failure = await runExercise(step('external-id'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('AssumeRole PartnerRole without an external id succeeded, but it should have been refused');
  } finally {
    statements[0].Condition = original;
  }
});

test('the policies step fails when the permissions boundary allows what the inline policy does', async () => {
  const boundary = aws.role(deployed.outputs.BoundedRoleArn)!.boundary!;
  const original = boundary.Statement;
  boundary.Statement = [{ Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: '*' }];
  try {
    const failure = await runExercise(step('policies'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('ssm:PutParameter as the bounded role succeeded, but it should have been refused');
  } finally {
    boundary.Statement = original;
  }
});

describe('each check of the steps fails when the one fact it checks is changed', () => {
  type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
  type Answer = Record<string, unknown>;
  type Send = () => Promise<Answer>;
  /** Answers each call of `client`'s class as `change` says, given the call, a way to make it against the local engine, and the client. */
  function alter<C extends { send: (...args: never[]) => unknown }>(client: { prototype: C }, change: (command: AnyCommand, send: Send, self: C) => Promise<Answer>) {
    const send = client.prototype.send as unknown as (...args: unknown[]) => Promise<Answer>;
    jest.spyOn(client.prototype, 'send' as never).mockImplementation(function (this: C, command: AnyCommand, ...rest: unknown[]) {
      return change(command, () => send.call(this, command, ...rest), this);
    } as never);
  }
  const is = (command: AnyCommand, name: string) => command.constructor.name === `${name}Command`;
  /** The engine's answers, except the `name` calls that `when` picks (given their count so far), answered by `answer`. */
  function calls<C extends { send: (...args: never[]) => unknown }>(client: { prototype: C }, name: string, answer: (send: Send, command: AnyCommand) => Promise<Answer>, when: (command: AnyCommand, nth: number) => boolean = () => true) {
    let nth = 0;
    alter(client, (command, send) => (is(command, name) && when(command, (nth += 1)) ? answer(send, command) : send()));
  }
  const edited = (edit: (answer: Answer) => Answer) => async (send: Send) => edit(await send());
  const rejected = (name: string, message = `${name} (made up by the test)`) => async () => Promise.reject(Object.assign(new Error(message), { name }));
  const someCredentials = async () => ({ Credentials: { AccessKeyId: 'ASIAFAKE', SecretAccessKey: 'fake', SessionToken: 'fake', Expiration: new Date(Date.now() + 900_000) } });
  const emptyCredentials = async () => ({ Credentials: { AccessKeyId: '', SecretAccessKey: 'fake' } });
  const onRole = (output: string, extra: (command: AnyCommand) => boolean = () => true) => (command: AnyCommand) => command.input.RoleArn === deployed.outputs[output] && extra(command);
  /** The global fetch, except requests that `when` picks, answered by `answer`. */
  const fetches = (when: (url: string, init?: RequestInit) => boolean, answer: (url: string, init: RequestInit | undefined, send: () => Promise<Response>) => Promise<Response>) => {
    const original = global.fetch;
    jest.spyOn(global, 'fetch').mockImplementation((input, init) => (when(String(input), init) ? answer(String(input), init, () => original(input, init)) : original(input, init)));
  };
  /** The flaky endpoint's URL of the path a demo client calls. */
  const endpointOf = async (client: { config: { endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }> } }) => {
    const endpoint = await client.config.endpoint!();
    return `${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}${endpoint.path}`;
  };
  /** One more request to the flaky endpoint after the SDK's, for the demo client of `path`: the server counts one attempt more. */
  const oneMoreAttempt = (path: string) =>
    alter(STSClient, async (_command, send, self) => {
      const url = await endpointOf(self as never);
      if (!url.endsWith(path)) return send();
      const outcome = await send().then((answer) => ({ answer }), (error: unknown) => ({ error }));
      await fetch(url);
      return 'error' in outcome ? Promise.reject(outcome.error) : outcome.answer;
    });
  /**
   * The adaptive demo answered after `attempts` requests to the flaky endpoint made at once, as if the SDK had not
   * backed off: what the step checks is the count, and the cases after it need not wait the real backoff (about 2 s).
   */
  const throttledDemoWithoutBackoff = (attempts: number) =>
    alter(STSClient, async (_command, send, self) => {
      const url = await endpointOf(self as never);
      if (!url.endsWith('/throttle')) return send();
      for (let attempt = 0; attempt < attempts; attempt += 1) await fetch(url);
      return { Account: '111122223333', $metadata: { attempts } };
    });
  const mfaDevice = () => {
    const serial = `arn:aws:iam::${aws.account}:mfa/learner`;
    aws.addMfaDevice(serial, '123456');
    Object.assign(process.env, { LAB_MFA_SERIAL: serial, LAB_MFA_CODE: '123456' });
  };
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, string, () => void, string]>([
    ['assume-role', 'a session of another role', () => calls(STSClient, 'GetCallerIdentity', edited((a) => ({ ...a, Arn: 'arn:aws:sts::000000000000:assumed-role/OtherRole/x' })), (_c, nth) => nth === 2), 'GetCallerIdentity as the role returned arn:aws:sts::000000000000:assumed-role/OtherRole/x'],
    ['assume-role', 'a role session without an ARN', () => calls(STSClient, 'GetCallerIdentity', edited((a) => ({ ...a, Arn: undefined })), (_c, nth) => nth === 2), 'GetCallerIdentity as the role returned undefined'],
    ['policies', 'no parameter', () => calls(SSMClient, 'GetParameter', async () => ({})), 'the bounded role read no value'],
    ['policies', 'a parameter without a value', () => calls(SSMClient, 'GetParameter', edited(() => ({ Parameter: {} }))), 'the bounded role read no value'],
    ['policies', 'a write refused for another reason', () => calls(SSMClient, 'PutParameter', rejected('ParameterLimitExceeded')), 'ssm:PutParameter as the bounded role: expected AccessDeniedException, got ParameterLimitExceeded'],
    ['external-id', 'a role that accepts a wrong external id', () => calls(STSClient, 'AssumeRole', someCredentials, onRole('PartnerRoleArn', (c) => c.input.ExternalId === 'someone-elses-id')), 'AssumeRole PartnerRole with a wrong external id succeeded, but it should have been refused'],
    ['external-id', 'empty credentials for the right external id', () => calls(STSClient, 'AssumeRole', emptyCredentials, onRole('PartnerRoleArn', (c) => c.input.ExternalId === deployed.outputs.PartnerExternalId)), 'no credentials with the right external id'],
    ['mfa', 'a role assumed without MFA', () => calls(STSClient, 'AssumeRole', someCredentials, onRole('MfaRoleArn')), 'AssumeRole MfaRole without MFA succeeded, but it should have been refused'],
    ['mfa', 'GetSessionToken without credentials', () => { mfaDevice(); calls(STSClient, 'GetSessionToken', async () => ({})); }, 'GetSessionToken returned no credentials'],
    ['mfa', 'a session token without a secret key', () => { mfaDevice(); calls(STSClient, 'GetSessionToken', async () => ({ Credentials: { AccessKeyId: 'ASIAFAKE' } })); }, 'GetSessionToken returned no credentials'],
    ['mfa', 'empty credentials from the MFA session', () => { mfaDevice(); calls(STSClient, 'AssumeRole', emptyCredentials, (c, nth) => onRole('MfaRoleArn')(c) && nth === 2); }, 'AssumeRole from the MFA session returned nothing'],
    ['decode', 'no public AMI parameter', () => calls(SSMClient, 'GetParameter', edited(() => ({ Parameter: {} }))), 'the public Amazon Linux 2023 AMI parameter has no value in this Region'],
    ['decode', 'no public AMI parameter at all', () => calls(SSMClient, 'GetParameter', async () => ({})), 'the public Amazon Linux 2023 AMI parameter has no value in this Region'],
    ['decode', 'a launch allowed to the bounded role', () => calls(EC2Client, 'RunInstances', async () => ({ Instances: [] }), (_c, nth) => nth === 1), 'RunInstances --dry-run as the bounded role succeeded, but it should have been refused'],
    ['decode', 'a refusal without an encoded message', () => calls(EC2Client, 'RunInstances', rejected('UnauthorizedOperation', 'You are not authorized to perform this operation.'), (_c, nth) => nth === 1), 'the UnauthorizedOperation carries no encoded message: You are not authorized to perform this operation.'],
    ['decode', 'a decoded message about another action', () => calls(STSClient, 'DecodeAuthorizationMessage', edited((a) => ({ ...a, DecodedMessage: JSON.stringify({ ...JSON.parse(String(a.DecodedMessage)), context: { action: 'ec2:StartInstances' } }) }))), 'decoded: {"allowed":false'],
    ['decode', 'a decoded message that allows', () => calls(STSClient, 'DecodeAuthorizationMessage', edited((a) => ({ ...a, DecodedMessage: JSON.stringify({ ...JSON.parse(String(a.DecodedMessage)), allowed: true }) }))), 'decoded: {"allowed":true'],
    ['decode', 'a decoded message without context', () => calls(STSClient, 'DecodeAuthorizationMessage', async () => ({ DecodedMessage: '{"allowed":false}' })), 'decoded: {"allowed":false}'],
    ['decode', 'no decoded message', () => calls(STSClient, 'DecodeAuthorizationMessage', async () => ({})), 'decoded: undefined'],
    ['decode', 'a dry run that launches', () => calls(EC2Client, 'RunInstances', async () => ({ Instances: [{ InstanceId: 'i-1' }] }), (_c, nth) => nth === 2), 'RunInstances with DryRun=true launched an instance'],
    ['simulate', 'a policy without the MFA context key', () => calls(IAMClient, 'GetContextKeysForCustomPolicy', async () => ({ ContextKeyNames: [] })), 'context keys: '],
    ['simulate', 'a policy with other context keys only', () => calls(IAMClient, 'GetContextKeysForCustomPolicy', async () => ({ ContextKeyNames: ['aws:CurrentTime'] })), 'context keys: aws:CurrentTime'],
    ['simulate', 'a policy without any context key', () => calls(IAMClient, 'GetContextKeysForCustomPolicy', async () => ({})), 'context keys: undefined'],
    ['simulate', 'GetParameter denied with MFA', () => calls(IAMClient, 'SimulateCustomPolicy', edited((a) => ({ ...a, EvaluationResults: [{ EvalActionName: 'ssm:GetParameter', EvalDecision: 'implicitDeny' }] })), (_c, nth) => nth === 1), 'GetParameter: implicitDeny with MFA, implicitDeny without'],
    ['simulate', 'GetParameter allowed without MFA', () => calls(IAMClient, 'SimulateCustomPolicy', edited((a) => ({ ...a, EvaluationResults: [{ EvalActionName: 'ssm:GetParameter', EvalDecision: 'allowed' }] })), (_c, nth) => nth === 2), 'GetParameter: allowed with MFA, allowed without'],
    ['simulate', 'a boundary that does not limit', () => calls(IAMClient, 'SimulateCustomPolicy', edited((a) => ({ ...a, EvaluationResults: [{ EvalActionName: 'ssm:GetParameter', EvalDecision: 'allowed' }, { EvalActionName: 'ssm:PutParameter', EvalDecision: 'allowed' }] })), (_c, nth) => nth === 3), 'with a boundary: {"ssm:GetParameter":"allowed","ssm:PutParameter":"allowed"}'],
    ['simulate', 'a boundary that denies GetParameter too', () => calls(IAMClient, 'SimulateCustomPolicy', edited((a) => ({ ...a, EvaluationResults: [{ EvalActionName: 'ssm:GetParameter', EvalDecision: 'implicitDeny' }, { EvalActionName: 'ssm:PutParameter', EvalDecision: 'implicitDeny' }] })), (_c, nth) => nth === 3), 'with a boundary: {"ssm:GetParameter":"implicitDeny","ssm:PutParameter":"implicitDeny"}'],
    ['credential-chain', 'credentials that STS does not recognise', () => calls(STSClient, 'GetCallerIdentity', edited((a) => ({ ...a, Arn: undefined }))), 'the chain resolved no usable credentials'],
    ['retries', 'a standard mode that makes another number of attempts', () => oneMoreAttempt('/standard'), 'standard mode made 4 attempts'],
    ['retries', 'a standard mode answering for another account', () => alter(STSClient, async (_c, send, self) => ((await endpointOf(self as never)).endsWith('/standard') ? { ...(await send()), Account: '000000000000' } : send())), 'standard mode made 3 attempts'],
    ['retries', 'a client that ignores maxAttempts 2', () => oneMoreAttempt('/give-up'), 'maxAttempts 2 made 3 attempts'],
    ['retries', 'a give-up with another error', () => alter(STSClient, async (_c, send, self) => ((await endpointOf(self as never)).endsWith('/give-up') ? send().catch(rejected('Throttling')) : send())), 'maxAttempts 2 against two failures: expected ServiceUnavailable, got Throttling'],
    ['retries', 'an adaptive mode that makes another number of attempts', () => throttledDemoWithoutBackoff(4), 'adaptive mode made 4 attempts'],
    ['retries', 'a raw call that does not retry', () => {
      throttledDemoWithoutBackoff(3);
      fetches((url) => url.endsWith('/raw'), async () => new Response('ok', { status: 200 }));
    }, 'raw fetch: 200 after 1 attempts'],
    ['sigv4', 'a header-signed request refused', () => fetches((_u, init) => Boolean((init?.headers as Record<string, string> | undefined)?.authorization), async () => new Response('<Error/>', { status: 403 })), 'the header-signed request returned 403'],
    ['sigv4', 'a header-signed request answered for another identity', () => fetches((_u, init) => Boolean((init?.headers as Record<string, string> | undefined)?.authorization), async () => new Response('<Arn>arn:aws:iam::000000000000:user/other</Arn>', { status: 200 })), 'the header-signed request answered for another identity'],
    ['sigv4', 'a header-signed request answered without an identity', () => fetches((_u, init) => Boolean((init?.headers as Record<string, string> | undefined)?.authorization), async () => new Response('<Error/>', { status: 200 })), 'the header-signed request answered for another identity'],
    ['sigv4', 'a presigned URL refused that names you', () => fetches((url, init) => url.includes('X-Amz-Signature') && !url.includes('2011-06-16') && !init, async () => new Response(`<Arn>arn:aws:iam::${aws.account}:user/learner</Arn>`, { status: 403 })), 'the presigned URL returned 403'],
    ['sigv4', 'a presigned URL answered for another identity', () => fetches((url, init) => url.includes('X-Amz-Signature') && !url.includes('2011-06-16') && !init, async () => new Response('<Arn>arn:aws:iam::000000000000:user/other</Arn>', { status: 200 })), 'the presigned URL returned 200'],
    ['sigv4', 'a presigned URL refused', () => fetches((url, init) => url.includes('X-Amz-Signature') && !url.includes('2011-06-16') && !init, async () => new Response('<Error/>', { status: 403 })), 'the presigned URL returned 403'],
    ['sigv4', 'a changed parameter accepted', () => fetches((url) => url.includes('2011-06-16'), async () => new Response('<Arn>x</Arn>', { status: 200 })), 'a presigned URL with a changed parameter returned 200, expected 403'],
    ['parameters', 'a reader that fails', () => calls(LambdaClient, 'Invoke', async () => ({ FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorMessage: 'boom' })) })), 'the reader failed: boom'],
    ['parameters', 'a reader that fails without a payload', () => calls(LambdaClient, 'Invoke', async () => ({ FunctionError: 'Unhandled' })), 'the reader failed: undefined'],
    ['parameters', 'a reader that reads another value', () => calls(LambdaClient, 'Invoke', edited((a) => { const payload = JSON.parse(Buffer.from(a.Payload as Uint8Array).toString('utf8')); return { ...a, Payload: Buffer.from(JSON.stringify({ ...payload, parameter: { sha256: 'other' } })) }; })), 'the function read another value than the one put'],
    ['parameters', 'a reader that reads no value', () => calls(LambdaClient, 'Invoke', edited((a) => { const payload = JSON.parse(Buffer.from(a.Payload as Uint8Array).toString('utf8')); return { ...a, Payload: Buffer.from(JSON.stringify({ ...payload, parameter: undefined })) }; })), 'the function read another value than the one put'],
    ['parameters', 'a reader that reads no secret', () => calls(LambdaClient, 'Invoke', edited((a) => { const payload = JSON.parse(Buffer.from(a.Payload as Uint8Array).toString('utf8')); return { ...a, Payload: Buffer.from(JSON.stringify({ ...payload, secret: undefined })) }; })), 'the function read another secret value'],
    ['parameters', 'a reader that reads another secret', () => calls(LambdaClient, 'Invoke', edited((a) => { const payload = JSON.parse(Buffer.from(a.Payload as Uint8Array).toString('utf8')); return { ...a, Payload: Buffer.from(JSON.stringify({ ...payload, secret: { ...payload.secret, sha256: 'other' } })) }; })), 'the function read another secret value'],
  ])('%s fails on %s', async (id, _name, breakIt, message) => {
    breakIt();
    const failure = await runExercise(step(id), context()).catch((e: unknown) => e);
    jest.restoreAllMocks();
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  });

  // A first factor outside [0, 1) stands for a backoff whose first delay leaves [0, ceiling]; the second (0) waits nothing.
  test.each([
    ['above its ceiling', 1.25, 'delay 1 (250 ms) is outside [0, 200]'],
    ['below zero', -0.25, 'delay 1 (-50 ms) is outside [0, 200]'],
  ])('retries fails on a raw-call backoff delay %s', async (_name, first, message) => {
    throttledDemoWithoutBackoff(3);
    const factors = [first, 0];
    const failure = await runExercise(step('retries'), { ...context(), provide: [provide(jitter, () => factors.shift()!)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe(message);
  });

  test('retries fails on a raw call that ends on an answer not worth retrying', async () => {
    throttledDemoWithoutBackoff(3);
    let calls = 0;
    fetches((url) => url.endsWith('/raw'), async (_url, _init, send) => ((calls += 1) < 3 ? send() : new Response('gone', { status: 404 })));
    const failure = await runExercise(step('retries'), { ...context(), provide: [provide(jitter, () => 0)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('raw fetch: 404 after 3 attempts');
  });

  describe('what the steps print and send when AWS answers otherwise', () => {
    /** Runs `work` with the environment variables of `env` set (or removed, when undefined), then puts them back. */
    async function withEnv(env: Record<string, string | undefined>, work: () => Promise<unknown>) {
      const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
      const set = (values: Record<string, string | undefined>) => {
        for (const [key, value] of Object.entries(values)) if (value === undefined) delete process.env[key]; else process.env[key] = value;
      };
      set(env);
      try {
        await work();
      } finally {
        set(saved);
      }
    }

    test('policies quotes a refusal of 160 characters whole', async () => {
      const message = 'User: learner is not authorized to perform: ssm:PutParameter (made up by the test, 160 characters long)'.padEnd(160, '.');
      calls(SSMClient, 'PutParameter', rejected('AccessDeniedException', message));
      await runExercise(step('policies'), context());
      expect(lines[lines.length - 1]).toBe(`  "${message}"`);
    });

    test('external-id and mfa name their role sessions after the run', async () => {
      mfaDevice();
      const sessions: string[] = [];
      alter(STSClient, async (command, send) => {
        if (is(command, 'AssumeRole')) sessions.push(`${command.input.RoleArn} ${command.input.RoleSessionName}`);
        return send();
      });
      await runExercise([...step('external-id'), ...step('mfa')], context(deployed.outputs, 'run-s'));
      const { PartnerRoleArn: partner, MfaRoleArn: mfa } = deployed.outputs;
      expect(sessions).toEqual([...Array(3).fill(`${partner} run-s-partner`), ...Array(2).fill(`${mfa} run-s-mfa`)]);
    });

    test('decode prints a decoded message that names no principal', async () => {
      calls(STSClient, 'DecodeAuthorizationMessage', edited((a) => {
        const decoded = JSON.parse(String(a.DecodedMessage));
        return { ...a, DecodedMessage: JSON.stringify({ ...decoded, context: { ...decoded.context, principal: undefined } }) };
      }));
      await runExercise(step('decode'), context());
      expect(lines[3]).toBe('  action=ec2:RunInstances, resource=arn:aws:ec2:us-east-1:123456789012:instance/*, principal=undefined');
    });

    test('simulate asks IAM about its MFA policy with MFA, without, and under a boundary, and lists every context key', async () => {
      const sent: unknown[] = [];
      alter(IAMClient, async (command, send) => {
        sent.push({ [command.constructor.name]: command.input });
        const answer = await send();
        return is(command, 'GetContextKeysForCustomPolicy') ? { ...answer, ContextKeyNames: [...(answer.ContextKeyNames as string[]), 'aws:CurrentTime'] } : answer;
      });
      await runExercise(step('simulate'), context());
      const arn = deployed.outputs.LabParameterArn;
      const actions = ['ssm:GetParameter', 'ssm:PutParameter'];
      const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: arn, Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }] });
      const boundary = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: arn }] });
      const simulation = (mfaPresent: string, boundaries?: string[]) => ({
        SimulateCustomPolicyCommand: {
          PolicyInputList: [policy],
          PermissionsBoundaryPolicyInputList: boundaries,
          ActionNames: actions,
          ResourceArns: [arn],
          ContextEntries: [{ ContextKeyName: 'aws:MultiFactorAuthPresent', ContextKeyType: 'boolean', ContextKeyValues: [mfaPresent] }],
        },
      });
      expect(sent).toEqual([{ GetContextKeysForCustomPolicyCommand: { PolicyInputList: [policy] } }, simulation('true'), simulation('false'), simulation('true', [boundary])]);
      expect(lines[1]).toBe('GetContextKeysForCustomPolicy → aws:MultiFactorAuthPresent, aws:CurrentTime: the keys SimulateCustomPolicy needs values for');
    });

    test('decode shows what refused your own dry run when it is not DryRunOperation', async () => {
      const message = 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC (made up by the test, to be cut at 120 characters).';
      calls(EC2Client, 'RunInstances', rejected('VPCIdNotSpecified', message), (_c, nth) => nth === 2);
      await runExercise(step('decode'), context());
      expect(lines[lines.length - 1]).toBe('with your credentials: VPCIdNotSpecified: No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC (made up by the test, to be cu');
    });

    test('decode asks twice for a dry run of one t4g.nano of the public Amazon Linux 2023 AMI', async () => {
      const inputs: unknown[] = [];
      alter(EC2Client, async (command, send) => (inputs.push(command.input), send()));
      const requests = aws.requests.length;
      await runExercise(step('decode'), context(deployed.outputs, 'run-d'));
      const dryRun = { ImageId: 'ami-0123456789abcdef0', InstanceType: 't4g.nano', MinCount: 1, MaxCount: 1, DryRun: true };
      expect(inputs).toEqual([dryRun, dryRun]);
      // The bounded role decodes its own refusal: its policies allow sts:DecodeAuthorizationMessage.
      const decoders = aws.requests.slice(requests).filter((r) => r.operation === 'DecodeAuthorizationMessage').map((r) => r.caller);
      expect(decoders).toEqual(['arn:aws:sts::123456789012:assumed-role/BoundedRoleFFA37864/run-d-bounded']);
    });

    /** An EC2 instance metadata service (IMDSv2) that hands out the learner's keys as the credentials of role lab-role. */
    async function instanceMetadata(): Promise<{ url: string; close: () => Promise<void> }> {
      const server = createServer((req, res) => {
        const path = req.url ?? '';
        if (req.method === 'PUT' && path === '/latest/api/token') return void res.end('imds-token');
        if (req.headers['x-aws-ec2-metadata-token'] !== 'imds-token') return void res.writeHead(401).end();
        if (/\/security-credentials(-extended)?\/$/.test(path)) return void res.end('lab-role');
        if (/\/security-credentials(-extended)?\/lab-role$/.test(path)) {
          const credentials = { Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: 'local', SecretAccessKey: 'local', Token: 'imds-session', Expiration: '2030-01-02T03:04:05Z', LastUpdated: new Date().toISOString() };
          return void res.end(JSON.stringify(credentials));
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
    }

    test.each<[string, (imds: string) => Record<string, string | undefined>, string[]]>([
      ['keys in the shared credentials file', () => ({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }), [
        'first configured link: ini',
        'resolved: ini (access key loca…, no expiry: long-term keys) → arn:aws:iam::123456789012:user/learner',
      ]],
      ['environment keys that expire', () => ({ AWS_SESSION_TOKEN: 'session', AWS_CREDENTIAL_EXPIRATION: '2030-01-02T03:04:05Z' }), [
        'first configured link: environment',
        'resolved: environment (access key loca…, expires 2030-01-02T03:04:05.000Z) → arn:aws:iam::123456789012:user/learner',
      ]],
      // Instance metadata is listed as configured wherever it is not disabled: it is not named as the first link. The
      // SDK does not tag the credentials it gets from the instance metadata with their source.
      ['an EC2 instance profile only', (imds) => ({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials', AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds }), [
        'first configured link: none',
        'resolved: instance-metadata (access key loca…, expires 2030-01-02T03:04:05.000Z) → arn:aws:iam::123456789012:user/learner',
      ]],
    ])('credential-chain names what answered, from %s', async (_name, env, expected) => {
      const folder = mkdtempSync(join(tmpdir(), 'iam-sts-chain-'));
      writeFileSync(join(folder, 'credentials'), '[default]\naws_access_key_id = local\naws_secret_access_key = local\n');
      const imds = await instanceMetadata();
      try {
        await withEnv({ AWS_SHARED_CREDENTIALS_FILE: join(folder, 'credentials'), AWS_CONFIG_FILE: join(folder, 'config'), ...env(imds.url) }, () => runExercise(step('credential-chain'), context()));
      } finally {
        rmSync(folder, { recursive: true });
        await imds.close();
      }
      expect(lines.slice(-3, -1)).toEqual(expected);
    });

    test('retries: the demo endpoint fails two requests of each path (400 Throttling on the throttle path, 503 on the others); delays of 0 and of their ceiling pass', async () => {
      const answers: Record<string, string[]> = { '/standard': [], '/give-up': [], '/throttle': [], '/raw': [] };
      const record = async (path: string, response: Response) => {
        const body = (await response.clone().text()).replace(/<RequestId>[0-9a-f]{8}</, '<RequestId>(8 hex digits)<');
        answers[path].push(`${response.status} ${response.headers.get('content-type')} ${body}`);
        return response;
      };
      const clients: string[] = [];
      let endpoint = '';
      // Each demo client's requests, made without the SDK's backoff, as the SDK makes them; answered as the SDK answers.
      alter(STSClient, async (_command, _send, self) => {
        const url = await endpointOf(self as never);
        const path = new URL(url).pathname;
        const config = (self as unknown as { config: Record<'maxAttempts' | 'retryMode', unknown> }).config;
        const value = async (setting: unknown) => (typeof setting === 'function' ? setting() : setting);
        const attempts = Number(await value(config.maxAttempts));
        clients.push(`${path} maxAttempts=${attempts} retryMode=${await value(config.retryMode)}`);
        endpoint = url;
        let response: Response | undefined;
        for (let attempt = 0; attempt < attempts && response?.status !== 200; attempt += 1) response = await record(path, await fetch(url));
        if (response?.status === 200) return { Account: '111122223333', $metadata: { attempts } };
        throw Object.assign(new Error('try again'), { name: 'ServiceUnavailable', $metadata: { attempts } });
      });
      fetches((url) => url.endsWith('/raw'), async (_url, _init, send) => record('/raw', await send()));
      const factors = [1, 0];
      await runExercise(step('retries'), { ...context(), provide: [provide(jitter, () => factors.shift()!)] });
      const failed = (status: number, type: string, code: string) =>
        `${status} text/xml <ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>try again</Message></Error><RequestId>(8 hex digits)</RequestId></ErrorResponse>`;
      const unavailable = failed(503, 'Receiver', 'ServiceUnavailable');
      const ok =
        '200 text/xml <GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/retry-demo</Arn><UserId>AIDA</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>';
      expect(answers).toEqual({
        '/standard': [unavailable, unavailable, ok],
        '/give-up': [unavailable, unavailable],
        '/throttle': [failed(400, 'Sender', 'Throttling'), failed(400, 'Sender', 'Throttling'), ok],
        '/raw': [unavailable, unavailable, ok],
      });
      expect(clients).toEqual(['/standard maxAttempts=3 retryMode=standard', '/give-up maxAttempts=2 retryMode=standard', '/throttle maxAttempts=3 retryMode=adaptive']);
      // The step closes its endpoint when done.
      await expect(fetch(endpoint)).rejects.toThrow('fetch failed');
      expect(lines.slice(-2)).toEqual([
        'raw HTTP with fetchWithRetry (full jitter, base 200 ms, cap 1 s): 3 attempts, delays 200 ms, 0 ms',
        '  within the ceilings 200 ms, 400 ms; the notes\' fixed 1/2/4 s works too, but clients failing together then retry together',
      ]);
    });

    test('every step but retries calls each service at the endpoint of its own AWS_ENDPOINT_URL_<SERVICE>', async () => {
      mfaDevice();
      const own = Object.fromEntries(['SSM', 'IAM', 'EC2', 'LAMBDA', 'SECRETS_MANAGER'].map((service) => [`AWS_ENDPOINT_URL_${service}`, aws.endpoint]));
      // The general endpoint answers nothing: a client given it instead of its service's fails. STS's ends with a
      // slash, which the URL the sigv4 step signs does not repeat.
      await withEnv({ ...own, AWS_ENDPOINT_URL_STS: `${aws.endpoint}/`, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }, () =>
        runExercise(steps.filter((s) => s.id !== 'retries'), context()),
      );
      expect(lines).toContain('AssumeRole MfaRole from the MFA session → credentials (AssumeRole also takes SerialNumber + TokenCode directly)');
      expect(lines).toContain('GET <sts>/?Action=GetCallerIdentity&Version=2011-06-15 signed with @smithy/signature-v4:');
    });

    test('sigv4 prints no error code for a refusal without one', async () => {
      fetches((url) => url.includes('2011-06-16'), async () => new Response('<Error/>', { status: 403 }));
      await runExercise(step('sigv4'), context());
      expect(lines[lines.length - 1]).toBe('change one signed parameter → 403 : the signature covers the whole canonical request');
    });

    test('parameters puts a fresh SecureString, has it read without cache, and says how to add the secret when there is none', async () => {
      const sent: unknown[] = [];
      alter(SSMClient, async (command, send) => (sent.push({ [command.constructor.name]: command.input }), send()));
      alter(LambdaClient, async (command, send) => {
        const { Payload, ...input } = command.input;
        sent.push({ [command.constructor.name]: { ...input, Payload: JSON.parse(Buffer.from(Payload as Uint8Array).toString('utf8')) } });
        return send();
      });
      const outputs = Object.fromEntries(Object.entries(deployed.outputs).filter(([key]) => key !== 'SecretArn'));
      await runExercise(step('parameters'), context(outputs, 'run-p'));
      const name = deployed.outputs.SecureParameterName;
      expect(sent).toEqual([
        { PutParameterCommand: { Name: name, Value: expect.stringMatching(/^[\w-]{24}$/), Type: 'SecureString', Overwrite: true, Description: 'iam-sts lab run-p' } },
        { InvokeCommand: { FunctionName: deployed.outputs.ParameterReaderFunctionName, Payload: { maxAgeSeconds: 30, forceFetch: true } } },
        // The function's own read, decrypted.
        { GetParameterCommand: { Name: name, WithDecryption: true } },
        { DeleteParameterCommand: { Name: name } },
      ]);
      expect(lines.slice(-2)).toEqual(['deploy with -c iam-sts:secret=true to read a Secrets Manager secret too ($0.40/month)', `deleted ${name}`]);
    });
  });
});
