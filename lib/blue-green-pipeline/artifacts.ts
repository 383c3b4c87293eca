import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** The artifact bucket the pipeline creates when none is given: SSE-S3, TLS only, artifacts expire after 30 days; retained on delete. */
export function createArtifactBucket(scope: Construct): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'Artifacts', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    lifecycleRules: [{ expiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Pipeline artifacts are intermediate build outputs that expire after 30 days; CloudTrail records who started ' +
      'executions and builds. Server access logs would need a second bucket for no added audit value.',
  });
  return bucket;
}

/**
 * CDK's grants on the artifact bucket to the pipeline, its action roles and the CodeBuild projects, acknowledged on
 * `grantee` (the pipeline or a project): the action groups of grantReadWrite on `<bucket>/*`.
 */
export function acknowledgeArtifactGrants(grantee: Construct, artifactBucket: s3.IBucket): void {
  const reason =
    "CDK's read/write grant on the pipeline's artifact bucket: artifacts are objects named per execution at run time, " +
    'so the grant covers <bucket>/* with the action groups of grantReadWrite, on this one bucket only.';
  const bucket = artifactBucket.node.defaultChild as s3.CfnBucket | undefined;
  const ids = ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*'];
  if (bucket) ids.push(`Resource::<${Stack.of(bucket).getLogicalId(bucket)}.Arn>/*`);
  for (const id of ids) Validations.of(grantee).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
}
