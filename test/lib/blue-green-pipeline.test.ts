import * as path from 'node:path';
import { Duration, Fn, Lazy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
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
import { ConstructUsageError, ConstructValidationError } from '../../lib/core/validation';
import { testApp } from '../support/synth';

type Resource = { Type: string; Properties: Record<string, unknown>; UpdatePolicy?: Record<string, unknown> };
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
  test('a custom linear shift creates its own deployment configuration; no approval; local cache', () => {
    const s = synth((alias) => ({
      target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(25, Duration.minutes(2)) }),
      approval: false,
      integrationTestStack: false,
      build: { cache: codebuild.Cache.local(codebuild.LocalCacheMode.SOURCE, codebuild.LocalCacheMode.CUSTOM) },
    }));
    s.template.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 25, LinearInterval: 2 } },
    });
    const [, pipeline] = s.ofType('AWS::CodePipeline::Pipeline')[0];
    expect((pipeline.Properties.Stages as { Name: string }[]).map((st) => st.Name)).toEqual(['Source', 'Build', 'Test', 'Deploy']);
    s.template.hasResourceProperties('AWS::CodeBuild::Project', { Cache: { Type: 'LOCAL', Modes: ['LOCAL_SOURCE_CACHE', 'LOCAL_CUSTOM_CACHE'] } });
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
    new BlueGreenPipeline(stack, 'Delivery', { target });
    expect(target.rollbackAlarms).toEqual([alarm]);
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
    expect(deploy.Configuration).toMatchObject({ Image1ArtifactName: 'BuildOutput', Image1ContainerName: 'IMAGE1_NAME' });
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
    expect(() => plainTarget?.afterAllowTestTrafficHook).toThrow('[BlueGreenPipeline.PartOff] afterAllowTestTrafficHook does not exist: the target was created with testTrafficCheck: false');
    expect(() => plainTarget?.imageRepository).toThrow('[BlueGreenPipeline.PartOff] imageRepository does not exist: the target was created with image: false');
    expect(plain.resources[plain.logicalId(plain.pipeline.buildProject)].Properties.Environment).toMatchObject({ PrivilegedMode: false });
  });

  test('an imported service is a warning: its execution role must be granted pull by hand', () => {
    const { stack } = newStack();
    const { blue, green, listener, testListener, service } = ecsTarget(stack);
    const imported = ecs.FargateService.fromFargateServiceAttributes(stack, 'Imported', { serviceArn: 'arn:aws:ecs:us-east-1:123456789012:service/cluster/app', cluster: service.cluster });
    const pipeline = new BlueGreenPipeline(stack, 'Delivery', { target: DeployTarget.ecsService({ service: imported, blueTargetGroup: blue, greenTargetGroup: green, listener, testListener }) });
    expect(() => Template.fromStack(stack)).toThrow(/the service is imported, so its task execution role is unknown: grant it pull on imageRepository yourself/);
    Validations.of(pipeline).acknowledge({ id: 'Annotation::BlueGreenPipeline.ImageWithImportedService', reason: 'test' });
    expect(() => Template.fromStack(stack)).not.toThrow();
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
    expect(() => target.deployProject).toThrow(
      'DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotBound] deployProject is created by the pipeline: pass this target to a BlueGreenPipeline before reading it',
    );
    expect(() => PipelineSource.codeCommit().repository).toThrow('[BlueGreenPipeline.SourceNotBound] the repository is created by the pipeline');
    expect(() => target.rollbackAlarms).toThrow(
      'DeployTarget.lambdaAlias(Test/App/Aliaslive): [BlueGreenPipeline.TargetNotBound] rollbackAlarms is created by the pipeline: pass this target to a BlueGreenPipeline before reading it',
    );
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
    ['an S3 source without a key', (alias, stack) => ({ source: PipelineSource.s3(s3.Bucket.fromBucketName(stack, 'B', 'sources-bucket'), ''), target: DeployTarget.lambdaAlias(alias) }), '[BlueGreenPipeline.S3SourceNeedsKey]'],
    ['a canary of 0%', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(0, Duration.minutes(5)) }) }), 'canary percentage must be a whole number from 1 to 99, got 0'],
    ['a linear step of 2.5%', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(2.5, Duration.minutes(1)) }) }), 'linear percentage must be a whole number from 1 to 99, got 2.5'],
    ['a 3-day canary', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.canary(10, Duration.days(3)) }) }), 'got 4320 minutes'],
    ['a linear shift over 2 days', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { trafficShift: TrafficShift.linear(1, Duration.minutes(30)) }) }), '[BlueGreenPipeline.TrafficShiftTooLong] linear 1% every 30 minutes waits 2970 minutes in all'],
    ['60 health checks', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { healthCheckInvocations: 60 }) }), '[BlueGreenPipeline.HealthCheckInvocationsRange]'],
    ['a build timeout of 1.5 seconds', (alias) => ({ target: DeployTarget.lambdaAlias(alias), build: { timeout: Duration.millis(1500) } }), '[BlueGreenPipeline.NotWholeSeconds] build.timeout must be a whole number of seconds, got 1.5 s'],
    ['a function timeout known only at deploy time, without a latency threshold', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { functionTimeout: Duration.seconds(Lazy.number({ produce: () => 5 })) }) }),
      "[BlueGreenPipeline.LatencyThresholdUnresolved] functionTimeout is a token, so the latency alarm's default threshold (80% of it) is unknown at synth: give latencyThreshold as a literal duration"],
    ['a latency threshold known only at deploy time', (alias) => ({ target: DeployTarget.lambdaAlias(alias, { latencyThreshold: Duration.millis(Lazy.number({ produce: () => 900 })) }) }),
      "[BlueGreenPipeline.LatencyThresholdUnresolved] latencyThreshold is a token: the latency alarm's threshold is a number known at synth, give a literal duration"],
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
    ...([
      [{ requests: 0 }, '[BlueGreenPipeline.TestTrafficCheckRequestsRange] testTrafficCheck.requests must be a whole number from 1 to 50, got 0'],
      [{ path: 'version.json' }, '[BlueGreenPipeline.TestTrafficCheckPath] testTrafficCheck.path must start with /, got "version.json"'],
      [{ url: 'https://test.example.com/', path: '/v' }, '[BlueGreenPipeline.TestTrafficCheckPath] testTrafficCheck.path is only used without url: put the path in the url'],
      [{ url: 'test.example.com:8080' }, '[BlueGreenPipeline.TestTrafficCheckUrl] testTrafficCheck.url must be an http:// or https:// URL, got "test.example.com:8080"'],
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
});
