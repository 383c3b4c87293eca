import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { labBucket } from '../../../labs/support/lab-bucket';
import { testApp } from '../../support/synth';

const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Buckets');
const bucket = labBucket(stack, 'Uploads', { expiration: Duration.days(7), withoutAccessLogs: 'Uploads are short-lived test data.' });
const template = Template.fromStack(stack);

test('SSE-S3, no public access, objects expire as asked and incomplete uploads after a day', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    LifecycleConfiguration: { Rules: [{ ExpirationInDays: 7, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
  });
});

test('TLS only, and emptied and deleted with the stack', () => {
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
  });
  template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
});

test('acknowledges cdk-nag\'s S1 (no access logs) with the caller\'s reason', () => {
  const acknowledged = bucket.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
  expect(acknowledged).toEqual([{ 'Annotation::AwsSolutions-S1': 'Uploads are short-lived test data.' }]);
});
