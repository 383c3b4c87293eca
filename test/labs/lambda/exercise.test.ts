import { LambdaClient } from '@aws-sdk/client-lambda';
import { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { lambdaLab } from '../../../labs/lambda/lab';
import { steps, timing } from '../../../labs/lambda/exercise';
import { RELEASE_CONTEXT } from '../../../labs/lambda/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalFunction, LocalLambda, startLocalLambda } from '../../support/local-lambda';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/lab-template';

jest.setTimeout(30_000);
// Powertools Metrics reads this when the handler module loads: no metric lines on the test output.
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const handler: LocalFunction['handler'] = async (event, context) =>
  (await import('../../../lambda/versioned-greeter')).handler(event, context);

const templateFor = (release: number) => labTemplate(lambdaLab, { context: { [RELEASE_CONTEXT]: release } });

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
const contextOf = (outputs: Record<string, string>, runId?: string): ExerciseRunOptions => ({
  outputs,
  runId,
  log: (line) => lines.push(line),
  provide: [provide(timing, { retryDelaysSeconds: [1, 1], slackSeconds: 10, onSuccessDeadlineSeconds: 10, deadLetterDeadlineSeconds: 10 })],
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

  /** What the learner reads for each step of run `run-t` (times and request ids vary). */
  const transcripts: Record<string, (string | ReturnType<typeof expect.stringMatching>)[]> = {
    configuration: [
      '\n== 1/1 configuration: runtime, architecture, timeout, tracing, concurrency, environment, async settings',
      'runtime nodejs24.x, arm64, memory 256 MB, timeout 5 s, tracing Active, /tmp 512 MB',
      'environment: RELEASE=1, GREETING="Hello from release 1", POWERTOOLS_SERVICE_NAME=greeter',
      'dead-letter queue: arn:aws:sqs:us-east-1:123456789012:dlq',
      'reserved concurrency 5: at most 5 concurrent executions, always available to it',
      'alias live: async retries 2, max event age 3600 s, on success → arn:aws:sqs:us-east-1:123456789012:OnSuccessQueueDB3FE45D, on failure → arn:aws:sqs:us-east-1:123456789012:OnFailureQueueB6C8C738',
    ],
    sync: [
      '\n== 1/1 sync: invoke the alias synchronously: a result, then an error returned to the caller',
      'RequestResponse → status 200, ExecutedVersion 1: {"message":"Hello from release 1, learner!","version":"1","release":"1","runId":"run-t"}',
      'a bad event → status 200, FunctionError Unhandled: InvalidGreetingEvent: name must be a string of 1–100 characters',
      'a synchronous caller gets the error at once (HTTP 200 with FunctionError set); Lambda never retries it',
    ],
    async: [
      '\n== 1/1 async: invoke asynchronously (InvocationType=Event): the on-success destination gets a record',
      'InvocationType=Event → 202 Accepted, no payload: Lambda queued the event and answered at once',
      expect.stringMatching(/^after \d+\.\d s the on-success destination got a record: condition Success, attempts 1, response \{"message":"Hello from release 1, async learner!","version":"1","release":"1","runId":"run-t-ok"\}$/),
    ],
    'async-failure': [
      '\n== 1/1 async-failure: a failing asynchronous event: 2 retries, then the on-failure destination and the DLQ',
      'queued an event that fails every attempt; Lambda retries it twice, 1 s then 1 s apart: expect records after ~2 s',
      expect.stringMatching(/^after \d+\.\d s the on-failure destination got an invocation record: condition RetriesExhausted, attempts 3, error DeliberateFailure: failing on purpose \(runId run-t-fail\)$/),
      expect.stringMatching(/^the dead-letter queue got the bare event \{"fail":true,"runId":"run-t-fail"\} with attributes RequestID=[0-9a-f-]{36}, ErrorCode=200, ErrorMessage="failing on purpose \(runId run-t-fail\)"$/),
      'same failure, two shapes: the destination gets a record with the error and the attempt count; the DLQ only the event',
    ],
    alias: [
      '\n== 1/1 alias: invoke the alias 50 times and count which version answered',
      'alias live → version 1',
      '50 synchronous invocations of the alias, by the version that ran: {"1":50}',
      'one version behind the alias, so it answered every call. Deploy release 2 to split the alias:',
      '  npx cdk deploy LambdaLab -c lambda:release=2   then run this step again',
    ],
  };
  test.each(steps.map((s) => [s.id, s] as const))('step %s passes its own checks and prints what it saw', async (id, step) => {
    await runExercise([step], contextOf(deployed.outputs, 'run-t'));
    expect(lines).toEqual(transcripts[id]);
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
    expect(lines).toEqual([
      '\n== 1/1 alias: invoke the alias 50 times and count which version answered',
      'alias live → version 1, version 2 at 20 %',
      `50 synchronous invocations of the alias, by the version that ran: ${JSON.stringify(counts)}`,
      `version 2 answered ${counts['2']} of 50 (20 % expected on average): routing is random per invocation`,
    ]);
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

  describe('one fact of release 1 changed at a time', () => {
    // One template for all of them: each test changes the stand-in, not the stack.
    const release1 = templateFor(1);
    const configuration = { Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 5, TracingConfig: { Mode: 'Active' }, DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:123456789012:dlq' }, Environment: { Variables: { RELEASE: '1' } } };
    /** The step against release 1 with `overrides` on the stand-in, and `alter` installed over it (then removed). */
    const failureWith = async (
      step: string,
      overrides: (deployed: { outputs: Record<string, string> }) => Partial<LocalFunction>,
      alter?: (outputs: Record<string, string>) => void,
    ) => {
      const probe = await deployLocally(release1, sqs);
      probe.lambda.stop();
      const deployed = await deployLocally(release1, sqs, overrides(probe));
      alter?.(deployed.outputs);
      try {
        // No slack after the (shortened) retries and 1 s deadlines: a record that is not there fails at once.
        const shortWaits = { retryDelaysSeconds: [1, 1], slackSeconds: 0, onSuccessDeadlineSeconds: 1, deadLetterDeadlineSeconds: 1 };
        const options = { ...contextOf(deployed.outputs), provide: [provide(timing, shortWaits)] };
        const error = await runExercise(steps.filter((s) => s.id === step), options).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ExerciseCheckFailed);
        return (error as Error).message;
      } finally {
        jest.restoreAllMocks();
        await deployed.lambda.settled();
        deployed.lambda.stop();
      }
    };
    type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
    /** Answers each call of `client`'s class (the stand-in, or fauxqs) as `change` says, given a way to make the call. */
    function answer<C extends { send: (...args: never[]) => unknown }>(client: { prototype: C }, change: (command: AnyCommand, send: () => Promise<Record<string, unknown>>) => Promise<unknown>) {
      const send = client.prototype.send as unknown as (...args: unknown[]) => Promise<Record<string, unknown>>;
      jest.spyOn(client.prototype, 'send' as never).mockImplementation(function (this: C, command: AnyCommand, ...rest: unknown[]) {
        return change(command, () => send.call(this, command, ...rest));
      } as never);
    }
    const is = (command: AnyCommand, name: string) => command.constructor.name === `${name}Command`;
    /** fauxqs, except that the records received from the queue of `output` pass through `edit`. */
    const recordsFrom = (output: string, edit: (record: Record<string, Record<string, unknown>>) => object) => (outputs: Record<string, string>) =>
      answer(SQSClient, async (command, send) => {
        const result = await send();
        if (!is(command, 'ReceiveMessage') || command.input.QueueUrl !== outputs[output]) return result;
        const messages = (result.Messages ?? []) as Message[];
        return { ...result, Messages: messages.map((m) => ({ ...m, Body: JSON.stringify(edit(JSON.parse(m.Body ?? '{}'))) })) };
      });
    const accepted = (status: number) => () =>
      answer(LambdaClient, async (command, send) => (is(command, 'Invoke') && command.input.InvocationType === 'Event' ? { ...(await send()), StatusCode: status } : send()));
    const aliasRead = (alias: object) => () => answer(LambdaClient, async (command, send) => (is(command, 'GetAlias') ? { ...(await send()), ...alias } : send()));
    const withConfiguration = (changes: object) => () => ({ configuration: { ...configuration, ...changes } as never });
    const asyncConfig = (outputs: Record<string, string>, changes: object) => ({
      asyncConfig: { retryAttempts: 2, maximumEventAgeSeconds: 3600, onSuccessQueueUrl: outputs.OnSuccessQueueUrl, onFailureQueueUrl: outputs.OnFailureQueueUrl, ...changes },
    });
    const greeter = (change: (event: { name?: unknown }, answer: () => Promise<Record<string, unknown>>) => Promise<unknown>) => () => ({
      handler: ((event: { name?: unknown }, context: never) => change(event, async () => (await handler(event, context)) as Record<string, unknown>)) as LocalFunction['handler'],
    });

    test.each<[string, string, (deployed: { outputs: Record<string, string> }) => Partial<LocalFunction>, string]>([
      ['configuration', 'another runtime', withConfiguration({ Runtime: 'nodejs22.x' }), 'expected the nodejs24.x runtime, found nodejs22.x'],
      ['configuration', 'x86_64', withConfiguration({ Architectures: ['x86_64'] }), 'expected arm64, found x86_64'],
      ['configuration', 'tracing passed through', withConfiguration({ TracingConfig: { Mode: 'PassThrough' } }), 'X-Ray active tracing is PassThrough, expected Active'],
      ['configuration', 'no dead-letter queue', withConfiguration({ DeadLetterConfig: undefined }), 'the function has no dead-letter queue'],
      ['configuration', '$LATEST of another release', withConfiguration({ Environment: { Variables: { RELEASE: '2' } } }), '$LATEST has RELEASE=2, the stack says 1'],
      ['configuration', 'no retries on the alias', ({ outputs }) => ({ ...withConfiguration({})(), ...asyncConfig(outputs, { retryAttempts: 0 }) }), 'expected 2 retry attempts on the alias, found 0'],
      ['configuration', 'no on-failure destination', ({ outputs }) => ({ ...withConfiguration({})(), ...asyncConfig(outputs, { onFailureQueueUrl: undefined }) }), 'the alias has no on-failure destination'],
      ['sync', 'a greeter that fails', greeter(async () => { throw new Error('boom'); }), 'the invocation failed: {"errorType":"Error","errorMessage":"boom"'],
      ['sync', 'a greeting for someone else', greeter(async (_event, answer) => ({ ...(await answer()), message: 'Hello, someone!' })), 'unexpected response {"message":"Hello, someone!"'],
      ['sync', 'a handler that reports another version than Lambda ran', greeter(async (_event, answer) => ({ ...(await answer()), version: '7' })), 'the alias should run a published version; ExecutedVersion 1, handler saw 7'],
      ['sync', 'a greeter that accepts a name that is not text', greeter(async (event, answer) => (typeof event.name === 'string' ? answer() : { message: 'Hello, 42!' })), 'expected an InvalidGreetingEvent function error, got {"message":"Hello, 42!"}'],
    ])('%s: %s is caught', async (step, _name, overrides, message) => {
      expect(await failureWith(step, overrides)).toContain(message);
    });

    const asDeployed = () => ({});
    test.each<[string, string, (outputs: Record<string, string>) => void, string]>([
      ['async', 'an event invocation answered 200', accepted(200), 'InvocationType=Event should return 202, got 200'],
      ['async', 'no on-success record', recordsFrom('OnSuccessQueueUrl', () => ({})), 'no on-success record of this run arrived within 1 s'],
      ['async', 'a record of a failure', recordsFrom('OnSuccessQueueUrl', (r) => ({ ...r, requestContext: { ...r.requestContext, condition: 'RetriesExhausted' } })), 'expected condition Success, got RetriesExhausted'],
      ['async', "a record without the function's response", recordsFrom('OnSuccessQueueUrl', (r) => ({ ...r, responsePayload: { ...r.responsePayload, runId: 'another' } })), "the record does not carry the function's response"],
      ['async', 'a record of $LATEST', recordsFrom('OnSuccessQueueUrl', (r) => ({ ...r, requestContext: { ...r.requestContext, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:LambdaLab-Greeter:$LATEST' } })), 'the record names arn:aws:lambda:us-east-1:123456789012:function:LambdaLab-Greeter:$LATEST, not the alias'],
      ['async-failure', 'an event invocation answered 200', accepted(200), 'InvocationType=Event should return 202, got 200'],
      ['async-failure', 'no on-failure record', recordsFrom('OnFailureQueueUrl', () => ({})), 'no on-failure record of this run arrived within 2 s'],
      ['async-failure', 'a record of a success', recordsFrom('OnFailureQueueUrl', (r) => ({ ...r, requestContext: { ...r.requestContext, condition: 'Success' } })), 'expected RetriesExhausted, got Success'],
      ['async-failure', 'a record of another error', recordsFrom('OnFailureQueueUrl', (r) => ({ ...r, responsePayload: { ...r.responsePayload, errorType: 'Runtime.ExitError' } })), 'expected DeliberateFailure, got Runtime.ExitError'],
      ['async-failure', 'no dead letter', recordsFrom('DeadLetterQueueUrl', () => ({})), 'the failed event is not in the dead-letter queue within 1 s'],
      ['async-failure', 'a dead letter of another request', recordsFrom('OnFailureQueueUrl', (r) => ({ ...r, requestContext: { ...r.requestContext, requestId: 'another-request' } })), 'the DLQ message and the on-failure record should name the same request id'],
      ['alias', 'an alias that names another version than the one answering', aliasRead({ FunctionVersion: '2' }), "versions outside the alias's routing answered: 1"],
      ['alias', 'a primary version that never answers', aliasRead({ FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: { 1: 0.2 } } }), "the alias's primary version 2 never answered"],
    ])('%s: %s is caught', async (step, _name, alter, message) => {
      expect(await failureWith(step, asDeployed, alter)).toContain(message);
    });

    test('async-failure: a dead letter that is not the original event is caught', async () => {
      const dlqEdit = (outputs: Record<string, string>) =>
        answer(SQSClient, async (command, send) => {
          const result = await send();
          if (!is(command, 'ReceiveMessage') || command.input.QueueUrl !== outputs.DeadLetterQueueUrl) return result;
          return { ...result, Messages: ((result.Messages ?? []) as Message[]).map((m) => ({ ...m, Body: JSON.stringify({ ...JSON.parse(m.Body ?? '{}'), fail: 'no' }) })) };
        });
      expect(await failureWith('async-failure', asDeployed, dlqEdit)).toBe('the DLQ message body should be the original event');
    });

    test('alias: a failing invocation is caught', async () => {
      const message = await failureWith('alias', greeter(async (event, answerOf) => (event.name === 'call-7' ? Promise.reject(new Error('boom')) : answerOf())));
      expect(message).toContain('an invocation failed: {"errorType":"Error","errorMessage":"boom"');
    });
  });

  test('configuration: the 3 s default timeout is caught', async () => {
    const message = await failureOf('configuration', {
      configuration: { Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 3, TracingConfig: { Mode: 'Active' } },
    });
    expect(message).toBe('the function still has the 3 s default timeout');
  });
});
