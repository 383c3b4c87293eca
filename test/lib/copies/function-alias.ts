import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FunctionAlias } from '../../../lib/function-alias';

/** An alias on a function's current version, with bounded asynchronous retries. */
export function build(stack: Stack): void {
  const fn = new lambda.Function(stack, 'Greeter', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => "hello";'),
  });
  new FunctionAlias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion, retryAttempts: 1, maxEventAge: Duration.hours(1) });
}
