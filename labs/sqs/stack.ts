import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { QueueConsumer } from '../../lib/queue-consumer';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { labAlarmTopic } from '../support/alarm-topic';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { sqsLab } from './lab';
import { SQS_LAB as SQS_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const SQS_LAB = withCdkDurations(SQS_LAB_SPEC);

/**
 * SQS lab: a work queue consumed by Lambda with partial batch responses, a playground queue to receive by hand,
 * a FIFO queue with content-based deduplication and a delay queue, each with its own dead-letter queue.
 */
export class SqsLabStack extends LabStack<typeof sqsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const alarmTopic = this.feature('alarms') ? labAlarmTopic(this) : undefined;
    const work = new QueueWithDlq(this, 'Work', {
      visibilityTimeout: SQS_LAB.workVisibilityTimeout,
      maxReceiveCount: SQS_LAB.workMaxReceiveCount,
      alarms: alarmTopic ? { alarmTopic, oldestMessageAge: Duration.minutes(5) } : undefined,
    });
    const consumer = new SafeNodejsFunction(this, 'Consumer', {
      entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts'),
      description: 'Processes orders from the SQS lab work queue, reporting failed records only',
      timeout: SQS_LAB.consumerTimeout,
    });
    new QueueConsumer(this, 'WorkConsumer', { source: work, handler: consumer, batchSize: 10, maxConcurrency: 2 });

    const playground = new QueueWithDlq(this, 'Playground', {
      visibilityTimeout: SQS_LAB.playgroundVisibilityTimeout,
      maxReceiveCount: SQS_LAB.playgroundMaxReceiveCount,
    });
    const fifo = new QueueWithDlq(this, 'Fifo', { fifo: true, contentBasedDeduplication: true });
    const delayed = new QueueWithDlq(this, 'Delayed', { deliveryDelay: SQS_LAB.deliveryDelay });

    const outputs: Record<string, string> = {
      WorkQueueUrl: work.queue.queueUrl,
      WorkDlqUrl: work.deadLetterQueue.queueUrl,
      ConsumerFunctionName: consumer.functionName,
      PlaygroundQueueUrl: playground.queue.queueUrl,
      PlaygroundDlqUrl: playground.deadLetterQueue.queueUrl,
      FifoQueueUrl: fifo.queue.queueUrl,
      DelayQueueUrl: delayed.queue.queueUrl,
    };
    if (alarmTopic) outputs.AlarmTopicArn = alarmTopic.topicArn;
    this.addOutputs(outputs);
  }
}
