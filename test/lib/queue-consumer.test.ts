import * as path from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SafeNodejsFunction } from '../../lib/core/function';
import { QueueConsumer, SQS_EVENT_SOURCE_LIMITS } from '../../lib/queue-consumer';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { testApp } from '../support/synth';
import { problemCodesOf, validationErrorOf } from '../support/validation';

const ENTRY = path.join(__dirname, '../../lambda/sqs-consumer/index.ts');

function setup(visibilitySeconds: number, handlerTimeoutSeconds: number, fifo = false) {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const source = new QueueWithDlq(stack, 'Orders', { fifo, visibilityTimeout: Duration.seconds(visibilitySeconds) });
  const handler = new SafeNodejsFunction(stack, 'Handler', { entry: ENTRY, timeout: Duration.seconds(handlerTimeoutSeconds) });
  return { stack, source, handler };
}


test('maps the queue to the function with partial batch responses, batch size and concurrency', () => {
  const { stack, source, handler } = setup(60, 10);
  new QueueConsumer(stack, 'Consumer', { source, handler, batchSize: 5, maxConcurrency: 2 });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersQueue'), 'Arn'] },
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    BatchSize: 5,
    ScalingConfig: { MaximumConcurrency: 2 },
  });
});

test('grants the function consume rights on the queue only, not on its DLQ', () => {
  const { stack, source, handler } = setup(60, 10);
  new QueueConsumer(stack, 'Consumer', { source, handler });
  const policies = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
  expect(policies).toContain('sqs:ReceiveMessage');
  expect(policies).not.toMatch(/OrdersDlq/);
});

test('refuses a visibility timeout below the handler timeout, naming the fix', () => {
  const { stack, source, handler } = setup(5, 10);
  expect(() => new QueueConsumer(stack, 'Consumer', { source, handler })).toThrow(
    "[QueueConsumer.VisibilityTimeoutBelowHandlerTimeout] the queue's visibility timeout (5 s) is shorter than the " +
      "handler's timeout (10 s): Lambda rejects this event source mapping. Raise the visibility timeout to at least 60 s.",
  );
});

test('a visibility timeout equal to the handler timeout is what Lambda accepts: no error, but the 6× warning', () => {
  const { stack, source, handler } = setup(10, 10);
  const consumer = new QueueConsumer(stack, 'Consumer', { source, handler });
  expect(consumer.node.metadata.map((entry) => entry.data)).toEqual([expect.stringContaining('[ack: QueueConsumer.VisibilityTimeoutBelowSixTimes]')]);
});

test('warns below 6× the handler timeout plus batching window; strict synth fails until acknowledged', () => {
  const { stack, source, handler } = setup(30, 10);
  const consumer = new QueueConsumer(stack, 'Consumer', { source, handler, maxBatchingWindow: Duration.seconds(5) });
  expect(() => Template.fromStack(stack)).toThrow(
    "the queue's visibility timeout (30 s) is below 6× the handler's timeout plus the batching window (65 s), as AWS " +
      'recommends: a message can reappear while Lambda is still retrying a throttled batch, and be processed twice.',
  );

  Validations.of(consumer).acknowledge({ id: 'Annotation::QueueConsumer.VisibilityTimeoutBelowSixTimes', reason: 'test' });
  expect(() => Template.fromStack(stack)).not.toThrow();
});

test('accepts exactly 6× the handler timeout without a warning', () => {
  const { stack, source, handler } = setup(60, 10);
  new QueueConsumer(stack, 'Consumer', { source, handler });
  expect(() => Template.fromStack(stack)).not.toThrow();
});

test('lists every batching problem at once; FIFO batches stop at 10', () => {
  const { stack, source, handler } = setup(60, 10, true);
  expect(
    problemCodesOf(
      () =>
        new QueueConsumer(stack, 'Consumer', {
          source,
          handler,
          batchSize: 11,
          maxBatchingWindow: Duration.minutes(6),
          maxConcurrency: 1,
        }),
    ),
  ).toEqual(['QueueConsumer.BatchSizeRange', 'QueueConsumer.BatchingWindowRange', 'QueueConsumer.MaxConcurrencyRange']);
});

test('a standard queue takes batches above 10 only with a batching window', () => {
  const { stack, source, handler } = setup(60, 10);
  expect(problemCodesOf(() => new QueueConsumer(stack, 'Big', { source, handler, batchSize: 100 }))).toEqual([
    'QueueConsumer.BatchSizeNeedsWindow',
  ]);
  expect(
    problemCodesOf(
      () => new QueueConsumer(stack, 'Windowed', { source, handler, batchSize: 100, maxBatchingWindow: Duration.seconds(1) }),
    ),
  ).toEqual([]);
});

test('an imported function needs its timeout stated, then it is checked like any other', () => {
  const { stack, source } = setup(30, 10);
  const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:worker');
  expect(problemCodesOf(() => new QueueConsumer(stack, 'Unknown', { source, handler: imported }))).toEqual([
    'QueueConsumer.HandlerTimeoutUnknown',
  ]);
  expect(
    problemCodesOf(
      () => new QueueConsumer(stack, 'Stated', { source, handler: imported, handlerTimeout: Duration.minutes(1) }),
    ),
  ).toEqual(['QueueConsumer.VisibilityTimeoutBelowHandlerTimeout']);
});

test('an alias defines no function of its own: its timeout must be stated too', () => {
  const { stack, source, handler } = setup(60, 10);
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: handler.currentVersion });
  expect(problemCodesOf(() => new QueueConsumer(stack, 'Unknown', { source, handler: alias }))).toEqual([
    'QueueConsumer.HandlerTimeoutUnknown',
  ]);
});

test('a function without a timeout is checked against Lambda\'s 3 s', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const source = { queue: new QueueWithDlq(stack, 'Orders').queue, visibilityTimeout: Duration.seconds(2) };
  const handler = new lambda.Function(stack, 'Plain', {
    runtime: lambda.Runtime.NODEJS_LATEST,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
  expect(() => new QueueConsumer(stack, 'Consumer', { source, handler })).toThrow(
    "[QueueConsumer.VisibilityTimeoutBelowHandlerTimeout] the queue's visibility timeout (2 s) is shorter than the handler's timeout (3 s)",
  );
});

test('durations that are not whole seconds are listed with the other problems, not thrown by CDK', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const source = { queue: new QueueWithDlq(stack, 'Orders').queue, visibilityTimeout: Duration.millis(60_500) };
  const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:worker');
  expect(() =>
    new QueueConsumer(stack, 'Consumer', {
      source,
      handler: imported,
      handlerTimeout: Duration.millis(1500),
      maxBatchingWindow: Duration.millis(2500),
      batchSize: 0,
    }),
  ).toThrow(
    [
      'Test/Consumer: 4 problems in props:',
      '  - [QueueConsumer.BatchSizeRange] batchSize must be a whole number between 1 and 10000 for a standard queue, got 0',
      '  - [QueueConsumer.NotWholeSeconds] maxBatchingWindow must be a whole number of seconds, got 2.5 s',
      '  - [QueueConsumer.NotWholeSeconds] handlerTimeout must be a whole number of seconds, got 1.5 s',
      '  - [QueueConsumer.NotWholeSeconds] source.visibilityTimeout must be a whole number of seconds, got 60.5 s',
    ].join('\n'),
  );
});

test('each batching and timeout problem, by code and message', () => {
  const { stack, source, handler } = setup(60, 10);
  expect(
    validationErrorOf(
      () => new QueueConsumer(stack, 'Consumer', { source, handler, batchSize: 11, maxBatchingWindow: Duration.minutes(6), maxConcurrency: 1001 }),
    ).problems,
  ).toEqual([
    { code: 'QueueConsumer.BatchingWindowRange', message: 'maxBatchingWindow must be at most 300 seconds, got 360' },
    { code: 'QueueConsumer.MaxConcurrencyRange', message: 'maxConcurrency must be a whole number between 2 and 1000, got 1001' },
  ]);
  expect(validationErrorOf(() => new QueueConsumer(stack, 'Big', { source, handler, batchSize: 11 })).problems).toEqual([
    {
      code: 'QueueConsumer.BatchSizeNeedsWindow',
      message: 'batchSize 11 is above 10, which Lambda accepts only with a maxBatchingWindow of at least 1 second',
    },
  ]);
  const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:123456789012:function:worker');
  expect(validationErrorOf(() => new QueueConsumer(stack, 'Unknown', { source, handler: imported })).problems).toEqual([
    {
      code: 'QueueConsumer.HandlerTimeoutUnknown',
      message: 'handlerTimeout is required when handler is an imported function or an alias: its timeout cannot be read at synth',
    },
  ]);
});

test('accepted at the edges: a 300 s batching window, a token visibility timeout, a token handler timeout', () => {
  const { stack, source, handler } = setup(60, 10);
  expect(problemCodesOf(() => new QueueConsumer(stack, 'Window', { source, handler, batchSize: 100, maxBatchingWindow: Duration.seconds(300) }))).toEqual([]);
  // Timeouts known only at deploy time cannot be compared at synth: nothing to refuse.
  const tokenVisibility = { queue: new QueueWithDlq(stack, 'Other').queue, visibilityTimeout: Duration.seconds(Token.asNumber({ Ref: 'Visibility' })) };
  expect(problemCodesOf(() => new QueueConsumer(stack, 'TokenVisibility', { source: tokenVisibility, handler }))).toEqual([]);
  const tokenTimeout = new lambda.Function(stack, 'TokenTimeoutHandler', {
    runtime: lambda.Runtime.NODEJS_LATEST,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    timeout: Duration.seconds(Token.asNumber({ Ref: 'Timeout' })),
  });
  expect(problemCodesOf(() => new QueueConsumer(stack, 'TokenTimeout', { source, handler: tokenTimeout }))).toEqual([]);
});

test('sizes, concurrency and timeouts that are not whole, and the fix for a short visibility timeout with a window, by message', () => {
  const { stack, source, handler } = setup(5, 10, true);
  (handler.node.defaultChild as lambda.CfnFunction).timeout = 1.5;
  expect(
    validationErrorOf(() => new QueueConsumer(stack, 'Consumer', { source, handler, batchSize: 2.5, maxConcurrency: 2.5 })).problems,
  ).toEqual([
    { code: 'QueueConsumer.BatchSizeRange', message: 'batchSize must be a whole number between 1 and 10 for a FIFO queue, got 2.5' },
    { code: 'QueueConsumer.MaxConcurrencyRange', message: 'maxConcurrency must be a whole number between 2 and 1000, got 2.5' },
    { code: 'QueueConsumer.NotWholeSeconds', message: "the handler's timeout must be a whole number of seconds, got 1.5 s" },
  ]);
  (handler.node.defaultChild as lambda.CfnFunction).timeout = 10;
  expect(validationErrorOf(() => new QueueConsumer(stack, 'Windowed', { source, handler, maxBatchingWindow: Duration.seconds(5) })).problems).toEqual([
    {
      code: 'QueueConsumer.VisibilityTimeoutBelowHandlerTimeout',
      message:
        "the queue's visibility timeout (5 s) is shorter than the handler's timeout (10 s): Lambda rejects this event " +
        'source mapping. Raise the visibility timeout to at least 65 s.',
    },
  ]);
});

test('the lower batch size checked is exported with the upper ones', () => {
  expect(SQS_EVENT_SOURCE_LIMITS).toMatchObject({ minBatchSize: 1, maxBatchSizeFifo: 10, maxBatchSizeStandard: 10_000 });
});
