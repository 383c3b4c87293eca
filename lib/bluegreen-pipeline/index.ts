import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Aws, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codeartifact from 'aws-cdk-lib/aws-codeartifact';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../core/function';
import { PropsValidator } from '../core/validation';

/** Where the pipeline's source comes from. Give at most one of `repository`, `bucket`, `connection`; none creates a CodeCommit repository. */
export interface PipelineSourceProps {
  /** An existing CodeCommit repository. @default a repository is created (see `initialContents`) */
  readonly repository?: codecommit.IRepository;
  /**
   * A folder whose files become the first commit of the repository the construct creates.
   * @default an empty repository
   */
  readonly initialContents?: string;
  /**
   * A versioned S3 bucket holding the source as a zip at `objectKey`; a new object version starts the pipeline
   * through an EventBridge rule. The bucket must have EventBridge notifications on (`eventBridgeEnabled: true`).
   * @default no S3 source
   */
  readonly bucket?: s3.IBucket;
  /** Key of the source zip in `bucket`. Required with `bucket`. */
  readonly objectKey?: string;
  /**
   * A CodeConnections (formerly CodeStar Connections) connection to GitHub, GitLab or Bitbucket, and the repository.
   * @default no connection source
   */
  readonly connection?: { readonly connectionArn: string; readonly owner: string; readonly repo: string };
  /** Branch that starts the pipeline (CodeCommit and connections). @default 'main' */
  readonly branch?: string;
}

/** The CodeBuild projects of the Build and Test stages. */
export interface PipelineBuildProps {
  /**
   * Environment variables of the build project: `PLAINTEXT`, `PARAMETER_STORE` (value = parameter name) or
   * `SECRETS_MANAGER` (value = secret name or ARN, optionally `:json-key`). CDK grants read access to the named
   * parameters and secrets. @default none
   */
  readonly environmentVariables?: Record<string, codebuild.BuildEnvironmentVariable>;
  /** Buildspec of the Build stage, a path in the source. @default 'buildspec.yml' */
  readonly buildSpecFile?: string;
  /** Buildspec of the Test stage, a path in the build output. @default 'buildspec-test.yml' */
  readonly testSpecFile?: string;
  /** Report group keys under `reports:` in the build's buildspec; created as `<project>-<key>`. @default ['unit-tests'] */
  readonly buildReportGroups?: string[];
  /** Report group keys under `reports:` in the test buildspec. @default ['smoke-tests'] */
  readonly testReportGroups?: string[];
  /**
   * Build cache: `s3` keeps the buildspec's `cache.paths` in the artifact bucket between builds; `local` caches on
   * the build host (source, custom paths), which only helps builds that land on the same host soon after.
   * @default 's3'
   */
  readonly cache?: 's3' | 'local' | 'none';
  /**
   * What happens to the report groups (and their reports) when the construct is removed; `DESTROY` deletes the
   * reports too. @default RemovalPolicy.RETAIN
   */
  readonly reportGroupRemovalPolicy?: RemovalPolicy;
  /** Build timeout. @default 15 minutes */
  readonly timeout?: Duration;
  /**
   * CodeArtifact: a domain, a repository with the public npm registry as upstream, the build logged in to it
   * (`CODEARTIFACT_*` environment variables) and an EventBridge rule on its package-version changes.
   * @default true
   */
  readonly codeArtifact?: boolean;
}

/** How CodeDeploy shifts traffic from the old version to the new one. */
export interface TrafficShiftProps {
  /** `canary`: `percentage` first, the rest after `interval`. `linear`: `percentage` more every `interval`. */
  readonly type: 'canary' | 'linear' | 'all-at-once';
  /** Percentage of traffic per step, a whole number from 1 to 99. Required for canary and linear. */
  readonly percentage?: number;
  /** Wait between steps, whole minutes from 1 to 2,880 (2 days). Required for canary and linear. */
  readonly interval?: Duration;
}

/** Deploys to a Lambda alias with CodeDeploy: traffic shifting, hooks, alarms, automatic rollback. */
export interface LambdaTargetProps {
  /** The alias CodeDeploy shifts; its function is updated and published by the Deploy stage. */
  readonly alias: lambda.Alias;
  /** @default canary 10% for 5 minutes (CodeDeployDefault.LambdaCanary10Percent5Minutes) */
  readonly trafficShift?: TrafficShiftProps;
  /** Health-check invocations each hook makes. @default 3 */
  readonly healthCheckInvocations?: number;
  /**
   * The alias's p99 duration above which the latency alarm fires and the deployment rolls back.
   * @default 80% of `functionTimeout`
   */
  readonly latencyThreshold?: Duration;
  /** The function's timeout, for the latency alarm's default threshold. @default 10 seconds */
  readonly functionTimeout?: Duration;
  /** Extra alarms that roll a deployment back. @default none */
  readonly extraAlarms?: cloudwatch.IAlarm[];
}

/** Deploys to an ECS service with CodeDeploy blue/green: two target groups behind a production and a test listener. */
export interface EcsTargetProps {
  readonly service: ecs.IBaseService;
  readonly blueTargetGroup: elbv2.ITargetGroup;
  readonly greenTargetGroup: elbv2.ITargetGroup;
  readonly listener: elbv2.IApplicationListener;
  /** Listener where the new task set is reachable before production traffic moves: required for test traffic. */
  readonly testListener?: elbv2.IApplicationListener;
  /** Path of the task definition template in the build output. @default 'taskdef.json' */
  readonly taskDefinitionFile?: string;
  /** Path of the ECS AppSpec in the build output. @default 'appspec-ecs.yml' */
  readonly appSpecFile?: string;
  /** @default canary 10% for 5 minutes (CodeDeployDefault.ECSCanary10Percent5Minutes) */
  readonly trafficShift?: TrafficShiftProps;
  /** Alarms that roll a deployment back. @default none */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * The container image the Build stage builds. The construct creates an ECR repository (or uses `repository`),
   * runs the build with Docker and push rights, gives it `IMAGE_REPOSITORY_URI`, and lets the service's task
   * execution role pull. The build writes `imageDetail.json` (`{"ImageURI": "<uri>:<tag>"}`) to its output, and the
   * deploy action puts that URI where the task definition template says `"image": "<IMAGE1_NAME>"`.
   * `false`: the task definition template names its image itself.
   * @default an ECR repository created by the construct (scan on push, immutable tags, last 10 images; retained on delete)
   */
  readonly image?: false | { readonly repository?: ecr.IRepository };
  /**
   * The `AfterAllowTestTraffic` hook: once the test listener routes to the replacement task set, and before any
   * production traffic moves, it requests the test listener and reports Failed (CodeDeploy rolls back) unless every
   * answer is 2xx. Its function name is `AFTER_ALLOW_TEST_TRAFFIC_HOOK` in the build environment: the AppSpec
   * must name it under `Hooks`. The hook runs outside any VPC, so the test listener must be reachable from the
   * internet. `false`: no hook. @default the hook with `TestTrafficCheckProps` defaults
   */
  readonly testTrafficCheck?: false | TestTrafficCheckProps;
}

/** What the ECS `AfterAllowTestTraffic` hook requests on the test listener. */
export interface TestTrafficCheckProps {
  /**
   * URL requested. @default `http://<load balancer DNS name>:<port><path>` of `testListener` when it is an HTTP
   * listener this app defines (an HTTPS certificate would not match the load balancer's DNS name: give the URL)
   */
  readonly url?: string;
  /** Path requested when the URL is derived from the listener. @default '/' */
  readonly path?: string;
  /** Requests made, each must answer 2xx: a whole number from 1 to 50. @default 3 */
  readonly requests?: number;
  /**
   * Require each answer to contain `<family>:<revision>` of the task definition the replacement task set runs,
   * which proves the test listener reaches the new tasks and not the old ones. @default false
   */
  readonly expectTaskDefinitionInBody?: boolean;
}

export interface BlueGreenPipelineProps {
  /** @default a CodeCommit repository created by the construct */
  readonly source?: PipelineSourceProps;
  readonly build?: PipelineBuildProps;
  /** The deploy target: exactly one of `lambda` and `ecs`. */
  readonly lambda?: LambdaTargetProps;
  readonly ecs?: EcsTargetProps;
  /**
   * Manual approval before the Deploy stage, notifying `topic` and/or `emails`; without either it notifies the
   * notifications topic. `false` removes the approval. @default an approval notifying the notifications topic
   */
  readonly approval?: false | { readonly topic?: sns.ITopic; readonly emails?: string[]; readonly timeout?: Duration };
  /**
   * Failure notifications: EventBridge rules for failed builds, pipeline executions and deployments, and a
   * `FailedBuilds` alarm, to this topic. `false` turns them off. @default a topic created by the construct
   */
  readonly notifications?: false | { readonly topic?: sns.ITopic };
  /**
   * Create an integration-test stack (CloudFormation CREATE_UPDATE) before the Test stage's action and delete it
   * (DELETE_ONLY) after it, from `integration-test.template.json` in the build output. @default true
   */
  readonly integrationTestStack?: boolean;
  /** Bucket for pipeline artifacts, build logs and the build cache. @default a bucket with SSE-S3, retained on delete */
  readonly artifactBucket?: s3.IBucket;
  /** Retention of the CodeBuild log group. @default one month */
  readonly logRetention?: logs.RetentionDays;
}

const PREDEFINED_LAMBDA_CONFIGS: Record<string, codedeploy.ILambdaDeploymentConfig> = {
  'canary-10-5': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
  'canary-10-10': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
  'canary-10-15': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_15MINUTES,
  'canary-10-30': codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_30MINUTES,
  'linear-10-1': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
  'linear-10-2': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_2MINUTES,
  'linear-10-3': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES,
  'linear-10-10': codedeploy.LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_10MINUTES,
};
const DEFAULT_SHIFT: TrafficShiftProps = { type: 'canary', percentage: 10, interval: Duration.minutes(5) };
/** CodeDeploy's limit on the total wait of a deployment configuration. */
const MAX_SHIFT_MINUTES = 2880;

/** The action the pipeline's Deploy stage runs (a CodeBuild project: CodePipeline has no CodeDeploy-for-Lambda action). */
const LAMBDA_DEPLOY_SCRIPT = [
  'set -euo pipefail',
  'test -f "$PACKAGE_FILE" || { echo "the build output has no $PACKAGE_FILE"; exit 1; }',
  'test -f "$APPSPEC_FILE" || { echo "the build output has no $APPSPEC_FILE"; exit 1; }',
  'CURRENT=$(aws lambda get-alias --function-name "$FUNCTION_NAME" --name "$ALIAS_NAME" --query FunctionVersion --output text)',
  'aws lambda update-function-code --function-name "$FUNCTION_NAME" --zip-file "fileb://$PACKAGE_FILE" --query LastUpdateStatus --output text',
  'aws lambda wait function-updated-v2 --function-name "$FUNCTION_NAME"',
  'TARGET_VERSION=$(aws lambda publish-version --function-name "$FUNCTION_NAME" --description "pipeline execution $PIPELINE_EXECUTION_ID" --query Version --output text)',
  'if [ "$TARGET_VERSION" = "$CURRENT" ]; then echo "version $TARGET_VERSION is already live: nothing to shift"; exit 0; fi',
  'APPSPEC=$(sed -e "s|{{FunctionName}}|$FUNCTION_NAME|g; s|{{AliasName}}|$ALIAS_NAME|g; s|{{CurrentVersion}}|$CURRENT|g; s|{{TargetVersion}}|$TARGET_VERSION|g; s|{{BeforeAllowTrafficHook}}|$BEFORE_ALLOW_TRAFFIC_HOOK|g; s|{{AfterAllowTrafficHook}}|$AFTER_ALLOW_TRAFFIC_HOOK|g" "$APPSPEC_FILE")',
  'REVISION=$(jq -n --arg content "$APPSPEC" \'{revisionType: "AppSpecContent", appSpecContent: {content: $content}}\')',
  'DEPLOYMENT_ID=$(aws deploy create-deployment --application-name "$APPLICATION_NAME" --deployment-group-name "$DEPLOYMENT_GROUP_NAME" --revision "$REVISION" --description "pipeline execution $PIPELINE_EXECUTION_ID: $CURRENT -> $TARGET_VERSION" --query deploymentId --output text)',
  'echo "CodeDeploy deployment $DEPLOYMENT_ID shifts $ALIAS_NAME from version $CURRENT to $TARGET_VERSION"',
  'if ! aws deploy wait deployment-successful --deployment-id "$DEPLOYMENT_ID"; then aws deploy get-deployment --deployment-id "$DEPLOYMENT_ID" --query "deploymentInfo.{status: status, error: errorInformation, rollback: rollbackInfo}"; exit 1; fi',
].join('\n');

/**
 * A blue/green delivery pipeline: CodePipeline V2 (source → build → test → approval → deploy) whose Deploy stage
 * shifts a Lambda alias (or an ECS service) to the new version with CodeDeploy, guarded by hook functions and
 * alarms that roll it back; with failure notifications, CloudFormation integration-test actions and CodeArtifact.
 */
export class BlueGreenPipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  public readonly artifactBucket: s3.IBucket;
  /** The CodeCommit repository, when the source is one (created or given). */
  public readonly repository?: codecommit.IRepository;
  public readonly buildProject: codebuild.PipelineProject;
  public readonly testProject: codebuild.PipelineProject;
  /** The project the Deploy stage runs to publish a version and start the CodeDeploy deployment (Lambda target). */
  public readonly deployProject?: codebuild.PipelineProject;
  public readonly buildLogGroup: logs.LogGroup;
  public readonly reportGroups: codebuild.ReportGroup[] = [];
  public readonly lambdaDeploymentGroup?: codedeploy.LambdaDeploymentGroup;
  public readonly ecsDeploymentGroup?: codedeploy.EcsDeploymentGroup;
  public readonly beforeAllowTrafficHook?: lambda.IFunction;
  public readonly afterAllowTrafficHook?: lambda.IFunction;
  /** The ECS target's `AfterAllowTestTraffic` hook. */
  public readonly afterAllowTestTrafficHook?: lambda.Function;
  /** The repository the ECS target's images are pushed to. */
  public readonly imageRepository?: ecr.IRepository;
  /** Alarms that roll a deployment back. */
  public readonly rollbackAlarms: cloudwatch.IAlarm[] = [];
  public readonly notificationTopic?: sns.ITopic;
  public readonly failedBuildsAlarm?: cloudwatch.Alarm;
  public readonly codeArtifactDomain?: codeartifact.CfnDomain;
  public readonly codeArtifactRepository?: codeartifact.CfnRepository;
  /** Name of the integration-test stack the Test stage creates and deletes. */
  public readonly integrationTestStackName?: string;
  /**
   * This construct's path below its stack as a name part (`Ecs/Delivery` → `Ecs-Delivery`): the repository, the
   * projects and the integration-test stack are named `<stack>-<nameInStack>...`, so two pipelines in one stack
   * never collide, whatever their ids.
   */
  private readonly nameInStack: string;

  constructor(scope: Construct, id: string, props: BlueGreenPipelineProps) {
    super(scope, id);
    validate(this, props);
    this.nameInStack = nameInStack(this);

    const buildProps = props.build ?? {};
    this.artifactBucket = props.artifactBucket ?? this.createArtifactBucket();
    if (props.notifications !== false) {
      this.notificationTopic = props.notifications?.topic ?? this.createTopic();
    }
    this.buildLogGroup = new logs.LogGroup(this, 'BuildLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Source
    const sourceOutput = new codepipeline.Artifact('Source');
    const source = props.source ?? {};
    const branch = source.branch ?? 'main';
    let sourceAction: codepipeline.IAction;
    if (source.bucket) {
      sourceAction = new actions.S3SourceAction({
        actionName: 'S3',
        bucket: source.bucket,
        bucketKey: source.objectKey ?? '',
        output: sourceOutput,
        trigger: actions.S3Trigger.NONE,
      });
    } else if (source.connection) {
      sourceAction = new actions.CodeStarConnectionsSourceAction({
        actionName: 'Connection',
        connectionArn: source.connection.connectionArn,
        owner: source.connection.owner,
        repo: source.connection.repo,
        branch,
        output: sourceOutput,
      });
    } else {
      this.repository =
        source.repository ??
        new codecommit.Repository(this, 'Repository', {
          // Unique per stack and Region without a hard-coded name.
          repositoryName: Fn.join('-', [Aws.STACK_NAME, this.nameInStack.toLowerCase()]),
          description: `Source of ${this.node.path}`,
          code: source.initialContents ? codecommit.Code.fromDirectory(source.initialContents, branch) : undefined,
        });
      sourceAction = new actions.CodeCommitSourceAction({
        actionName: 'CodeCommit',
        repository: this.repository,
        branch,
        output: sourceOutput,
        trigger: actions.CodeCommitTrigger.EVENTS,
      });
    }

    // Build and Test projects
    const buildProjectName = Fn.join('-', [Aws.STACK_NAME, this.nameInStack, 'build']);
    const testProjectName = Fn.join('-', [Aws.STACK_NAME, this.nameInStack, 'test']);
    const environment: codebuild.BuildEnvironment = {
      buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
      computeType: codebuild.ComputeType.SMALL,
    };
    const logging = (prefix: string): codebuild.LoggingOptions => ({
      cloudWatch: { logGroup: this.buildLogGroup, prefix },
      s3: { bucket: this.artifactBucket, prefix: `build-logs/${prefix}`, encrypted: true },
    });
    const environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = { ...buildProps.environmentVariables };
    if (buildProps.codeArtifact !== false) {
      const packages = this.createCodeArtifact();
      this.codeArtifactDomain = packages.domain;
      this.codeArtifactRepository = packages.repository;
      Object.assign(environmentVariables, packages.environment);
    }

    if (props.ecs && props.ecs.image !== false) {
      this.imageRepository = props.ecs.image?.repository ?? this.createImageRepository();
      environmentVariables.IMAGE_REPOSITORY_URI = { value: this.imageRepository.repositoryUri };
    }
    if (props.ecs && props.ecs.testTrafficCheck !== false) {
      this.afterAllowTestTrafficHook = this.createTestTrafficHook(props.ecs);
      environmentVariables.AFTER_ALLOW_TEST_TRAFFIC_HOOK = { value: this.afterAllowTestTrafficHook.functionName };
    }

    const cacheKind = buildProps.cache ?? 's3';
    this.buildProject = new codebuild.PipelineProject(this, 'BuildProject', {
      projectName: buildProjectName,
      description: `Build stage of ${this.node.path}`,
      buildSpec: codebuild.BuildSpec.fromSourceFilename(buildProps.buildSpecFile ?? 'buildspec.yml'),
      // docker build needs the Docker daemon, which CodeBuild runs only in privileged mode.
      environment: { ...environment, privileged: this.imageRepository !== undefined },
      environmentVariables,
      timeout: buildProps.timeout ?? Duration.minutes(15),
      logging: logging('build'),
      cache:
        cacheKind === 's3'
          ? codebuild.Cache.bucket(this.artifactBucket, { prefix: 'build-cache' })
          : cacheKind === 'local'
            ? codebuild.Cache.local(codebuild.LocalCacheMode.SOURCE, codebuild.LocalCacheMode.CUSTOM)
            : codebuild.Cache.none(),
    });
    this.testProject = new codebuild.PipelineProject(this, 'TestProject', {
      projectName: testProjectName,
      description: `Test stage of ${this.node.path}`,
      buildSpec: codebuild.BuildSpec.fromSourceFilename(buildProps.testSpecFile ?? 'buildspec-test.yml'),
      environment,
      timeout: buildProps.timeout ?? Duration.minutes(15),
      logging: logging('test'),
    });
    const reportRemoval = buildProps.reportGroupRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.addReportGroups(this.buildProject, buildProjectName, buildProps.buildReportGroups ?? ['unit-tests'], reportRemoval);
    this.addReportGroups(this.testProject, testProjectName, buildProps.testReportGroups ?? ['smoke-tests'], reportRemoval);
    if (this.codeArtifactDomain && this.codeArtifactRepository) this.grantCodeArtifactRead(this.buildProject);
    if (this.imageRepository) {
      this.imageRepository.grantPullPush(this.buildProject);
      acknowledgeEcrLogin(this.buildProject.role!);
    }

    const buildOutput = new codepipeline.Artifact('BuildOutput');
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Build',
      project: this.buildProject,
      input: sourceOutput,
      outputs: [buildOutput],
      variablesNamespace: 'Build',
    });

    // Test stage: integration-test stack around the smoke tests
    const testActions: codepipeline.IAction[] = [];
    const testEnvironment: Record<string, codebuild.BuildEnvironmentVariable> = {
      PIPELINE_EXECUTION_ID: { value: codepipeline.GlobalVariables.executionId },
    };
    if (props.integrationTestStack !== false) {
      const stackName = Fn.join('-', [Aws.STACK_NAME, this.nameInStack, 'integration-test']);
      this.integrationTestStackName = stackName;
      const deploymentRole = new iam.Role(this, 'IntegrationTestStackRole', {
        assumedBy: new iam.ServicePrincipal('cloudformation.amazonaws.com'),
        description: `CloudFormation role of the integration-test stack of ${this.node.path}: its SSM parameter only`,
      });
      const parameterArn = Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: Fn.join('', [stackName, '/*']) });
      deploymentRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:PutParameter', 'ssm:DeleteParameter', 'ssm:GetParameters', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource'],
          resources: [parameterArn],
        }),
      );
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Action::cloudformation:DescribeStack*]',
        reason: "CDK's grant to the CloudFormation actions: DescribeStacks, DescribeStackEvents and DescribeStackResources, on the integration-test stack only.",
      });
      Validations.of(this).acknowledge({
        id: 'AwsSolutions-IAM5[Action::cloudformation:GetTemplate*]',
        reason: "CDK's grant to the CREATE_UPDATE action: GetTemplate and GetTemplateSummary, on the integration-test stack only.",
      });
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/<AWS::StackName>-${this.nameInStack}-integration-test/*]`,
        reason: 'A stack ARN ends in an id CloudFormation assigns at creation: stack/<name>/* names the integration-test stack only.',
      });
      this.acknowledgeParameterWildcard(deploymentRole, 'the parameters of the integration-test stack are named /<stack>/<name> by its template');
      testActions.push(
        new actions.CloudFormationCreateUpdateStackAction({
          actionName: 'CreateIntegrationTestStack',
          runOrder: 1,
          stackName,
          templatePath: buildOutput.atPath('integration-test.template.json'),
          adminPermissions: false,
          deploymentRole,
          parameterOverrides: { ExecutionId: codepipeline.GlobalVariables.executionId },
          variablesNamespace: 'IntegrationTest',
        }),
      );
      testEnvironment.INTEGRATION_PARAMETER = { value: '#{IntegrationTest.ParameterName}' };
      this.testProject.addToRolePolicy(new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [parameterArn] }));
      this.acknowledgeParameterWildcard(this.testProject.role!, 'the smoke tests read the integration-test stack parameter, named /<stack>/<name>');
      testActions.push(
        new actions.CodeBuildAction({
          actionName: 'SmokeTests',
          runOrder: 2,
          type: actions.CodeBuildActionType.TEST,
          project: this.testProject,
          input: buildOutput,
          environmentVariables: testEnvironment,
        }),
        new actions.CloudFormationDeleteStackAction({
          actionName: 'DeleteIntegrationTestStack',
          runOrder: 3,
          stackName,
          adminPermissions: false,
          deploymentRole,
        }),
      );
    } else {
      testActions.push(
        new actions.CodeBuildAction({
          actionName: 'SmokeTests',
          type: actions.CodeBuildActionType.TEST,
          project: this.testProject,
          input: buildOutput,
          environmentVariables: testEnvironment,
        }),
      );
    }

    // Deploy target
    let deployAction: codepipeline.IAction;
    if (props.lambda) {
      const deployed = this.lambdaTarget(props.lambda, buildOutput, environment, logging('deploy'));
      deployAction = deployed.action;
      this.lambdaDeploymentGroup = deployed.group;
      this.beforeAllowTrafficHook = deployed.hooks.BeforeAllowTraffic;
      this.afterAllowTrafficHook = deployed.hooks.AfterAllowTraffic;
      this.deployProject = deployed.project;
    } else {
      const deployed = this.ecsTarget(props.ecs as EcsTargetProps, buildOutput);
      deployAction = deployed.action;
      this.ecsDeploymentGroup = deployed.group;
    }

    const stages: codepipeline.StageProps[] = [
      { stageName: 'Source', actions: [sourceAction] },
      { stageName: 'Build', actions: [buildAction] },
      { stageName: 'Test', actions: testActions },
    ];
    if (props.approval !== false) {
      const approval = props.approval ?? {};
      stages.push({
        stageName: 'Approval',
        actions: [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            notificationTopic: approval.topic ?? (approval.emails ? undefined : this.notificationTopic),
            notifyEmails: approval.emails,
            additionalInformation: `Release #{Build.RELEASE} passed its tests. Approve to shift traffic to it.`,
            timeout: approval.timeout,
          }),
        ],
      });
    }
    stages.push({ stageName: 'Deploy', actions: [deployAction] });

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: this.artifactBucket,
      crossAccountKeys: false,
      restartExecutionOnUpdate: false,
      stages,
    });

    if (props.ecs) {
      Validations.of(this.pipeline).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "CDK's CodeDeployToECS action role: ecs:RegisterTaskDefinition has no resource ARN, and iam:PassRole covers the " +
          'task and execution roles taskdef.json names at run time, limited to ecs-tasks.amazonaws.com by iam:PassedToService.',
      });
    }
    if (source.bucket) {
      // EventBridge instead of the CloudTrail trail S3Trigger.EVENTS needs: one rule on the key's new versions.
      new events.Rule(this, 'SourceObjectCreated', {
        description: `Starts ${this.node.path} when a new version of the source zip is uploaded`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: { bucket: { name: [source.bucket.bucketName] }, object: { key: [source.objectKey ?? ''] } },
        },
        targets: [new targets.CodePipeline(this.pipeline)],
      });
    }
    if (this.notificationTopic) this.failedBuildsAlarm = this.addNotifications(this.notificationTopic);

    const projects = [this.buildProject, this.testProject, ...(this.deployProject ? [this.deployProject] : [])];
    for (const scope of [this.pipeline, ...projects]) this.acknowledgeArtifactGrants(scope);
    for (const project of projects) {
      const projectId = Stack.of(this).getLogicalId(project.node.defaultChild as codebuild.CfnProject);
      Validations.of(project.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${projectId}>-*]`,
        reason:
          "CodeBuild's default grant to the report groups CodeBuild names <project>-<key> from the buildspec's reports " +
          'section; this construct creates those groups in the stack, so nothing is created outside it.',
      });
      Validations.of(project).acknowledge({
        id: 'AwsSolutions-CB4',
        reason:
          'Build artifacts and logs are encrypted with the AWS managed key for S3 (aws/s3), which CodeBuild uses when no ' +
          'key is given; a customer managed key would add $1/month and key-policy upkeep for no added control here.',
      });
      Validations.of(project.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${Stack.of(this).getLogicalId(project.node.defaultChild as codebuild.CfnProject)}>:*]`,
        reason:
          "CodeBuild's grant to its default log group /aws/codebuild/<project>: log streams are named by build id at run " +
          'time. This construct sends the logs to its own log group (and S3), so the default group stays empty.',
      });
    }
  }

  private createArtifactBucket(): s3.Bucket {
    const bucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeArtifactBucketLogs(bucket);
    return bucket;
  }

  private createImageRepository(): ecr.Repository {
    return new ecr.Repository(this, 'Images', {
      imageScanOnPush: true,
      // A tag names one image forever: what a deployment ran can always be found again.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      lifecycleRules: [{ description: 'Keep the last 10 images: enough to roll back', maxImageCount: 10 }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The ECS AfterAllowTestTraffic hook; its deployment-group settings and grants are added by ecsTarget. */
  private createTestTrafficHook(target: EcsTargetProps): SafeNodejsFunction {
    const check = target.testTrafficCheck || {};
    const requests = check.requests ?? 3;
    return new SafeNodejsFunction(this, 'AfterAllowTestTrafficHook', {
      entry: path.join(__dirname, '../../lambda/deploy-hooks/ecs.ts'),
      description: `CodeDeploy AfterAllowTestTraffic hook of ${this.node.path}: requests the test listener, then PutLifecycleEventHookExecutionStatus`,
      // requests × the handler's 5-second request timeout, and the CodeDeploy and ECS reads around them.
      timeout: Duration.seconds(60 + 5 * requests),
      environment: {
        HOOK: 'AfterAllowTestTraffic',
        TEST_URL: check.url ?? testListenerUrl(target.testListener as elbv2.ApplicationListener, check.path ?? '/'),
        REQUESTS: String(requests),
        EXPECT_TASK_DEFINITION: String(check.expectTaskDefinitionInBody ?? false),
        CLUSTER_NAME: target.service.cluster.clusterName,
        SERVICE_NAME: target.service.serviceName,
        POWERTOOLS_SERVICE_NAME: 'deploy-hooks',
      },
    });
  }

  private createTopic(): sns.Topic {
    const topic = new sns.Topic(this, 'Notifications', { enforceSSL: true });
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'EventBridge rules and CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; a ' +
        'customer managed key would add $1/month. The topic carries build, pipeline and alarm state changes, no data.',
    });
    return topic;
  }

  private addReportGroups(project: codebuild.PipelineProject, projectName: string, keys: string[], removalPolicy: RemovalPolicy): void {
    for (const key of keys) {
      // CodeBuild would create `<project>-<key>` itself on the first report, outside the stack: created here, it is
      // deleted with the stack.
      const group = new codebuild.ReportGroup(this, `Reports-${key}-${this.reportGroups.length}`, {
        reportGroupName: Fn.join('-', [projectName, key]),
        type: codebuild.ReportGroupType.TEST,
        removalPolicy,
        deleteReports: removalPolicy === RemovalPolicy.DESTROY,
      });
      group.grantWrite(project);
      this.reportGroups.push(group);
    }
  }

  private createCodeArtifact(): {
    domain: codeartifact.CfnDomain;
    repository: codeartifact.CfnRepository;
    environment: Record<string, codebuild.BuildEnvironmentVariable>;
  } {
    // Domain names are unique per account and Region, lowercase, start with a letter and have at most 50
    // characters: this construct's place in the stack and the stack's UUID, not a hard-coded name.
    const stackUuid = Fn.select(2, Fn.split('/', Aws.STACK_ID));
    const domainName = Fn.join('-', ['pkg', this.nameInStack.toLowerCase(), Fn.select(0, Fn.split('-', stackUuid))]);
    const domain = new codeartifact.CfnDomain(this, 'PackageDomain', { domainName });
    const npmStore = new codeartifact.CfnRepository(this, 'NpmStore', {
      domainName: domain.attrName,
      repositoryName: Fn.join('-', [domainName, 'npm-store']),
      description: 'Proxy and cache of the public npm registry',
      externalConnections: ['public:npmjs'],
    });
    const repository = new codeartifact.CfnRepository(this, 'PackageRepository', {
      domainName: domain.attrName,
      repositoryName: Fn.join('-', [domainName, 'app']),
      description: `Packages of ${this.node.path}; public npm packages through its upstream`,
      upstreams: [npmStore.attrName],
    });
    return {
      domain,
      repository,
      environment: {
        CODEARTIFACT_DOMAIN: { value: domain.attrName },
        CODEARTIFACT_DOMAIN_OWNER: { value: domain.attrOwner },
        CODEARTIFACT_REPOSITORY: { value: repository.attrName },
      },
    };
  }

  private grantCodeArtifactRead(project: codebuild.PipelineProject): void {
    const domain = this.codeArtifactDomain as codeartifact.CfnDomain;
    const repository = this.codeArtifactRepository as codeartifact.CfnRepository;
    const packageArn = Stack.of(this).formatArn({
      service: 'codeartifact',
      resource: 'package',
      resourceName: Fn.join('/', [domain.attrName, repository.attrName, '*']),
    });
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['codeartifact:GetAuthorizationToken'], resources: [domain.attrArn] }));
    project.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository'], resources: [repository.attrArn] }),
    );
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['codeartifact:ReadFromRepository'], resources: [packageArn] }));
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['sts:GetServiceBearerToken'],
        resources: ['*'],
        conditions: { StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } },
      }),
    );
    Validations.of(project.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'sts:GetServiceBearerToken has no resource ARN (IAM requires "*"); the statement is limited to CodeArtifact by sts:AWSServiceName.',
    });
    Validations.of(project.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codeartifact:<AWS::Region>:<AWS::AccountId>:package/<${Stack.of(this).getLogicalId(domain)}.Name>/<${Stack.of(this).getLogicalId(repository)}.Name>/*]`,
      reason: 'npm install reads whichever package versions the lockfile names, all in this one CodeArtifact repository.',
    });
  }

  /** CDK's grants on the artifact bucket to the pipeline, its action roles and the CodeBuild projects. */
  private acknowledgeArtifactGrants(scope: Construct): void {
    const reason =
      "CDK's read/write grant on the pipeline's artifact bucket: artifacts are objects named per execution at run time, " +
      'so the grant covers <bucket>/* with the action groups of grantReadWrite, on this one bucket only.';
    const bucket = this.artifactBucket.node.defaultChild as s3.CfnBucket | undefined;
    const ids = ['Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*'];
    if (bucket) ids.push(`Resource::<${Stack.of(bucket).getLogicalId(bucket)}.Arn>/*`);
    for (const id of ids) Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${id}]`, reason });
  }

  private acknowledgeParameterWildcard(role: iam.IRole, why: string): void {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/<AWS::StackName>-${this.nameInStack}-integration-test/*]`,
      reason: `SSM parameters under one path: ${why}.`,
    });
  }

  private lambdaTarget(
    target: LambdaTargetProps,
    buildOutput: codepipeline.Artifact,
    environment: codebuild.BuildEnvironment,
    logging: codebuild.LoggingOptions,
  ): {
    action: codepipeline.IAction;
    group: codedeploy.LambdaDeploymentGroup;
    hooks: Record<'BeforeAllowTraffic' | 'AfterAllowTraffic', lambda.IFunction>;
    project: codebuild.PipelineProject;
  } {
    const fn = target.alias.version.lambda;
    const timeout = target.functionTimeout ?? Duration.seconds(10);
    const hooks: Record<'BeforeAllowTraffic' | 'AfterAllowTraffic', SafeNodejsFunction> = {} as never;
    for (const hook of ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const) {
      const hookFn = new SafeNodejsFunction(this, `${hook}Hook`, {
        entry: path.join(__dirname, '../../lambda/deploy-hooks/index.ts'),
        description: `CodeDeploy ${hook} hook of ${this.node.path}: health checks, then PutLifecycleEventHookExecutionStatus`,
        timeout: Duration.seconds(60),
        environment: {
          HOOK: hook,
          TARGET_FUNCTION_NAME: fn.functionName,
          TARGET_ALIAS_NAME: target.alias.aliasName,
          HEALTH_CHECK_INVOCATIONS: String(target.healthCheckInvocations ?? 3),
          POWERTOOLS_SERVICE_NAME: 'deploy-hooks',
        },
      });
      // Versions are published by the pipeline, unknown at synth: the hook may invoke any qualifier of this function.
      hookFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${fn.functionArn}:*`] }));
      if (hook === 'AfterAllowTraffic') {
        hookFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias'], resources: [fn.functionArn, target.alias.functionArn] }));
      }
      Validations.of(hookFn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: `the hook invokes the versions the pipeline publishes (<function>:*), unknown at synth, of ${fn.node.path} only.`,
      });
      hooks[hook] = hookFn;
    }

    const errors = new cloudwatch.Alarm(this, 'AliasErrorsAlarm', {
      alarmDescription: `Rolls back a deployment of ${target.alias.node.path} when the alias returns errors`,
      metric: target.alias.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const latency = new cloudwatch.Alarm(this, 'AliasLatencyAlarm', {
      alarmDescription: `Rolls back a deployment of ${target.alias.node.path} when its p99 duration nears the timeout`,
      metric: target.alias.metricDuration({ period: Duration.minutes(1), statistic: 'p99' }),
      threshold: (target.latencyThreshold ?? Duration.millis(timeout.toMilliseconds() * 0.8)).toMilliseconds(),
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.rollbackAlarms.push(errors, latency, ...(target.extraAlarms ?? []));

    const group = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      alias: target.alias,
      deploymentConfig: this.lambdaDeploymentConfig(target.trafficShift ?? DEFAULT_SHIFT),
      alarms: this.rollbackAlarms,
      preHook: hooks.BeforeAllowTraffic,
      postHook: hooks.AfterAllowTraffic,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    for (const hook of Object.values(hooks)) {
      // The hooks read the deployment's AppSpec to learn the versions; CDK grants PutLifecycleEventHookExecutionStatus.
      hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [group.deploymentGroupArn] }));
      acknowledgeHookInvokeGrant(group, hook);
    }
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "LambdaDeploymentGroup attaches CodeDeploy's own service-role policy for Lambda: it lets CodeDeploy read alarms, " +
        'update aliases and invoke CodeDeployHook_* functions; CDK grants the invoke of these hooks separately.',
    });

    const project = new codebuild.PipelineProject(this, 'DeployProject', {
      description: `Deploy stage of ${this.node.path}: publishes a version of ${fn.node.path} and shifts its alias with CodeDeploy`,
      environment,
      logging,
      timeout: Duration.minutes(90),
      environmentVariables: {
        FUNCTION_NAME: { value: fn.functionName },
        ALIAS_NAME: { value: target.alias.aliasName },
        APPLICATION_NAME: { value: group.application.applicationName },
        DEPLOYMENT_GROUP_NAME: { value: group.deploymentGroupName },
        BEFORE_ALLOW_TRAFFIC_HOOK: { value: hooks.BeforeAllowTraffic.functionName },
        AFTER_ALLOW_TRAFFIC_HOOK: { value: hooks.AfterAllowTraffic.functionName },
        PACKAGE_FILE: { value: 'function.zip' },
        APPSPEC_FILE: { value: 'appspec.yml' },
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { shell: 'bash', 'exported-variables': ['TARGET_VERSION', 'DEPLOYMENT_ID'] },
        phases: { build: { commands: [LAMBDA_DEPLOY_SCRIPT] } },
      }),
    });
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:PublishVersion'],
        resources: [fn.functionArn, target.alias.functionArn],
      }),
    );
    project.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:CreateDeployment', 'codedeploy:GetDeployment'], resources: [group.deploymentGroupArn] }),
    );
    project.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [group.deploymentConfig.deploymentConfigArn] }),
    );
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codedeploy:RegisterApplicationRevision', 'codedeploy:GetApplicationRevision'],
        resources: [group.application.applicationArn],
      }),
    );
    const action = new actions.CodeBuildAction({
      actionName: 'ShiftTraffic',
      project,
      input: buildOutput,
      environmentVariables: { PIPELINE_EXECUTION_ID: { value: codepipeline.GlobalVariables.executionId } },
      variablesNamespace: 'Deploy',
    });
    return { action, group, hooks, project };
  }

  private lambdaDeploymentConfig(shift: TrafficShiftProps): codedeploy.ILambdaDeploymentConfig {
    if (shift.type === 'all-at-once') return codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE;
    const percentage = shift.percentage as number;
    const minutes = (shift.interval as Duration).toMinutes();
    const predefined = PREDEFINED_LAMBDA_CONFIGS[`${shift.type}-${percentage}-${minutes}`];
    if (predefined) return predefined;
    return new codedeploy.LambdaDeploymentConfig(this, 'TrafficShift', {
      trafficRouting:
        shift.type === 'canary'
          ? codedeploy.TrafficRouting.timeBasedCanary({ percentage, interval: shift.interval as Duration })
          : codedeploy.TrafficRouting.timeBasedLinear({ percentage, interval: shift.interval as Duration }),
    });
  }

  private ecsTarget(
    target: EcsTargetProps,
    buildOutput: codepipeline.Artifact,
  ): { action: codepipeline.IAction; group: codedeploy.EcsDeploymentGroup } {
    const shift = target.trafficShift ?? DEFAULT_SHIFT;
    const deploymentConfig =
      shift.type === 'all-at-once'
        ? codedeploy.EcsDeploymentConfig.ALL_AT_ONCE
        : new codedeploy.EcsDeploymentConfig(this, 'TrafficShift', {
            trafficRouting:
              shift.type === 'canary'
                ? codedeploy.TrafficRouting.timeBasedCanary({ percentage: shift.percentage as number, interval: shift.interval as Duration })
                : codedeploy.TrafficRouting.timeBasedLinear({ percentage: shift.percentage as number, interval: shift.interval as Duration }),
          });
    this.rollbackAlarms.push(...(target.alarms ?? []));
    const group = new codedeploy.EcsDeploymentGroup(this, 'EcsDeploymentGroup', {
      service: target.service,
      deploymentConfig,
      alarms: this.rollbackAlarms,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: this.rollbackAlarms.length > 0 },
      blueGreenDeploymentConfig: {
        blueTargetGroup: target.blueTargetGroup,
        greenTargetGroup: target.greenTargetGroup,
        listener: target.listener,
        testListener: target.testListener,
        deploymentApprovalWaitTime: Duration.minutes(0),
        terminationWaitTime: Duration.minutes(5),
      },
    });
    const hook = this.afterAllowTestTrafficHook;
    if (hook) {
      // AWSCodeDeployRoleForECS invokes only functions named CodeDeployHook_*: this grant covers the hook by name.
      hook.grantInvoke(group.role);
      acknowledgeHookInvokeGrant(group, hook);
      hook.addEnvironment('APPLICATION_NAME', group.application.applicationName);
      hook.addEnvironment('DEPLOYMENT_GROUP_NAME', group.deploymentGroupName);
      hook.addToRolePolicy(
        new iam.PolicyStatement({
          actions: [
            'codedeploy:GetDeployment',
            'codedeploy:ListDeploymentTargets',
            'codedeploy:GetDeploymentTarget',
            'codedeploy:PutLifecycleEventHookExecutionStatus',
          ],
          resources: [group.deploymentGroupArn],
        }),
      );
      const taskSets = Stack.of(this).formatArn({
        service: 'ecs',
        resource: 'task-set',
        resourceName: Fn.join('/', [target.service.cluster.clusterName, target.service.serviceName, '*']),
      });
      // Authorized on the task sets; the service ARN is listed too in case IAM evaluates the call against the service.
      hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTaskSets'], resources: [taskSets, target.service.serviceArn] }));
      Validations.of(hook.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-set/${findingText(this, target.service.cluster.clusterName)}/${findingText(this, target.service.serviceName)}/*]`,
        reason: 'CodeDeploy creates a task set per deployment with an id assigned at run time: the hook reads the task sets of this one service.',
      });
    }
    if (this.imageRepository && target.service instanceof ecs.BaseService) {
      // The task definitions a release registers name the service's execution role (see the lab's taskdef template).
      const executionRole = target.service.taskDefinition.obtainExecutionRole();
      this.imageRepository.grantPull(executionRole);
      acknowledgeEcrLogin(executionRole);
    }
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]',
      reason:
        "EcsDeploymentGroup attaches CodeDeploy's own service-role policy for ECS blue/green: it lets CodeDeploy create " +
        'and delete task sets, modify the listeners and rules, read alarms and invoke CodeDeployHook_* functions.',
    });
    const action = new actions.CodeDeployEcsDeployAction({
      actionName: 'ShiftTraffic',
      deploymentGroup: group,
      taskDefinitionTemplateFile: buildOutput.atPath(target.taskDefinitionFile ?? 'taskdef.json'),
      appSpecTemplateFile: buildOutput.atPath(target.appSpecFile ?? 'appspec-ecs.yml'),
      containerImageInputs: this.imageRepository ? [{ input: buildOutput, taskDefinitionPlaceholder: ECS_IMAGE_PLACEHOLDER }] : undefined,
    });
    return { action, group };
  }

  private addNotifications(topic: sns.ITopic): cloudwatch.Alarm {
    const projects = [this.buildProject, this.testProject, ...(this.deployProject ? [this.deployProject] : [])];
    new events.Rule(this, 'BuildFailedRule', {
      description: `Failed CodeBuild builds of ${this.node.path}`,
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: { 'build-status': ['FAILED'], 'project-name': projects.map((p) => p.projectName) },
      },
      targets: [new targets.SnsTopic(topic)],
    });
    new events.Rule(this, 'PipelineFailedRule', {
      description: `Failed executions of ${this.node.path}`,
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        detail: { state: ['FAILED'], pipeline: [this.pipeline.pipelineName] },
      },
      targets: [new targets.SnsTopic(topic)],
    });
    const group = this.lambdaDeploymentGroup ?? this.ecsDeploymentGroup;
    if (group) {
      new events.Rule(this, 'DeploymentFailedRule', {
        description: `Failed or rolled-back CodeDeploy deployments of ${this.node.path}`,
        eventPattern: {
          source: ['aws.codedeploy'],
          detailType: ['CodeDeploy Deployment State-change Notification'],
          detail: { state: ['FAILURE', 'STOP'], application: [group.application.applicationName], deploymentGroup: [group.deploymentGroupName] },
        },
        targets: [new targets.SnsTopic(topic)],
      });
    }
    if (this.codeArtifactDomain && this.codeArtifactRepository) {
      new events.Rule(this, 'PackageVersionRule', {
        description: `Package versions created, changed or deleted in the CodeArtifact repository of ${this.node.path}`,
        eventPattern: {
          source: ['aws.codeartifact'],
          detailType: ['CodeArtifact Package Version State Change'],
          detail: { domainName: [this.codeArtifactDomain.attrName], repositoryName: [this.codeArtifactRepository.attrName] },
        },
        targets: [new targets.SnsTopic(topic)],
      });
    }
    const failedBuilds = new cloudwatch.Alarm(this, 'FailedBuildsAlarm', {
      alarmDescription: `Builds of ${this.node.path} failed`,
      metric: this.buildProject.metricFailedBuilds({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    failedBuilds.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    return failedBuilds;
  }
}

/** The placeholder the deploy action replaces with the image URI of the build's `imageDetail.json`. */
export const ECS_IMAGE_PLACEHOLDER = 'IMAGE1_NAME';

function testListenerUrl(listener: elbv2.ApplicationListener, urlPath: string): string {
  return Fn.join('', ['http://', listener.loadBalancer.loadBalancerDnsName, `:${listener.port}${urlPath}`]);
}

/** A name as cdk-nag writes it inside a finding id: a literal as is, a Ref as `<LogicalId>`, a GetAtt as `<LogicalId.Attr>`. */
function findingText(scope: Construct, name: string): string {
  const resolved = Stack.of(scope).resolve(name);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved?.Ref === 'string') return `<${resolved.Ref}>`;
  if (Array.isArray(resolved?.['Fn::GetAtt'])) return `<${resolved['Fn::GetAtt'].join('.')}>`;
  throw new Error(`cannot name ${JSON.stringify(resolved)} in a cdk-nag acknowledgement: give the service and cluster by name`);
}

function acknowledgeHookInvokeGrant(group: Construct, hook: lambda.IFunction): void {
  Validations.of(group).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${Stack.of(group).getLogicalId(hook.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
    reason: "CDK's grantInvoke of the hook function to CodeDeploy's service role covers its versions and aliases (<hook>:*), of this hook only.",
  });
}

function acknowledgeEcrLogin(role: iam.IRole): void {
  Validations.of(role).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken (docker login) has no resource ARN, IAM requires "*"; pulls and pushes are limited to the one repository.',
  });
}

/** Longest `nameInStack`: CodeArtifact domain names (`pkg-<name>-<8 hex>`) allow 50 characters. */
const MAX_NAME_IN_STACK = 36;

function nameInStack(scope: Construct): string {
  const stack = Stack.of(scope);
  const below = scope.node.scopes.slice(scope.node.scopes.indexOf(stack) + 1);
  const name = below.map((c) => c.node.id).join('-').replace(/[^A-Za-z0-9-]+/g, '-');
  if (name.length <= MAX_NAME_IN_STACK) return name;
  // Long paths keep their start for readability and a hash of the whole path for uniqueness.
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME_IN_STACK - hash.length - 1)}-${hash}`;
}

function acknowledgeArtifactBucketLogs(bucket: s3.IBucket): void {
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'Pipeline artifacts are intermediate build outputs that expire after 30 days; CloudTrail records who started ' +
      'executions and builds. Server access logs would need a second bucket for no added audit value.',
  });
}

function validate(scope: Construct, props: BlueGreenPipelineProps): void {
  const check = new PropsValidator(scope, 'BlueGreenPipeline');
  const source = props.source ?? {};
  const kinds = [
    source.repository && 'repository',
    source.bucket && 'bucket (S3)',
    source.connection && 'connection (CodeConnections)',
  ].filter(Boolean);
  check.require(kinds.length <= 1, 'SourceConflict', `give one source, not ${kinds.join(' and ')}`);
  check.require(!source.initialContents || (!source.repository && !source.bucket && !source.connection), 'InitialContentsNeedsCreatedRepository',
    'initialContents seeds the repository the construct creates; it cannot be used with another source');
  check.require(!source.bucket || !!source.objectKey, 'S3SourceNeedsKey', 'an S3 source needs objectKey, the key of the source zip');
  check.require(!source.objectKey || !!source.bucket, 'KeyWithoutBucket', 'objectKey is only used with bucket');
  check.require(!props.lambda || !props.ecs, 'TargetConflict', 'give one deploy target, lambda or ecs, not both');
  check.require(!!props.lambda || !!props.ecs, 'NoTarget', 'give a deploy target: lambda (an alias) or ecs (a service)');

  if (props.ecs) {
    const { testListener, testTrafficCheck, image, service } = props.ecs;
    check.require(!!testListener, 'EcsWithoutTestListener',
      'an ECS blue/green target needs testListener, where the new task set answers before production traffic moves');
    if (testTrafficCheck !== false) {
      const { url, path: urlPath, requests } = testTrafficCheck ?? {};
      const derivable =
        testListener instanceof elbv2.ApplicationListener &&
        (testListener.node.defaultChild as elbv2.CfnListener).protocol === elbv2.ApplicationProtocol.HTTP;
      check.require(url !== undefined || !testListener || derivable, 'TestTrafficCheckNeedsUrl',
        'testTrafficCheck.url is needed: the test listener is imported or HTTPS, so its URL cannot be derived (a certificate does not match the load balancer DNS name)');
      check.require(url === undefined || Token.isUnresolved(url) || /^https?:\/\/[^\s/]+/.test(url), 'TestTrafficCheckUrl',
        `testTrafficCheck.url must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
      check.require(urlPath === undefined || (url === undefined && urlPath.startsWith('/')), 'TestTrafficCheckPath',
        url === undefined ? `testTrafficCheck.path must start with /, got ${JSON.stringify(urlPath)}` : 'testTrafficCheck.path is only used without url: put the path in the url');
      check.require(requests === undefined || (Number.isInteger(requests) && requests >= 1 && requests <= 50), 'TestTrafficCheckRequestsRange',
        `testTrafficCheck.requests must be a whole number from 1 to 50, got ${requests}`);
    }
    check.warnUnless(image === false || service instanceof ecs.BaseService, 'ImageWithImportedService',
      "the service is imported, so its task execution role is unknown: grant it pull on imageRepository yourself, or its tasks cannot start");
  }
  const shift = props.lambda?.trafficShift ?? props.ecs?.trafficShift;
  if (shift && shift.type !== 'all-at-once') {
    const { percentage, interval } = shift;
    check.require(percentage !== undefined && Number.isInteger(percentage) && percentage >= 1 && percentage <= 99, 'TrafficPercentageRange',
      `${shift.type} percentage must be a whole number from 1 to 99, got ${percentage}`);
    const minutes = interval?.toMinutes({ integral: false });
    check.require(minutes !== undefined && Number.isInteger(minutes) && minutes >= 1 && minutes <= MAX_SHIFT_MINUTES, 'TrafficIntervalRange',
      `${shift.type} interval must be whole minutes from 1 to ${MAX_SHIFT_MINUTES} (2 days), got ${minutes === undefined ? 'none' : `${minutes} minutes`}`);
    if (shift.type === 'linear' && percentage && minutes && percentage >= 1 && minutes >= 1) {
      const total = (Math.ceil(100 / percentage) - 1) * minutes;
      check.require(total <= MAX_SHIFT_MINUTES, 'TrafficShiftTooLong',
        `linear ${percentage}% every ${minutes} minutes waits ${total} minutes in all, over CodeDeploy's 2-day limit`);
    }
  }
  const invocations = props.lambda?.healthCheckInvocations;
  check.require(invocations === undefined || (Number.isInteger(invocations) && invocations >= 1 && invocations <= 50), 'HealthCheckInvocationsRange',
    `healthCheckInvocations must be a whole number from 1 to 50, got ${invocations}`);

  if (props.approval !== false) {
    const approval = props.approval ?? {};
    const hasTarget = !!approval.topic || (approval.emails ?? []).length > 0 || props.notifications !== false;
    check.require(hasTarget, 'ApprovalWithoutNotification',
      'the manual approval notifies nobody: give approval.topic or approval.emails, or keep notifications on');
  }
  check.throwIfInvalid();
}
