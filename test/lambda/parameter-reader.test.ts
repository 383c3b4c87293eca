import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, fingerprint } from '../../lambda/parameter-reader';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalSecretsManager, LocalSsm } from '../support/local-iam-tools';
import { loggedLines } from '../support/logged-lines';

let aws: LocalAws;
let ssm: LocalSsm;
let secrets: LocalSecretsManager;
const clients = () => {
  const config = { endpoint: aws.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  return { ssm: new SSMClient(config), secrets: new SecretsManagerClient(config) };
};
const gets = () => aws.requests.filter((r) => r.operation === 'GetParameter' || r.operation === 'GetSecretValue').length;

beforeAll(async () => {
  aws = await startLocalAws();
  ssm = new LocalSsm(aws);
  secrets = new LocalSecretsManager(aws);
  ssm.put('/app/db-password', 's3cr3t-value', 'SecureString');
  secrets.secrets.set('arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', 'secret-from-secrets-manager');
});
afterAll(() => aws.stop());

test('returns fingerprints of the decrypted SecureString and of the secret, never the values', async () => {
  const handler = createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/db-password', SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf' });
  const response = await handler({});
  expect(response).toEqual({
    parameter: { source: 'ssm-securestring', name: '/app/db-password', sha256: fingerprint('s3cr3t-value'), length: 12 },
    secret: { source: 'secrets-manager', name: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf', sha256: fingerprint('secret-from-secrets-manager'), length: 27 },
  });
  expect(JSON.stringify(response)).not.toContain('s3cr3t');
  const parameterCall = aws.requests.filter((r) => r.operation === 'GetParameter').at(-1)!;
  expect(JSON.parse(parameterCall.body)).toMatchObject({ Name: '/app/db-password', WithDecryption: true });
});

test('caches values for maxAge seconds; forceFetch goes back to SSM', async () => {
  const handler = createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/db-password' });
  const before = gets();
  await handler({ maxAgeSeconds: 60 });
  await handler({ maxAgeSeconds: 60 });
  expect(gets() - before).toBe(1);
  ssm.put('/app/db-password', 'rotated-value', 'SecureString');
  expect((await handler({ maxAgeSeconds: 60 })).parameter.sha256).toBe(fingerprint('s3cr3t-value'));
  expect((await handler({ forceFetch: true })).parameter.sha256).toBe(fingerprint('rotated-value'));
  ssm.put('/app/db-password', 's3cr3t-value', 'SecureString');
});

test('bad configuration and input give clear errors', async () => {
  await expect(createHandler(clients(), {})({})).rejects.toThrow('SECURE_PARAMETER_NAME is not set');
  await expect(createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/db-password' })({ maxAgeSeconds: -1 })).rejects.toThrow('maxAgeSeconds must be a whole number from 0, got -1');
  await expect(createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/missing' })({})).rejects.toThrow();
  await expect(createHandler(clients(), {})({})).rejects.toMatchObject({ name: 'ReaderError' });
});

test('a cache of 0 seconds is allowed: every read goes to SSM', async () => {
  const handler = createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/db-password' });
  const before = gets();
  await handler({ maxAgeSeconds: 0 });
  await handler({ maxAgeSeconds: 0 });
  expect(gets() - before).toBe(2);
});

test('the fingerprint is the first 16 hex digits of the SHA-256', () => {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad (FIPS 180-2, appendix B.1).
  expect(fingerprint('abc')).toBe('ba7816bf8f01cfea');
});

test('a parameter without a value, or a binary secret, is an error naming it', async () => {
  const ssmClient = new SSMClient({ region: 'us-east-1' });
  const secretsClient = new SecretsManagerClient({ region: 'us-east-1' });
  const ssmMock = mockClient(ssmClient);
  const secretsMock = mockClient(secretsClient);
  try {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: '/app/empty', Type: 'SecureString' } });
    await expect(createHandler({ ssm: ssmClient }, { SECURE_PARAMETER_NAME: '/app/empty' })({})).rejects.toThrow(
      'parameter /app/empty has no value: put it first (aws ssm put-parameter --type SecureString ...)',
    );
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: '/app/db-password', Type: 'SecureString', Value: 'v' } });
    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(createHandler({ ssm: ssmClient, secrets: secretsClient }, { SECURE_PARAMETER_NAME: '/app/db-password', SECRET_ARN: 'arn:binary' })({})).rejects.toThrow(
      'secret arn:binary has no string value',
    );
  } finally {
    ssmMock.restore();
    secretsMock.restore();
  }
});

test('logs each read: the names and the cache age, never the values', async () => {
  const { lines, output } = await loggedLines(async () => {
    const reader = await import('../../lambda/parameter-reader');
    const response = await reader.createHandler(clients(), { SECURE_PARAMETER_NAME: '/app/db-password' })({ maxAgeSeconds: 5 });
    expect(response.parameter.sha256).toMatch(/^[0-9a-f]{16}$/);
  });
  expect(lines).toEqual([expect.objectContaining({ level: 'INFO', message: 'read', service: 'parameter-reader', parameter: '/app/db-password', maxAge: 5 })]);
  expect(output).not.toContain('s3cr3t');
});

test('without a Secrets Manager client given, the first secret read creates one (as the deployed handler does)', async () => {
  // The client Powertools creates has the default configuration: the endpoint and credentials come from the environment.
  const environment = { AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
  const saved = Object.fromEntries(Object.keys(environment).map((name) => [name, process.env[name]]));
  Object.assign(process.env, environment);
  try {
    const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf';
    const handler = createHandler({ ssm: clients().ssm }, { SECURE_PARAMETER_NAME: '/app/db-password', SECRET_ARN: secretArn });
    expect((await handler({ forceFetch: true })).secret).toEqual({
      source: 'secrets-manager',
      name: secretArn,
      sha256: fingerprint('secret-from-secrets-manager'),
      length: 27,
    });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
