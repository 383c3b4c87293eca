import * as path from 'node:path';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { StreamProcessor, StreamSource } from '../../lib/stream-processor';
import { labAlarmTopic } from '../support/alarm-topic';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { dynamodbStreamsLab } from './lab';
import { STREAMS_LAB as STREAMS_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const STREAMS_LAB = withCdkDurations(STREAMS_LAB_SPEC);

/**
 * DynamoDB Streams lab: an orders table whose stream feeds a Lambda function that keeps per-customer totals in a
 * second table (a materialized view), telling TTL deletions from cancellations, applying each record exactly once,
 * and isolating a poison record by bisecting batches and sending its description to an on-failure queue.
 */
export class DynamodbStreamsLabStack extends LabStack<typeof dynamodbStreamsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const orders = new dynamodb.TableV2(this, 'Orders', {
      partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: STREAMS_LAB.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const view = new dynamodb.TableV2(this, 'CustomerTotals', {
      partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'entry', type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: STREAMS_LAB.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });

    const updater = new SafeNodejsFunction(this, 'ViewUpdater', {
      entry: path.join(__dirname, '../../lambda/orders-view/index.ts'),
      description: 'Keeps per-customer order totals from the orders table stream, exactly once per stream record',
      timeout: STREAMS_LAB.handlerTimeout,
      environment: { VIEW_TABLE_NAME: view.tableName },
    });
    // A transaction of a conditional Put (the applied-record marker) and an Update (the totals): nothing more.
    view.grant(updater, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');

    const alarmTopic = this.feature('alarms') ? labAlarmTopic(this) : undefined;
    const processor = new StreamProcessor(this, 'OrdersStream', {
      source: StreamSource.fromTable(orders),
      handler: updater,
      batchSize: STREAMS_LAB.batchSize,
      retryAttempts: STREAMS_LAB.retryAttempts,
      maxRecordAge: STREAMS_LAB.maxRecordAge,
      filters: [
        lambda.FilterCriteria.filter({ dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith(STREAMS_LAB.orderPrefix) } } } }),
      ],
      alarms: alarmTopic ? { iteratorAge: STREAMS_LAB.iteratorAgeThreshold, alarmTopic } : undefined,
    });

    const outputs: Record<string, string> = {
      OrdersTableName: orders.tableName,
      OrdersStreamArn: orders.tableStreamArn ?? '',
      ViewTableName: view.tableName,
      ViewUpdaterFunctionName: updater.functionName,
      OnFailureQueueUrl: processor.deadLetterQueue.queueUrl,
    };
    if (alarmTopic && processor.iteratorAgeAlarm) {
      outputs.AlarmTopicArn = alarmTopic.topicArn;
      outputs.IteratorAgeAlarmName = processor.iteratorAgeAlarm.alarmName;
    }
    this.addOutputs(outputs);
  }
}
