import { Template } from 'aws-cdk-lib/assertions';
import { lambdaLab } from '../../../labs/lambda/lab';
import { withStack } from '../../../labs/support/app';
import { steps, timing } from '../../../labs/lambda/exercise';
import { LambdaLabStack } from '../../../labs/lambda/stack';
import { RELEASE_CONTEXT } from '../../../labs/lambda/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalFunction, LocalLambda, startLocalLambda } from '../../support/local-lambda';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { testApp } from '../../support/synth';

jest.setTimeout(30_000);
// Powertools Metrics reads this when the handler module loads: no metric lines on the test output.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const handler: LocalFunction['handler'] = async (event, context) =>
  (await import('../../../lambda/versioned-greeter')).handler(event, context);

const lab = withStack(lambdaLab, LambdaLabStack);
const templateFor = (release: number) => {
  const app = testApp({ [RELEASE_CONTEXT]: release }, { builtinCloudFormationValidation: false });
  return Template.fromStack(new lab.stack(app, { lab }));
};

type Resource = { Type: string; Properties: Record<string, unknown> };
const refId = (value: unknown) => ((value as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt'] ?? [])[0];

/**
 * What the lab's template deploys, on the local stand-ins: queues on fauxqs, the function behind its alias on the
 * local Lambda. Version numbers follow the releases (release n is version n), as on a fresh function.
 */
async function deployLocally(template: Template, sqs: LocalSqs, overrides: Partial<LocalFunction> = {}) {
  const { queues, outputs: queueOutputs } = await deployQueuesLocally(template, sqs.client);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const [, fn] = of('AWS::Lambda::Function')[0];
  const versionNumber = Object.fromEntries(
    of('AWS::Lambda::Version').map(([id, v]) => [id, String(v.Properties.Description).replace('release ', '')]),
  );
  const [, alias] = of('AWS::Lambda::Alias')[0];
  const [, invokeConfig] = of('AWS::Lambda::EventInvokeConfig')[0];
  const destinations = invokeConfig.Properties.DestinationConfig as Record<string, { Destination: unknown }>;
  const routing = (alias.Properties.RoutingConfig as { AdditionalVersionWeights: { FunctionVersion: unknown; FunctionWeight: number }[] } | undefined)
    ?.AdditionalVersionWeights;
  const environment = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
  const functionName = 'LambdaLab-Greeter';
  const local: LocalFunction = {
    functionName,
    handler: (event, context) => handler(event, context),
    versions: Object.fromEntries(
      Object.values(versionNumber).map((n) => [n, { ...environment, RELEASE: n, GREETING: `Hello from release ${n}` }]),
    ),
    alias: {
      name: String(alias.Properties.Name),
      functionVersion: versionNumber[refId(alias.Properties.FunctionVersion)],
      additionalVersionWeights: routing && Object.fromEntries(routing.map((w) => [versionNumber[refId(w.FunctionVersion)], w.FunctionWeight])),
    },
    asyncConfig: {
      retryAttempts: Number(invokeConfig.Properties.MaximumRetryAttempts),
      maximumEventAgeSeconds: Number(invokeConfig.Properties.MaximumEventAgeInSeconds),
      onSuccessQueueUrl: queues[refId(destinations.OnSuccess.Destination)].url,
      onFailureQueueUrl: queues[refId(destinations.OnFailure.Destination)].url,
    },
    deadLetterQueueUrl: queues[refId((fn.Properties.DeadLetterConfig as { TargetArn: unknown }).TargetArn)].url,
    configuration: {
      Runtime: fn.Properties.Runtime as never,
      Architectures: fn.Properties.Architectures as never,
      MemorySize: fn.Properties.MemorySize as number,
      Timeout: fn.Properties.Timeout as number,
      TracingConfig: fn.Properties.TracingConfig as never,
      DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' },
      Environment: { Variables: environment },
      EphemeralStorage: { Size: 512 },
    },
    reservedConcurrency: fn.Properties.ReservedConcurrentExecutions as number | undefined,
    ...overrides,
  };
  const lambda = startLocalLambda(local, sqs.client);
  const cfnOutputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  const outputs: Record<string, string> = {
    ...queueOutputs,
    FunctionName: functionName,
    AliasName: local.alias.name,
    AliasArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}:${local.alias.name}`,
    Release: String(cfnOutputs.Release.Value),
  };
  return { lambda, outputs };
}

let sqs: LocalSqs;
const lines: string[] = [];
// The local stand-in retries within milliseconds instead of Lambda's 1 and 2 minutes.
const contextOf = (outputs: Record<string, string>): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  provide: [provide(timing, { retryDelaysSeconds: [1, 1], slackSeconds: 10 })],
});

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(() => sqs.stop());
beforeEach(() => (lines.length = 0));

describe('release 1 on the local stand-ins', () => {
  let deployed: { lambda: LocalLambda; outputs: Record<string, string> };
  beforeAll(async () => (deployed = await deployLocally(templateFor(1), sqs)));
  afterAll(() => deployed.lambda.stop());

  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runExercise([step], contextOf(deployed.outputs));
    expect(lines.length).toBeGreaterThan(1);
  });

  test('the failing asynchronous event ran three times before it reached the destination and the DLQ', async () => {
    await deployed.lambda.settled();
    const attempts = deployed.lambda.invocations.filter((i) => (i.event as { fail?: boolean }).fail).map((i) => i.attempt);
    expect(attempts).toEqual([1, 2, 3]);
  });

  test('the alias step sees one version answer every call, and says how to deploy release 2', async () => {
    await runExercise(steps.filter((s) => s.id === 'alias'), contextOf(deployed.outputs));
    expect(lines).toContain('50 synchronous invocations of the alias, by the version that ran: {"1":50}');
    expect(lines).toContain('  npx cdk deploy LambdaLab -c lambda:release=2   then run this step again');
  });
});

describe('release 2: the alias splits invocations between versions 1 and 2', () => {
  let deployed: { lambda: LocalLambda; outputs: Record<string, string> };
  beforeAll(async () => (deployed = await deployLocally(templateFor(2), sqs)));
  afterAll(() => deployed.lambda.stop());

  test('the alias step counts both versions', async () => {
    await runExercise(steps.filter((s) => s.id === 'alias'), contextOf(deployed.outputs));
    const counts = JSON.parse(lines.find((l) => l.startsWith('50 synchronous'))!.split(': ')[1]) as Record<string, number>;
    expect(Object.keys(counts).sort()).toEqual(['1', '2']);
    expect(counts['1'] + counts['2']).toBe(50);
  });
});

describe('the exercise fails when the deployed lab misbehaves', () => {
  const failureOf = async (step: string, overrides: Partial<LocalFunction>, release = 1) => {
    const deployed = await deployLocally(templateFor(release), sqs, overrides);
    try {
      const error = await runExercise(steps.filter((s) => s.id === step), contextOf(deployed.outputs)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ExerciseCheckFailed);
      return (error as Error).message;
    } finally {
      await deployed.lambda.settled();
      deployed.lambda.stop();
    }
  };

  test('async-failure: an alias without retries is caught by the attempt count of the failure record', async () => {
    const template = templateFor(1);
    const { lambda, outputs } = await deployLocally(template, sqs);
    lambda.stop();
    const message = await failureOf('async-failure', {
      asyncConfig: {
        retryAttempts: 0,
        maximumEventAgeSeconds: 3600,
        onSuccessQueueUrl: outputs.OnSuccessQueueUrl,
        onFailureQueueUrl: outputs.OnFailureQueueUrl,
      },
    });
    expect(message).toBe('expected 3 attempts (1 + 2 retries), got 1');
  });

  test('alias: a canary that never answers is caught', async () => {
    const message = await failureOf('alias', { random: () => 0.99 }, 2);
    expect(message).toBe('version 2 (weight 0.2) never answered in 50 calls');
  });

  test('configuration: the 3 s default timeout is caught', async () => {
    const message = await failureOf('configuration', {
      configuration: { Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 3, TracingConfig: { Mode: 'Active' } },
    });
    expect(message).toBe('the function still has the 3 s default timeout');
  });
});
