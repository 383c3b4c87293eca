import { KMSClient } from '@aws-sdk/client-kms';
import { createHandler } from '../../../lambda/envelope-encryption';
import { kmsLab } from '../../../labs/kms/lab';
import { KmsLabStack } from '../../../labs/kms/stack';
import { withStack } from '../../../labs/support/app';
import { steps } from '../../../labs/kms/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, runExercise } from '../../../labs/support/exercise';
import { LocalAws, startLocalAws } from '../../support/local-aws';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { LocalKms } from '../../support/local-kms';
import { labTemplate } from '../../support/synth';

const lab = withStack(kmsLab, KmsLabStack);
const template = labTemplate(lab);

let aws: LocalAws;
let kms: LocalKms;
let deployed: LocallyDeployedStack;
const lines: string[] = [];
const context = (outputs = deployed.outputs): ExerciseRunOptions => ({ outputs, log: (line) => lines.push(line) });

beforeAll(async () => {
  aws = await startLocalAws();
  aws.useFromEnv();
  kms = new LocalKms(aws);
  deployed = deployStackLocally(template, aws, {
    kms,
    stackName: lab.stackName,
    functions: {
      EnvelopeFunction: (credentials, environment) =>
        createHandler(new KMSClient({ endpoint: aws.endpoint, region: 'us-east-1', credentials }), environment),
    },
  });
});
afterAll(() => aws.stop());
beforeEach(() => (lines.length = 0));

describe('against the lab\'s key policy and function on a local KMS that really encrypts', () => {
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runExercise([step], context());
    expect(lines.length).toBeGreaterThan(1);
  });

  test('no plaintext data key handed out by KMS appears in any request the exercise or the function sent', () => {
    expect(kms.plaintextDataKeys.length).toBeGreaterThan(3);
    const sent = aws.requests.map((r) => r.body).join('\n');
    for (const key of kms.plaintextDataKeys) expect(sent).not.toContain(key);
  });

  test('the function was invoked and called KMS as its own role', () => {
    const functionCalls = aws.requests.filter((r) => r.service === 'kms' && r.caller.includes('assumed-role/EnvelopeFunction'));
    expect(functionCalls.map((r) => r.operation)).toEqual(expect.arrayContaining(['GenerateDataKey', 'Decrypt']));
  });
});

test('the separation step fails when the key policy lets the administrator encrypt', async () => {
  const loose = deployStackLocally(template, aws, { kms, stackName: 'LooseKeyPolicy' });
  const statements = kms.find(loose.outputs.KeyArn).policy.Statement as { Sid?: string; Principal?: { AWS?: unknown } }[];
  statements.find((s) => s.Sid === 'KeyUsersUseButCannotManage')!.Principal!.AWS = [loose.outputs.KeyAdminRoleArn, loose.outputs.KeyUserRoleArn];
  const failure = await runExercise([steps.find((s) => s.id === 'separation')!], context(loose.outputs)).catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  expect((failure as Error).message).toBe('Encrypt as the key administrator succeeded, but it should have been refused');
});
