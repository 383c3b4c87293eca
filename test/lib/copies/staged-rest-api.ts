import { Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { StagedRestApi } from '../../../lib/staged-rest-api';

/** A REST API with a throttled prod stage, one GET method on a function. */
export function build(stack: Stack): void {
  const fn = new lambda.Function(stack, 'Hello', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "hello" });'),
  });
  const rest = new StagedRestApi(stack, 'Rest', { stages: { prod: { throttle: { rateLimit: 50, burstLimit: 100 } } } });
  rest.api.root.addResource('hello').addMethod('GET', new apigw.LambdaIntegration(fn));
}
