import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PrivateBucketDistribution } from '../../../lib/private-bucket-distribution';

/** A private bucket served through CloudFront only. */
export function build(stack: Stack): void {
  const site = new s3.Bucket(stack, 'Site', { enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
  const cdn = new PrivateBucketDistribution(stack, 'Cdn', {
    bucket: site,
    ttl: { minTtl: Duration.seconds(10), defaultTtl: Duration.minutes(1), maxTtl: Duration.minutes(5) },
  });
  new CfnOutput(stack, 'Url', { value: cdn.url });
}
