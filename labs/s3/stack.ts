import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { EncryptedBucket } from '../../lib/encrypted-bucket';
import { PrivateBucketDistribution } from '../../lib/private-bucket-distribution';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { s3Lab } from './lab';
import { S3_LAB as S3_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const S3_LAB = withCdkDurations(S3_LAB_SPEC);

/**
 * S3 lab: a data bucket that demands SSE-KMS (aws/s3 + Bucket Key) and TLS, versioned, with lifecycle rules, an
 * inventory, access logs and event notifications to SQS; a private site bucket behind CloudFront (origin access
 * control, a cache policy whose TTLs bound the objects' Cache-Control); a reports bucket for logs and inventories.
 */
export class S3LabStack extends LabStack<typeof s3Lab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const reports = new s3.Bucket(this, 'Reports', {
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logs can only be delivered to SSE-S3 buckets
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // CloudFront standard logs are written with an ACL that gives the bucket owner full control: ACLs must be on.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-reports', expiration: S3_LAB.reportsExpiration }],
      autoDeleteObjects: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(reports).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the server access logs of the lab buckets; logging its own access into itself would loop.',
    });

    const data = new EncryptedBucket(this, 'Data', {
      reports: { bucket: reports, inventoryPrefix: 'inventory' },
      abortIncompleteMultipartUploadAfter: S3_LAB.abortIncompleteMultipartUploadAfter,
      noncurrentVersionExpiration: S3_LAB.noncurrentVersionExpiration,
      autoDeleteObjects: true,
    });
    const notifications = new QueueWithDlq(this, 'Uploads', { visibilityTimeout: Duration.seconds(30) });
    data.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(notifications.queue), {
      prefix: S3_LAB.notificationPrefix,
    });
    // S3 checks it may send to the queue when the notification is configured, so the queue policy must exist first;
    // CDK therefore sets notifications through its own custom resource, a stack-wide singleton function.
    const handler = this.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's BucketNotificationsHandler always attaches AWSLambdaBasicExecutionRole, even to a role passed in; it only " +
          'lets that function write its own logs. The function only calls s3:PutBucketNotification on the lab buckets.',
      });
    }

    const site = new s3.Bucket(this, 'Site', {
      encryption: s3.BucketEncryption.S3_MANAGED, // aws/s3-encrypted objects could not be served through OAC
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: reports,
      serverAccessLogsPrefix: 'access-logs/Site/',
      autoDeleteObjects: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cdn = new PrivateBucketDistribution(this, 'Cdn', {
      bucket: site,
      ttl: { minTtl: S3_LAB.minTtl, defaultTtl: S3_LAB.defaultTtl, maxTtl: S3_LAB.maxTtl },
      standardLogs: { bucket: reports },
      comment: 'S3 lab: private site bucket behind origin access control',
    });

    const outputs: Record<string, string> = {
      DataBucketName: data.bucket.bucketName,
      NotificationQueueUrl: notifications.queue.queueUrl,
      ReportsBucketName: reports.bucketName,
      SiteBucketName: site.bucketName,
      DistributionDomainName: cdn.distribution.distributionDomainName,
      DistributionUrl: cdn.url,
      CacheTtlSeconds: [S3_LAB.minTtl, S3_LAB.defaultTtl, S3_LAB.maxTtl].map((d) => d.toSeconds()).join('/'),
    };
    this.addOutputs(outputs);
  }
}
