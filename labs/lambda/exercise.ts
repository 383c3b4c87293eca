import {
  GetAliasCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import type { Message } from '@aws-sdk/client-sqs';
import { check, elapsedSeconds as seconds, ExerciseContext, ExerciseStep, defineTiming, requireOutput } from '../support/exercise';
import { deleteMessage, receiveUntil } from '../support/sqs-messages';
import { LAMBDA_LAB } from './constants';

const lambdaOf = (context: ExerciseContext) => context.client(LambdaClient, 'LAMBDA');
const decoder = new TextDecoder();

export const timing = defineTiming(LAMBDA_LAB.exerciseTiming);

interface Greeting {
  message?: string;
  version?: string;
  release?: string;
  runId?: string;
  errorType?: string;
  errorMessage?: string;
}

/** An asynchronous invocation record, as Lambda sends it to a destination. */
interface InvocationRecord {
  requestContext?: { requestId?: string; functionArn?: string; condition?: string; approximateInvokeCount?: number };
  requestPayload?: { runId?: string };
  responsePayload?: Greeting;
}

async function invoke(context: ExerciseContext, functionName: string, payload: object, invocationType: 'RequestResponse' | 'Event' = 'RequestResponse') {
  const response = await lambdaOf(context).send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: invocationType,
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = response.Payload && response.Payload.length > 0 ? decoder.decode(response.Payload) : '';
  return { response, body: (text ? JSON.parse(text) : {}) as Greeting };
}

/** Long-polls a queue until a message of this invocation arrives (deleting it) or `timeoutSeconds` pass. */
async function receiveOurs(context: ExerciseContext, queueUrl: string, id: string, timeoutSeconds: number): Promise<Message | undefined> {
  const match = await receiveUntil(context, queueUrl, (m) => m.Body?.includes(`"runId":"${id}"`) ?? false, timeoutSeconds);
  if (match) await deleteMessage(context, queueUrl, match);
  return match;
}

async function configuration(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const functionName = requireOutput(outputs, 'FunctionName');
  const config = await lambdaOf(context).send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
  log(
    `runtime ${config.Runtime}, ${config.Architectures?.join(',')}, memory ${config.MemorySize} MB, timeout ${config.Timeout} s, ` +
      `tracing ${config.TracingConfig?.Mode}, /tmp ${config.EphemeralStorage?.Size} MB`,
  );
  check(config.Runtime === 'nodejs24.x', `expected the nodejs24.x runtime, found ${config.Runtime}`);
  check(config.Architectures?.[0] === 'arm64', `expected arm64, found ${config.Architectures?.join(',')}`);
  check(config.TracingConfig?.Mode === 'Active', `X-Ray active tracing is ${config.TracingConfig?.Mode}, expected Active`);
  check(config.Timeout !== undefined && config.Timeout !== 3, 'the function still has the 3 s default timeout');
  check(Boolean(config.DeadLetterConfig?.TargetArn), 'the function has no dead-letter queue');
  const env = config.Environment?.Variables ?? {};
  check(env.RELEASE === requireOutput(outputs, 'Release'), `$LATEST has RELEASE=${env.RELEASE}, the stack says ${outputs.Release}`);
  log(`environment: RELEASE=${env.RELEASE}, GREETING="${env.GREETING}", POWERTOOLS_SERVICE_NAME=${env.POWERTOOLS_SERVICE_NAME}`);
  log(`dead-letter queue: ${config.DeadLetterConfig?.TargetArn}`);

  const { ReservedConcurrentExecutions } = await lambdaOf(context).send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }));
  log(
    ReservedConcurrentExecutions === undefined
      ? 'no reserved concurrency (deployed with -c lambda:reserved-concurrency=none): the function shares the account pool'
      : `reserved concurrency ${ReservedConcurrentExecutions}: at most ${ReservedConcurrentExecutions} concurrent executions, always available to it`,
  );

  const invokeConfig = await lambdaOf(context).send(
    new GetFunctionEventInvokeConfigCommand({ FunctionName: functionName, Qualifier: requireOutput(outputs, 'AliasName') }),
  );
  log(
    `alias ${outputs.AliasName}: async retries ${invokeConfig.MaximumRetryAttempts}, max event age ` +
      `${invokeConfig.MaximumEventAgeInSeconds} s, on success → ${invokeConfig.DestinationConfig?.OnSuccess?.Destination}, ` +
      `on failure → ${invokeConfig.DestinationConfig?.OnFailure?.Destination}`,
  );
  check(invokeConfig.MaximumRetryAttempts === 2, `expected 2 retry attempts on the alias, found ${invokeConfig.MaximumRetryAttempts}`);
  check(Boolean(invokeConfig.DestinationConfig?.OnFailure?.Destination), 'the alias has no on-failure destination');
}

async function synchronous(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const aliasArn = requireOutput(outputs, 'AliasArn');
  const { response, body } = await invoke(context, aliasArn, { name: 'learner', runId: context.runId });
  log(`RequestResponse → status ${response.StatusCode}, ExecutedVersion ${response.ExecutedVersion}: ${JSON.stringify(body)}`);
  check(response.StatusCode === 200 && !response.FunctionError, `the invocation failed: ${JSON.stringify(body)}`);
  check(body.message?.includes('learner') === true && body.runId === context.runId, `unexpected response ${JSON.stringify(body)}`);
  check(
    response.ExecutedVersion === body.version && /^\d+$/.test(body.version ?? ''),
    `the alias should run a published version; ExecutedVersion ${response.ExecutedVersion}, handler saw ${body.version}`,
  );

  const bad = await invoke(context, aliasArn, { name: 42, runId: context.runId });
  log(`a bad event → status ${bad.response.StatusCode}, FunctionError ${bad.response.FunctionError}: ${bad.body.errorType}: ${bad.body.errorMessage}`);
  check(
    bad.response.FunctionError === 'Unhandled' && bad.body.errorType === 'InvalidGreetingEvent',
    `expected an InvalidGreetingEvent function error, got ${JSON.stringify(bad.body)}`,
  );
  log('a synchronous caller gets the error at once (HTTP 200 with FunctionError set); Lambda never retries it');
}

async function asynchronous(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const queueUrl = requireOutput(outputs, 'OnSuccessQueueUrl');
  const id = `${context.runId}-ok`;
  const started = Date.now();
  const { response } = await invoke(context, requireOutput(outputs, 'AliasArn'), { name: 'async learner', runId: id }, 'Event');
  check(response.StatusCode === 202, `InvocationType=Event should return 202, got ${response.StatusCode}`);
  log('InvocationType=Event → 202 Accepted, no payload: Lambda queued the event and answered at once');

  const { onSuccessDeadlineSeconds } = await context.use(timing);
  const message = await receiveOurs(context, queueUrl, id, onSuccessDeadlineSeconds);
  check(message !== undefined, `no on-success record of this run arrived within ${onSuccessDeadlineSeconds} s`);
  const record = JSON.parse(message.Body ?? '{}') as InvocationRecord;
  log(
    `after ${seconds(started)} s the on-success destination got a record: condition ${record.requestContext?.condition}, ` +
      `attempts ${record.requestContext?.approximateInvokeCount}, response ${JSON.stringify(record.responsePayload)}`,
  );
  check(record.requestContext?.condition === 'Success', `expected condition Success, got ${record.requestContext?.condition}`);
  check(record.responsePayload?.runId === id, 'the record does not carry the function\'s response');
  check(
    record.requestContext?.functionArn?.endsWith(`:${outputs.AliasName}`) === true,
    `the record names ${record.requestContext?.functionArn}, not the alias`,
  );
}

async function asynchronousFailure(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const id = `${context.runId}-fail`;
  const { retryDelaysSeconds, slackSeconds, deadLetterDeadlineSeconds } = await context.use(timing);
  const [first, second] = retryDelaysSeconds;
  const expected = first + second;
  const started = Date.now();
  const { response } = await invoke(context, requireOutput(outputs, 'AliasArn'), { fail: true, runId: id }, 'Event');
  check(response.StatusCode === 202, `InvocationType=Event should return 202, got ${response.StatusCode}`);
  log(`queued an event that fails every attempt; Lambda retries it twice, ${first} s then ${second} s apart: expect records after ~${expected} s`);

  const failure = await receiveOurs(context, requireOutput(outputs, 'OnFailureQueueUrl'), id, expected + slackSeconds);
  check(failure !== undefined, `no on-failure record of this run arrived within ${expected + slackSeconds} s`);
  const record = JSON.parse(failure.Body ?? '{}') as InvocationRecord;
  log(
    `after ${seconds(started)} s the on-failure destination got an invocation record: condition ${record.requestContext?.condition}, ` +
      `attempts ${record.requestContext?.approximateInvokeCount}, error ${record.responsePayload?.errorType}: ${record.responsePayload?.errorMessage}`,
  );
  check(record.requestContext?.condition === 'RetriesExhausted', `expected RetriesExhausted, got ${record.requestContext?.condition}`);
  check(record.requestContext?.approximateInvokeCount === 3, `expected 3 attempts (1 + 2 retries), got ${record.requestContext?.approximateInvokeCount}`);
  check(record.responsePayload?.errorType === 'DeliberateFailure', `expected DeliberateFailure, got ${record.responsePayload?.errorType}`);

  const dead = await receiveOurs(context, requireOutput(outputs, 'DeadLetterQueueUrl'), id, deadLetterDeadlineSeconds);
  check(dead !== undefined, `the failed event is not in the dead-letter queue within ${deadLetterDeadlineSeconds} s`);
  const attributes = dead.MessageAttributes ?? {};
  log(
    `the dead-letter queue got the bare event ${dead.Body} with attributes RequestID=${attributes.RequestID?.StringValue}, ` +
      `ErrorCode=${attributes.ErrorCode?.StringValue}, ErrorMessage="${attributes.ErrorMessage?.StringValue}"`,
  );
  check(
    attributes.RequestID?.StringValue === record.requestContext?.requestId,
    'the DLQ message and the on-failure record should name the same request id',
  );
  check(JSON.parse(dead.Body ?? '{}').fail === true, 'the DLQ message body should be the original event');
  log('same failure, two shapes: the destination gets a record with the error and the attempt count; the DLQ only the event');
}

async function aliasRouting(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const alias = await lambdaOf(context).send(
    new GetAliasCommand({ FunctionName: requireOutput(outputs, 'FunctionName'), Name: requireOutput(outputs, 'AliasName') }),
  );
  const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
  const primary = alias.FunctionVersion ?? '?';
  log(`alias ${alias.Name} → version ${primary}${Object.entries(weights).map(([v, w]) => `, version ${v} at ${w * 100} %`).join('')}`);

  const invocations = 50;
  const counts: Record<string, number> = {};
  for (let batch = 0; batch < invocations / 5; batch += 1) {
    // Five at a time: within the function's reserved concurrency of 5.
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => invoke(context, requireOutput(outputs, 'AliasArn'), { name: `call-${batch * 5 + i}`, runId: context.runId })),
    );
    for (const { response, body } of results) {
      check(!response.FunctionError, `an invocation failed: ${JSON.stringify(body)}`);
      const version = response.ExecutedVersion ?? '?';
      counts[version] = (counts[version] ?? 0) + 1;
    }
  }
  log(`${invocations} synchronous invocations of the alias, by the version that ran: ${JSON.stringify(counts)}`);
  const allowed = new Set([primary, ...Object.keys(weights)]);
  const strays = Object.keys(counts).filter((v) => !allowed.has(v));
  check(strays.length === 0, `versions outside the alias's routing answered: ${strays.join(', ')}`);
  check((counts[primary] ?? 0) > 0, `the alias's primary version ${primary} never answered`);
  if (Object.keys(weights).length === 0) {
    log('one version behind the alias, so it answered every call. Deploy release 2 to split the alias:');
    log('  npx cdk deploy LambdaLab -c lambda:release=2   then run this step again');
    return;
  }
  for (const [version, weight] of Object.entries(weights)) {
    // With 50 calls and a 20 % weight, the chance that a working canary never answers is 0.8^50 ≈ 0.00001.
    check((counts[version] ?? 0) > 0, `version ${version} (weight ${weight}) never answered in ${invocations} calls`);
    log(`version ${version} answered ${counts[version]} of ${invocations} (${weight * 100} % expected on average): routing is random per invocation`);
  }
}

export const steps: readonly ExerciseStep[] = [
  { id: 'configuration', title: 'runtime, architecture, timeout, tracing, concurrency, environment, async settings', run: configuration },
  { id: 'sync', title: 'invoke the alias synchronously: a result, then an error returned to the caller', run: synchronous },
  { id: 'async', title: 'invoke asynchronously (InvocationType=Event): the on-success destination gets a record', run: asynchronous },
  { id: 'async-failure', title: 'a failing asynchronous event: 2 retries, then the on-failure destination and the DLQ', run: asynchronousFailure },
  { id: 'alias', title: 'invoke the alias 50 times and count which version answered', run: aliasRouting },
];
