import { Match, Template } from 'aws-cdk-lib/assertions';
import { ECS_LAB } from '../../../labs/ecs/constants';
import { ecsLab } from '../../../labs/ecs/lab';
import { EcsLabStack } from '../../../labs/ecs/stack';
import { withStack } from '../../../labs/support/app';
import { LAB_LOG_RETENTION } from '../../../labs/support/lab-stack';
import { FargateApp } from '../../../lib/fargate-app';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(ecsLab, EcsLabStack);
const template = labTemplate(lab);
// The alb feature, which brings the service: what `npx cdk deploy EcsLab -c ecs:alb=true` deploys. The catalogue
// test synthesizes every feature with cdk-nag and CloudFormation validation; this file reads the templates only.
const withService = Template.fromStack(
  new lab.stack(testApp({ 'ecs:alb': 'true' }, { builtinCloudFormationValidation: false }), { lab }),
);

const logicalIdOf = (t: Template, type: string, match: (properties: Record<string, unknown>) => boolean) => {
  const found = Object.entries(t.findResources(type)).filter(([, r]) => match(r.Properties ?? {}));
  expect(found).toHaveLength(1);
  return found[0][0];
};
const roleId = (t: Template, description: RegExp) =>
  logicalIdOf(t, 'AWS::IAM::Role', (p) => description.test(String(p.Description ?? '')));
/** The statements of a role's default policy (where grants go), as [actions, resource] pairs. */
function grantsOf(t: Template, role: string): [string | string[], unknown][] {
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter(
    (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]) && String(p.Properties.PolicyName).includes('DefaultPolicy'),
  );
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement.map((s: { Action: string | string[]; Resource: unknown; Effect: string }) => {
    expect(s.Effect).toBe('Allow');
    return [s.Action, s.Resource];
  });
}
const ref = (t: Template, type: string) => Object.keys(t.findResources(type));
const parameterArn = (id: string) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':parameter/', { Ref: id }]],
});
const parameterId = (t: Template, description: RegExp) => logicalIdOf(t, 'AWS::SSM::Parameter', (p) => description.test(String(p.Description)));
const SSM_READ = ['ssm:DescribeParameters', 'ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:GetParameters'];

test('the task role may read the greeting and use the jobs queue, nothing else', () => {
  const [queue] = ref(template, 'AWS::SQS::Queue').filter((id) => id.startsWith('JobsQueue'));
  expect(grantsOf(template, roleId(template, /^Task role/))).toEqual([
    [SSM_READ, parameterArn(parameterId(template, /TASK role/))],
    [
      ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
      { 'Fn::GetAtt': [queue, 'Arn'] },
    ],
  ]);
});

test('the execution role may pull from the lab repository, write the app log group and read the injected key, nothing else', () => {
  const [repository] = ref(template, 'AWS::ECR::Repository');
  const [appLogs] = ref(template, 'AWS::Logs::LogGroup').filter((id) => id.startsWith('AppLogs'));
  expect(grantsOf(template, roleId(template, /^Execution role of EcsLab\/App/))).toEqual([
    [['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], { 'Fn::GetAtt': [repository, 'Arn'] }],
    ['ecr:GetAuthorizationToken', '*'],
    [['logs:CreateLogStream', 'logs:PutLogEvents'], { 'Fn::GetAtt': [appLogs, 'Arn'] }],
    [SSM_READ, parameterArn(parameterId(template, /EXECUTION role/))],
  ]);
});

test('the container gets the key from the agent (secrets), its settings as plain environment, and runs hardened', () => {
  template.hasResourceProperties('AWS::ECS::TaskDefinition', {
    Cpu: String(ECS_LAB.taskCpu),
    Memory: String(ECS_LAB.taskMemoryMiB),
    RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
    ContainerDefinitions: [
      Match.objectLike({
        Name: FargateApp.CONTAINER_NAME,
        User: ECS_LAB.containerUser,
        ReadonlyRootFilesystem: true,
        Secrets: [{ Name: 'API_KEY', ValueFrom: parameterArn(parameterId(template, /EXECUTION role/)) }],
        Environment: [
          { Name: 'GREETING_PARAMETER', Value: Match.anyValue() },
          { Name: 'QUEUE_URL', Value: Match.anyValue() },
          { Name: 'RELEASE', Value: ECS_LAB.imageTag },
        ],
        Image: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`:${ECS_LAB.imageTag}`])] }),
        HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'src/healthcheck.js'] }),
      }),
    ],
  });
});

test('the repository keeps the last 5 images, expires untagged ones after a day, and refuses to overwrite a tag', () => {
  const [repository] = Object.values(template.findResources('AWS::ECR::Repository'));
  expect(repository.Properties.ImageTagMutability).toBe('IMMUTABLE');
  const rules = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText).rules;
  expect(rules.map((r: { selection: unknown }) => r.selection)).toEqual([
    { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: ECS_LAB.untaggedExpiryDays, countUnit: 'days' },
    { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: ECS_LAB.keepLastImages },
  ]);
});

test('the build and flow-log groups keep the lab retention, not the two-year default', () => {
  const groups = Object.entries(template.findResources('AWS::Logs::LogGroup'));
  // The app's own group keeps FargateApp's month; every other group (CDK's provider logs too) keeps the lab's week.
  const others = groups.filter(([id]) => !id.startsWith('AppLogs'));
  expect(others.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(expect.arrayContaining(['VpcRejectedTrafficLogs', 'BuildLogs']));
  expect(others.map(([, group]) => group.Properties.RetentionInDays)).toEqual(others.map(() => LAB_LOG_RETENTION));
});

test('CodeBuild builds the image on arm64 in privileged mode from the app folder in S3, so no learner needs Docker', () => {
  template.hasResourceProperties('AWS::CodeBuild::Project', {
    Source: { Type: 'S3', Location: Match.anyValue() },
    Environment: Match.objectLike({
      Type: 'ARM_CONTAINER',
      PrivilegedMode: true,
      EnvironmentVariables: [
        { Name: 'REPOSITORY_URI', Type: 'PLAINTEXT', Value: Match.anyValue() },
        { Name: 'IMAGE_TAG', Type: 'PLAINTEXT', Value: ECS_LAB.imageTag },
      ],
    }),
  });
});

test('without the service flag: no service, no scaling, no hook, no Container Insights, nothing billed while idle', () => {
  for (const type of ['AWS::ECS::Service', 'AWS::ApplicationAutoScaling::ScalableTarget', 'AWS::ApplicationAutoScaling::ScalingPolicy', 'AWS::CloudWatch::Alarm', 'AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::EC2::NatGateway']) {
    template.resourceCountIs(type, 0);
  }
  template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }] });
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ApiKeyParameterArn',
    'BuildProjectName',
    'ClusterName',
    'ContainerName',
    'ExecutionRoleArn',
    'GreetingParameterArn',
    'ImageTag',
    'JobsQueueArn',
    'JobsQueueUrl',
    'RepositoryName',
    'SubnetIds',
    'TaskDefinitionFamily',
    'TaskRoleArn',
    'TaskSecurityGroupId',
  ]);
});

test('-c ecs:alb=true brings the service: one task, native blue/green with the gate hook at POST_SCALE_UP, a circuit breaker that rolls back', () => {
  const hook = logicalIdOf(withService, 'AWS::Lambda::Function', (p) => JSON.stringify(p.Environment ?? {}).includes('GATE_PARAMETER'));
  withService.hasResourceProperties('AWS::ECS::Service', {
    DesiredCount: ECS_LAB.service.desiredCount,
    LaunchType: 'FARGATE',
    DeploymentConfiguration: {
      Strategy: 'BLUE_GREEN',
      BakeTimeInMinutes: ECS_LAB.service.bakeTimeMinutes,
      DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      MinimumHealthyPercent: 100,
      MaximumPercent: 200,
      LifecycleHooks: [{ HookTargetArn: { 'Fn::GetAtt': [hook, 'Arn'] }, LifecycleStages: ['POST_SCALE_UP'], RoleArn: Match.anyValue() }],
    },
    NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
  });
  withService.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  expect(grantsOf(withService, roleId(withService, /^Assumed by ECS to call/))).toEqual([['lambda:InvokeFunction', { 'Fn::GetAtt': [hook, 'Arn'] }]]);
  const gate = parameterId(withService, /Lifecycle hook gate/);
  withService.hasResourceProperties('AWS::SSM::Parameter', { Value: ECS_LAB.gateOpen });
  expect(grantsOf(withService, roleId(withService, /^Execution role of EcsLab\/GateHook/))).toContainEqual([SSM_READ, parameterArn(gate)]);
});

test('the service: 1 to 3 tasks, tracking 70 % CPU and 10 messages of backlog per running task', () => {
  withService.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
    MinCapacity: ECS_LAB.service.minCapacity,
    MaxCapacity: ECS_LAB.service.maxCapacity,
    ScalableDimension: 'ecs:service:DesiredCount',
    ServiceNamespace: 'ecs',
  });
  const policies = Object.values(withService.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).map(
    (p) => p.Properties.TargetTrackingScalingPolicyConfiguration,
  );
  expect(policies).toEqual([
    { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: ECS_LAB.service.cpuTargetPercent },
    { CustomizedMetricSpecification: { Metrics: expect.any(Array) }, TargetValue: ECS_LAB.service.backlogPerTask },
  ]);
  expect(policies[1].CustomizedMetricSpecification.Metrics.at(-1).Expression).toBe('visible / tasks');
  // Target tracking creates its own alarms (in App Auto Scaling, not in the template): the lab declares none.
  withService.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  expect(Object.keys(withService.toJSON().Outputs)).toEqual(
    expect.arrayContaining(['ServiceName', 'GateParameterName', 'HookFunctionName', 'ProductionUrl', 'TestUrl']),
  );
});

test('-c ecs:alb=true: production (80) and test (8080) listener rules hold both target groups, and ECS may move them', () => {
  const [primary, alternate] = ref(withService, 'AWS::ElasticLoadBalancingV2::TargetGroup');
  const listeners = Object.entries(withService.findResources('AWS::ElasticLoadBalancingV2::Listener')).map(([id, l]) => [id, l.Properties.Port]);
  expect(listeners.map(([, port]) => port)).toEqual([80, ECS_LAB.testListenerPort]);
  for (const [listener] of listeners) {
    withService.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: { Ref: listener },
      Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: { Ref: primary }, Weight: 100 }, { TargetGroupArn: { Ref: alternate }, Weight: 0 }] } }],
    });
  }
  withService.hasResourceProperties('AWS::ECS::Service', {
    LoadBalancers: [
      {
        ContainerName: FargateApp.CONTAINER_NAME,
        ContainerPort: ECS_LAB.containerPort,
        TargetGroupArn: { Ref: primary },
        AdvancedConfiguration: {
          AlternateTargetGroupArn: { Ref: alternate },
          ProductionListenerRule: Match.anyValue(),
          TestListenerRule: Match.anyValue(),
          RoleArn: { 'Fn::GetAtt': [roleId(withService, /^Assumed by ECS to move the listener rules/), 'Arn'] },
        },
      },
    ],
  });
  // The tasks accept the container port from the load balancer's security group only.
  withService.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
    FromPort: ECS_LAB.containerPort,
    ToPort: ECS_LAB.containerPort,
    SourceSecurityGroupId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancerSecurityGroup'), 'GroupId'] }),
  });
});
