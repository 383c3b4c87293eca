import { randomBytes } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetContextKeysForCustomPolicyCommand, IAMClient, SimulateCustomPolicyCommand } from '@aws-sdk/client-iam';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DecodeAuthorizationMessageCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@smithy/types';
import { fingerprint } from '../../lambda/parameter-reader';
import { assumedCredentials, stsOf } from '../support/credentials';
import { check, ExerciseContext, ExerciseStep, createClient, defineFixture, expectRejection, requireOutput } from '../support/exercise';
import { backoffCeiling, fetchWithRetry } from './backoff';
import { credentialSourceName, describeCredentialChain, MfaInputError, mfaParameters } from './credentials';
import { presignUrl, signRequest } from './sigv4';

const errorName = (error: unknown) => (error as { name?: string })?.name ?? String(error);

/** A session of BoundedRole, assumed once per run by the first step that needs it. */
const boundedRoleSession = defineFixture(
  'BoundedRole session',
  (context): Promise<AwsCredentialIdentity> => assumedCredentials(context, requireOutput(context.outputs, 'BoundedRoleArn'), `${context.runId}-bounded`),
);

async function assumeRole(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const roleArn = requireOutput(outputs, 'BoundedRoleArn');
  const me = await stsOf(context).send(new GetCallerIdentityCommand({}));
  log(`you are ${me.Arn} (account ${me.Account})`);
  const credentials = await assumedCredentials(context, roleArn, `${context.runId}-assume`);
  const asRole = await createClient(STSClient, 'STS', { credentials }).send(new GetCallerIdentityCommand({}));
  const roleName = roleArn.split('/').pop();
  check(asRole.Arn?.includes(`:assumed-role/${roleName}/${context.runId}-assume`) === true, `GetCallerIdentity as the role returned ${asRole.Arn}`);
  log(`AssumeRole (DurationSeconds 900) → temporary credentials ${credentials.accessKeyId.slice(0, 4)}… expiring ${credentials.expiration?.toISOString()}`);
  log(`GetCallerIdentity with them → ${asRole.Arn}: a role session, named by RoleSessionName (CloudTrail records it)`);
}

async function policies(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const name = requireOutput(outputs, 'LabParameterName');
  const ssm = createClient(SSMClient, 'SSM', { credentials: await context.use(boundedRoleSession) });
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
  check(Parameter?.Value !== undefined, 'the bounded role read no value');
  log(`as BoundedRole: ssm:GetParameter → "${Parameter.Value}" (customer managed policy allows it, and so does the boundary)`);
  const denied = await expectRejection(
    () => ssm.send(new PutParameterCommand({ Name: name, Value: 'changed', Type: 'String', Overwrite: true })),
    'AccessDeniedException',
    'ssm:PutParameter as the bounded role',
  );
  log(`as BoundedRole: ssm:PutParameter → AccessDeniedException: the inline policy allows it, the permissions boundary does not`);
  log(`  "${denied.message.slice(0, 160)}${denied.message.length > 160 ? '…' : ''}"`);
}

async function externalId(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const roleArn = requireOutput(outputs, 'PartnerRoleArn');
  const id = requireOutput(outputs, 'PartnerExternalId');
  await expectRejection(() => assumedCredentials(context, roleArn, `${context.runId}-partner`), 'AccessDenied', 'AssumeRole PartnerRole without an external id');
  await expectRejection(() => assumedCredentials(context, roleArn, `${context.runId}-partner`, { ExternalId: 'someone-elses-id' }), 'AccessDenied', 'AssumeRole PartnerRole with a wrong external id');
  const credentials = await assumedCredentials(context, roleArn, `${context.runId}-partner`, { ExternalId: id });
  check(Boolean(credentials.accessKeyId), 'no credentials with the right external id');
  log('AssumeRole PartnerRole without ExternalId → AccessDenied; with a wrong one → AccessDenied');
  log(`with ExternalId=${id} → credentials: a partner must send the id you gave it, so another of its customers cannot point it at your role`);
}

async function mfa(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const roleArn = requireOutput(outputs, 'MfaRoleArn');
  await expectRejection(() => assumedCredentials(context, roleArn, `${context.runId}-mfa`), 'AccessDenied', 'AssumeRole MfaRole without MFA');
  log('AssumeRole MfaRole from a session without MFA → AccessDenied (aws:MultiFactorAuthPresent is not true)');
  let parameters: { SerialNumber: string; TokenCode: string };
  try {
    parameters = mfaParameters(process.env.LAB_MFA_SERIAL, process.env.LAB_MFA_CODE);
  } catch (error) {
    if (!(error instanceof MfaInputError)) throw error;
    log(`skipping the MFA session: ${error.message}`);
    log('  LAB_MFA_SERIAL=arn:aws:iam::<account>:mfa/<device> LAB_MFA_CODE=123456 npm run lab -- exercise iam-sts mfa');
    return;
  }
  const { Credentials } = await stsOf(context).send(new GetSessionTokenCommand({ ...parameters, DurationSeconds: 900 }));
  check(Credentials?.AccessKeyId !== undefined && Credentials.SecretAccessKey !== undefined, 'GetSessionToken returned no credentials');
  log(`GetSessionToken with SerialNumber + TokenCode → an MFA session (${Credentials.AccessKeyId.slice(0, 4)}…)`);
  const mfaSts = createClient(STSClient, 'STS', { credentials: { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey, sessionToken: Credentials.SessionToken } });
  const role = await assumedCredentials(context, roleArn, `${context.runId}-mfa`, {}, mfaSts);
  check(Boolean(role.accessKeyId), 'AssumeRole from the MFA session returned nothing');
  log('AssumeRole MfaRole from the MFA session → credentials (AssumeRole also takes SerialNumber + TokenCode directly)');
}

const ENCODED = /Encoded authorization failure message: (\S+)/;

async function decode(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const credentials = await context.use(boundedRoleSession);
  const ssm = context.client(SSMClient, 'SSM');
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64' }));
  const imageId = Parameter?.Value;
  check(imageId !== undefined, 'the public Amazon Linux 2023 AMI parameter has no value in this Region');
  const run = (client: EC2Client) => client.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't4g.nano', MinCount: 1, MaxCount: 1, DryRun: true }));

  const denied = await expectRejection(() => run(new EC2Client({ credentials })), 'UnauthorizedOperation', 'RunInstances --dry-run as the bounded role');
  const encoded = ENCODED.exec(denied.message)?.[1];
  check(encoded !== undefined, `the UnauthorizedOperation carries no encoded message: ${denied.message}`);
  log(`as BoundedRole: RunInstances --dry-run → UnauthorizedOperation with an encoded message (${encoded.length} characters)`);
  const { DecodedMessage } = await createClient(STSClient, 'STS', { credentials }).send(new DecodeAuthorizationMessageCommand({ EncodedMessage: encoded }));
  const decoded = JSON.parse(DecodedMessage ?? '{}') as { allowed?: boolean; explicitDeny?: boolean; context?: { action?: string; resource?: string; principal?: { arn?: string } } };
  check(decoded.allowed === false && decoded.context?.action === 'ec2:RunInstances', `decoded: ${DecodedMessage}`);
  log(`sts:DecodeAuthorizationMessage (allowed by the role's policies) → allowed=${decoded.allowed}, explicitDeny=${decoded.explicitDeny},`);
  log(`  action=${decoded.context?.action}, resource=${decoded.context?.resource}, principal=${decoded.context?.principal?.arn}`);

  try {
    await run(new EC2Client({}));
    check(false, 'RunInstances with DryRun=true launched an instance');
  } catch (error) {
    const name = errorName(error);
    check(name !== 'ExerciseCheckFailed', (error as Error).message);
    // Informational: accounts without a default VPC answer VPCIdNotSpecified, others may lack ec2:RunInstances.
    log(name === 'DryRunOperation'
      ? 'with your credentials: RunInstances --dry-run → DryRunOperation "Request would have succeeded, but DryRun flag is set": nothing launched, nothing billed'
      : `with your credentials: ${name}: ${(error as Error).message.slice(0, 120)}`);
  }
}

async function simulate(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const parameterArn = requireOutput(outputs, 'LabParameterArn');
  const iam = context.client(IAMClient, 'IAM');
  const mfaPolicy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: parameterArn, Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }],
  });
  const { ContextKeyNames } = await iam.send(new GetContextKeysForCustomPolicyCommand({ PolicyInputList: [mfaPolicy] }));
  check((ContextKeyNames ?? []).some((k) => k.toLowerCase() === 'aws:multifactorauthpresent'), `context keys: ${ContextKeyNames}`);
  log(`GetContextKeysForCustomPolicy → ${ContextKeyNames?.join(', ')}: the keys SimulateCustomPolicy needs values for`);
  const run = async (mfaPresent: string, boundary?: string) => {
    const { EvaluationResults } = await iam.send(
      new SimulateCustomPolicyCommand({
        PolicyInputList: [mfaPolicy],
        PermissionsBoundaryPolicyInputList: boundary ? [boundary] : undefined,
        ActionNames: ['ssm:GetParameter', 'ssm:PutParameter'],
        ResourceArns: [parameterArn],
        ContextEntries: [{ ContextKeyName: 'aws:MultiFactorAuthPresent', ContextKeyType: 'boolean', ContextKeyValues: [mfaPresent] }],
      }),
    );
    return Object.fromEntries((EvaluationResults ?? []).map((r) => [r.EvalActionName, r.EvalDecision]));
  };
  const withMfa = await run('true');
  const withoutMfa = await run('false');
  check(withMfa['ssm:GetParameter'] === 'allowed' && withoutMfa['ssm:GetParameter'] === 'implicitDeny', `GetParameter: ${withMfa['ssm:GetParameter']} with MFA, ${withoutMfa['ssm:GetParameter']} without`);
  log(`SimulateCustomPolicy, aws:MultiFactorAuthPresent=true → GetParameter ${withMfa['ssm:GetParameter']}; =false → ${withoutMfa['ssm:GetParameter']}`);
  const boundary = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: parameterArn }] });
  const bounded = await run('true', boundary);
  check(bounded['ssm:GetParameter'] === 'allowed' && bounded['ssm:PutParameter'] === 'implicitDeny', `with a boundary: ${JSON.stringify(bounded)}`);
  log(`with a permissions boundary allowing GetParameter only → PutParameter ${bounded['ssm:PutParameter']}: both must allow`);
}

async function credentialChain(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const links = await describeCredentialChain();
  log('the SDK v3 default chain, in order (the first link with credentials wins):');
  for (const [index, link] of links.entries()) log(`  ${index + 1}. ${link.name.padEnd(18)} ${link.configured ? '●' : '○'} ${link.detail}  [${link.source}]`);
  const resolved = await fromNodeProviderChain()();
  const source = credentialSourceName(resolved);
  const me = await stsOf(context).send(new GetCallerIdentityCommand({}));
  check(Boolean(resolved.accessKeyId) && Boolean(me.Arn), 'the chain resolved no usable credentials');
  // A profile can chain sources (role_arn with an SSO source_profile): the SDK's tag says what finally answered.
  const firstConfigured = links.find((l) => l.configured && l.name !== 'instance-metadata')?.name ?? 'none';
  log(`first configured link: ${firstConfigured}`);
  log(`resolved: ${source} (access key ${resolved.accessKeyId.slice(0, 4)}…${resolved.expiration ? `, expires ${resolved.expiration.toISOString()}` : ', no expiry: long-term keys'}) → ${me.Arn}`);
  log('the CLI reads the same sources, after its own command-line options (--profile, --region)');
}

interface FlakyServer {
  url: string;
  hits: Record<string, number[]>;
  close: () => Promise<void>;
}

/** A local endpoint that fails its first `failures` requests per path (503, or 400 Throttling), then succeeds. */
async function flakyServer(failures: number): Promise<FlakyServer> {
  const hits: Record<string, number[]> = {};
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const key = (req.url ?? '/').split('?')[0].replace(/(.)\/$/, '$1');
    const times = (hits[key] ??= []);
    times.push(Date.now());
    if (times.length <= failures) {
      const throttling = key.includes('throttle');
      res.writeHead(throttling ? 400 : 503, { 'content-type': 'text/xml' });
      return void res.end(`<ErrorResponse><Error><Type>${throttling ? 'Sender' : 'Receiver'}</Type><Code>${throttling ? 'Throttling' : 'ServiceUnavailable'}</Code><Message>try again</Message></Error><RequestId>${randomBytes(4).toString('hex')}</RequestId></ErrorResponse>`);
    }
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end('<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::111122223333:user/retry-demo</Arn><UserId>AIDA</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]);

/** The random source of the raw call's jitter, in [0, 1): Math.random, unless a test gives one whose delays it knows. */
export const jitter = defineFixture('random source of the backoff jitter', (): (() => number) => Math.random);

async function retries(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const server = await flakyServer(2);
  try {
    const demo = (path: string, config: { maxAttempts: number; retryMode: 'standard' | 'adaptive' }) =>
      new STSClient({ ...config, endpoint: `${server.url}${path}`, region: 'us-east-1', credentials: { accessKeyId: 'retry-demo', secretAccessKey: 'retry-demo' } })
        .send(new GetCallerIdentityCommand({}));

    const ok = await demo('/standard', { maxAttempts: 3, retryMode: 'standard' });
    check(ok.Account === '111122223333' && server.hits['/standard'].length === 3, `standard mode made ${server.hits['/standard']?.length} attempts`);
    log(`SDK, retryMode standard, maxAttempts 3: 503, 503, 200 → success after 3 attempts; waited ${gaps(server.hits['/standard']).join(' ms, ')} ms (random, ≤ 100 ms × 2^n)`);

    const failure = await expectRejection(() => demo('/give-up', { maxAttempts: 2, retryMode: 'standard' }), 'ServiceUnavailable', 'maxAttempts 2 against two failures');
    check(server.hits['/give-up'].length === 2, `maxAttempts 2 made ${server.hits['/give-up'].length} attempts`);
    log(`SDK, maxAttempts 2: 503, 503 → ${failure.name} after 2 attempts ($metadata.attempts=${(failure as { $metadata?: { attempts?: number } }).$metadata?.attempts})`);

    await demo('/throttle', { maxAttempts: 3, retryMode: 'adaptive' });
    check(server.hits['/throttle'].length === 3, `adaptive mode made ${server.hits['/throttle'].length} attempts`);
    log(`SDK, retryMode adaptive: Throttling, Throttling, 200 → success; waited ${gaps(server.hits['/throttle']).join(' ms, ')} ms (throttling backs off from 500 ms, and the client also rate-limits itself)`);

    const backoff = { baseMs: 200, capMs: 1_000, random: await context.use(jitter) };
    const raw = await fetchWithRetry(`${server.url}/raw`, { maxAttempts: 4, backoff });
    check(raw.response.status === 200 && raw.attempts === 3, `raw fetch: ${raw.response.status} after ${raw.attempts} attempts`);
    raw.delays.forEach((delay, attempt) => check(delay >= 0 && delay <= backoffCeiling(attempt, backoff), `delay ${attempt + 1} (${delay} ms) is outside [0, ${backoffCeiling(attempt, backoff)}]`));
    log(`raw HTTP with fetchWithRetry (full jitter, base 200 ms, cap 1 s): ${raw.attempts} attempts, delays ${raw.delays.map((d) => `${Math.round(d)} ms`).join(', ')}`);
    log(`  within the ceilings ${raw.delays.map((_, i) => `${backoffCeiling(i, backoff)} ms`).join(', ')}; the notes' fixed 1/2/4 s works too, but clients failing together then retry together`);
  } finally {
    await server.close();
  }
}

async function sigv4(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const region = await stsOf(context).config.region();
  const credentials = await stsOf(context).config.credentials();
  const endpoint = (process.env.AWS_ENDPOINT_URL_STS ?? process.env.AWS_ENDPOINT_URL ?? `https://sts.${region}.amazonaws.com`).replace(/\/$/, '');
  const url = `${endpoint}/?Action=GetCallerIdentity&Version=2011-06-15`;
  const expected = (await stsOf(context).send(new GetCallerIdentityCommand({}))).Arn;
  const arnOf = async (response: Response) => /<Arn>([^<]+)<\/Arn>/.exec(await response.text())?.[1];

  const signed = await signRequest({ method: 'GET', url, credentials, region, service: 'sts' });
  const byHeader = await fetch(signed.url, { headers: signed.headers });
  check(byHeader.status === 200, `the header-signed request returned ${byHeader.status}`);
  check((await arnOf(byHeader)) === expected, 'the header-signed request answered for another identity');
  log(`GET ${url.replace(endpoint, '<sts>')} signed with @smithy/signature-v4:`);
  log(`  Authorization: ${signed.headers.authorization.replace(/Signature=\w+/, 'Signature=…').slice(0, 120)}… → 200, ${expected}`);

  const presigned = await presignUrl({ method: 'GET', url, credentials, region, service: 'sts', expiresInSeconds: 60 });
  const byQuery = await fetch(presigned.url);
  check(byQuery.status === 200 && (await arnOf(byQuery)) === expected, `the presigned URL returned ${byQuery.status}`);
  const params = [...new URL(presigned.url).searchParams.keys()].filter((k) => k.startsWith('X-Amz-'));
  log(`the same request presigned (60 s): ${params.join(', ')} in the query string, no headers → 200`);

  const tampered = new URL(presigned.url);
  tampered.searchParams.set('Version', '2011-06-16');
  const refused = await fetch(tampered);
  check(refused.status === 403, `a presigned URL with a changed parameter returned ${refused.status}, expected 403`);
  log(`change one signed parameter → 403 ${/<Code>(\w+)<\/Code>/.exec(await refused.text())?.[1] ?? ''}: the signature covers the whole canonical request`);
}

async function parameters(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const name = requireOutput(outputs, 'SecureParameterName');
  const functionName = requireOutput(outputs, 'ParameterReaderFunctionName');
  const value = randomBytes(18).toString('base64url');
  const ssm = context.client(SSMClient, 'SSM');
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString', Overwrite: true, Description: `iam-sts lab ${context.runId}` }));
  log(`put ${name} as a SecureString (encrypted with aws/ssm): CloudFormation cannot create SecureStrings, so the exercise does`);
  try {
    const result = await context.client(LambdaClient, 'LAMBDA').send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify({ maxAgeSeconds: 30, forceFetch: true })) }));
    const payload = JSON.parse(Buffer.from(result.Payload ?? []).toString('utf8') || 'null') as { parameter?: { sha256: string }; secret?: { sha256: string; name: string }; errorMessage?: string };
    check(!result.FunctionError, `the reader failed: ${payload?.errorMessage}`);
    check(payload.parameter?.sha256 === fingerprint(value), 'the function read another value than the one put');
    log(`invoked the reader (Powertools SSMProvider, decrypt, maxAge 30 s, forceFetch): fingerprint ${payload.parameter?.sha256} matches; the value never left the function`);
    log('  forceFetch because the value just changed: without it, a warm function returns what it cached for up to 30 s');
    const secretArn = outputs.SecretArn;
    if (secretArn) {
      const { SecretString } = await context.client(SecretsManagerClient, 'SECRETS_MANAGER').send(new GetSecretValueCommand({ SecretId: secretArn }));
      check(payload.secret?.sha256 === fingerprint(SecretString ?? ''), 'the function read another secret value');
      log(`and the Secrets Manager secret (SecretsProvider): fingerprint ${payload.secret?.sha256} matches what GetSecretValue returns`);
    } else {
      log('deploy with -c iam-sts:secret=true to read a Secrets Manager secret too ($0.40/month)');
    }
  } finally {
    await ssm.send(new DeleteParameterCommand({ Name: name }));
    log(`deleted ${name}`);
  }
}

export const steps: readonly ExerciseStep[] = [
  { id: 'assume-role', title: 'AssumeRole and GetCallerIdentity', run: assumeRole },
  { id: 'policies', title: 'customer managed + inline policy, under a permissions boundary', run: policies },
  { id: 'external-id', title: 'a cross-account role that demands sts:ExternalId', run: externalId },
  { id: 'mfa', title: 'a role that demands MFA; GetSessionToken with an MFA code', run: mfa },
  { id: 'decode', title: 'EC2 DryRun, and an encoded authorization failure decoded by STS', run: decode },
  { id: 'simulate', title: 'SimulateCustomPolicy with context keys and a boundary', run: simulate },
  { id: 'credential-chain', title: 'the credential provider chain, link by link', run: credentialChain },
  { id: 'retries', title: 'SDK retry modes, maxAttempts, and backoff with jitter for a raw HTTP call', run: retries },
  { id: 'sigv4', title: 'a raw request signed with SigV4, then presigned as a query string', run: sigv4 },
  { id: 'parameters', title: 'Parameter Store SecureString (and Secrets Manager) read by a Lambda with Powertools', run: parameters },
];
