import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { LAB_LOG_RETENTION } from './lab-stack';

/**
 * The provider framework for a lab's custom resource whose handler is `onEvent`: the framework's function gets a role
 * of ours (write to its own log group, invoke the handler; no managed policy) and a log group the stack deletes.
 * `roleDescription` says what the framework's role is for.
 */
export function labProvider(scope: Construct, onEvent: lambda.Function, roleDescription: string): cr.Provider {
  const stack = Stack.of(scope);
  const logGroup = new logs.LogGroup(scope, 'ProviderLogs', { retention: LAB_LOG_RETENTION });
  const role = new iam.Role(scope, 'FrameworkRole', {
    description: roleDescription,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  logGroup.grantWrite(role);
  const provider = new cr.Provider(scope, 'Provider', { onEventHandler: onEvent, logGroup, frameworkOnEventRole: role });
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
    reason: 'The provider framework grants lambda:InvokeFunction on the handler and its versions (<arn>:*): only this handler.',
  });
  return provider;
}
