import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { FanOut, Subscriber } from '../../lib/fan-out';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { snsFanoutLab } from './lab';
import { SNS_FANOUT_LAB as SNS_FANOUT_LAB_SPEC, SNS_FANOUT_POLICIES } from './constants';


/** The shared constants (./constants.ts) with CDK durations. */
const SNS_FANOUT_LAB = withCdkDurations(SNS_FANOUT_LAB_SPEC);

/**
 * SNS fan-out lab: an "orders" topic fanned out to filtered queues, a Lambda function (with on-success and
 * on-failure destinations) and optionally an email address, one subscriber deliberately unreachable to fill its
 * subscription DLQ; and a FIFO topic with two FIFO queues.
 */
export class SnsFanoutLabStack extends LabStack<typeof snsFanoutLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const succeeded = new QueueWithDlq(this, 'AuditSucceeded');
    const failed = new QueueWithDlq(this, 'AuditFailed');
    const audit = new SafeNodejsFunction(this, 'Audit', {
      entry: path.join(__dirname, '../../lambda/sns-subscriber/index.ts'),
      description: 'SNS fan-out lab: audits order events; fails on purpose for orders with "fail": true',
      timeout: SNS_FANOUT_LAB.auditTimeout,
      retryAttempts: SNS_FANOUT_LAB.auditRetryAttempts,
      onSuccess: new SqsDestination(succeeded.queue),
      onFailure: new SqsDestination(failed.queue),
    });

    const queueKey = this.feature('cmk')
      ? new kms.Key(this, 'QueueKey', {
          description: 'SNS fan-out lab: encrypts the orders queues; its policy lets SNS use it for the orders topic only',
          enableKeyRotation: true,
          pendingWindow: Duration.days(7),
        })
      : undefined;

    const subscribers: Record<string, Subscriber> = {
      AllOrders: Subscriber.queue(),
      HighValue: Subscriber.queue({ filterPolicy: SNS_FANOUT_POLICIES.highValue, rawMessageDelivery: true }),
      Express: Subscriber.queue({
        filterPolicy: SNS_FANOUT_POLICIES.express,
        filterPolicyScope: 'MessageBody',
        rawMessageDelivery: true,
      }),
      Audit: Subscriber.lambda(audit, { filterPolicy: SNS_FANOUT_POLICIES.audit }),
      Warehouse: Subscriber.queue({ filterPolicy: SNS_FANOUT_POLICIES.warehouse }),
    };
    const email = this.parameter('email');
    if (email) subscribers.Manager = Subscriber.email(email, { filterPolicy: SNS_FANOUT_POLICIES.email });

    const orders = new FanOut(this, 'Orders', { queueEncryptionKey: queueKey, subscribers });

    // Deliberately broken, to show a subscription DLQ: SNS gets a client-side error (access denied), does not
    // retry, and moves the message to the Warehouse subscription's DLQ. An explicit Deny beats the Allow the
    // subscription added.
    const warehouse = orders.queue('Warehouse');
    warehouse.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'LabDeniesSnsToFillTheSubscriptionDlq',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [warehouse.queueArn],
      }),
    );

    const fifo = new FanOut(this, 'OrdersFifo', {
      fifo: true,
      contentBasedDeduplication: true,
      subscribers: {
        Billing: Subscriber.queue({ rawMessageDelivery: true }),
        Shipping: Subscriber.queue({ rawMessageDelivery: true }),
      },
    });

    const outputs: Record<string, string> = {
      OrdersTopicArn: orders.topic.topicArn,
      AllOrdersQueueUrl: orders.queue('AllOrders').queueUrl,
      HighValueQueueUrl: orders.queue('HighValue').queueUrl,
      ExpressQueueUrl: orders.queue('Express').queueUrl,
      WarehouseQueueUrl: warehouse.queueUrl,
      WarehouseSubscriptionDlqUrl: orders.subscriptionDeadLetterQueue('Warehouse').queueUrl,
      AuditSubscriptionDlqUrl: orders.subscriptionDeadLetterQueue('Audit').queueUrl,
      AuditFunctionName: audit.functionName,
      AuditSucceededQueueUrl: succeeded.queue.queueUrl,
      AuditFailedQueueUrl: failed.queue.queueUrl,
      FifoTopicArn: fifo.topic.topicArn,
      BillingQueueUrl: fifo.queue('Billing').queueUrl,
      ShippingQueueUrl: fifo.queue('Shipping').queueUrl,
    };
    this.addOutputs(outputs);
  }

}
