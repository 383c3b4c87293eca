import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../core/function';
import { ConstructUsageError, PropsValidator } from '../core/validation';
import { createPipelineProject, ProjectContext } from './build-stage';
import { BLUE_GREEN_PIPELINE_LIMITS as LIMITS } from './limits';
import { logicalIdOf } from '../core/nag-ids';
import { BoundParts, IDeployTarget, TargetBinding, TargetBuildNeeds } from './target-contract';
import { TrafficShift } from './traffic-shift';

/** Options of `DeployTarget.lambdaAlias()`. */
export interface LambdaAliasTargetOptions {
  /** @default `TrafficShift.canary(10, Duration.minutes(5))` (CodeDeployDefault.LambdaCanary10Percent5Minutes) */
  readonly trafficShift?: TrafficShift;
  /** Health-check invocations each hook makes, a whole number from 1 to 50. @default 3 */
  readonly healthCheckInvocations?: number;
  /**
   * The alias's p99 duration above which the latency alarm fires and the deployment rolls back, rounded to whole
   * milliseconds; a token is refused (the alarm's threshold is a number). @default 80% of `functionTimeout`
   */
  readonly latencyThreshold?: Duration;
  /** The function's timeout, for the latency alarm's default threshold; a token needs `latencyThreshold`. @default 10 seconds */
  readonly functionTimeout?: Duration;
  /** Alarms that roll a deployment back, besides the alias's errors and latency alarms. @default none */
  readonly rollbackAlarms?: cloudwatch.IAlarm[];
}

/** The function timeout assumed for the latency alarm when `functionTimeout` is not given, in seconds. */
const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 10;
/** The latency alarm's default threshold, as a fraction of the function's timeout. */
const LATENCY_THRESHOLD_OF_TIMEOUT = 0.8;

/** The hooks of a Lambda deployment. */
type Hook = 'BeforeAllowTraffic' | 'AfterAllowTraffic';

/**
 * The script of the Deploy stage: updates the code from `function.zip`, publishes a version, fills in `appspec.yml`
 * and waits for the CodeDeploy deployment. Its leading comment lines stay in the file.
 */
const DEPLOY_SCRIPT = readFileSync(path.join(__dirname, 'deploy-lambda.sh'), 'utf8').replace(/^(#[^\n]*\n)+/, '').trimEnd();

interface LambdaParts {
  readonly rollbackAlarms: cloudwatch.IAlarm[];
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly deployProject: codebuild.PipelineProject;
  readonly hooks: Record<Hook, lambda.IFunction>;
}

/**
 * Deploys to a Lambda alias with CodeDeploy: traffic shifting, `BeforeAllowTraffic`/`AfterAllowTraffic` hooks, an
 * errors and a latency alarm on the alias, automatic rollback. CodePipeline has no CodeDeploy action for Lambda, so
 * the Deploy stage is a CodeBuild project running `deploy-lambda.sh`.
 */
export class LambdaAliasTarget implements IDeployTarget {
  private readonly who: string;
  private readonly parts: BoundParts<LambdaParts>;
  /** The latency alarm's threshold in milliseconds, from the durations `validate` read. */
  private latencyThresholdMillis?: number;

  constructor(
    /** The alias CodeDeploy shifts; its function is updated and published by the Deploy stage. */
    public readonly alias: lambda.Alias,
    private readonly options: LambdaAliasTargetOptions = {},
  ) {
    this.who = `DeployTarget.lambdaAlias(${alias.node.path})`;
    this.parts = new BoundParts(this.who);
  }

  /** Alarms that roll a deployment back: the alias's errors and latency alarms, then the `rollbackAlarms` given. */
  get rollbackAlarms(): cloudwatch.IAlarm[] {
    return this.parts.get('rollbackAlarms').rollbackAlarms;
  }

  /** The CodeDeploy deployment group of the alias. */
  get deploymentGroup(): codedeploy.LambdaDeploymentGroup {
    return this.parts.get('deploymentGroup').deploymentGroup;
  }

  /** The project the Deploy stage runs to publish a version and start the CodeDeploy deployment. */
  get deployProject(): codebuild.PipelineProject {
    return this.parts.get('deployProject').deployProject;
  }

  get beforeAllowTrafficHook(): lambda.IFunction {
    return this.parts.get('beforeAllowTrafficHook').hooks.BeforeAllowTraffic;
  }

  get afterAllowTrafficHook(): lambda.IFunction {
    return this.parts.get('afterAllowTrafficHook').hooks.AfterAllowTraffic;
  }

  validate(check: PropsValidator): void {
    this.parts.validateUnused(check);
    (this.options.trafficShift ?? TrafficShift.DEFAULT).validate(check, 'trafficShift');
    const invocations = this.options.healthCheckInvocations;
    check.inRange(
      invocations,
      { min: LIMITS.minHookRequests, max: LIMITS.maxHookRequests, whole: true },
      'HealthCheckInvocationsRange', `healthCheckInvocations must be a whole number from ${LIMITS.minHookRequests} to ${LIMITS.maxHookRequests}, got ${invocations}`);
    const { functionTimeout, latencyThreshold } = this.options;
    const timeout = functionTimeout === undefined ? DEFAULT_FUNCTION_TIMEOUT_SECONDS : check.seconds(functionTimeout, 'functionTimeout', { integral: false });
    const threshold = latencyThreshold === undefined
      ? timeout === undefined ? undefined : timeout * LATENCY_THRESHOLD_OF_TIMEOUT
      : check.seconds(latencyThreshold, 'latencyThreshold', { integral: false });
    check.require(threshold !== undefined, 'LatencyThresholdUnresolved',
      latencyThreshold === undefined
        ? `functionTimeout is a token, so the latency alarm's default threshold (${LATENCY_THRESHOLD_OF_TIMEOUT * 100}% of it) is unknown at synth: give latencyThreshold as a literal duration`
        : "latencyThreshold is a token: the latency alarm's threshold is a number known at synth, give a literal duration");
    this.latencyThresholdMillis = threshold === undefined ? undefined : Math.round(threshold * 1000);
  }

  prepareBuild(): TargetBuildNeeds {
    return { environmentVariables: {}, privileged: false };
  }

  grantBuild(): void {}

  bind(context: ProjectContext, buildOutput: codepipeline.Artifact): TargetBinding {
    const { scope } = context;
    const threshold = this.latencyThresholdMillis;
    if (threshold === undefined) {
      throw new ConstructUsageError(this.who, 'BlueGreenPipeline.TargetNotValidated',
        'bind() follows a validate() without problems: pass this target to a BlueGreenPipeline instead of binding it yourself');
    }
    this.parts.bindTo(scope);
    const { alias } = this;
    const fn = alias.version.lambda;
    const hooks = {
      BeforeAllowTraffic: this.createHook(scope, 'BeforeAllowTraffic', fn),
      AfterAllowTraffic: this.createHook(scope, 'AfterAllowTraffic', fn),
    };

    const errors = new cloudwatch.Alarm(scope, 'AliasErrorsAlarm', {
      alarmDescription: `Rolls back a deployment of ${alias.node.path} when the alias returns errors`,
      metric: alias.metricErrors({ period: Duration.minutes(1), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const latency = new cloudwatch.Alarm(scope, 'AliasLatencyAlarm', {
      alarmDescription: `Rolls back a deployment of ${alias.node.path} when its p99 duration nears the timeout`,
      metric: alias.metricDuration({ period: Duration.minutes(1), statistic: 'p99' }),
      threshold,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const rollbackAlarms = [errors, latency, ...(this.options.rollbackAlarms ?? [])];

    const group = new codedeploy.LambdaDeploymentGroup(scope, 'DeploymentGroup', {
      alias,
      deploymentConfig: (this.options.trafficShift ?? TrafficShift.DEFAULT).lambdaConfig(scope),
      alarms: rollbackAlarms,
      preHook: hooks.BeforeAllowTraffic,
      postHook: hooks.AfterAllowTraffic,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    for (const hook of Object.values(hooks)) {
      // The hooks read the deployment's AppSpec to learn the versions; CDK grants PutLifecycleEventHookExecutionStatus.
      hook.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [group.deploymentGroupArn] }));
      Validations.of(group).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(hook)}.Arn>:*]`,
        reason: "LambdaDeploymentGroup's grantInvoke of the hook to CodeDeploy's service role covers its versions and aliases (<hook>:*), of this hook only.",
      });
    }
    Validations.of(group).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        "LambdaDeploymentGroup attaches CodeDeploy's own service-role policy for Lambda: it lets CodeDeploy read alarms, " +
        'update aliases and invoke CodeDeployHook_* functions; CDK grants the invoke of these hooks separately.',
    });

    const project = this.createDeployProject(context, group, hooks);
    const action = new actions.CodeBuildAction({
      actionName: 'ShiftTraffic',
      project,
      input: buildOutput,
      environmentVariables: { PIPELINE_EXECUTION_ID: { value: codepipeline.GlobalVariables.executionId } },
      variablesNamespace: 'Deploy',
    });
    this.parts.set({ rollbackAlarms, deploymentGroup: group, deployProject: project, hooks });
    return {
      action,
      deployment: { applicationName: group.application.applicationName, deploymentGroupName: group.deploymentGroupName },
      projects: [project],
    };
  }

  private createHook(scope: Construct, hook: Hook, fn: lambda.IFunction): SafeNodejsFunction {
    const hookFn = new SafeNodejsFunction(scope, `${hook}Hook`, {
      entry: path.join(__dirname, '..', '..', 'lambda', 'deploy-hooks', 'index.ts'),
      description: `CodeDeploy ${hook} hook of ${scope.node.path}: health checks, then PutLifecycleEventHookExecutionStatus`,
      timeout: Duration.seconds(60),
      environment: {
        HOOK: hook,
        TARGET_FUNCTION_NAME: fn.functionName,
        TARGET_ALIAS_NAME: this.alias.aliasName,
        HEALTH_CHECK_INVOCATIONS: String(this.options.healthCheckInvocations ?? 3),
        POWERTOOLS_SERVICE_NAME: 'deploy-hooks',
      },
    });
    // Versions are published by the pipeline, unknown at synth: the hook may invoke any qualifier of this function.
    hookFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [`${fn.functionArn}:*`] }));
    if (hook === 'AfterAllowTraffic') {
      hookFn.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias'], resources: [fn.functionArn, this.alias.functionArn] }));
    }
    if (hookFn.role) {
      Validations.of(hookFn.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(fn)}.Arn>:*]`,
        reason: `the hook invokes the versions the pipeline publishes (<function>:*), unknown at synth, of ${fn.node.path} only.`,
      });
    }
    return hookFn;
  }

  private createDeployProject(
    context: ProjectContext,
    group: codedeploy.LambdaDeploymentGroup,
    hooks: Record<Hook, lambda.IFunction>,
  ): codebuild.PipelineProject {
    const fn = this.alias.version.lambda;
    const project = createPipelineProject(context, 'DeployProject', {
      description: `Deploy stage of ${context.scope.node.path}: publishes a version of ${fn.node.path} and shifts its alias with CodeDeploy`,
      logPrefix: 'deploy',
      timeout: Duration.minutes(90),
      environmentVariables: {
        FUNCTION_NAME: { value: fn.functionName },
        ALIAS_NAME: { value: this.alias.aliasName },
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
        phases: { build: { commands: [DEPLOY_SCRIPT] } },
      }),
    });
    project.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:GetAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:UpdateFunctionCode', 'lambda:PublishVersion'],
        resources: [fn.functionArn, this.alias.functionArn],
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
    return project;
  }
}
