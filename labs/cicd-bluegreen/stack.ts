import * as path from 'node:path';
import { Aws, Duration, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { BlueGreenPipeline, DeployTarget, PipelineSource } from '../../lib/blue-green-pipeline';
import { SafeNodejsFunction } from '../../lib/core/function';
import { labBucket } from '../support/lab-bucket';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { cicdBluegreenLab } from './lab';
import { CICD_LAB as CICD_LAB_SPEC, REPOSITORY_ACCESS, SAMPLE_APP_DIR } from './constants';
import { EcsBlueGreen } from './ecs';
import { RepositoryAccess } from './repository-access';

/** The shared constants (./constants.ts) with CDK durations. */
const CICD_LAB = withCdkDurations(CICD_LAB_SPEC);

/**
 * CI/CD lab: a CodePipeline V2 that builds the sample app from CodeCommit, tests it next to a throw-away
 * integration-test stack, waits for an approval, then shifts the `live` alias of a Lambda function to the new
 * version with CodeDeploy (canary 10% for 5 minutes), guarded by hook functions and alarms that roll it back.
 */
export class CicdBluegreenLabStack extends LabStack<typeof cicdBluegreenLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const artifacts = labBucket(this, 'Artifacts', {
      expiration: Duration.days(7),
      withoutAccessLogs:
        'Pipeline artifacts, build logs and the build cache of a lab, expiring after 7 days; CloudTrail records who ' +
        'started executions and builds. Server access logs would need a second bucket for no added lesson.',
    });

    const app = new SafeNodejsFunction(this, 'SampleApp', {
      entry: path.join(SAMPLE_APP_DIR, 'src/index.js'),
      description: 'The sample app of the cicd-bluegreen lab; the pipeline publishes its new versions',
      timeout: CICD_LAB.functionTimeout,
    });
    const alias = app.addAlias(CICD_LAB.aliasName, { description: 'What callers invoke; CodeDeploy shifts it between versions' });

    // Parameter Store (standard tier) is free; a Secrets Manager secret costs $0.40/month, hence behind a flag.
    const greeting = new ssm.StringParameter(this, 'Greeting', {
      stringValue: CICD_LAB.initialGreeting,
      description: 'Greeting the build bakes into the sample app (CodeBuild environment variable of type PARAMETER_STORE)',
    });
    const environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {
      GREETING: { type: codebuild.BuildEnvironmentVariableType.PARAMETER_STORE, value: greeting.parameterName },
      APP_NAME: { type: codebuild.BuildEnvironmentVariableType.PLAINTEXT, value: 'cicd-bluegreen-sample-app' },
    };
    let secret: secretsmanager.Secret | undefined;
    if (this.feature('secret')) {
      secret = new secretsmanager.Secret(this, 'ApiToken', {
        description: 'A made-up API token the build reads as API_TOKEN (CodeBuild environment variable of type SECRETS_MANAGER)',
        generateSecretString: { excludePunctuation: true, passwordLength: 32 },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'A made-up token for the lesson on SECRETS_MANAGER build variables; nothing accepts it, so there is nothing to rotate.',
      });
      environmentVariables.API_TOKEN = { type: codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER, value: secret.secretArn };
    }

    const source = PipelineSource.codeCommit({ repositoryProps: { initialContents: SAMPLE_APP_DIR }, branch: REPOSITORY_ACCESS.protectedBranch });
    const target = DeployTarget.lambdaAlias(alias, { functionTimeout: CICD_LAB.functionTimeout });
    const delivery = new BlueGreenPipeline(this, 'Delivery', {
      source,
      target,
      build: { environmentVariables, reportGroupRemovalPolicy: RemovalPolicy.DESTROY },
      artifactBucket: artifacts,
    });

    const repositoryName = source.repository.repositoryName;
    const trustedAccount = this.parameter('trusted-account') ?? Aws.ACCOUNT_ID;
    const access = new RepositoryAccess(this, 'RepositoryAccess', {
      repository: source.repository,
      trustedAccount,
      topicKey: this.feature('encryption')
        ? new kms.Key(this, 'NotificationsKey', {
            description: 'CI/CD lab: encrypts the repository notifications topic; its policy lets CodeStar Notifications use it through SNS',
            enableKeyRotation: true,
            pendingWindow: Duration.days(7),
          })
        : undefined,
    });
    const outputs: Record<string, string> = {
      RepositoryName: repositoryName,
      RepositoryCloneUrlGrc: Fn.join('', ['codecommit::', Aws.REGION, '://', repositoryName]),
      RepositoryArn: source.repository.repositoryArn,
      RepositoryNotificationRuleArn: access.notificationRule.attrArn,
      RepositoryNotificationTopicArn: access.topic.topicArn,
      DeveloperRoleArn: access.developerRole.roleArn,
      TrustedAccountId: trustedAccount,
      PipelineName: delivery.pipeline.pipelineName,
      FunctionName: app.functionName,
      AliasName: alias.aliasName,
      DeploymentApplicationName: target.deploymentGroup.application.applicationName,
      DeploymentGroupName: target.deploymentGroup.deploymentGroupName,
      BeforeAllowTrafficHookName: target.beforeAllowTrafficHook.functionName,
      AfterAllowTrafficHookName: target.afterAllowTrafficHook.functionName,
      ...(delivery.notificationTopic && { NotificationTopicArn: delivery.notificationTopic.topicArn }),
      GreetingParameterName: greeting.parameterName,
      ...(delivery.integrationTestStackName !== undefined && { IntegrationTestStackName: delivery.integrationTestStackName }),
      ...(delivery.packageStore && {
        CodeArtifactDomain: delivery.packageStore.domain.attrName,
        CodeArtifactRepository: delivery.packageStore.repository.attrName,
      }),
      BuildProjectName: delivery.buildProject.projectName,
      ArtifactBucketName: artifacts.bucketName,
    };
    if (secret) outputs.ApiTokenSecretArn = secret.secretArn;
    if (this.feature('ecs')) {
      // The construct deploys one target per instance: ECS blue/green is a second, smaller pipeline of its own.
      const ecs = new EcsBlueGreen(this, 'Ecs', { artifactBucket: artifacts, notificationTopic: delivery.notificationTopic });
      const group = ecs.target.deploymentGroup;
      Object.assign(outputs, {
        EcsRepositoryName: ecs.source.repository.repositoryName,
        EcsPipelineName: ecs.delivery.pipeline.pipelineName,
        EcsDeploymentApplicationName: group.application.applicationName,
        EcsDeploymentGroupName: group.deploymentGroupName,
        EcsImageRepositoryUri: ecs.target.imageRepository.repositoryUri,
        EcsTaskDefinitionFamily: ecs.service.taskDefinition.family,
        EcsAfterAllowTestTrafficHookName: ecs.target.afterAllowTestTrafficHook.functionName,
        EcsProductionUrl: Fn.join('', ['http://', ecs.loadBalancer.loadBalancerDnsName, '/']),
        EcsTestUrl: Fn.join('', ['http://', ecs.loadBalancer.loadBalancerDnsName, ':8080/']),
      });
    }
    this.addOutputs(outputs);
  }
}
