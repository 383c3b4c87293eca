import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { QueueConsumer } from '../../../lib/queue-consumer';
import { QueueWithDlq } from '../../../lib/queue-with-dlq';

/** A function consuming a queue in batches of 10, reporting partial batch failures. */
export function build(stack: Stack): void {
  const handler = new lambda.Function(stack, 'Consumer', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(5),
  });
  const orders = new QueueWithDlq(stack, 'Orders', { visibilityTimeout: Duration.seconds(30) });
  new QueueConsumer(stack, 'OrdersConsumer', { source: orders, handler, batchSize: 10, maxConcurrency: 5 });
}
