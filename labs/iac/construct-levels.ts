import { Annotations, Duration, IAspect, Token } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { QueueWithDlq } from '../../lib/queue-with-dlq';

/**
 * Every queue in the tree must say in its template that it is encrypted (SSE-SQS or SSE-KMS). SQS encrypts new
 * queues by default, but a template that does not say so drifts from what the account-wide rule intends: the aspect
 * makes synth fail instead. Aspects run over the whole construct tree after the stack is built, L1 to L3 alike.
 */
export class QueuesDeclareEncryption implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof sqs.CfnQueue)) return;
    const declared = node.sqsManagedSseEnabled === true || node.kmsMasterKeyId !== undefined ||
      Token.isUnresolved(node.sqsManagedSseEnabled);
    if (!declared) {
      Annotations.of(node).addError(
        'QueuesDeclareEncryption: set SqsManagedSseEnabled (L2: encryption: QueueEncryption.SQS_MANAGED) or a KMS key',
      );
    }
  }
}

/** A queue policy that refuses every request to `queues` made without TLS (what the L2's `enforceSSL` writes). */
export function denyInsecureTransport(scope: Construct, id: string, queues: readonly sqs.CfnQueue[]): sqs.CfnQueuePolicy {
  return new sqs.CfnQueuePolicy(scope, id, {
    queues: queues.map((q) => q.ref),
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:*',
          Resource: queues.map((q) => q.attrArn),
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    },
  });
}

/**
 * The three construct levels on one resource type, an SQS queue:
 * - L1 `CfnQueue`: one class per CloudFormation type, every property yours to write, nothing added;
 * - L2 `Queue`: intent-level props with defaults, grants (`grantSendMessages`), `enforceSSL` writing the policy;
 * - L3 `QueueWithDlq` (lib/queue-with-dlq): a pattern, a queue with its own DLQ, encryption and TLS policy.
 * The L2 queue is also the dead-letter queue of the L1 queue and of the template-anatomy queues, and the value the
 * lab exports to other stacks.
 */
export class ConstructLevels extends Construct {
  public readonly levelOne: sqs.CfnQueue;
  public readonly levelTwo: sqs.Queue;
  public readonly levelThree: QueueWithDlq;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.levelTwo = new sqs.Queue(this, 'LevelTwoQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.levelOne = new sqs.CfnQueue(this, 'LevelOneQueue', {
      delaySeconds: 0,
      maximumMessageSize: 1_048_576,
      messageRetentionPeriod: 345_600,
      receiveMessageWaitTimeSeconds: 20,
      visibilityTimeout: 30,
      sqsManagedSseEnabled: true,
      redrivePolicy: { deadLetterTargetArn: this.levelTwo.queueArn, maxReceiveCount: 3 },
      redriveAllowPolicy: { redrivePermission: 'denyAll' },
      tags: [{ key: 'construct-level', value: 'L1' }],
    });
    denyInsecureTransport(this, 'LevelOneQueuePolicy', [this.levelOne]);

    this.levelThree = new QueueWithDlq(this, 'LevelThree', { maxReceiveCount: 3 });
    // Escape hatch: QueueWithDlq has no prop for the maximum message size, so reach the L1 under its L2 and override
    // the property. 64 KiB is one billed request chunk; SQS bills every further 64 KiB of a message as a request.
    const levelThreeQueue = this.levelThree.queue.node.defaultChild as sqs.CfnQueue;
    levelThreeQueue.addPropertyOverride('MaximumMessageSize', 65_536);
  }
}
