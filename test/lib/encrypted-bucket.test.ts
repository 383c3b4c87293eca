import { CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EncryptedBucket } from '../../lib/encrypted-bucket';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const problemsOf = (build: (stack: Stack) => void) => problemMessagesOf(() => build(newStack()));

describe('EncryptedBucket defaults', () => {
  const stack = newStack();
  new EncryptedBucket(stack, 'Data');
  const template = Template.fromStack(stack);

  test('SSE-KMS with the AWS managed key and a Bucket Key; versioned; public access blocked; retained', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      }),
    });
  });

  test('aborts incomplete multipart uploads after 1 day and expires noncurrent versions after 30', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          { Id: 'abort-incomplete-multipart-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
          { Id: 'expire-noncurrent-versions', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
        ],
      },
    });
  });

  test('the policy denies non-TLS, TLS below 1.2, PutObject without the header and PutObject with another encryption', () => {
    const statements = Object.values(template.findResources('AWS::S3::BucketPolicy'))[0].Properties.PolicyDocument.Statement as { Sid?: string; Effect: string; Condition: unknown }[];
    expect(statements.map((s) => [s.Effect, s.Sid ?? '', s.Condition])).toEqual([
      ['Deny', '', { Bool: { 'aws:SecureTransport': 'false' } }],
      ['Deny', '', { NumericLessThan: { 's3:TlsVersion': 1.2 } }],
      ['Deny', 'DenyPutWithoutEncryptionHeader', { Null: { 's3:x-amz-server-side-encryption': 'true' } }],
      ['Deny', 'DenyPutWithOtherEncryption', { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' }, Null: { 's3:x-amz-server-side-encryption': 'false' } }],
    ]);
    const objects = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^DataBucket'), 'Arn'] }, '/*']] };
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DenyPutWithoutEncryptionHeader', Action: 's3:PutObject', Resource: objects })]) },
    });
  });

  test('no access logs and no inventory without a reports bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', { LoggingConfiguration: Match.absent(), InventoryConfigurations: Match.absent() });
  });
});

test('with a customer managed key: the policy also denies PutObject naming another key', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  new EncryptedBucket(stack, 'Data', { encryptionKey: key, requireEncryptionHeader: true });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } }] },
  });
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Sid: 'DenyPutWithOtherKey',
          Condition: {
            StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
            Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
          },
        }),
      ]),
    },
  });
});

test('with a reports bucket: access logs under access-logs/<id>/ and a daily CSV inventory of all versions', () => {
  const stack = newStack();
  const reports = new s3.Bucket(stack, 'Reports');
  new EncryptedBucket(stack, 'Data', { reports: { bucket: reports }, requireEncryptionHeader: false, autoDeleteObjects: true });
  const template = Template.fromStack(stack);
  template.hasResource('AWS::S3::Bucket', {
    DeletionPolicy: 'Delete',
    Properties: Match.objectLike({
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^Reports') }, LogFilePrefix: 'access-logs/Data/' },
      InventoryConfigurations: [
        Match.objectLike({
          ScheduleFrequency: 'Daily',
          IncludedObjectVersions: 'All',
          Destination: Match.objectLike({ Prefix: 'inventory', Format: 'CSV' }),
          OptionalFields: ['Size', 'LastModifiedDate', 'StorageClass', 'ETag', 'IsMultipartUploaded', 'EncryptionStatus', 'BucketKeyStatus'],
        }),
      ],
    }),
  });
  const statements = JSON.stringify(template.findResources('AWS::S3::BucketPolicy'));
  expect(statements).not.toContain('DenyPutWithoutEncryptionHeader');
});

test('validation lists every problem', () => {
  expect(
    problemsOf((s) =>
      new EncryptedBucket(s, 'B', {
        versioned: false,
        noncurrentVersionExpiration: Duration.hours(12),
        abortIncompleteMultipartUploadAfter: Duration.hours(6),
        minimumTlsVersion: 1.4,
        reports: { bucket: new s3.Bucket(s, 'R'), accessLogsPrefix: '/logs' },
      }),
    ),
  ).toEqual([
    'EncryptedBucket.AbortMultipartRange: abortIncompleteMultipartUploadAfter must be a whole number of days, at least 1, got 0.25',
    'EncryptedBucket.NoncurrentExpirationRange: noncurrentVersionExpiration must be a whole number of days, at least 1, got 0.5',
    'EncryptedBucket.NoncurrentExpirationNeedsVersioning: noncurrentVersionExpiration applies to versioned buckets only: drop it or keep versioned: true',
    'EncryptedBucket.MinimumTlsVersion: minimumTlsVersion must be 1.0, 1.1, 1.2 or 1.3, got 1.4',
    'EncryptedBucket.ReportsPrefix: report prefix "/logs" must not start with "/"',
  ]);
  expect(problemsOf((s) => new EncryptedBucket(s, 'B', { abortIncompleteMultipartUploadAfter: Duration.days(7) }))).toEqual([]);
  expect(problemsOf((s) => new EncryptedBucket(s, 'B', { abortIncompleteMultipartUploadAfter: Duration.days(0), noncurrentVersionExpiration: Duration.hours(36) }))).toEqual([
    'EncryptedBucket.AbortMultipartRange: abortIncompleteMultipartUploadAfter must be a whole number of days, at least 1, got 0',
    'EncryptedBucket.NoncurrentExpirationRange: noncurrentVersionExpiration must be a whole number of days, at least 1, got 1.5',
  ]);
  expect(problemsOf((s) => new EncryptedBucket(s, 'B', { noncurrentVersionExpiration: Duration.days(0) }))).toEqual([
    'EncryptedBucket.NoncurrentExpirationRange: noncurrentVersionExpiration must be a whole number of days, at least 1, got 0',
  ]);
  // Not even whole seconds: the same problem, not CDK's own error.
  expect(problemsOf((s) => new EncryptedBucket(s, 'B', { abortIncompleteMultipartUploadAfter: Duration.millis(86_400_500) }))).toEqual([
    'EncryptedBucket.AbortMultipartRange: abortIncompleteMultipartUploadAfter must be a whole number of days, at least 1, got 1.0000057870370371',
  ]);
});

test('accepted at the edges: 1 day to expire noncurrent versions, report prefixes without a leading slash', () => {
  expect(
    problemsOf((s) =>
      new EncryptedBucket(s, 'B', { noncurrentVersionExpiration: Duration.days(1), reports: { bucket: new s3.Bucket(s, 'R'), accessLogsPrefix: 'logs/', inventoryPrefix: 'inventory/' } }),
    ),
  ).toEqual([]);
});

test('unversioned: accepted without a noncurrent expiration, and only the multipart rule', () => {
  const stack = newStack();
  expect(() => new EncryptedBucket(stack, 'Data', { versioned: false })).not.toThrow();
  Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
    VersioningConfiguration: Match.absent(),
    LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'abort-incomplete-multipart-uploads' })] },
  });
});

test('grantRead and grantReadWrite give the grantee the bucket\'s read or read-write actions', () => {
  const stack = newStack();
  const data = new EncryptedBucket(stack, 'Data');
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  data.grantRead(role('Reader'));
  data.grantReadWrite(role('Writer'));
  const actionsOf = (roleId: string) => {
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(`^${roleId}`) }] } }));
    return (policy.Properties.PolicyDocument.Statement as { Action: string[] }[]).flatMap((statement) => statement.Action);
  };
  expect(actionsOf('Reader')).toContain('s3:GetObject*');
  expect(actionsOf('Reader')).not.toContain('s3:PutObject');
  expect(actionsOf('Writer')).toEqual(expect.arrayContaining(['s3:GetObject*', 's3:PutObject']));
});

test('a lifecycle duration from a token renders as days: Duration.days(token) synthesizes, a token in seconds is refused', () => {
  const days = (stack: Stack) => Token.asNumber(new CfnParameter(stack, 'Days', { type: 'Number' }));
  const stack = newStack();
  new EncryptedBucket(stack, 'B', { abortIncompleteMultipartUploadAfter: Duration.days(days(stack)) });
  expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::S3::Bucket'))).toContain('"DaysAfterInitiation":{"Ref":"Days"}');
  expect(problemsOf((s) => new EncryptedBucket(s, 'B', { abortIncompleteMultipartUploadAfter: Duration.seconds(days(s)) }))).toEqual([
    'EncryptedBucket.TokenNotInDays: abortIncompleteMultipartUploadAfter is a token in seconds, which cannot be converted at synth: give it as Duration.days(token)',
  ]);
});
