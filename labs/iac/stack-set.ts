import { Arn, ArnFormat, Aws, Fn, Stack, Validations } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface RegionalStackSetProps {
  /** The Regions of the stack instances: a list, or a token for one (an Fn::If between one and two Regions). */
  readonly regions: string[];
}

/**
 * What one stack instance deploys: a Parameter Store parameter (standard parameters are free) named after the
 * instance's stack, `/StackSet-<set name>-<id>/region`, whose value names its Region.
 */
function instanceTemplate(): string {
  return JSON.stringify({
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'iac lab: one stack instance of the StackSet',
    Resources: {
      RegionMarker: {
        Type: 'AWS::SSM::Parameter',
        Properties: {
          Name: { 'Fn::Sub': '/${AWS::StackName}/region' },
          Type: 'String',
          Value: { 'Fn::Sub': 'deployed by a StackSet instance in ${AWS::Region}' },
        },
      },
    },
  });
}

/**
 * What the execution role may do to the instance stacks (StackSet-<set>-*): StackSets create, update and delete each
 * instance stack with the execution role's credentials, and read its status, events, resources and template while
 * the operation runs. AWS documents no minimum list (its sample grants cloudformation:*): these are the stack-level
 * actions of a create, update and delete, by name.
 */
export const INSTANCE_STACK_ACTIONS = [
  'cloudformation:CreateStack',
  'cloudformation:UpdateStack',
  'cloudformation:DeleteStack',
  'cloudformation:DescribeStacks',
  'cloudformation:DescribeStackEvents',
  'cloudformation:DescribeStackResource',
  'cloudformation:DescribeStackResources',
  'cloudformation:ListStackResources',
  'cloudformation:GetTemplate',
  'cloudformation:GetTemplateSummary',
  'cloudformation:TagResource',
  'cloudformation:UntagResource',
] as const;

/**
 * What CloudFormation calls, with the execution role's credentials, to create, read, tag and delete the instance
 * template's AWS::SSM::Parameter: the resource reference requires ssm:PutParameter and ssm:AddTagsToResource to
 * create it (CloudFormation tags it with the stack's name and id) and ssm:RemoveTagsFromResource to change its tags.
 */
export const INSTANCE_PARAMETER_ACTIONS = [
  'ssm:PutParameter',
  'ssm:AddTagsToResource',
  'ssm:RemoveTagsFromResource',
  'ssm:ListTagsForResource',
  'ssm:GetParameters',
  'ssm:DeleteParameter',
] as const;

/**
 * A StackSet with self-managed permissions, deploying a tiny stack to this account in one or two Regions. The lab
 * creates both roles StackSets needs, each scoped to the other: CloudFormation assumes the administration role, which
 * may assume only the execution role; the execution role trusts only the administration role, and may only manage
 * the set's stack instances and their parameters.
 */
export class RegionalStackSet extends Construct {
  public readonly stackSet: cloudformation.CfnStackSet;
  public readonly administrationRole: iam.Role;
  public readonly executionRole: iam.Role;

  constructor(scope: Construct, id: string, props: RegionalStackSetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const stackSetName = Fn.join('-', [Aws.STACK_NAME, 'regional']);

    this.administrationRole = new iam.Role(this, 'AdministrationRole', {
      description: 'iac lab: assumed by CloudFormation StackSets to reach the execution role',
      assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: 'iac lab: assumed by the administration role to create the stack instances',
      assumedBy: new iam.ArnPrincipal(this.administrationRole.roleArn),
    });
    const assumeExecution = new iam.Policy(this, 'AssumeExecutionRole', {
      roles: [this.administrationRole],
      statements: [new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [this.executionRole.roleArn] })],
    });

    // Instance stacks are named StackSet-<set name>-<id>, in every Region of the set; so are their parameters.
    const instanceName = Fn.join('', ['StackSet-', stackSetName, '-*']);
    const instanceStacks = Arn.format(
      { service: 'cloudformation', region: '*', resource: 'stack', resourceName: instanceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
    const markers = Arn.format(
      { service: 'ssm', region: '*', resource: 'parameter', resourceName: instanceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME },
      stack,
    );
    const manageInstances = new iam.Policy(this, 'ManageInstances', {
      roles: [this.executionRole],
      statements: [
        new iam.PolicyStatement({ actions: [...INSTANCE_STACK_ACTIONS], resources: [instanceStacks] }),
        new iam.PolicyStatement({ actions: [...INSTANCE_PARAMETER_ACTIONS], resources: [markers] }),
      ],
    });
    for (const resource of ['cloudformation:*:<AWS::AccountId>:stack', 'ssm:*:<AWS::AccountId>:parameter']) {
      Validations.of(manageInstances).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${resource}/StackSet-<AWS::StackName>-regional-*]`,
        reason:
          'StackSets name each instance stack StackSet-<set>-<unique id>, in every Region of the set, and each instance ' +
          'names its parameter after its stack: the wildcards cover only this set\'s stacks and parameters.',
      });
    }

    this.stackSet = new cloudformation.CfnStackSet(this, 'StackSet', {
      stackSetName,
      description: 'iac lab: a tiny stack in this account, in one or two Regions',
      permissionModel: 'SELF_MANAGED',
      administrationRoleArn: this.administrationRole.roleArn,
      executionRoleName: this.executionRole.roleName,
      // One Region at a time, and stop at the first failure: the safest (and slowest) rollout.
      operationPreferences: { regionConcurrencyType: 'SEQUENTIAL', maxConcurrentCount: 1, failureToleranceCount: 0 },
      stackInstancesGroup: [{ deploymentTargets: { accounts: [Aws.ACCOUNT_ID] }, regions: props.regions }],
      templateBody: instanceTemplate(),
    });
    // Created after both roles can act, deleted (instances first, then the set) before they lose their permissions.
    this.stackSet.node.addDependency(assumeExecution, manageInstances);
  }
}
