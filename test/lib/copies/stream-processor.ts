import { Duration, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { StreamProcessor, StreamSource } from '../../../lib/stream-processor';

/** A table's stream processed by a function, inserts only, with bounded retries. */
export function build(stack: Stack): void {
  const orders = new dynamodb.TableV2(stack, 'Orders', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
  });
  const handler = new lambda.Function(stack, 'View', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(10),
  });
  new StreamProcessor(stack, 'OrdersStream', {
    source: StreamSource.fromTable(orders),
    handler,
    retryAttempts: 2,
    filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
  });
}
