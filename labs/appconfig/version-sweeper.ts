import * as path from 'node:path';
import { CfnElement, CustomResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import type { SweptProfile } from '../../lambda/appconfig-version-sweeper';
import { labProvider } from '../support/lab-provider';

export interface HostedVersionSweeperProps {
  readonly application: appconfig.IApplication;
  /** The profiles whose hosted versions the exercise adds to. */
  readonly profiles: readonly appconfig.HostedConfiguration[];
}

/**
 * A custom resource (provider framework) that, when the stack is deleted, deletes the hosted versions the exercise
 * created: AppConfig refuses to delete a profile that still holds versions, and CloudFormation deletes only version 1.
 * It references each profile and its stack-owned version, so CloudFormation deletes it before them.
 */
export class HostedVersionSweeper extends Construct {
  constructor(scope: Construct, id: string, props: HostedVersionSweeperProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const handler = new SafeNodejsFunction(this, 'Handler', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'appconfig-version-sweeper', 'index.ts'),
      description: 'appconfig lab: deletes the hosted versions the exercise created when the lab is destroyed',
      timeout: Duration.minutes(1),
    });
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['appconfig:ListHostedConfigurationVersions'],
      resources: props.profiles.map((p) => p.configurationProfileArn),
    }));
    handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['appconfig:DeleteHostedConfigurationVersion'],
      resources: props.profiles.map((p) => `${p.configurationProfileArn}/hostedconfigurationversion/*`),
    }));
    // On this construct: SafeNodejsFunction puts the handler's role beside the function, not inside it.
    const logicalId = (construct: Construct) => stack.getLogicalId(construct as CfnElement);
    const applicationId = logicalId(props.application.node.defaultChild as Construct);
    for (const profile of props.profiles) {
      const profileId = logicalId(profile.node.findChild('ConfigurationProfile'));
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:appconfig:<AWS::Region>:<AWS::AccountId>:application/<${applicationId}>/configurationprofile/<${profileId}>/hostedconfigurationversion/*]`,
        reason: 'The exercise creates version numbers after deployment: deletion is scoped to the versions of this profile.',
      });
    }

    const provider = labProvider(this, handler, 'appconfig lab: the provider framework function, which invokes the version sweeper and answers CloudFormation');
    const profiles: SweptProfile[] = props.profiles.map((p) => ({ ProfileId: p.configurationProfileId, StackVersion: p.versionNumber ?? '' }));
    new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::HostedVersionSweeper',
      properties: { ApplicationId: props.application.applicationId, Profiles: profiles },
    });
  }
}
