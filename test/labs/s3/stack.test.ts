import { Match } from 'aws-cdk-lib/assertions';
import { s3Lab } from '../../../labs/s3/lab';
import { withStack } from '../../../labs/support/app';
import { S3LabStack } from '../../../labs/s3/stack';
import { S3_LAB } from '../../../labs/s3/constants';
import { authorize, Caller, LOCAL_ACCOUNT, PolicyDocument } from '../../support/local-iam';
import { LocalAws } from '../../support/local-aws';
import { deployStackLocally } from '../../support/local-deploy';
import { labTemplate } from '../../support/lab-template';

const lab = withStack(s3Lab, S3LabStack);
const template = labTemplate(lab);
const deployed = deployStackLocally(template, new LocalAws(), { stackName: lab.stackName });
const dataBucketId = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('DataBucket'))!;
const policyOf = (bucketId: string) =>
  deployed.resolve<PolicyDocument>(
    Object.values(template.findResources('AWS::S3::BucketPolicy')).find((p) => (p.Properties.Bucket as { Ref: string }).Ref === bucketId)!.Properties.PolicyDocument,
  );
const admin: Caller = { arn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/admin`, account: LOCAL_ACCOUNT, identityPolicies: 'allow-all' };
const put = (keys: Record<string, string | undefined>) =>
  authorize(admin, { action: 's3:PutObject', resource: `${deployed.env.resources[dataBucketId].attributes.Arn}/k`, keys: { 'aws:SecureTransport': 'true', 's3:TlsVersion': '1.3', ...keys } }, policyOf(dataBucketId));

describe('the data bucket policy', () => {
  test('denies PutObject without the x-amz-server-side-encryption header, and with SSE-S3', () => {
    expect(put({})).toBe('ExplicitDeny');
    expect(put({ 's3:x-amz-server-side-encryption': 'AES256' })).toBe('ExplicitDeny');
    expect(put({ 's3:x-amz-server-side-encryption': 'aws:kms:dsse' })).toBe('ExplicitDeny');
    expect(put({ 's3:x-amz-server-side-encryption': 'aws:kms' })).toBe('Allow');
  });

  test('denies every request without TLS or below TLS 1.2', () => {
    expect(put({ 's3:x-amz-server-side-encryption': 'aws:kms', 'aws:SecureTransport': 'false', 's3:TlsVersion': undefined })).toBe('ExplicitDeny');
    expect(put({ 's3:x-amz-server-side-encryption': 'aws:kms', 's3:TlsVersion': '1.1' })).toBe('ExplicitDeny');
  });

  test('states the deny statements and their conditions', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: dataBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          Match.objectLike({ Sid: 'DenyPutWithoutEncryptionHeader', Effect: 'Deny', Action: 's3:PutObject', Principal: { AWS: '*' }, Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } }),
          Match.objectLike({
            Sid: 'DenyPutWithOtherEncryption',
            Effect: 'Deny',
            Action: 's3:PutObject',
            Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption': 'false' } },
          }),
        ]),
      },
    });
  });

  test('has no wildcard action in an Allow statement of the lab\'s own', () => {
    const allows = (policyOf(dataBucketId).Statement as { Effect: string; Action: string | string[]; Principal: unknown }[]).filter((s) => s.Effect === 'Allow');
    for (const s of allows) expect([s.Action].flat().filter((a) => a === 's3:*' || a === '*')).toEqual([]);
  });
});

test('the data bucket: SSE-KMS with aws/s3 and a Bucket Key, versioned, lifecycle, inventory, access logs', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.absent() } }] },
    VersioningConfiguration: { Status: 'Enabled' },
    LifecycleConfiguration: {
      Rules: [
        { Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: S3_LAB.abortIncompleteMultipartUploadAfter.toDays() } },
        { Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: S3_LAB.noncurrentVersionExpiration.toDays() } },
      ],
    },
    InventoryConfigurations: [Match.objectLike({ Enabled: true, ScheduleFrequency: 'Daily', IncludedObjectVersions: 'All', Destination: Match.objectLike({ Format: 'CSV' }) })],
    LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^Reports') }, LogFilePrefix: 'access-logs/Data/' },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
  });
  template.resourceCountIs('AWS::KMS::Key', 0);
});

test('ObjectCreated events under uploads/ go to an encrypted queue with a DLQ', () => {
  template.hasResourceProperties('Custom::S3BucketNotifications', {
    NotificationConfiguration: {
      QueueConfigurations: [{ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: S3_LAB.notificationPrefix }] } }, QueueArn: Match.anyValue() }],
    },
  });
  template.hasResourceProperties('AWS::SQS::QueuePolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: Match.arrayWith(['sqs:SendMessage']) })]) },
  });
});

test('CloudFront reads the private site bucket through origin access control, with the lab\'s TTLs', () => {
  template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' }) });
  template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
    CachePolicyConfig: Match.objectLike({ MinTTL: 10, DefaultTTL: 60, MaxTTL: 300 }),
  });
  template.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'] }),
      Logging: Match.objectLike({ Prefix: 'cloudfront/' }),
      PriceClass: 'PriceClass_100',
    }),
  });
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Allow', Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' } })]) },
  });
  template.hasResourceProperties('AWS::S3::Bucket', { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }, VersioningConfiguration: Match.absent() });
});

test('outputs what the exercise needs', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'CacheTtlSeconds', 'DataBucketName', 'DistributionDomainName', 'DistributionUrl', 'NotificationQueueUrl', 'ReportsBucketName', 'SiteBucketName',
  ]);
  expect(deployed.outputs.CacheTtlSeconds).toBe('10/60/300');
});
