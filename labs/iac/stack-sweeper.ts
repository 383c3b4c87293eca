import * as path from 'node:path';
import { Arn, ArnFormat, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { labProvider } from '../support/lab-provider';
import { IAC_LAB } from './constants';

export interface StackSweeperProps {
  /** Name prefix of the stacks the exercise creates; the sweeper deletes the ones left when it is deleted. */
  readonly stackNamePrefix: string;
  /** How long CloudFormation waits for the provider's answer before failing the resource. */
  readonly serviceTimeout: Duration;
}

/**
 * A custom resource (provider framework) that gives the exercise the name prefix of its stacks and, on delete,
 * deletes the ones an interrupted exercise left behind; not a stack importing the lab's export, which makes
 * CloudFormation refuse to delete the lab before this resource is reached (the README says to delete it first). The framework's own function receives CloudFormation's
 * request, invokes the handler and PUTs the SUCCESS or FAILED response to the request's pre-signed S3 URL.
 */
export class StackSweeper extends Construct {
  public readonly stackNamePrefix: string;

  constructor(scope: Construct, id: string, props: StackSweeperProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const handler = new SafeNodejsFunction(this, 'Handler', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'iac-stack-sweeper', 'index.ts'),
      description: 'iac lab: deletes the stacks the exercise left behind when the lab is destroyed',
      timeout: props.serviceTimeout,
    });
    const exerciseStacks = Arn.format(
      { service: 'cloudformation', resource: 'stack', resourceName: `${props.stackNamePrefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStacks', 'cloudformation:DeleteStack', 'cloudformation:UpdateTerminationProtection'],
      resources: [exerciseStacks],
    }));
    // CloudFormation deletes a stack's resources with the caller's permissions: the exercise stacks hold SQS queues
    // (named <stack name>-<logical id>-<suffix>) and wait conditions, which need none.
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['sqs:DeleteQueue', 'sqs:GetQueueAttributes'],
      resources: [Arn.format({ service: 'sqs', resource: `${props.stackNamePrefix}*` }, stack)],
    }));
    handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudformation:ListStacks'], resources: ['*'] }));
    // On this construct: SafeNodejsFunction puts the handler's role beside the function, not inside it.
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudformation:ListStacks has no resource ARN: the service authorization reference lists it with "*" only.',
    });
    for (const service of ['cloudformation:<AWS::Region>:<AWS::AccountId>:stack', 'sqs:<AWS::Region>:<AWS::AccountId>:']) {
      const separator = service.endsWith(':') ? '' : '/';
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${service}${separator}<AWS::StackName>${IAC_LAB.exerciseStackInfix}*]`,
        reason: 'CloudFormation appends a unique id to stack ARNs and to the queue names it generates: scoped to the exercise\'s name prefix.',
      });
    }

    const provider = labProvider(this, handler, 'iac lab: the provider framework function, which invokes the sweeper and answers CloudFormation');
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ExerciseStackSweeper',
      serviceTimeout: props.serviceTimeout,
      properties: { StackNamePrefix: props.stackNamePrefix },
    });
    this.stackNamePrefix = resource.getAttString('StackNamePrefix');
  }
}
