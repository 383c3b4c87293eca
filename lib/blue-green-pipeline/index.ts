import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { PropsValidator } from '../core/validation';
import { acknowledgeArtifactGrants, createArtifactBucket } from './artifacts';
import { BuildStageOptions, createBuildStage, validateBuildOptions } from './build-stage';
import { acknowledgeIntegrationTestActions, createTestStage, IntegrationTestStackOptions } from './integration-test';
import { BLUE_GREEN_PIPELINE_LIMITS as LIMITS } from './limits';
import { nameInStack } from './names';
import { addFailureNotifications, createNotificationTopic, PipelineNotificationsOptions } from './notifications';
import { createPackageStore, grantPackageStoreRead, PackageStore, PackageStoreOptions } from './package-store';
import { PipelineSource } from './source';
import { IDeployTarget } from './target-contract';

export { BLUE_GREEN_PIPELINE_LIMITS } from './limits';
export type { BuildStageOptions } from './build-stage';
export { DeployTarget } from './deploy-target';
export { ECS_IMAGE_PLACEHOLDER, EcsServiceTarget } from './ecs-target';
export type { EcsImageOptions, EcsServiceTargetOptions, TestTrafficCheckOptions } from './ecs-target';
export type { IntegrationTestStackOptions } from './integration-test';
export { LambdaAliasTarget } from './lambda-target';
export type { LambdaAliasTargetOptions } from './lambda-target';
export type { PipelineNotificationsOptions } from './notifications';
export type { PackageStore, PackageStoreOptions } from './package-store';
export { CodeCommitSource, PipelineSource } from './source';
export type { BranchSourceOptions, CodeCommitSourceOptions, ConnectionSourceOptions, CreatedRepositoryProps, SourceBinding } from './source';
export type { IDeployTarget, TargetBinding, TargetBuildNeeds } from './target-contract';
export { TrafficShift } from './traffic-shift';

/** The manual approval before the Deploy stage: on by default (`approval: false` removes it). */
export interface ApprovalOptions {
  /** Topic the approval request goes to. @default the notifications topic, unless `emails` are given */
  readonly topic?: sns.ITopic;
  /** Addresses the approval request is e-mailed to (through a topic CDK creates). @default none */
  readonly emails?: string[];
  /** How long the approval waits before failing the execution, whole minutes from 5 to 86,400 (60 days). @default 7 days */
  readonly timeout?: Duration;
}

export interface BlueGreenPipelineProps {
  /** Where the source comes from. @default `PipelineSource.codeCommit()`: a CodeCommit repository created by the construct */
  readonly source?: PipelineSource;
  /** Where the Deploy stage shifts traffic: `DeployTarget.lambdaAlias(...)` or `DeployTarget.ecsService(...)`. */
  readonly target: IDeployTarget;
  /** The Build and Test projects. @default `BuildStageOptions` defaults */
  readonly build?: BuildStageOptions;
  /**
   * CodeArtifact: a domain, a repository proxying the public registry, the app's repository with it as upstream, the
   * build logged in to it (`CODEARTIFACT_*` environment variables) and notified package-version changes.
   * `false` turns it off. @default on, proxying npm
   */
  readonly packageStore?: false | PackageStoreOptions;
  /**
   * An integration-test stack created (CloudFormation CREATE_UPDATE) before the smoke tests and deleted (DELETE_ONLY)
   * after them. `false` runs the smoke tests alone. @default on, from `integration-test.template.json`
   */
  readonly integrationTestStack?: false | IntegrationTestStackOptions;
  /** Manual approval before the Deploy stage. `false` removes it. @default an approval notifying the notifications topic */
  readonly approval?: false | ApprovalOptions;
  /**
   * Failure notifications: EventBridge rules for failed builds, pipeline executions and deployments, package-version
   * changes, and a `FailedBuilds` alarm (ALARM and OK), to `alarmTopic`. `false` turns them off.
   * @default a topic created by the construct
   */
  readonly notifications?: false | PipelineNotificationsOptions;
  /** Bucket for pipeline artifacts, build logs and the build cache. @default a bucket with SSE-S3, retained on delete */
  readonly artifactBucket?: s3.IBucket;
  /** Settings of the log group of the CodeBuild projects. @default retention of one month, retained on delete */
  readonly logGroupProps?: CreatedLogGroupProps;
}

/**
 * A blue/green delivery pipeline: CodePipeline V2 (source → build → test → approval → deploy) whose Deploy stage
 * shifts a Lambda alias or an ECS service (`DeployTarget`) to the new version with CodeDeploy, guarded by hooks and
 * alarms that roll it back; with failure notifications, an integration-test stack and a CodeArtifact package store.
 */
export class BlueGreenPipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  public readonly artifactBucket: s3.IBucket;
  /** The source, as given (or the CodeCommit source created by default): its handle holds the repository. */
  public readonly source: PipelineSource;
  /** The deploy target, as given: its handle holds the deployment group, hooks and alarms. */
  public readonly target: IDeployTarget;
  public readonly buildProject: codebuild.PipelineProject;
  public readonly testProject: codebuild.PipelineProject;
  /** Log group of every CodeBuild project of the pipeline. */
  public readonly buildLogGroup: logs.LogGroup;
  public readonly reportGroups: codebuild.ReportGroup[];
  /** The topic of the failure notifications; undefined with `notifications: false`. */
  public readonly notificationTopic?: sns.ITopic;
  /** The `FailedBuilds` alarm; undefined with `notifications: false`. */
  public readonly failedBuildsAlarm?: cloudwatch.Alarm;
  /** The CodeArtifact package store; undefined with `packageStore: false`. */
  public readonly packageStore?: PackageStore;
  /** Name of the integration-test stack the Test stage creates and deletes; undefined with `integrationTestStack: false`. */
  public readonly integrationTestStackName?: string;

  constructor(scope: Construct, id: string, props: BlueGreenPipelineProps) {
    super(scope, id);
    this.source = props.source ?? PipelineSource.codeCommit();
    this.target = props.target;
    validate(this, props, this.source);
    const name = nameInStack(this);

    this.artifactBucket = props.artifactBucket ?? createArtifactBucket(this);
    if (props.notifications !== false) {
      this.notificationTopic = props.notifications?.alarmTopic ?? createNotificationTopic(this);
    }
    this.buildLogGroup = new logs.LogGroup(this, 'BuildLogs', {
      retention: props.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const projects = { scope: this, artifactBucket: this.artifactBucket, logGroup: this.buildLogGroup };

    const sourceOutput = new codepipeline.Artifact('Source');
    const source = this.source.bind(this, { nameInStack: name }, sourceOutput);

    if (props.packageStore !== false) this.packageStore = createPackageStore(this, name, props.packageStore ?? {});
    const targetNeeds = this.target.prepareBuild(this);
    const build = createBuildStage(projects, name, props.build ?? {}, {
      environmentVariables: { ...this.packageStore?.environmentVariables, ...targetNeeds.environmentVariables },
      privileged: targetNeeds.privileged,
    });
    this.buildProject = build.buildProject;
    this.testProject = build.testProject;
    this.reportGroups = build.reportGroups;
    if (this.packageStore) grantPackageStoreRead(this.packageStore, this.buildProject);
    this.target.grantBuild(this.buildProject);

    const buildOutput = new codepipeline.Artifact('BuildOutput');
    const buildAction = new actions.CodeBuildAction({
      actionName: 'Build',
      project: this.buildProject,
      input: sourceOutput,
      outputs: [buildOutput],
      variablesNamespace: 'Build',
    });
    const test = createTestStage(this, name, this.testProject, buildOutput, props.integrationTestStack ?? {});
    this.integrationTestStackName = test.integrationTestStackName;
    const deploy = this.target.bind(projects, buildOutput);

    const stages: codepipeline.StageProps[] = [
      { stageName: 'Source', actions: [source.action] },
      { stageName: 'Build', actions: [buildAction] },
      { stageName: 'Test', actions: test.actions },
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
    stages.push({ stageName: 'Deploy', actions: [deploy.action] });

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      executionMode: codepipeline.ExecutionMode.QUEUED,
      artifactBucket: this.artifactBucket,
      crossAccountKeys: false,
      restartExecutionOnUpdate: false,
      stages,
    });
    acknowledgeArtifactGrants(this.pipeline, this.artifactBucket);
    if (this.integrationTestStackName) acknowledgeIntegrationTestActions(this.pipeline, name);
    deploy.onPipeline?.(this.pipeline);
    source.onPipeline?.(this.pipeline);

    if (this.notificationTopic) {
      this.failedBuildsAlarm = addFailureNotifications(this, this.notificationTopic, {
        pipeline: this.pipeline,
        projects: [this.buildProject, this.testProject, ...deploy.projects],
        deployment: deploy.deployment,
        packageStore: this.packageStore,
      });
    }
  }
}

function validate(scope: Construct, props: BlueGreenPipelineProps, source: PipelineSource): void {
  const check = new PropsValidator(scope, 'BlueGreenPipeline');
  source.validate(check);
  props.target.validate(check);
  validateBuildOptions(check, props.build ?? {});
  if (props.approval !== false) {
    const approval = props.approval ?? {};
    const hasTarget = !!approval.topic || (approval.emails ?? []).length > 0 || props.notifications !== false;
    check.require(hasTarget, 'ApprovalWithoutNotification',
      'the manual approval notifies nobody: give approval.topic or approval.emails, or keep notifications on');
    const timeout = check.seconds(approval.timeout, 'approval.timeout');
    if (timeout !== undefined) {
      const minutes = timeout / 60;
      check.inRange(
        minutes,
        { min: LIMITS.minApprovalTimeoutMinutes, max: LIMITS.maxApprovalTimeoutMinutes, whole: true },
        'ApprovalTimeoutRange',
        `approval.timeout must be whole minutes from ${LIMITS.minApprovalTimeoutMinutes} to ${LIMITS.maxApprovalTimeoutMinutes} (60 days), got ${approval.timeout?.toHumanString()}`);
    }
  }
  check.throwIfInvalid();
}
