import { randomUUID } from 'node:crypto';
import {
  GetAliasCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionConfigurationCommand,
  GetFunctionConfigurationCommandOutput,
  GetFunctionEventInvokeConfigCommand,
  InvokeCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * A stand-in for the Lambda service, for exercises that no local engine covers: it runs a real handler in-process
 * behind an alias with weighted routing, and runs asynchronous invocations the way Lambda documents them
 * (retries, then an invocation record to the on-success/on-failure destination and the bare event to the
 * dead-letter queue), delivering to SQS queues on a local engine. It answers the read calls the exercises make.
 * Retry delays are shortened: the 1 min and 2 min of the real service would make tests slow.
 */
export interface LocalFunction {
  readonly functionName: string;
  readonly handler: (event: unknown, context: Context) => Promise<unknown>;
  /** Environment variables of each published version, by version number; `$LATEST` uses `configuration`'s. */
  readonly versions: Record<string, Record<string, string>>;
  readonly alias: { readonly name: string; readonly functionVersion: string; readonly additionalVersionWeights?: Record<string, number> };
  readonly asyncConfig: {
    readonly retryAttempts: number;
    readonly maximumEventAgeSeconds: number;
    readonly onSuccessQueueUrl?: string;
    readonly onFailureQueueUrl?: string;
  };
  readonly deadLetterQueueUrl?: string;
  /** What GetFunctionConfiguration returns for $LATEST. */
  readonly configuration: Omit<GetFunctionConfigurationCommandOutput, '$metadata'>;
  readonly reservedConcurrency?: number;
  /** Delay before each retry, in ms. @default [5, 5] */
  readonly retryDelaysMs?: readonly number[];
  /** Source of randomness for weighted routing. @default Math.random */
  readonly random?: () => number;
}

export interface LocalLambda {
  /** Every invocation that ran the handler, in order: the version it ran and the attempt number. */
  readonly invocations: { version: string; attempt: number; event: unknown }[];
  /** Resolves when every asynchronous invocation queued so far has finished (records delivered). */
  settled(): Promise<void>;
  stop(): void;
}

const ACCOUNT = '123456789012';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function errorPayload(error: unknown) {
  const e = error as Error;
  return { errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(error), trace: [] as string[] };
}

/** Installs the stand-in on every LambdaClient (through aws-sdk-client-mock) until `stop()`. */
export function startLocalLambda(fn: LocalFunction, sqs: SQSClient): LocalLambda {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const functionArn = `arn:aws:lambda:${region}:${ACCOUNT}:function:${fn.functionName}`;
  const random = fn.random ?? Math.random;
  const delays = fn.retryDelaysMs ?? [5, 5];
  const invocations: LocalLambda['invocations'] = [];
  const pending = new Set<Promise<void>>();
  const mock = mockClient(LambdaClient);

  const qualifierOf = (name: string | undefined, qualifier: string | undefined): string => {
    const fromArn = name?.startsWith('arn:') ? name.split(':')[7] : undefined;
    const resolved = qualifier ?? fromArn ?? '$LATEST';
    const bareName = name?.startsWith('arn:') ? name.split(':')[6] : name;
    if (bareName !== fn.functionName) throw Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' });
    return resolved;
  };
  const pickVersion = (qualifier: string): string => {
    if (qualifier !== fn.alias.name) return qualifier;
    let roll = random();
    for (const [version, weight] of Object.entries(fn.alias.additionalVersionWeights ?? {})) {
      if (roll < weight) return version;
      roll -= weight;
    }
    return fn.alias.functionVersion;
  };
  const run = async (version: string, qualifier: string, event: unknown, requestId: string, attempt: number) => {
    invocations.push({ version, attempt, event });
    const env = version === '$LATEST' ? fn.configuration.Environment?.Variables ?? {} : fn.versions[version];
    if (!env) throw new Error(`version ${version} of ${fn.functionName} does not exist`);
    const context = {
      functionName: fn.functionName,
      functionVersion: version,
      invokedFunctionArn: qualifier === '$LATEST' ? functionArn : `${functionArn}:${qualifier}`,
      awsRequestId: requestId,
      memoryLimitInMB: String(fn.configuration.MemorySize ?? 128),
      getRemainingTimeInMillis: () => (fn.configuration.Timeout ?? 3) * 1000,
    } as unknown as Context;
    // The handler reads its environment before its first await, so concurrent invocations of different versions
    // each see their own variables.
    Object.assign(process.env, env);
    return fn.handler(JSON.parse(JSON.stringify(event)), context);
  };

  const deliverAsync = async (qualifier: string, event: unknown, requestId: string) => {
    const maxAttempts = 1 + fn.asyncConfig.retryAttempts;
    let lastError: unknown;
    let version = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      version = pickVersion(qualifier);
      try {
        const response = await run(version, qualifier, event, requestId, attempt);
        if (fn.asyncConfig.onSuccessQueueUrl) {
          await send(fn.asyncConfig.onSuccessQueueUrl, record('Success', attempt, version, event, requestId, qualifier, response));
        }
        return;
      } catch (error) {
        lastError = error;
        if (attempt < maxAttempts) await new Promise((resolve) => setTimeout(resolve, delays[attempt - 1] ?? 5));
      }
    }
    if (fn.asyncConfig.onFailureQueueUrl) {
      const failure = record('RetriesExhausted', maxAttempts, version, event, requestId, qualifier, errorPayload(lastError), 'Unhandled');
      await send(fn.asyncConfig.onFailureQueueUrl, failure);
    }
    if (fn.deadLetterQueueUrl) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: fn.deadLetterQueueUrl,
          MessageBody: JSON.stringify(event),
          MessageAttributes: {
            RequestID: { DataType: 'String', StringValue: requestId },
            ErrorCode: { DataType: 'Number', StringValue: '200' },
            ErrorMessage: { DataType: 'String', StringValue: errorPayload(lastError).errorMessage },
          },
        }),
      );
    }
  };
  const send = (queueUrl: string, body: object) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
  const record = (
    condition: string,
    attempts: number,
    version: string,
    event: unknown,
    requestId: string,
    qualifier: string,
    responsePayload: unknown,
    functionError?: string,
  ) => ({
    version: '1.0',
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId,
      functionArn: qualifier === '$LATEST' ? `${functionArn}:$LATEST` : `${functionArn}:${qualifier}`,
      condition,
      approximateInvokeCount: attempts,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: version, ...(functionError ? { functionError } : {}) },
    responsePayload,
  });

  mock.on(InvokeCommand).callsFake(async (input: { FunctionName?: string; Qualifier?: string; InvocationType?: string; Payload?: Uint8Array }): Promise<never> => {
    const qualifier = qualifierOf(input.FunctionName, input.Qualifier);
    const event = JSON.parse(decoder.decode(input.Payload ?? encoder.encode('{}')));
    const requestId = randomUUID();
    if (input.InvocationType === 'Event') {
      const job = deliverAsync(qualifier, event, requestId).finally(() => pending.delete(job));
      pending.add(job);
      return { StatusCode: 202 } as never;
    }
    const version = pickVersion(qualifier);
    try {
      const result = await run(version, qualifier, event, requestId, 1);
      return { StatusCode: 200, ExecutedVersion: version, Payload: encoder.encode(JSON.stringify(result ?? null)) } as never;
    } catch (error) {
      return { StatusCode: 200, ExecutedVersion: version, FunctionError: 'Unhandled', Payload: encoder.encode(JSON.stringify(errorPayload(error))) } as never;
    }
  });
  mock.on(GetAliasCommand).callsFake(async (input: { FunctionName?: string; Name?: string }) => {
    qualifierOf(input.FunctionName, undefined);
    if (input.Name !== fn.alias.name) throw Object.assign(new Error(`Alias not found: ${input.Name}`), { name: 'ResourceNotFoundException' });
    return {
      Name: fn.alias.name,
      AliasArn: `${functionArn}:${fn.alias.name}`,
      FunctionVersion: fn.alias.functionVersion,
      RoutingConfig: fn.alias.additionalVersionWeights ? { AdditionalVersionWeights: fn.alias.additionalVersionWeights } : undefined,
    };
  });
  mock.on(GetFunctionConfigurationCommand).callsFake(async (input: { FunctionName?: string }) => {
    qualifierOf(input.FunctionName, undefined);
    return { FunctionName: fn.functionName, FunctionArn: functionArn, Version: '$LATEST', ...fn.configuration };
  });
  mock.on(GetFunctionConcurrencyCommand).callsFake(async (input: { FunctionName?: string }) => {
    qualifierOf(input.FunctionName, undefined);
    return { ReservedConcurrentExecutions: fn.reservedConcurrency };
  });
  mock.on(GetFunctionEventInvokeConfigCommand).callsFake(async (input: { FunctionName?: string; Qualifier?: string }) => {
    const qualifier = qualifierOf(input.FunctionName, input.Qualifier);
    if (qualifier !== fn.alias.name) throw Object.assign(new Error('no event invoke config'), { name: 'ResourceNotFoundException' });
    const arnOfQueue = (url?: string) => (url ? `arn:aws:sqs:${region}:${ACCOUNT}:${url.split('/').pop()}` : undefined);
    return {
      FunctionArn: `${functionArn}:${qualifier}`,
      MaximumRetryAttempts: fn.asyncConfig.retryAttempts,
      MaximumEventAgeInSeconds: fn.asyncConfig.maximumEventAgeSeconds,
      DestinationConfig: {
        OnSuccess: { Destination: arnOfQueue(fn.asyncConfig.onSuccessQueueUrl) },
        OnFailure: { Destination: arnOfQueue(fn.asyncConfig.onFailureQueueUrl) },
      },
    };
  });

  return {
    invocations,
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    stop: () => mock.restore(),
  };
}
