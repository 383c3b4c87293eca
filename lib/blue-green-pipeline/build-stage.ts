import { Aws, Duration, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';
import { acknowledgeArtifactGrants } from './artifacts';
import { BLUE_GREEN_PIPELINE_LIMITS as LIMITS } from './limits';
import { logicalIdOf } from '../core/nag-ids';

/** The CodeBuild projects of the Build and Test stages. */
export interface BuildStageOptions {
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
   * Cache of the Build stage: `codebuild.Cache.local(...)` caches on the build host (helps only builds that land on
   * the same host soon after), `codebuild.Cache.none()` turns it off.
   * @default `codebuild.Cache.bucket(artifactBucket, { prefix: 'build-cache' })`: the buildspec's `cache.paths` in the artifact bucket
   */
  readonly cache?: codebuild.Cache;
  /** What happens to the report groups (and their reports) when the construct is removed; `DESTROY` deletes the reports too. @default RemovalPolicy.RETAIN */
  readonly reportGroupRemovalPolicy?: RemovalPolicy;
  /** Timeout of the Build and Test projects, whole minutes from 5 to 2,160 (36 hours). @default 15 minutes */
  readonly timeout?: Duration;
}

/** What every project of the pipeline shares: where its artifacts and logs go. */
export interface ProjectContext {
  readonly scope: Construct;
  readonly artifactBucket: s3.IBucket;
  readonly logGroup: logs.ILogGroup;
}

/** Amazon Linux 2023 on arm64, small: the environment of every project of the pipeline. */
export const PROJECT_ENVIRONMENT: codebuild.BuildEnvironment = {
  buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
  computeType: codebuild.ComputeType.SMALL,
};

export function validateBuildOptions(check: PropsValidator, options: BuildStageOptions): void {
  const timeout = check.seconds(options.timeout, 'build.timeout');
  if (timeout !== undefined) {
    const minutes = timeout / 60;
    check.inRange(
      minutes,
      { min: LIMITS.minBuildTimeoutMinutes, max: LIMITS.maxBuildTimeoutMinutes, whole: true },
      'BuildTimeoutRange',
      `build.timeout must be whole minutes from ${LIMITS.minBuildTimeoutMinutes} to ${LIMITS.maxBuildTimeoutMinutes}, got ${options.timeout?.toHumanString()}`);
  }
}

/**
 * A CodeBuild project of the pipeline, logging to the pipeline's log group and to the artifact bucket
 * (`build-logs/<logPrefix>`), with the acknowledgements of the grants CodeBuild and CDK give every project.
 */
export function createPipelineProject(
  context: ProjectContext,
  id: string,
  props: Omit<codebuild.PipelineProjectProps, 'logging'> & { readonly logPrefix: string },
): codebuild.PipelineProject {
  const { logPrefix, ...projectProps } = props;
  const project = new codebuild.PipelineProject(context.scope, id, {
    environment: PROJECT_ENVIRONMENT,
    ...projectProps,
    logging: {
      cloudWatch: { logGroup: context.logGroup, prefix: logPrefix },
      s3: { bucket: context.artifactBucket, prefix: `build-logs/${logPrefix}`, encrypted: true },
    },
  });
  acknowledgeArtifactGrants(project, context.artifactBucket);
  const projectId = logicalIdOf(project);
  Validations.of(project).acknowledge({
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
  Validations.of(project).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${projectId}>:*]`,
    reason:
      "CodeBuild's grant to its default log group /aws/codebuild/<project>: log streams are named by build id at run " +
      'time. This construct sends the logs to its own log group (and S3), so the default group stays empty.',
  });
  return project;
}

/** The Build and Test projects and their report groups. */
export interface BuildStage {
  readonly buildProject: codebuild.PipelineProject;
  readonly testProject: codebuild.PipelineProject;
  readonly reportGroups: codebuild.ReportGroup[];
}

/**
 * Creates the Build and Test projects, named `<stack>-<nameInStack>-build` and `-test`. `extraVariables` come from
 * the other parts (package store, deploy target); `privileged` runs the Docker daemon for image builds.
 */
export function createBuildStage(
  context: ProjectContext,
  nameInStack: string,
  options: BuildStageOptions,
  needs: { readonly environmentVariables: Record<string, codebuild.BuildEnvironmentVariable>; readonly privileged: boolean },
): BuildStage {
  const { scope, artifactBucket } = context;
  const buildProjectName = Fn.join('-', [Aws.STACK_NAME, nameInStack, 'build']);
  const testProjectName = Fn.join('-', [Aws.STACK_NAME, nameInStack, 'test']);
  const timeout = options.timeout ?? Duration.minutes(15);
  const buildProject = createPipelineProject(context, 'BuildProject', {
    projectName: buildProjectName,
    description: `Build stage of ${scope.node.path}`,
    buildSpec: codebuild.BuildSpec.fromSourceFilename(options.buildSpecFile ?? 'buildspec.yml'),
    // docker build needs the Docker daemon, which CodeBuild runs only in privileged mode.
    environment: { ...PROJECT_ENVIRONMENT, privileged: needs.privileged },
    environmentVariables: { ...options.environmentVariables, ...needs.environmentVariables },
    timeout,
    logPrefix: 'build',
    cache: options.cache ?? codebuild.Cache.bucket(artifactBucket, { prefix: 'build-cache' }),
  });
  const testProject = createPipelineProject(context, 'TestProject', {
    projectName: testProjectName,
    description: `Test stage of ${scope.node.path}`,
    buildSpec: codebuild.BuildSpec.fromSourceFilename(options.testSpecFile ?? 'buildspec-test.yml'),
    timeout,
    logPrefix: 'test',
  });
  const removalPolicy = options.reportGroupRemovalPolicy ?? RemovalPolicy.RETAIN;
  const reportGroups: codebuild.ReportGroup[] = [];
  const addReportGroups = (project: codebuild.PipelineProject, projectName: string, keys: string[]) => {
    for (const key of keys) {
      // CodeBuild would create `<project>-<key>` itself on the first report, outside the stack: created here, it is
      // deleted with the stack.
      const group = new codebuild.ReportGroup(scope, `Reports-${key}-${reportGroups.length}`, {
        reportGroupName: Fn.join('-', [projectName, key]),
        type: codebuild.ReportGroupType.TEST,
        removalPolicy,
        deleteReports: removalPolicy === RemovalPolicy.DESTROY,
      });
      group.grantWrite(project);
      reportGroups.push(group);
    }
  };
  addReportGroups(buildProject, buildProjectName, options.buildReportGroups ?? ['unit-tests']);
  addReportGroups(testProject, testProjectName, options.testReportGroups ?? ['smoke-tests']);
  return { buildProject, testProject, reportGroups };
}
