import { Duration, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** SSE-KMS with `key` when one is given, otherwise SSE-SQS: encryption at rest without KMS charges. */
export function queueEncryption(key: kms.IKey | undefined): Pick<sqs.QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return key
    ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key }
    : { encryption: sqs.QueueEncryption.SQS_MANAGED };
}

export interface FailureQueueProps {
  /** Customer managed key for SSE-KMS. @default SSE-SQS */
  readonly encryptionKey?: kms.IKey;
  /** A FIFO queue, for a FIFO source. @default false */
  readonly fifo?: boolean;
  /**
   * Why this queue needs no dead-letter queue of its own (cdk-nag AwsSolutions-SQS3), written next to it:
   * what puts messages in it, and that it is the end of the failure path.
   */
  readonly endOfFailurePath: string;
}

/**
 * A queue at the end of a failure path (a DLQ, an on-failure destination): encrypted, TLS only, 14 days of
 * retention (SQS's maximum) so an operator has time to look, and acknowledged as the last stop.
 */
export function createFailureQueue(scope: Construct, id: string, props: FailureQueueProps): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    fifo: props.fifo || undefined,
    ...queueEncryption(props.encryptionKey),
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: props.endOfFailurePath });
  return queue;
}
