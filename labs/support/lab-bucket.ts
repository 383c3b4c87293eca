import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface LabBucketProps {
  /** How long objects live; incomplete multipart uploads are aborted after a day. */
  readonly expiration: Duration;
  /** Why the bucket needs no server access logs (the reason of cdk-nag's AwsSolutions-S1 acknowledgement). */
  readonly withoutAccessLogs: string;
}

/**
 * A lab's working bucket: SSE-S3, TLS only, no public access, objects that expire, emptied and deleted on destroy.
 * Server access logs would need a second bucket for no added lesson, so each caller says why it can do without.
 */
export function labBucket(scope: Construct, id: string, props: LabBucketProps): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    lifecycleRules: [{ expiration: props.expiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.DESTROY,
    autoDeleteObjects: true,
  });
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: props.withoutAccessLogs });
  return bucket;
}
