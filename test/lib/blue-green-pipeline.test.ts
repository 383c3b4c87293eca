import * as path from 'node:path';
import { Duration, Fn, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  BlueGreenPipeline,
  BlueGreenPipelineProps,
  DeployTarget,
  EcsServiceTarget,
  LambdaAliasTarget,
  LambdaAliasTargetOptions,
  PipelineSource,
  TrafficShift,
} from '../../lib/blue-green-pipeline';
import type { ProjectContext } from '../../lib/blue-green-pipeline/build-stage';
import { ConstructUsageError, ConstructValidationError, PropsValidator } from '../../lib/core/validation';
import { testApp } from '../support/synth';

type Resource = { Type: string; Properties: Record<string, unknown>; UpdatePolicy?: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

function newStack() {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const fn = new lambda.Function(stack, 'App', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true })'),
  });
  const alias = fn.addAlias('live');
  return { stack, fn, alias };
}

function synth(props: (alias: lambda.Alias, stack: Stack) => BlueGreenPipelineProps) {
  const { stack, alias, fn } = newStack();
  const pipeline = new BlueGreenPipeline(stack, 'Delivery', props(alias, stack));
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, Resource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  /** Every statement of the policies attached to a role, by the role's logical id. */
  const statementsOf = (roleId: string) =>
    ofType('AWS::IAM::Policy')
      .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return { stack, fn, alias, pipeline, template, resources, ofType, logicalId, statementsOf };
}

const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The findings acknowledged on a construct, as `Annotation::<id>` → reason, in the order given. */
const acknowledged = (construct: Construct) =>
  Object.assign({}, ...construct.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data as object)) as Record<string, string>;

/** The reason every grant on the artifact bucket is acknowledged with, on the pipeline and on each project. */
const ARTIFACT_GRANT_REASON =
  "CDK's read/write grant on the pipeline's artifact bucket: artifacts are objects named per execution at run time, " +
  'so the grant covers <bucket>/* with the action groups of grantReadWrite, on this one bucket only.';
const ARTIFACT_GRANT_ACTIONS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => `Annotation::AwsSolutions-IAM5[Action::${a}]`);

describe('the default Lambda target, CodeCommit created', () => {
  let target: LambdaAliasTarget;
  const s = synth((alias) => ({
    source: PipelineSource.codeCommit({ repositoryProps: { initialContents: path.join(__dirname, '../../labs/cicd-bluegreen/app') } }),
    target: (target = DeployTarget.lambdaAlias(alias, { functionTimeout: Duration.seconds(5) })),
    build: {
      environmentVariables: {
        GREETING: { type: codebuild.BuildEnvironmentVariableType.PARAMETER_STORE, value: '/app/greeting' },
        API_TOKEN: { type: codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER, value: 'app/api-token:token' },
        STAGE: { value: 'test' },
      },
    },
  }));
  const [, pipeline] = s.ofType('AWS::CodePipeline::Pipeline')[0];
  const stages = pipeline.Properties.Stages as { Name: string; Actions: { Name: string; RunOrder: number; ActionTypeId: { Category: string; Provider: string }; Configuration: Record<string, unknown> }[] }[];

  test('a V2 pipeline, queued, with the stages in order and the action categories of each', () => {
    expect(pipeline.Properties).toMatchObject({ PipelineType: 'V2', ExecutionMode: 'QUEUED' });
    expect(stages.map((st) => [st.Name, st.Actions.map((a) => `${a.RunOrder}:${a.ActionTypeId.Category}/${a.ActionTypeId.Provider}`)])).toEqual([
      ['Source', ['1:Source/CodeCommit']],
      ['Build', ['1:Build/CodeBuild']],
      ['Test', ['1:Deploy/CloudFormation', '2:Test/CodeBuild', '3:Deploy/CloudFormation']],
      ['Approval', ['1:Approval/Manual']],
      ['Deploy', ['1:Build/CodeBuild']],
    ]);
  });

  test('the CloudFormation actions create the integration-test stack, then delete it after the smoke tests', () => {
    const [create, smoke, remove] = stages[2].Actions;
    expect(create.Configuration).toMatchObject({ ActionMode: 'CREATE_UPDATE', TemplatePath: 'BuildOutput::integration-test.template.json' });
    expect(remove.Configuration).toMatchObject({ ActionMode: 'DELETE_ONLY' });
    expect(remove.Configuration.StackName).toEqual(create.Configuration.StackName);
    expect(JSON.parse(smoke.Configuration.EnvironmentVariables as string)).toEqual(
      expect.arrayContaining([{ name: 'INTEGRATION_PARAMETER', type: 'PLAINTEXT', value: '#{IntegrationTest.ParameterName}' }]),
    );
    // The CloudFormation role may only manage the stack's own parameters.
    const roleId = (create.Configuration.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const statements = s.statementsOf(roleId);
    expect(statements.flatMap(actionsOf).every((a) => a.startsWith('ssm:'))).toBe(true);
    expect(JSON.stringify(statements.map((st) => st.Resource))).toMatch(/:parameter\/",\{"Fn::Join":\["-",\[\{"Ref":"AWS::StackName"\},"Delivery-integration-test"\]\]\},"\/\*"/);
  });

  test('the approval notifies the notifications topic and shows the release', () => {
    const approve = stages[3].Actions[0];
    expect(approve.Configuration.NotificationArn).toEqual({ Ref: s.logicalId(s.pipeline.notificationTopic as sns.Topic) });
    expect(approve.Configuration.CustomData).toContain('#{Build.RELEASE}');
  });

  test('the build project: source buildspec, every environment variable type, S3 cache, logs to CloudWatch and S3', () => {
    const project = s.resources[s.logicalId(s.pipeline.buildProject)].Properties;
    expect(project.Source).toMatchObject({ Type: 'CODEPIPELINE', BuildSpec: 'buildspec.yml' });
    const variables = (project.Environment as { EnvironmentVariables: { Name: string; Type: string }[] }).EnvironmentVariables;
    expect(Object.fromEntries(variables.map((v) => [v.Name, v.Type]))).toMatchObject({
      GREETING: 'PARAMETER_STORE',
      API_TOKEN: 'SECRETS_MANAGER',
      STAGE: 'PLAINTEXT',
      CODEARTIFACT_DOMAIN: 'PLAINTEXT',
      CODEARTIFACT_REPOSITORY: 'PLAINTEXT',
    });
    expect(project.Cache).toMatchObject({ Type: 'S3', Location: { 'Fn::Join': ['/', [{ Ref: s.logicalId(s.pipeline.artifactBucket) }, 'build-cache']] } });
    expect(project.LogsConfig).toMatchObject({
      CloudWatchLogs: { Status: 'ENABLED', GroupName: { Ref: s.logicalId(s.pipeline.buildLogGroup) } },
      S3Logs: { Status: 'ENABLED', EncryptionDisabled: false },
    });
    // CDK grants read access to the parameter and the secret the variables name.
    const statements = s.statementsOf((project.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    expect(statements.flatMap(actionsOf)).toEqual(expect.arrayContaining(['ssm:GetParameters', 'secretsmanager:GetSecretValue']));
  });

  test('report groups are created in the stack with the names CodeBuild gives <project>-<key>', () => {
    const groups = s.ofType('AWS::CodeBuild::ReportGroup').map(([, r]) => r.Properties);
    expect(groups).toHaveLength(2);
    expect(groups.map((g) => g.Name)).toEqual([
      { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'Delivery-build-unit-tests']] },
      { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'Delivery-test-smoke-tests']] },
    ]);
    // and the projects carry the matching names
    expect(s.resources[s.logicalId(s.pipeline.buildProject)].Properties.Name).toEqual({ 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, 'Delivery-build']] });
    expect(groups.every((g) => g.Type === 'TEST')).toBe(true);
  });

  test('the deployment group: blue/green with traffic control, canary 10% for 5 minutes, two alarms, automatic rollback', () => {
    const [, group] = s.ofType('AWS::CodeDeploy::DeploymentGroup')[0];
    expect(group.Properties).toMatchObject({
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: expect.any(String) } }, { Name: { Ref: expect.any(String) } }] },
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors', Statistic: 'Sum', Period: 60, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: Match.arrayWith([{ Name: 'Resource', Value: Match.anyValue() }]),
    });
    // 80% of the 5 s function timeout.
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 4000 });
  });

  test("the handle's rollbackAlarms are the alias's errors and latency alarms", () => {
    const alarms = s.ofType('AWS::CloudWatch::Alarm').filter(([, r]) => ['Errors', 'Duration'].includes(r.Properties.MetricName as string));
    expect(target.rollbackAlarms.map((alarm) => s.logicalId(alarm))).toEqual(alarms.map(([id]) => id));
  });

  test('the hooks are wired to the alias and may report only to this deployment group', () => {
    const alias = s.resources[s.logicalId(s.alias)];
    expect(alias.UpdatePolicy).toEqual({
      CodeDeployLambdaAliasUpdate: {
        ApplicationName: { Ref: expect.any(String) },
        DeploymentGroupName: { Ref: s.logicalId(target.deploymentGroup) },
        BeforeAllowTrafficHook: { Ref: s.logicalId(target.beforeAllowTrafficHook) },
        AfterAllowTrafficHook: { Ref: s.logicalId(target.afterAllowTrafficHook) },
      },
    });
    for (const [hook, name] of [[target.beforeAllowTrafficHook, 'BeforeAllowTraffic'], [target.afterAllowTrafficHook, 'AfterAllowTraffic']] as const) {
      const fn = s.resources[s.logicalId(hook)].Properties;
      expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
        HOOK: name,
        TARGET_FUNCTION_NAME: { Ref: s.logicalId(s.fn) },
        TARGET_ALIAS_NAME: 'live',
      });
      const statements = s.statementsOf((fn.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
      const codedeploy = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('codedeploy:')));
      expect(codedeploy.flatMap(actionsOf).sort()).toEqual(['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus']);
      for (const st of codedeploy) {
        // arn:...:deploymentgroup:<application>/<this group>
        expect(JSON.stringify(st.Resource)).toContain(`:deploymentgroup:`);
        expect(JSON.stringify(st.Resource)).toContain(s.logicalId(target.deploymentGroup));
      }
      const invoke = statements.find((st) => actionsOf(st).includes('lambda:InvokeFunction'));
      expect(invoke?.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [s.logicalId(s.fn), 'Arn'] }, ':*']] });
    }
  });

  test('the deploy project publishes a version and starts a deployment in this group only', () => {
    const project = s.resources[s.logicalId(target.deployProject)].Properties;
    const buildspec = JSON.parse((project.Source as { BuildSpec: string }).BuildSpec);
    expect(buildspec.phases.build.commands[0]).toContain('aws deploy create-deployment');
    expect(buildspec.phases.build.commands[0]).toContain('aws lambda publish-version');
    // deploy-lambda.sh without its leading comment lines, nor its trailing newline.
    expect(buildspec.phases.build.commands[0]).toMatch(/^set -euo pipefail\n/);
    expect(buildspec.phases.build.commands[0]).toMatch(/\S$/);
    const statements = s.statementsOf((project.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    const create = statements.find((st) => actionsOf(st).includes('codedeploy:CreateDeployment'))!;
    expect(JSON.stringify(create.Resource)).toContain(s.logicalId(target.deploymentGroup));
    const update = statements.find((st) => actionsOf(st).includes('lambda:UpdateFunctionCode'))!;
    expect(JSON.stringify(update.Resource)).toContain(s.logicalId(s.fn));
    expect(JSON.stringify(update.Resource)).not.toContain('*');
  });

  test('EventBridge rules: failed builds, failed executions, failed deployments, package versions; a FailedBuilds alarm', () => {
    const patterns = s.ofType('AWS::Events::Rule').map(([, r]) => r.Properties.EventPattern as Record<string, unknown>);
    const bySource = Object.fromEntries(patterns.map((p) => [(p.source as string[])[0], p]));
    expect(bySource['aws.codebuild']).toMatchObject({ 'detail-type': ['CodeBuild Build State Change'], detail: { 'build-status': ['FAILED'] } });
    expect((bySource['aws.codebuild'].detail as { 'project-name': unknown[] })['project-name']).toHaveLength(3);
    expect(bySource['aws.codepipeline']).toMatchObject({
      'detail-type': ['CodePipeline Pipeline Execution State Change'],
      detail: { state: ['FAILED'], pipeline: [{ Ref: s.logicalId(s.pipeline.pipeline) }] },
    });
    expect(bySource['aws.codedeploy']).toMatchObject({ detail: { state: ['FAILURE', 'STOP'] } });
    expect(bySource['aws.codeartifact']).toMatchObject({ 'detail-type': ['CodeArtifact Package Version State Change'] });
    expect(bySource['aws.codecommit']).toBeDefined(); // the source trigger
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/CodeBuild', MetricName: 'FailedBuilds', Threshold: 1,
      AlarmActions: [{ Ref: s.logicalId(s.pipeline.notificationTopic as sns.Topic) }],
      OKActions: [{ Ref: s.logicalId(s.pipeline.notificationTopic as sns.Topic) }],
    });
  });

  test('CodeArtifact: a domain, an npm proxy upstream, the app repository; the build may only read it', () => {
    s.template.hasResourceProperties('AWS::CodeArtifact::Repository', { ExternalConnections: ['public:npmjs'] });
    s.template.hasResourceProperties('AWS::CodeArtifact::Repository', { Upstreams: [{ 'Fn::GetAtt': [Match.anyValue(), 'Name'] }] });
    const project = s.resources[s.logicalId(s.pipeline.buildProject)].Properties;
    const statements = s.statementsOf((project.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    const codeartifact = statements.flatMap(actionsOf).filter((a) => a.startsWith('codeartifact:'));
    expect([...new Set(codeartifact)].sort()).toEqual(['codeartifact:GetAuthorizationToken', 'codeartifact:GetRepositoryEndpoint', 'codeartifact:ReadFromRepository']);
    const bearer = statements.find((st) => actionsOf(st).includes('sts:GetServiceBearerToken'))!;
    expect(bearer.Condition).toEqual({ StringEquals: { 'sts:AWSServiceName': 'codeartifact.amazonaws.com' } });
  });

  test('least privilege: no service-wide actions, Resource "*" only where the API has no resource ARN', () => {
    const statements = s.ofType('AWS::IAM::Policy').flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect(statements.flatMap(actionsOf).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
    const starActions = statements.filter((st) => st.Resource === '*').flatMap(actionsOf);
    expect([...new Set(starActions)].sort()).toEqual(['sts:GetServiceBearerToken', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  test('the artifact bucket: SSE-S3, TLS only, no public access, artifacts expire after 30 days, retained; acknowledged with why', () => {
    const bucketId = s.logicalId(s.pipeline.artifactBucket as s3.Bucket);
    expect(s.resources[bucketId]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LifecycleConfiguration: { Rules: [{ ExpirationInDays: 30, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }] },
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    expect(acknowledged(s.pipeline.artifactBucket as s3.Bucket)).toEqual({
      'Annotation::AwsSolutions-S1':
        'Pipeline artifacts are intermediate build outputs that expire after 30 days; CloudTrail records who started ' +
        'executions and builds. Server access logs would need a second bucket for no added audit value.',
    });
    // The pipeline's own grants on the bucket, then the CloudFormation actions' grants on the integration-test stack.
    const onPipeline = acknowledged(s.pipeline.pipeline);
    expect(Object.keys(onPipeline)).toEqual([
      ...ARTIFACT_GRANT_ACTIONS,
      `Annotation::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      'Annotation::AwsSolutions-IAM5[Action::cloudformation:DescribeStack*]',
      'Annotation::AwsSolutions-IAM5[Action::cloudformation:GetTemplate*]',
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/<AWS::StackName>-Delivery-integration-test/*]',
    ]);
    expect(Object.values(onPipeline).slice(0, 6)).toEqual(Array(6).fill(ARTIFACT_GRANT_REASON));
  });

  test('every project runs on Amazon Linux 2023 arm64, small, and logs to the log group and to build-logs/<stage> in the bucket', () => {
    const bucketRef = { Ref: s.logicalId(s.pipeline.artifactBucket as s3.Bucket) };
    for (const [project, stage] of [[s.pipeline.buildProject, 'build'], [s.pipeline.testProject, 'test'], [target.deployProject, 'deploy']] as const) {
      expect(s.resources[s.logicalId(project)].Properties).toMatchObject({
        Environment: { ComputeType: 'BUILD_GENERAL1_SMALL', Image: 'aws/codebuild/amazonlinux-aarch64-standard:3.0', Type: 'ARM_CONTAINER' },
        LogsConfig: {
          CloudWatchLogs: { StreamName: stage },
          S3Logs: { Location: { 'Fn::Join': ['', [bucketRef, `/build-logs/${stage}`]] } },
        },
      });
    }
  });

  test("each project's grants are acknowledged with why: the artifact bucket, its report groups, its default log group", () => {
    const projectId = s.logicalId(s.pipeline.testProject);
    const onTest = acknowledged(s.pipeline.testProject);
    expect(onTest).toEqual({
      ...Object.fromEntries(ARTIFACT_GRANT_ACTIONS.map((id) => [id, ARTIFACT_GRANT_REASON])),
      [`Annotation::AwsSolutions-IAM5[Resource::<${s.logicalId(s.pipeline.artifactBucket as s3.Bucket)}.Arn>/*]`]: ARTIFACT_GRANT_REASON,
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${projectId}>-*]`]:
        "CodeBuild's default grant to the report groups CodeBuild names <project>-<key> from the buildspec's reports " +
        'section; this construct creates those groups in the stack, so nothing is created outside it.',
      'Annotation::AwsSolutions-CB4':
        'Build artifacts and logs are encrypted with the AWS managed key for S3 (aws/s3), which CodeBuild uses when no ' +
        'key is given; a customer managed key would add $1/month and key-policy upkeep for no added control here.',
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${projectId}>:*]`]:
        "CodeBuild's grant to its default log group /aws/codebuild/<project>: log streams are named by build id at run " +
        'time. This construct sends the logs to its own log group (and S3), so the default group stays empty.',
      // the smoke tests read the integration-test stack's parameter
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/<AWS::StackName>-Delivery-integration-test/*]':
        'SSM parameters under one path: the smoke tests read the integration-test stack parameter, named /<stack>/<name>.',
    });
  });

  test('the alias alarms: errors at once, p99 latency above the threshold two minutes running; no data is not a breach', () => {
    const alarms = Object.fromEntries(s.ofType('AWS::CloudWatch::Alarm').map(([, r]) => [r.Properties.MetricName, r.Properties]));
    expect(alarms.Errors).toMatchObject({
      AlarmDescription: 'Rolls back a deployment of Test/App/Aliaslive when the alias returns errors',
      EvaluationPeriods: 1, TreatMissingData: 'notBreaching',
    });
    expect(alarms.Duration).toMatchObject({
      AlarmDescription: 'Rolls back a deployment of Test/App/Aliaslive when its p99 duration nears the timeout',
      Period: 60, EvaluationPeriods: 2, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
    });
    expect(alarms.FailedBuilds).toMatchObject({
      AlarmDescription: 'Builds of Test/Delivery failed',
      Period: 300, Statistic: 'Sum', EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
    });
  });

  test('each hook: its description, a minute to run, 3 health checks; only AfterAllowTraffic may read the alias', () => {
    for (const [hook, name] of [[target.beforeAllowTrafficHook, 'BeforeAllowTraffic'], [target.afterAllowTrafficHook, 'AfterAllowTraffic']] as const) {
      const fn = s.resources[s.logicalId(hook)].Properties;
      expect(fn).toMatchObject({
        Description: `CodeDeploy ${name} hook of Test/Delivery: health checks, then PutLifecycleEventHookExecutionStatus`,
        Timeout: 60,
        Environment: { Variables: { HEALTH_CHECK_INVOCATIONS: '3', POWERTOOLS_SERVICE_NAME: 'deploy-hooks' } },
      });
      const getAlias = s.statementsOf((fn.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).filter((st) => actionsOf(st).includes('lambda:GetAlias'));
      expect(getAlias.map((st) => st.Resource)).toEqual(
        name === 'AfterAllowTraffic' ? [[{ 'Fn::GetAtt': [s.logicalId(s.fn), 'Arn'] }, { Ref: s.logicalId(s.alias) }]] : [],
      );
    }
  });

  test('the deploy project: 90 minutes, what the script reads, the variables it exports, and the CodeDeploy reads it needs', () => {
    const project = s.resources[s.logicalId(target.deployProject)].Properties;
    expect(project.Description).toBe('Deploy stage of Test/Delivery: publishes a version of Test/App and shifts its alias with CodeDeploy');
    expect(project.TimeoutInMinutes).toBe(90);
    const ref = (construct: { node: { defaultChild?: unknown } }) => ({ Ref: s.logicalId(construct) });
    expect(Object.fromEntries((project.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] }).EnvironmentVariables.map((v) => [v.Name, v.Value]))).toEqual({
      FUNCTION_NAME: ref(s.fn),
      ALIAS_NAME: 'live',
      APPLICATION_NAME: { Ref: s.logicalId(target.deploymentGroup.application as never) },
      DEPLOYMENT_GROUP_NAME: ref(target.deploymentGroup),
      BEFORE_ALLOW_TRAFFIC_HOOK: ref(target.beforeAllowTrafficHook),
      AFTER_ALLOW_TRAFFIC_HOOK: ref(target.afterAllowTrafficHook),
      PACKAGE_FILE: 'function.zip',
      APPSPEC_FILE: 'appspec.yml',
    });
    expect(JSON.parse((project.Source as { BuildSpec: string }).BuildSpec).env).toEqual({ shell: 'bash', 'exported-variables': ['TARGET_VERSION', 'DEPLOYMENT_ID'] });
    const statements = s.statementsOf((project.ServiceRole as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    const resourceOf = (action: string) => JSON.stringify(statements.find((st) => actionsOf(st).includes(action))?.Resource);
    expect(resourceOf('codedeploy:GetDeploymentConfig')).toContain(':deploymentconfig:CodeDeployDefault.LambdaCanary10Percent5Minutes');
    expect(resourceOf('codedeploy:RegisterApplicationRevision')).toContain(`:application:",{"Ref":"${s.logicalId(target.deploymentGroup.application as never)}"}`);
    expect(resourceOf('codedeploy:GetApplicationRevision')).toBe(resourceOf('codedeploy:RegisterApplicationRevision'));
    expect(statements.filter((st) => actionsOf(st).includes('lambda:PublishVersion')).flatMap(actionsOf).sort()).toEqual(
      ['lambda:GetAlias', 'lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:PublishVersion', 'lambda:UpdateFunctionCode'],
    );
  });

  test('the notification rules name the pipeline, the deployment group and the package repository, and say what they watch', () => {
    const rules = Object.fromEntries(s.ofType('AWS::Events::Rule').map(([, r]) => [(r.Properties.EventPattern as { source: string[] }).source[0], r.Properties]));
    expect(rules['aws.codebuild'].Description).toBe('Failed CodeBuild builds of Test/Delivery');
    for (const source of ['aws.codebuild', 'aws.codepipeline', 'aws.codedeploy', 'aws.codeartifact']) {
      expect(rules[source].Targets).toEqual([expect.objectContaining({ Arn: { Ref: s.logicalId(s.pipeline.notificationTopic as sns.Topic) } })]);
    }
    expect(rules['aws.codepipeline'].Description).toBe('Failed executions of Test/Delivery');
    expect(rules['aws.codedeploy']).toMatchObject({
      Description: 'Failed or rolled-back CodeDeploy deployments of Test/Delivery',
      EventPattern: {
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        detail: { application: [{ Ref: s.logicalId(target.deploymentGroup.application as never) }], deploymentGroup: [{ Ref: s.logicalId(target.deploymentGroup) }] },
      },
    });
    const store = s.pipeline.packageStore!;
    expect(rules['aws.codeartifact']).toMatchObject({
      Description: 'Package versions created, changed or deleted in the CodeArtifact repository of Test/Delivery',
      EventPattern: { detail: { domainName: [{ 'Fn::GetAtt': [s.stack.getLogicalId(store.domain), 'Name'] }], repositoryName: [{ 'Fn::GetAtt': [s.stack.getLogicalId(store.repository), 'Name'] }] } },
    });
    expect(acknowledged(s.pipeline.notificationTopic as sns.Topic)).toEqual({
      'Annotation::AwsSolutions-SNS2':
        'EventBridge rules and CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key; a ' +
        'customer managed key would add $1/month. The topic carries build, pipeline and alarm state changes, no data.',
    });
  });

  test('the package store: the npm proxy and the app repository, named after the domain and described', () => {
    const store = s.pipeline.packageStore!;
    // CloudFormation flattens the nested joins: the domain name's parts, then the repository's suffix.
    const [, domainParts] = (s.stack.resolve(store.domain.domainName) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(s.stack.resolve(store.upstream.repositoryName)).toEqual({ 'Fn::Join': ['-', [...domainParts, 'npm-store']] });
    expect(s.stack.resolve(store.repository.repositoryName)).toEqual({ 'Fn::Join': ['-', [...domainParts, 'app']] });
    expect([store.upstream.description, store.repository.description]).toEqual([
      'Proxy and cache of the public npm registry',
      'Packages of Test/Delivery; public npm packages through its upstream',
    ]);
  });

  test('the Test stage runs buildspec-test.yml; each project may write to its report groups; the build reads the package store', () => {
    expect(s.resources[s.logicalId(s.pipeline.testProject)].Properties.Source).toMatchObject({ BuildSpec: 'buildspec-test.yml' });
    for (const [project, group] of [[s.pipeline.buildProject, s.pipeline.reportGroups[0]], [s.pipeline.testProject, s.pipeline.reportGroups[1]]] as const) {
      const statements = s.statementsOf(s.logicalId(project.role as never));
      const write = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify({ 'Fn::GetAtt': [s.logicalId(group), 'Arn'] }));
      expect(write.flatMap(actionsOf)).toContain('codebuild:BatchPutTestCases');
    }
    const store = s.pipeline.packageStore!;
    const read = s.statementsOf(s.logicalId(s.pipeline.buildProject.role as never)).filter((st) => JSON.stringify(st.Resource).includes(':package/'));
    expect(read.map(actionsOf)).toEqual([['codeartifact:ReadFromRepository']]);
    expect(acknowledged(s.pipeline.buildProject)).toMatchObject({
      'Annotation::AwsSolutions-IAM5[Resource::*]': 'sts:GetServiceBearerToken has no resource ARN (IAM requires "*"); the statement is limited to CodeArtifact by sts:AWSServiceName.',
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:codeartifact:<AWS::Region>:<AWS::AccountId>:package/<${s.stack.getLogicalId(store.domain)}.Name>/<${s.stack.getLogicalId(store.repository)}.Name>/*]`]:
        'npm install reads whichever package versions the lockfile names, all in this one CodeArtifact repository.',
    });
  });

  test('projects and report groups: described by stage; the reports are kept when the construct is removed', () => {
    expect([s.pipeline.buildProject, s.pipeline.testProject].map((p) => s.resources[s.logicalId(p)].Properties.Description)).toEqual([
      'Build stage of Test/Delivery',
      'Test stage of Test/Delivery',
    ]);
    expect(s.ofType('AWS::CodeBuild::ReportGroup').map(([, r]) => [r.Properties.DeleteReports, r.DeletionPolicy])).toEqual([
      [false, 'Retain'],
      [false, 'Retain'],
    ]);
  });

  test("the hooks' and the deployment group's grants are acknowledged with why", () => {
    const fnArn = `<${s.logicalId(s.fn)}.Arn>:*`;
    for (const hook of [target.beforeAllowTrafficHook, target.afterAllowTrafficHook]) {
      expect(acknowledged(hook.role as Construct)).toEqual({
        [`Annotation::AwsSolutions-IAM5[Resource::${fnArn}]`]: 'the hook invokes the versions the pipeline publishes (<function>:*), unknown at synth, of Test/App only.',
      });
    }
    const invoke =
      "LambdaDeploymentGroup's grantInvoke of the hook to CodeDeploy's service role covers its versions and aliases (<hook>:*), of this hook only.";
    expect(acknowledged(target.deploymentGroup)).toEqual({
      [`Annotation::AwsSolutions-IAM5[Resource::<${s.logicalId(target.beforeAllowTrafficHook)}.Arn>:*]`]: invoke,
      [`Annotation::AwsSolutions-IAM5[Resource::<${s.logicalId(target.afterAllowTrafficHook)}.Arn>:*]`]: invoke,
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]':
        "LambdaDeploymentGroup attaches CodeDeploy's own service-role policy for Lambda: it lets CodeDeploy read alarms, " +
        'update aliases and invoke CodeDeployHook_* functions; CDK grants the invoke of these hooks separately.',
    });
  });

  test('the actions: the Build and Deploy variables namespaces, the execution id to every stage, the approval message; no KMS key, no restart on update', () => {
    const actions = Object.fromEntries(stages.flatMap((st) => st.Actions).map((a) => [a.Name, a as typeof a & { Namespace?: string }]));
    expect([actions.Build.Namespace, actions.CreateIntegrationTestStack.Namespace, actions.ShiftTraffic.Namespace]).toEqual(['Build', 'IntegrationTest', 'Deploy']);
    expect(JSON.parse(actions.CreateIntegrationTestStack.Configuration.ParameterOverrides as string)).toEqual({ ExecutionId: '#{codepipeline.PipelineExecutionId}' });
    for (const name of ['SmokeTests', 'ShiftTraffic']) {
      expect(JSON.parse(actions[name].Configuration.EnvironmentVariables as string)).toContainEqual({ name: 'PIPELINE_EXECUTION_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' });
    }
    expect(actions.Approve.Configuration.CustomData).toBe('Release #{Build.RELEASE} passed its tests. Approve to shift traffic to it.');
    expect(pipeline.Properties.RestartExecutionOnUpdate).toBe(false);
    expect(s.ofType('AWS::KMS::Key')).toEqual([]);
    expect(s.resources[s.logicalId(s.pipeline.buildLogGroup)]).toMatchObject({ DeletionPolicy: 'Retain', Properties: { RetentionInDays: 30 } });
    const role = (actions.CreateIntegrationTestStack.Configuration.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    expect(s.resources[role].Properties.Description).toBe('CloudFormation role of the integration-test stack of Test/Delivery: its SSM parameter only');
    expect(acknowledged(s.pipeline.node.findChild('IntegrationTestStackRole'))).toEqual({
      'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/<AWS::StackName>-Delivery-integration-test/*]':
        'SSM parameters under one path: the parameters of the integration-test stack are named /<stack>/<name> by its template.',
    });
    expect(s.ofType('AWS::CodeCommit::Repository').map(([, r]) => r.Properties.RepositoryDescription)).toEqual(['Source of Test/Delivery']);
  });

  test('the created repository is seeded with the given folder, on branch main', () => {
    s.template.hasResourceProperties('AWS::CodeCommit::Repository', { Code: { BranchName: 'main', S3: Match.anyValue() } });
  });
});

describe('sources', () => {
  test('an existing CodeCommit repository is used as is', () => {
    const s = synth((alias, stack) => ({
      source: PipelineSource.codeCommit({ repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'existing') }),
      target: DeployTarget.lambdaAlias(alias),
    }));
    expect(s.ofType('AWS::CodeCommit::Repository')).toHaveLength(0);
    s.template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([Match.objectLike({ Name: 'Source', Actions: [Match.objectLike({ Configuration: Match.objectLike({ RepositoryName: 'existing' }) })] })]),
    });
  });

  test('an S3 source starts on new object versions through EventBridge, without polling or a trail', () => {
    const s = synth((alias, stack) => ({
      source: PipelineSource.s3(new s3.Bucket(stack, 'Sources', { versioned: true, eventBridgeEnabled: true }), 'app.zip'),
      target: DeployTarget.lambdaAlias(alias),
    }));
    s.template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([Match.objectLike({ Name: 'Source', Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'S3' }), Configuration: Match.objectLike({ S3ObjectKey: 'app.zip', PollForSourceChanges: false }) })] })]),
    });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: [{ Ref: Match.anyValue() }] }, object: { key: ['app.zip'] } } },
      Description: 'Starts Test/Delivery when a new version of the source zip is uploaded',
      Targets: [Match.objectLike({ Arn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([':codepipeline:', { Ref: s.logicalId(s.pipeline.pipeline) }])] }) })],
    });
    expect(s.ofType('AWS::CloudTrail::Trail')).toHaveLength(0);
  });

  test('a CodeConnections source uses the connection', () => {
    const connectionArn = 'arn:aws:codeconnections:us-east-1:123456789012:connection/abc';
    const s = synth((alias) => ({
      source: PipelineSource.connection({ connectionArn, owner: 'me', repo: 'app' }),
      target: DeployTarget.lambdaAlias(alias),
      packageStore: false,
    }));
    s.template.hasResourceProperties('AWS::CodePipeline::Pipeline', {
      Stages: Match.arrayWith([Match.objectLike({ Name: 'Source', Actions: [Match.objectLike({ ActionTypeId: Match.objectLike({ Provider: 'CodeStarSourceConnection' }), Configuration: Match.objectLike({ ConnectionArn: connectionArn, FullRepositoryId: 'me/app', BranchName: 'main' }) })] })]),
    });
    expect(s.ofType('AWS::CodeArtifact::Domain')).toHaveLength(0);
  });
});

describe('options', () => {
  test('a custom linear shift creates its own deployment configuration; no approval; local cache; a PyPI store; reports deleted with the construct', () => {
    const s = synth((alias, stack) => ({
      target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(25, Duration.minutes(2)) }),
      approval: false,
      integrationTestStack: false,
      build: {
        cache: codebuild.Cache.local(codebuild.LocalCacheMode.SOURCE, codebuild.LocalCacheMode.CUSTOM),
        timeout: Duration.minutes(30),
        reportGroupRemovalPolicy: RemovalPolicy.DESTROY,
      },
      artifactBucket: s3.Bucket.fromBucketName(stack, 'Given', 'given-artifacts'),
      packageStore: { externalConnection: 'public:pypi' },
    }));
    s.template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 25, LinearInterval: 2 } },
    });
    const [, pipeline] = s.ofType('AWS::CodePipeline::Pipeline')[0];
    expect((pipeline.Properties.Stages as { Name: string }[]).map((st) => st.Name)).toEqual(['Source', 'Build', 'Test', 'Deploy']);
    s.template.hasResourceProperties('AWS::CodeBuild::Project', { Cache: { Type: 'LOCAL', Modes: ['LOCAL_SOURCE_CACHE', 'LOCAL_CUSTOM_CACHE'] } });
    // Without the integration-test stack the Test stage is the smoke tests alone.
    const test = (pipeline.Properties.Stages as { Name: string; Actions: { Name: string }[] }[]).find((st) => st.Name === 'Test');
    expect(test?.Actions.map((a) => a.Name)).toEqual(['SmokeTests']);
    expect(s.pipeline.integrationTestStackName).toBeUndefined();
    expect(s.ofType('AWS::IAM::Role').filter(([id]) => id.includes('IntegrationTestStackRole'))).toEqual([]);
    // The build timeout is given in whole minutes; the given bucket has no template resource to name in a finding.
    expect([s.pipeline.buildProject, s.pipeline.testProject].map((p) => s.resources[s.logicalId(p)].Properties.TimeoutInMinutes)).toEqual([30, 30]);
    expect(s.ofType('AWS::S3::Bucket')).toEqual([]);
    expect(Object.keys(acknowledged(s.pipeline.pipeline))).toEqual(ARTIFACT_GRANT_ACTIONS);
    const store = s.pipeline.packageStore!;
    expect([store.upstream.externalConnections, store.upstream.description, store.repository.description]).toEqual([
      ['public:pypi'],
      'Proxy and cache of the public pypi registry',
      'Packages of Test/Delivery; public pypi packages through its upstream',
    ]);
    expect(JSON.stringify(s.stack.resolve(store.upstream.repositoryName))).toContain('"pypi-store"');
    expect(s.ofType('AWS::CodeBuild::ReportGroup').map(([, r]) => r.Properties.DeleteReports)).toEqual([true, true]);
  });

  test('the latency threshold is rounded to whole milliseconds: 80% of a 1,001 ms timeout, or the threshold given', () => {
    const threshold = (options: LambdaAliasTargetOptions) => {
      const s = synth((alias) => ({ target: DeployTarget.lambdaAlias(alias, options) }));
      const [[, alarm]] = s.ofType('AWS::CloudWatch::Alarm').filter(([, r]) => r.Properties.MetricName === 'Duration');
      return alarm.Properties.Threshold;
    };
    expect(threshold({ functionTimeout: Duration.millis(1001) })).toBe(801);
    expect(threshold({})).toBe(8000); // 80% of the default 10 s
    expect(threshold({ functionTimeout: Duration.millis(1001), latencyThreshold: Duration.seconds(0.75) })).toBe(750);
  });

  test('a token interval in minutes skips the predefined configurations and creates its own', () => {
    const s = synth((alias) => ({
      target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(10, Duration.minutes(Lazy.number({ produce: () => 5 }))) }),
    }));
    s.template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 10, CanaryInterval: 5 } },
    });
  });

  test('an ECS target gives the rollback alarms it was given, once bound', () => {
    const { stack } = newStack();
    const { service, blue, green, listener, testListener } = ecsTarget(stack);
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Alarm', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:high-5xx');
    const target = DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, rollbackAlarms: [alarm] });
    expect(() => target.rollbackAlarms).toThrow(
      `DeployTarget.ecsService(Test/Service): [BlueGreenPipeline.TargetNotBound] rollbackAlarms is created by the pipeline: pass this target to a BlueGreenPipeline before reading it`,
    );
    for (const field of ['deploymentGroup', 'imageRepository', 'afterAllowTestTrafficHook'] as const) {
      expect(() => target[field]).toThrow(`DeployTarget.ecsService(Test/Service): [BlueGreenPipeline.TargetNotBound] ${field} is created by the pipeline: pass this target to a BlueGreenPipeline before reading it`);
    }
    new BlueGreenPipeline(stack, 'Delivery', { target });
    expect(target.rollbackAlarms).toEqual([alarm]);
    // With an alarm, an alarm stops the deployment and rolls it back.
    expect(stack.resolve((target.deploymentGroup.node.defaultChild as codedeploy.CfnDeploymentGroup).autoRollbackConfiguration)).toEqual({
      enabled: true,
      events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'],
    });
  });

  test("each shift CodeDeploy predefines for Lambda is used as is; ECS gets its own, or CodeDeploy's all-at-once", () => {
    const { LambdaDeploymentConfig: Lambda, EcsDeploymentConfig: Ecs } = codedeploy;
    const stack = new Stack();
    expect([
      TrafficShift.canary(10, Duration.minutes(5)),
      TrafficShift.canary(10, Duration.minutes(10)),
      TrafficShift.canary(10, Duration.minutes(15)),
      TrafficShift.canary(10, Duration.minutes(30)),
      TrafficShift.linear(10, Duration.minutes(1)),
      TrafficShift.linear(10, Duration.minutes(2)),
      TrafficShift.linear(10, Duration.minutes(3)),
      TrafficShift.linear(10, Duration.minutes(10)),
      TrafficShift.allAtOnce(),
    ].map((shift) => shift.lambdaConfig(stack))).toEqual([
      Lambda.CANARY_10PERCENT_5MINUTES,
      Lambda.CANARY_10PERCENT_10MINUTES,
      Lambda.CANARY_10PERCENT_15MINUTES,
      Lambda.CANARY_10PERCENT_30MINUTES,
      Lambda.LINEAR_10PERCENT_EVERY_1MINUTE,
      Lambda.LINEAR_10PERCENT_EVERY_2MINUTES,
      Lambda.LINEAR_10PERCENT_EVERY_3MINUTES,
      Lambda.LINEAR_10PERCENT_EVERY_10MINUTES,
      Lambda.ALL_AT_ONCE,
    ]);
    expect(TrafficShift.allAtOnce().ecsConfig(stack)).toBe(Ecs.ALL_AT_ONCE);
    expect(TrafficShift.linear(20, Duration.minutes(3)).ecsConfig(stack)).toBeInstanceOf(Ecs);
    expect(stack.resolve((stack.node.findChild('TrafficShift').node.defaultChild as codedeploy.CfnDeploymentConfig).trafficRoutingConfig)).toEqual({
      type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 20, linearInterval: 3 },
    });
  });

  test('all-at-once uses the predefined configuration; the approval can e-mail instead of the topic', () => {
    const s = synth((alias) => ({
      target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.allAtOnce() }),
      approval: { emails: ['lead@example.com'] },
      notifications: false,
    }));
    s.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    expect(s.ofType('AWS::SNS::Topic')).toHaveLength(1); // the approval's own e-mail topic, made by CDK
    expect(s.ofType('AWS::Events::Rule').map(([, r]) => (r.Properties.EventPattern as { source: string[] }).source[0])).toEqual(['aws.codecommit']);
  });
});

/** An ECS blue/green target: a Fargate service behind an ALB with production (80) and test (8080) listeners. */
function ecsTarget(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
  const blue = new elbv2.ApplicationTargetGroup(stack, 'Blue', { vpc, port: 80, targetType: elbv2.TargetType.IP });
  const green = new elbv2.ApplicationTargetGroup(stack, 'Green', { vpc, port: 80, targetType: elbv2.TargetType.IP });
  const listener = alb.addListener('Prod', { port: 80, defaultTargetGroups: [blue] });
  const testListener = alb.addListener('TestListener', { port: 8080, defaultTargetGroups: [green] });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'TaskDefinition');
  taskDefinition.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'), portMappings: [{ containerPort: 80 }] });
  const service = new ecs.FargateService(stack, 'Service', {
    cluster: new ecs.Cluster(stack, 'Cluster', { vpc }),
    taskDefinition,
    deploymentController: { type: ecs.DeploymentControllerType.CODE_DEPLOY },
    minHealthyPercent: 100,
  });
  service.attachToApplicationTargetGroup(blue);
  return { alb, blue, green, listener, testListener, service, taskDefinition };
}

describe('ECS blue/green target', () => {
  let target: ReturnType<typeof ecsTarget>;
  let ecsDeploy: EcsServiceTarget;
  const s = synth((_alias, stack) => {
    target = ecsTarget(stack);
    const { service, blue, green, listener, testListener } = target;
    ecsDeploy = DeployTarget.ecsService({
      service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener,
      testTrafficCheck: { path: '/version.json', expectTaskDefinitionInBody: true },
    });
    return { target: ecsDeploy };
  });
  const [, pipeline] = s.ofType('AWS::CodePipeline::Pipeline')[0];
  const stages = pipeline.Properties.Stages as { Name: string; Actions: { ActionTypeId: { Category: string; Provider: string }; Configuration: Record<string, unknown> }[] }[];
  const hookId = () => s.logicalId(ecsDeploy.afterAllowTestTrafficHook);
  const hookEnvironment = () => (s.resources[hookId()].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const buildProject = () => s.resources[s.logicalId(s.pipeline.buildProject)].Properties;

  test('wires both target groups, the production and test listeners', () => {
    s.template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
      LoadBalancerInfo: {
        TargetGroupPairInfoList: [{
          TargetGroups: [{ Name: Match.anyValue() }, { Name: Match.anyValue() }],
          ProdTrafficRoute: { ListenerArns: [{ Ref: s.logicalId(target.listener) }] },
          TestTrafficRoute: { ListenerArns: [{ Ref: s.logicalId(target.testListener) }] },
        }],
      },
    });
    expect(s.ofType('AWS::CodeBuild::Project')).toHaveLength(2); // no deploy project: CodeDeployToECS is a pipeline action
  });

  test('the build builds and pushes the image: Docker on, IMAGE_REPOSITORY_URI, push to this repository only', () => {
    const repositoryId = s.logicalId(ecsDeploy.imageRepository);
    s.template.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
    });
    const environment = buildProject().Environment as { PrivilegedMode: boolean; EnvironmentVariables: { Name: string; Value: unknown }[] };
    expect(environment.PrivilegedMode).toBe(true);
    expect(s.resources[s.logicalId(s.pipeline.testProject)].Properties.Environment).toMatchObject({ PrivilegedMode: false });
    expect(environment.EnvironmentVariables.map((v) => v.Name)).toEqual(expect.arrayContaining(['IMAGE_REPOSITORY_URI', 'AFTER_ALLOW_TEST_TRAFFIC_HOOK']));
    const push = s.statementsOf(s.logicalId(s.pipeline.buildProject.role as never)).find((st) => actionsOf(st).includes('ecr:PutImage'));
    expect(push?.Resource).toEqual({ 'Fn::GetAtt': [repositoryId, 'Arn'] });
  });

  test("the deploy action puts imageDetail.json's URI in place of <IMAGE1_NAME>; the execution role may pull it", () => {
    const deploy = stages.find((st) => st.Name === 'Deploy')!.Actions[0];
    expect(deploy.ActionTypeId).toMatchObject({ Category: 'Deploy', Provider: 'CodeDeployToECS' });
    expect(deploy.Configuration).toMatchObject({
      Image1ArtifactName: 'BuildOutput', Image1ContainerName: 'IMAGE1_NAME',
      TaskDefinitionTemplateArtifact: 'BuildOutput', TaskDefinitionTemplatePath: 'taskdef.json',
      AppSpecTemplateArtifact: 'BuildOutput', AppSpecTemplatePath: 'appspec-ecs.yml',
    });
    const executionRoleId = s.logicalId(target.taskDefinition.executionRole as never);
    const pull = s.statementsOf(executionRoleId).find((st) => actionsOf(st).includes('ecr:BatchGetImage'));
    expect(pull?.Resource).toEqual({ 'Fn::GetAtt': [s.logicalId(ecsDeploy.imageRepository), 'Arn'] });
  });

  test('the AfterAllowTestTraffic hook requests the test listener, knows its deployment group, and CodeDeploy may invoke it', () => {
    const group = s.logicalId(ecsDeploy.deploymentGroup);
    expect(hookEnvironment()).toMatchObject({
      HOOK: 'AfterAllowTestTraffic',
      TEST_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [s.logicalId(target.alb), 'DNSName'] }, ':8080/version.json']] },
      REQUESTS: '3',
      EXPECT_TASK_DEFINITION: 'true',
      DEPLOYMENT_GROUP_NAME: { Ref: group },
      SERVICE_NAME: { 'Fn::GetAtt': [s.logicalId(target.service), 'Name'] },
    });
    const codeDeployRole = (s.resources[group].Properties.ServiceRoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const invoke = s.statementsOf(codeDeployRole).find((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(JSON.stringify(invoke?.Resource)).toContain(hookId());
  });

  test('the hook may report on this deployment group and read the task sets of this service only', () => {
    const statements = s.statementsOf(s.logicalId(ecsDeploy.afterAllowTestTrafficHook.role as never));
    const report = statements.find((st) => actionsOf(st).includes('codedeploy:PutLifecycleEventHookExecutionStatus'))!;
    expect(JSON.stringify(report.Resource)).toContain(`deploymentgroup:",{"Ref":"${s.logicalId(ecsDeploy.deploymentGroup.application as never)}"},"/",{"Ref":"${s.logicalId(ecsDeploy.deploymentGroup)}"}`);
    const taskSets = statements.find((st) => actionsOf(st).includes('ecs:DescribeTaskSets'))!;
    expect(actionsOf(taskSets)).toEqual(['ecs:DescribeTaskSets']);
    expect(JSON.stringify(taskSets.Resource)).toMatch(/task-set\/",\{"Fn::Join":\["\/",\[\{"Ref":"Cluster\w+"\},\{"Fn::GetAtt":\["Service\w+","Name"\]\},"\*"\]\]\}/);
  });

  test('the deployment group: no alarms so no rollback on alarm, traffic moves at once when ready, the old tasks go after 5 minutes', () => {
    expect(s.resources[s.logicalId(ecsDeploy.deploymentGroup)].Properties).toMatchObject({
      AlarmConfiguration: { Enabled: false },
      AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] },
      BlueGreenDeploymentConfiguration: {
        DeploymentReadyOption: { WaitTimeInMinutes: 0 },
        TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 5 },
      },
    });
    expect(acknowledged(ecsDeploy.deploymentGroup)).toEqual({
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]':
        "EcsDeploymentGroup attaches CodeDeploy's own service-role policy for ECS blue/green: it lets CodeDeploy create " +
        'and delete task sets, modify the listeners and rules, read alarms and invoke CodeDeployHook_* functions.',
    });
  });

  test('the hook: its description, 60 s plus 5 s a request, the cluster it reads; its grants acknowledged with why', () => {
    expect(s.resources[hookId()].Properties).toMatchObject({
      Description: 'CodeDeploy AfterAllowTestTraffic hook of Test/Delivery: requests the test listener, then PutLifecycleEventHookExecutionStatus',
      Timeout: 75,
    });
    expect(hookEnvironment()).toMatchObject({
      CLUSTER_NAME: { Ref: s.logicalId(target.service.cluster as ecs.Cluster) },
      POWERTOOLS_SERVICE_NAME: 'deploy-hooks',
      APPLICATION_NAME: { Ref: s.logicalId(ecsDeploy.deploymentGroup.application as never) },
    });
    const statements = s.statementsOf(s.logicalId(ecsDeploy.afterAllowTestTrafficHook.role as never));
    const codedeploy = statements.find((st) => actionsOf(st).includes('codedeploy:GetDeployment'))!;
    expect(actionsOf(codedeploy).sort()).toEqual(['codedeploy:GetDeployment', 'codedeploy:GetDeploymentTarget', 'codedeploy:ListDeploymentTargets', 'codedeploy:PutLifecycleEventHookExecutionStatus']);
    // The service ARN too, in case IAM evaluates DescribeTaskSets against the service.
    expect(JSON.stringify(statements.find((st) => actionsOf(st).includes('ecs:DescribeTaskSets'))!.Resource)).toContain(`{"Ref":"${s.logicalId(target.service)}"}`);
    const clusterId = s.logicalId(target.service.cluster as ecs.Cluster);
    expect(acknowledged(ecsDeploy.afterAllowTestTrafficHook.role as Construct)).toEqual({
      [`Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-set/<${clusterId}>/<${s.logicalId(target.service)}.Name>/*]`]:
        'CodeDeploy creates a task set per deployment with an id assigned at run time: the hook reads the task sets of this one service.',
    });
  });

  test('the image repository keeps the last 10 images and is retained; docker login and the action role are acknowledged with why', () => {
    const repository = s.resources[s.logicalId(ecsDeploy.imageRepository as never)];
    expect(repository.DeletionPolicy).toBe('Retain');
    expect(JSON.parse((repository.Properties.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText).rules).toEqual([
      { rulePriority: 1, description: 'Keep the last 10 images: enough to roll back', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } },
    ]);
    const login = {
      'Annotation::AwsSolutions-IAM5[Resource::*]': 'ecr:GetAuthorizationToken (docker login) has no resource ARN, IAM requires "*"; pulls and pushes are limited to the one repository.',
    };
    expect(acknowledged(target.taskDefinition.executionRole as Construct)).toEqual(login);
    expect(acknowledged(s.pipeline.buildProject)).toMatchObject(login);
    expect(acknowledged(s.pipeline.pipeline)).toMatchObject({
      'Annotation::AwsSolutions-IAM5[Resource::*]':
        "CDK's CodeDeployToECS action role: ecs:RegisterTaskDefinition has no resource ARN, and iam:PassRole covers the " +
        'task and execution roles taskdef.json names at run time, limited to ecs-tasks.amazonaws.com by iam:PassedToService.',
    });
  });

  test('image: false and testTrafficCheck: false leave the image to the task definition and run no hook', () => {
    let plainTarget: EcsServiceTarget | undefined;
    const plain = synth((_alias, stack) => {
      const { service, blue, green, listener, testListener } = ecsTarget(stack);
      plainTarget = DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, image: false, testTrafficCheck: false });
      return { target: plainTarget };
    });
    expect(plain.ofType('AWS::ECR::Repository')).toHaveLength(0);
    expect(plain.ofType('AWS::Lambda::Function').filter(([id]) => id.includes('AfterAllowTestTraffic'))).toHaveLength(0);
    expect(() => plainTarget?.afterAllowTestTrafficHook).toThrow(ConstructUsageError);
    expect(() => plainTarget?.afterAllowTestTrafficHook).toThrow('DeployTarget.ecsService(Test/Service): [BlueGreenPipeline.PartOff] afterAllowTestTrafficHook does not exist: the target was created with testTrafficCheck: false');
    expect(() => plainTarget?.imageRepository).toThrow('DeployTarget.ecsService(Test/Service): [BlueGreenPipeline.PartOff] imageRepository does not exist: the target was created with image: false');
    expect(plain.resources[plain.logicalId(plain.pipeline.buildProject)].Properties.Environment).toMatchObject({ PrivilegedMode: false });
    const [, pipeline] = plain.ofType('AWS::CodePipeline::Pipeline')[0];
    const deploy = (pipeline.Properties.Stages as { Name: string; Actions: { Configuration: Record<string, unknown> }[] }[]).find((st) => st.Name === 'Deploy')!.Actions[0];
    expect(Object.keys(deploy.Configuration).filter((key) => key.startsWith('Image1'))).toEqual([]);
  });

  test('an imported service is a warning: its execution role must be granted pull by hand', () => {
    const { stack } = newStack();
    const { blue, green, listener, testListener, service } = ecsTarget(stack);
    const imported = ecs.FargateService.fromFargateServiceAttributes(stack, 'Imported', { serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/cluster/app', cluster: service.cluster });
    const pipeline = new BlueGreenPipeline(stack, 'Delivery', { target: DeployTarget.ecsService({ service: imported, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener }) });
    expect(() => Template.fromStack(stack)).toThrow(/the service is imported, so its task execution role is unknown: grant it pull on imageRepository yourself/);
    Validations.of(pipeline).acknowledge({ id: 'Annotation::BlueGreenPipeline.ImageWithImportedService', reason: 'test' });
    const hook = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { HOOK: 'AfterAllowTestTraffic' } } } }));
    // testTrafficCheck's defaults: the test listener's root, 3 requests, any body.
    expect(hook.map((fn) => fn.Properties.Environment.Variables)).toEqual([
      expect.objectContaining({
        TEST_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/^Alb/), 'DNSName'] }, ':8080/']] },
        REQUESTS: '3',
        EXPECT_TASK_DEFINITION: 'false',
      }),
    ]);
  });
});

describe('names come from the construct path', () => {
  test('two pipelines in one stack get their own repository, projects and integration-test stack', () => {
    const { stack, alias, fn } = newStack();
    const other = fn.addAlias('other');
    const sources = [PipelineSource.codeCommit(), PipelineSource.codeCommit()];
    const first = new BlueGreenPipeline(stack, 'Delivery', { source: sources[0], target: DeployTarget.lambdaAlias(alias) });
    const nested = new BlueGreenPipeline(new Construct(stack, 'Team-B'), 'Delivery', { source: sources[1], target: DeployTarget.lambdaAlias(other) });
    const names = (p: BlueGreenPipeline, source: (typeof sources)[number]) =>
      [
        (source.repository.node.defaultChild as codecommit.CfnRepository).repositoryName,
        (p.buildProject.node.defaultChild as codebuild.CfnProject).name,
        (p.testProject.node.defaultChild as codebuild.CfnProject).name,
        p.integrationTestStackName,
      ].map((n) => {
        const [stackName, rest] = (stack.resolve(n) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
        expect(stackName).toEqual({ Ref: 'AWS::StackName' });
        return rest;
      });
    expect(names(first, sources[0])).toEqual(['delivery', 'Delivery-build', 'Delivery-test', 'Delivery-integration-test']);
    expect((sources[0].repository.node.defaultChild as codecommit.CfnRepository).code).toBeUndefined(); // no initialContents: empty
    expect(names(nested, sources[1])).toEqual(['team-b-delivery', 'Team-B-Delivery-build', 'Team-B-Delivery-test', 'Team-B-Delivery-integration-test']);
  });

  test('a long path keeps its start and a hash, within the 50 characters of a CodeArtifact domain name', () => {
    const { stack, alias } = newStack();
    const deep = new Construct(new Construct(stack, 'AVeryLongOrganisationalUnitName'), 'AnotherQuiteLongTeamName');
    const pipeline = new BlueGreenPipeline(deep, 'Delivery', { target: DeployTarget.lambdaAlias(alias) });
    const domain = stack.resolve(pipeline.packageStore?.domain.domainName) as { 'Fn::Join': [string, unknown[]] };
    const [name, stackUuidPart] = domain['Fn::Join'][1] as [string, unknown];
    expect(name).toMatch(/^pkg-averylongorganisationalunit-[0-9a-f]{8}$/);
    expect(stackUuidPart).toMatchObject({ 'Fn::Select': [0, expect.anything()] });
    expect(`${name}-12345678`.length).toBeLessThanOrEqual(50);
  });
});

describe('bad input fails synth with every problem at once', () => {
  const errorOf = (props: (alias: lambda.Alias, stack: Stack) => BlueGreenPipelineProps) => {
    const { stack, alias } = newStack();
    try {
      new BlueGreenPipeline(stack, 'Delivery', props(alias, stack));
    } catch (error) {
      return error as ConstructValidationError;
    }
    throw new Error('expected a validation error');
  };

  test('an existing repository with settings for a created one, a canary out of range, short timeouts, an approval notifying nobody', () => {
    const error = errorOf((alias, stack) => ({
      source: PipelineSource.codeCommit({ repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'r'), repositoryProps: { initialContents: '.' } }),
      target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(100, Duration.seconds(30)) }),
      build: { timeout: Duration.minutes(2) },
      approval: { timeout: Duration.minutes(4) },
      notifications: false,
    }));
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect(error.message).toBe(
      [
        'Test/Delivery: 6 problems in props:',
        '  - [BlueGreenPipeline.RepositoryAndRepositoryProps] give either repository (an existing resource) or repositoryProps (for the one to create), not both',
        '  - [BlueGreenPipeline.TrafficPercentageRange] canary percentage must be a whole number from 1 to 99, got 100',
        '  - [BlueGreenPipeline.TrafficIntervalRange] canary interval must be whole minutes from 1 to 2880 (2 days), got 0.5 minutes',
        '  - [BlueGreenPipeline.BuildTimeoutRange] build.timeout must be whole minutes from 5 to 2160, got 2 minutes',
        '  - [BlueGreenPipeline.ApprovalWithoutNotification] the manual approval notifies nobody: give approval.topic or approval.emails, or keep notifications on',
        '  - [BlueGreenPipeline.ApprovalTimeoutRange] approval.timeout must be whole minutes from 5 to 86400 (60 days), got 4 minutes',
      ].join('\n'),
    );
  });

  test('a source or a target belongs to one pipeline', () => {
    const { stack, alias } = newStack();
    const source = PipelineSource.codeCommit();
    const target = DeployTarget.lambdaAlias(alias);
    new BlueGreenPipeline(stack, 'First', { source, target });
    expect(() => new BlueGreenPipeline(stack, 'Second', { source, target })).toThrow(
      [
        'Test/Second: 2 problems in props:',
        '  - [BlueGreenPipeline.SourceInUse] this source already feeds Test/First: create one source per pipeline',
        '  - [BlueGreenPipeline.TargetInUse] DeployTarget.lambdaAlias(Test/App/Aliaslive) already deploys for Test/First: create one target per pipeline',
      ].join('\n'),
    );
  });

  test('what a pipeline creates cannot be read from a source or target before it is created', () => {
    const { alias } = newStack();
    const target = DeployTarget.lambdaAlias(alias);
    expect(() => target.deploymentGroup).toThrow(ConstructUsageError);
    for (const [read, field] of [
      [() => target.deploymentGroup, 'deploymentGroup'],
      [() => target.beforeAllowTrafficHook, 'beforeAllowTrafficHook'],
      [() => target.afterAllowTrafficHook, 'afterAllowTrafficHook'],
    ] as const) {
      expect(read).toThrow(`DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotBound] ${field} is created by the pipeline: pass this target to a BlueGreenPipeline before reading it`);
    }
    expect(() => target.deployProject).toThrow(
      'DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotBound] deployProject is created by the pipeline: pass this target to a BlueGreenPipeline before reading it',
    );
    expect(() => PipelineSource.codeCommit().repository).toThrow(
      'PipelineSource.codeCommit: [BlueGreenPipeline.SourceNotBound] the repository is created by the pipeline: pass this source to a BlueGreenPipeline before reading repository',
    );
    expect(() => target.rollbackAlarms).toThrow(
      'DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotBound] rollbackAlarms is created by the pipeline: pass this target to a BlueGreenPipeline before reading it',
    );
  });

  test('an approval notifying its own topic needs no failure notifications', () => {
    const { stack, alias } = newStack();
    const topic = new sns.Topic(stack, 'Approvers');
    expect(() => new BlueGreenPipeline(stack, 'Delivery', { target: DeployTarget.lambdaAlias(alias), approval: { topic }, notifications: false })).not.toThrow();
  });

  test('a Lambda target bound without a pipeline validating it first is a usage error', () => {
    const { stack, alias } = newStack();
    const target = DeployTarget.lambdaAlias(alias);
    const context = { scope: stack } as unknown as ProjectContext;
    expect(() => target.bind(context, new codepipeline.Artifact())).toThrow(
      'DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotValidated] bind() follows a validate() without problems: pass this target to a BlueGreenPipeline instead of binding it yourself',
    );
  });

  test.each<[string, (alias: lambda.Alias, stack: Stack) => BlueGreenPipelineProps, string]>([
    ['an S3 source without a key', (alias, stack) => ({ source: PipelineSource.s3(s3.Bucket.fromBucketName(stack, 'B', 'sources-bucket'), ''), target: DeployTarget.lambdaAlias(alias) }),
      '[BlueGreenPipeline.S3SourceNeedsKey] an S3 source needs objectKey, the key of the source zip'],
    ['a canary of 0%', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(0, Duration.minutes(5)) }) }), 'canary percentage must be a whole number from 1 to 99, got 0'],
    ['a linear step of 2.5%', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(2.5, Duration.minutes(1)) }) }), 'linear percentage must be a whole number from 1 to 99, got 2.5'],
    ['a 3-day canary', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(10, Duration.days(3)) }) }), 'got 4320 minutes'],
    ['a linear shift over 2 days', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(1, Duration.minutes(30)) }) }), '[BlueGreenPipeline.TrafficShiftTooLong] linear 1% every 30 minutes waits 2970 minutes in all'],
    ['60 health checks', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { healthCheckInvocations: 60 }) }), '[BlueGreenPipeline.HealthCheckInvocationsRange]'],
    ['2.5 health checks', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { healthCheckInvocations: 2.5 }) }),
      '[BlueGreenPipeline.HealthCheckInvocationsRange] healthCheckInvocations must be a whole number from 1 to 50, got 2.5'],
    ['a build timeout of 5.5 minutes', (alias) => ({ target: DeployTarget.lambdaAlias(alias), build: { timeout: Duration.seconds(330) } }),
      '[BlueGreenPipeline.BuildTimeoutRange] build.timeout must be whole minutes from 5 to 2160, got 5 minutes 30 seconds'],
    ['an approval timeout of 5.5 minutes', (alias) => ({ target: DeployTarget.lambdaAlias(alias), approval: { timeout: Duration.seconds(330) } }),
      '[BlueGreenPipeline.ApprovalTimeoutRange] approval.timeout must be whole minutes from 5 to 86400 (60 days), got 5 minutes 30 seconds'],
    ['an S3 source reused', (alias, stack) => {
      const source = PipelineSource.s3(s3.Bucket.fromBucketName(stack, 'B', 'sources-bucket'), 'app.zip');
      new BlueGreenPipeline(stack, 'First', { source, target: DeployTarget.lambdaAlias(stack.node.findChild('App').node.findChild('Aliaslive') as lambda.Alias) });
      return { source, target: DeployTarget.lambdaAlias(alias) };
    }, '[BlueGreenPipeline.SourceInUse] this source already feeds Test/First: create one source per pipeline'],
    ['a build timeout of 1.5 seconds', (alias) => ({ target: DeployTarget.lambdaAlias(alias), build: { timeout: Duration.millis(1500) } }), '[BlueGreenPipeline.NotWholeSeconds] build.timeout must be a whole number of seconds, got 1.5 s'],
    ['a function timeout known only at deploy time, without a latency threshold', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { functionTimeout: Duration.seconds(Lazy.number({ produce: () => 5 })) }) }),
      "[BlueGreenPipeline.LatencyThresholdUnresolved] functionTimeout is a token, so the latency alarm's default threshold (80% of it) is unknown at synth: give latencyThreshold as a literal duration"],
    ['a latency threshold known only at deploy time', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { latencyThreshold: Duration.millis(Lazy.number({ produce: () => 900 })) }) }),
      "[BlueGreenPipeline.LatencyThresholdUnresolved] latencyThreshold is a token: the latency alarm's threshold is a number known at synth, give a literal duration"],
    ['a latency threshold in milliseconds known only at deploy time', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { latencyThreshold: Duration.millis(Lazy.number({ produce: () => 900 })) }) }),
      '[BlueGreenPipeline.TokenNotInSeconds] latencyThreshold is a token in millis, which cannot be converted at synth: give it as Duration.seconds(token)'],
    ['a token interval in seconds', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(10, Duration.seconds(Lazy.number({ produce: () => 60 }))) }) }),
      '[BlueGreenPipeline.TokenNotInMinutes] trafficShift interval is a token in seconds, which cannot be converted at synth: give it as Duration.minutes(token)'],
    ['a canary on an ECS service', (_alias, stack) => {
      const { service, blue, green, listener, testListener } = ecsTarget(stack);
      return { target: DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, trafficShift: TrafficShift.canary(10, Duration.seconds(90)) }) };
    }, '[BlueGreenPipeline.TrafficIntervalRange] canary interval must be whole minutes from 1 to 2880 (2 days), got 1.5 minutes'],
    ['a service known only by an imported ARN', (_alias, stack) => {
      const { service, blue, green, listener, testListener } = ecsTarget(stack);
      const imported = ecs.FargateService.fromFargateServiceAttributes(stack, 'Imported', { serviceArn: Fn.importValue('service-arn'), cluster: service.cluster });
      return { target: DeployTarget.ecsService({ service: imported, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, image: false }) };
    }, "[BlueGreenPipeline.ServiceNameUnresolvable] the service's name and its cluster's name must be literals or references to resources of this app"],
    ['a test-traffic check on an imported test listener without a URL', (_alias, stack) => {
      const { service, blue, green, listener } = ecsTarget(stack);
      const testListener = elbv2.ApplicationListener.fromApplicationListenerAttributes(stack, 'Imported', {
        listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/3',
        securityGroup: ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-1'),
      });
      return { target: DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener }) };
    }, '[BlueGreenPipeline.TestTrafficCheckNeedsUrl] testTrafficCheck.url is needed: the test listener is imported or HTTPS'],
    ['a test-traffic check on an HTTPS test listener without a URL', (_alias, stack) => {
      const { alb, service, blue, green, listener } = ecsTarget(stack);
      const testListener = alb.addListener('Tls', { port: 8443, certificates: [elbv2.ListenerCertificate.fromArn('arn:aws:acm:us-east-1:123456789012:certificate/1')], defaultTargetGroups: [green] });
      return { target: DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener }) };
    }, '[BlueGreenPipeline.TestTrafficCheckNeedsUrl] testTrafficCheck.url is needed: the test listener is imported or HTTPS'],
    ...([
      [{ requests: 0 }, '[BlueGreenPipeline.TestTrafficCheckRequestsRange] testTrafficCheck.requests must be a whole number from 1 to 50, got 0'],
      [{ path: 'version.json' }, '[BlueGreenPipeline.TestTrafficCheckPath] testTrafficCheck.path must start with /, got "version.json"'],
      [{ url: 'https://test.example.com/', path: '/v' }, '[BlueGreenPipeline.TestTrafficCheckPath] testTrafficCheck.path is only used without url: put the path in the url'],
      [{ url: 'test.example.com:8080' }, '[BlueGreenPipeline.TestTrafficCheckUrl] testTrafficCheck.url must be an http:// or https:// URL, got "test.example.com:8080"'],
      [{ url: 'see https://test.example.com/' }, '[BlueGreenPipeline.TestTrafficCheckUrl] testTrafficCheck.url must be an http:// or https:// URL, got "see https://test.example.com/"'],
    ] as const).map(([testTrafficCheck, message]): [string, (alias: lambda.Alias, stack: Stack) => BlueGreenPipelineProps, string] => [
      `testTrafficCheck ${JSON.stringify(testTrafficCheck)}`,
      (_alias, stack) => {
        const { service, blue, green, listener, testListener } = ecsTarget(stack);
        return { target: DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, testTrafficCheck }) };
      },
      message,
    ]),
  ])('%s', (_name, props, message) => {
    expect(errorOf(props).message).toContain(message);
  });

  /** The problem codes `validate` records on a fresh validator. */
  const codesOf = (validate: (check: PropsValidator) => void) => {
    const check = new PropsValidator(new Stack(), 'BlueGreenPipeline');
    validate(check);
    try {
      check.throwIfInvalid();
    } catch (error) {
      return (error as ConstructValidationError).problems.map((p) => p.code);
    }
    return [];
  };

  test("a linear shift may wait CodeDeploy's 2 days in all, not a minute more; a 0% step is one problem, not also an endless shift", () => {
    // 10% every 320 minutes: 9 waits of 320 minutes, 2,880 in all.
    expect(codesOf((check) => TrafficShift.linear(10, Duration.minutes(320)).validate(check, 'trafficShift'))).toEqual([]);
    expect(codesOf((check) => TrafficShift.linear(10, Duration.minutes(321)).validate(check, 'trafficShift'))).toEqual(['BlueGreenPipeline.TrafficShiftTooLong']);
    expect(codesOf((check) => TrafficShift.linear(0, Duration.minutes(1)).validate(check, 'trafficShift'))).toEqual(['BlueGreenPipeline.TrafficPercentageRange']);
    // The percentage's edges, 1 and 99, are accepted.
    expect(codesOf((check) => [1, 99].forEach((p) => TrafficShift.canary(p, Duration.minutes(5)).validate(check, 'trafficShift')))).toEqual([]);
  });

  test('a test-traffic URL may be http:// or https://, or known only at deploy time', () => {
    const { stack } = newStack();
    const { service, blue, green, listener, testListener } = ecsTarget(stack);
    for (const url of ['http://test.example.com:8080/health', 'https://test.example.com/', Fn.importValue('test-url')]) {
      const target = DeployTarget.ecsService({ service, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener, testTrafficCheck: { url } });
      expect(codesOf((check) => target.validate(check))).toEqual([]);
    }
  });
});
