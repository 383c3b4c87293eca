import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createHandler } from '../../../lambda/parameter-reader';
import { iamStsLab } from '../../../labs/iam-sts/lab';
import { withStack } from '../../../labs/support/app';
import { steps } from '../../../labs/iam-sts/exercise';
import { IamStsLabStack } from '../../../labs/iam-sts/stack';
import { IAM_STS_LAB } from '../../../labs/iam-sts/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, runExercise } from '../../../labs/support/exercise';
import { LocalAws, startLocalAws } from '../../support/local-aws';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { addLocalEc2, addLocalIamSimulator, LocalSecretsManager, LocalSsm } from '../../support/local-iam-tools';
import { Template } from 'aws-cdk-lib/assertions';
import { ALL_FEATURES_CONTEXT } from '../../../labs/support/lab-stack';
import { testApp } from '../../support/synth';

// The retries step waits real backoff delays (up to about 2 s), as it does against AWS.
jest.setTimeout(20_000);

const lab = withStack(iamStsLab, IamStsLabStack);
// All features on: the Secrets Manager secret is read too.
const template = Template.fromStack(new lab.stack(testApp({ [ALL_FEATURES_CONTEXT]: true }, { builtinCloudFormationValidation: false }), { lab }));

let aws: LocalAws;
let ssm: LocalSsm;
let deployed: LocallyDeployedStack;
const lines: string[] = [];
const context = (outputs = deployed.outputs): ExerciseRunOptions => ({ outputs, log: (line) => lines.push(line) });
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
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, s) => {
    await runExercise([s], context());
    expect(lines.length).toBeGreaterThan(1);
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
  expect(lines.join('\n')).toContain('AssumeRole MfaRole from the MFA session → credentials');
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
