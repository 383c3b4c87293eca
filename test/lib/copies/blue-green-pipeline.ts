import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { BlueGreenPipeline, DeployTarget, PipelineSource, TrafficShift } from '../../../lib/blue-green-pipeline';

/** A pipeline from a source zip in S3 that shifts a function alias to each new version by canary. */
export function build(stack: Stack): void {
  const fn = new lambda.Function(stack, 'App', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => "v1";'),
    timeout: Duration.seconds(5),
  });
  const sources = new s3.Bucket(stack, 'Sources', { enforceSSL: true, versioned: true });
  new BlueGreenPipeline(stack, 'Delivery', {
    source: PipelineSource.s3(sources, 'app.zip'),
    target: DeployTarget.lambdaAlias(fn.addAlias('live'), {
      functionTimeout: Duration.seconds(5),
      trafficShift: TrafficShift.canary(10, Duration.minutes(5)),
    }),
  });
}
