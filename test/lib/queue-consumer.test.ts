import * as path from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SafeNodejsFunction } from '../../lib/core/function';
import { QueueConsumer } from '../../lib/queue-consumer';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { testApp } from '../support/synth';
import { problemCodesOf } from '../support/validation';

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

test('warns below 6× the handler timeout plus batching window; strict synth fails until acknowledged', () => {
  const { stack, source, handler } = setup(30, 10);
  const consumer = new QueueConsumer(stack, 'Consumer', { source, handler, maxBatchingWindow: Duration.seconds(5) });
  expect(() => Template.fromStack(stack)).toThrow(/below 6× the handler's timeout plus the batching window \(65 s\)/);

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
