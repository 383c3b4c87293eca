import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { assumedCredentials, stsOf } from '../../../labs/support/credentials';
import { ExerciseCheckFailed, startExerciseRun } from '../../../labs/support/exercise';

const stsMock = mockClient(STSClient);
const ROLE = 'arn:aws:iam::111122223333:role/Reader';
const EXPIRATION = new Date('2026-01-01T00:15:00Z');
const run = startExerciseRun({ outputs: {}, log: () => undefined });

beforeEach(() => {
  stsMock.reset();
  stsMock.on(AssumeRoleCommand).resolves({
    Credentials: { AccessKeyId: 'AKIA', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: EXPIRATION },
  });
});
afterAll(() => run.close());

test('stsOf is the run\'s shared STS client', () => {
  expect(stsOf(run.context)).toBeInstanceOf(STSClient);
  expect(stsOf(run.context)).toBe(run.context.client(STSClient, 'STS'));
});

test('assumes the role for 15 minutes under the session name, and returns the credentials with their expiry', async () => {
  expect(await assumedCredentials(run.context, ROLE, 'reader-session')).toEqual({
    accessKeyId: 'AKIA',
    secretAccessKey: 'secret',
    sessionToken: 'token',
    expiration: EXPIRATION,
  });
  expect(stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([
    { DurationSeconds: 900, RoleArn: ROLE, RoleSessionName: 'reader-session' },
  ]);
});

test('extra parameters are added or override the duration, but never the role or the session name', async () => {
  await assumedCredentials(run.context, ROLE, 'mfa', { DurationSeconds: 3600, ExternalId: 'ext', RoleArn: 'other', RoleSessionName: 'other' });
  expect(stsMock.commandCalls(AssumeRoleCommand)[0].args[0].input).toEqual({
    DurationSeconds: 3600,
    ExternalId: 'ext',
    RoleArn: ROLE,
    RoleSessionName: 'mfa',
  });
});

test('calls from the client given instead of the caller\'s own', async () => {
  const session = new STSClient({ region: 'eu-west-1' });
  await assumedCredentials(run.context, ROLE, 'from-session', {}, session);
  expect(stsMock.commandCalls(AssumeRoleCommand).map((call) => call.thisValue)).toEqual([session]);
});

test.each([
  ['no credentials', {}],
  ['no access key id', { Credentials: { SecretAccessKey: 'secret' } }],
  ['no secret access key', { Credentials: { AccessKeyId: 'AKIA' } }],
])('fails with the role named when AssumeRole returns %s', async (_, response) => {
  stsMock.on(AssumeRoleCommand).resolves(response as never);
  const failure = assumedCredentials(run.context, ROLE, 'empty');
  await expect(failure).rejects.toThrow(ExerciseCheckFailed);
  await expect(failure).rejects.toThrow(`AssumeRole ${ROLE} returned no credentials`);
});
