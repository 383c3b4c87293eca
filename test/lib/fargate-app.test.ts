import { CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { IConstruct } from 'constructs';
import { AppDeployment, FARGATE_LIMITS, FargateApp, FargateAppProps, ImageRepository } from '../../lib/fargate-app';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

/** A stack with a cluster, and the props every FargateApp needs. */
function base() {
  const stack = newStack();
  // An imported VPC: the tests are about the app, and a created VPC would add dozens of resources to each template.
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-1',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    publicSubnetIds: ['subnet-p1', 'subnet-p2'],
    publicSubnetRouteTableIds: ['rtb-p1', 'rtb-p2'],
    privateSubnetIds: ['subnet-q1', 'subnet-q2'],
    privateSubnetRouteTableIds: ['rtb-q1', 'rtb-q2'],
  });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const props: FargateAppProps = {
    cluster,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-alpine'),
    healthCheck: { command: ['CMD', 'node', 'src/healthcheck.js'] },
  };
  return { stack, cluster, props };
}

/** The findings acknowledged on a construct, as `Annotation::<id>` → reason. */
const acknowledged = (construct: IConstruct) =>
  Object.assign({}, ...construct.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data as object)) as Record<string, string>;

const hookFunction = (stack: Stack) =>
  lambda.Function.fromFunctionArn(stack, 'Hook', 'arn:aws:lambda:us-east-1:123456789012:function:gate');

describe('ImageRepository', () => {
  test('encrypts with a customer managed key when given one', () => {
    const stack = newStack();
    new ImageRepository(stack, 'Images', { encryptionKey: new kms.Key(stack, 'Key') });
    Template.fromStack(stack).hasResourceProperties('AWS::ECR::Repository', {
      EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: Match.anyValue() },
    });
  });

  test('immutable tags, scan on push, AES-256, and a lifecycle policy expiring untagged images then keeping the last N', () => {
    const stack = newStack();
    new ImageRepository(stack, 'Images', { keepLastImages: 7, untaggedExpiry: Duration.days(3) });
    const repository = Template.fromStack(stack).findResources('AWS::ECR::Repository');
    const [properties] = Object.values(repository).map((r) => r.Properties);
    expect(properties).toMatchObject({
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
    });
    // AES-256 with an ECR-managed key is what ECR does without an encryption configuration.
    expect(properties.EncryptionConfiguration).toBeUndefined();
    expect(JSON.parse(properties.LifecyclePolicy.LifecyclePolicyText).rules).toEqual([
      {
        rulePriority: 1,
        description: 'untagged images expire 3 day(s) after their push',
        selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 3, countUnit: 'days' },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: 'keep the last 7 images',
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 7 },
        action: { type: 'expire' },
      },
    ]);
  });

  test('a lifecycle rule that keeps no image, and an expiry that is not whole days, are listed together', () => {
    expect(
      problemMessagesOf(() => new ImageRepository(newStack(), 'Images', { keepLastImages: 0, untaggedExpiry: Duration.hours(36) })),
    ).toEqual([
      'ImageRepository.KeepLastImagesRange: keepLastImages must be a whole number of at least 1 (a rule that keeps no image deletes every image), got 0',
      'ImageRepository.UntaggedExpiryDays: untaggedExpiry must be a whole number of days, at least 1, got 1 day 12 hours',
    ]);
    expect(problemCodesOf(() => new ImageRepository(newStack(), 'Images', { keepLastImages: 1, untaggedExpiry: Duration.days(1) }))).toEqual([]);
    expect(problemCodesOf(() => new ImageRepository(newStack(), 'Images', { untaggedExpiry: Duration.days(0) }))).toEqual(['ImageRepository.UntaggedExpiryDays']);
  });

  test('an expiry known only at deploy time is not checked: it renders as is', () => {
    const stack = newStack();
    const days = new CfnParameter(stack, 'UntaggedDays', { type: 'Number' }).valueAsNumber;
    new ImageRepository(stack, 'Images', { untaggedExpiry: Duration.days(days) });
    const [repository] = Object.values(Template.fromStack(stack).findResources('AWS::ECR::Repository'));
    expect(JSON.stringify(repository.Properties.LifecyclePolicy.LifecyclePolicyText)).toContain('untagged images expire some day(s) after their push');
  });
});

describe('FargateApp task definition', () => {
  test('arm64 Fargate, a read-only root filesystem, a non-root user, a health check and awslogs with retention', () => {
    const { stack, props } = base();
    new FargateApp(stack, 'App', props);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '512',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          ReadonlyRootFilesystem: true,
          User: '1000',
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', 'src/healthcheck.js'] }),
          LogConfiguration: { LogDriver: 'awslogs', Options: Match.objectLike({ 'awslogs-group': { Ref: Match.stringLikeRegexp('^AppLogs') }, 'awslogs-stream-prefix': 'app' }) },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.resourceCountIs('AWS::ECS::Service', 0);
  });

  test('a plain environment is rendered and acknowledged as holding no secret; without one there is nothing to acknowledge', () => {
    const { stack, props } = base();
    const app = new FargateApp(stack, 'App', { ...props, environment: { STAGE: 'test' } });
    const plain = new FargateApp(stack, 'Plain', props);
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', { ContainerDefinitions: [Match.objectLike({ Environment: [{ Name: 'STAGE', Value: 'test' }] })] });
    expect(acknowledged(app.taskDefinition)).toEqual({
      'Annotation::AwsSolutions-ECS2': 'The environment holds names and plain settings only; every secret value is injected through `secrets`.',
    });
    expect(acknowledged(plain.taskDefinition)).toEqual({});
  });

  test('two roles: the task role may call nothing until granted, the execution role writes logs; only the task role is guarded to this account', () => {
    const { stack, props } = base();
    const app = new FargateApp(stack, 'App', props);
    const template = Template.fromStack(stack);
    const taskRoleId = stack.getLogicalId(app.taskRole.node.defaultChild as iam.CfnRole);
    const executionRoleId = stack.getLogicalId(app.executionRole.node.defaultChild as iam.CfnRole);
    const roles = template.findResources('AWS::IAM::Role');
    expect(roles[taskRoleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } },
    ]);
    expect(roles[executionRoleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
    expect([roles[taskRoleId].Properties.Description, roles[executionRoleId].Properties.Description]).toEqual([
      "Task role of Test/App: what the app's code may call",
      'Execution role of Test/App: what the ECS agent needs to pull, log and inject secrets',
    ]);
    expect(acknowledged(app.executionRole.node.findChild('DefaultPolicy'))).toEqual({
      'Annotation::AwsSolutions-IAM5[Resource::*]':
        'ecr:GetAuthorizationToken, which the agent calls before pulling, has no resource ARN; the pull actions ' +
        '(BatchGetImage, GetDownloadUrlForLayer) are limited to the repository.',
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(taskRoleId))).toEqual([]);
    const [execution] = policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(executionRoleId));
    expect(execution.Properties.PolicyDocument.Statement).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: Match.anyValue() },
    ].map((statement) => expect.objectContaining({ Action: statement.Action, Effect: statement.Effect })));
  });

  test.each([
    [256, 4096],
    [1024, 1024],
    [3000, 4096],
  ])('a Fargate size that does not exist (%i CPU units, %i MiB) is refused with the sizes that do', (cpu, memoryLimitMiB) => {
    const { stack, props } = base();
    const [message] = problemMessagesOf(() => new FargateApp(stack, 'App', { ...props, cpu, memoryLimitMiB }));
    expect(message).toMatch(/^FargateApp\.CpuMemoryPair: Fargate has no task with/);
    if (FARGATE_LIMITS.memoryMiBByCpu[cpu]) expect(message).toContain(FARGATE_LIMITS.memoryMiBByCpu[cpu].join(', '));
    else expect(message).toContain('cpu is one of 256, 512, 1024, 2048, 4096, 8192, 16384');
  });

  test("the sizes are the developer guide's table: CPU → first, second and last memory size, and how many", () => {
    expect(Object.entries(FARGATE_LIMITS.memoryMiBByCpu).map(([cpu, memory]) => [Number(cpu), memory[0], memory[1], memory[memory.length - 1], memory.length])).toEqual([
      [256, 512, 1024, 2048, 3],
      [512, 1024, 2048, 4096, 4],
      [1024, 2048, 3072, 8192, 7],
      [2048, 4096, 5120, 16384, 13],
      [4096, 8192, 9216, 30720, 23],
      [8192, 16384, 20480, 61440, 12],
      [16384, 32768, 40960, 122880, 12],
    ]);
  });

  test('every documented Fargate pair is accepted', () => {
    for (const [cpu, memories] of Object.entries(FARGATE_LIMITS.memoryMiBByCpu)) {
      for (const memoryLimitMiB of [memories[0], memories[memories.length - 1]]) {
        const { stack, props } = base();
        expect(problemCodesOf(() => new FargateApp(stack, 'App', { ...props, cpu: Number(cpu), memoryLimitMiB }))).toEqual([]);
      }
    }
  });

  test('root, a log group given twice and a wrong size are listed together', () => {
    const { stack, props } = base();
    const logGroup = new logs.LogGroup(stack, 'Logs');
    expect(
      problemCodesOf(() => new FargateApp(stack, 'App', { ...props, cpu: 512, memoryLimitMiB: 512, user: '0:0', logGroup, logGroupProps: {} })),
    ).toEqual(['FargateApp.CpuMemoryPair', 'FargateApp.RootUser', 'FargateApp.LogGroupAndLogGroupProps']);
    for (const user of ['root', 'root:staff']) {
      expect(problemMessagesOf(() => new FargateApp(stack, `As-${user}`, { ...props, user }))).toEqual([
        `FargateApp.RootUser: user must not be root (got "${user}"): run the container as an unprivileged uid`,
      ]);
    }
  });
});

describe('FargateApp service', () => {
  test('rolling by default, with a circuit breaker that rolls back and no capacity lost during a deployment', () => {
    const { stack, props } = base();
    new FargateApp(stack, 'App', { ...props, service: {} });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      DeploymentConfiguration: {
        Strategy: 'ROLLING',
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      },
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  test('a public IP, and capacities at their edges: minimum = desired = maximum, CPU target 100%', () => {
    const { stack, props } = base();
    new FargateApp(stack, 'App', { ...props, service: { assignPublicIp: true, minCapacity: 2, desiredCount: 2, maxCapacity: 2, cpuTargetPercent: 100 } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 2, NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) } });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 2 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 100 }) });
  });

  test('native blue/green: BLUE_GREEN strategy, bake time, and hooks ECS calls with a role that may invoke only them', () => {
    const { stack, props } = base();
    const hook = hookFunction(stack);
    new FargateApp(stack, 'App', {
      ...props,
      service: {
        deployment: AppDeployment.blueGreen({ bakeTime: Duration.minutes(5), hooks: [{ handler: hook, stages: [ecs.DeploymentLifecycleStage.POST_SCALE_UP] }] }),
      },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Strategy: 'BLUE_GREEN',
        BakeTimeInMinutes: 5,
        LifecycleHooks: [{ HookTargetArn: hook.functionArn, LifecycleStages: ['POST_SCALE_UP'], RoleArn: Match.anyValue() }],
      }),
    });
    template.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs.amazonaws.com' } })] } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: hook.functionArn }] },
    });
    template.hasResourceProperties('AWS::IAM::Role', { Description: 'Assumed by ECS to call the deployment lifecycle hooks of Test/App' });
  });

  test('behind a load balancer, rolling: one target group, one rule, traffic from the load balancer only', () => {
    const { stack, cluster, props } = base();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const app = new FargateApp(stack, 'App', { ...props, service: { loadBalancer: { listener } } });
    expect(app.alternateTargetGroup).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { HealthCheckPath: '/health', TargetType: 'ip', Port: 8080 });
    template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [{ ContainerName: 'app', ContainerPort: 8080, TargetGroupArn: { Ref: stack.getLogicalId(app.primaryTargetGroup?.node.defaultChild as elbv2.CfnTargetGroup) } }],
    });
    template.resourceCountIs('AWS::IAM::Role', 2); // task and execution: no infrastructure role without blue/green
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', { Priority: 10, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }] });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080, ToPort: 8080, Description: 'from the load balancer only',
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlbSecurityGroup'), 'GroupId'] },
    });
  });

  test('behind a load balancer, blue/green: both target groups in each rule, and an infrastructure role to move them', () => {
    const { stack, cluster, props } = base();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const testListener = alb.addListener('Test', { port: 8080, protocol: elbv2.ApplicationProtocol.HTTP, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const app = new FargateApp(stack, 'App', { ...props, service: { deployment: AppDeployment.blueGreen(), loadBalancer: { listener, testListener } } });
    const template = Template.fromStack(stack);
    const id = (group?: elbv2.ApplicationTargetGroup) => stack.getLogicalId(group?.node.defaultChild as elbv2.CfnTargetGroup);
    template.resourcePropertiesCountIs(
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      {
        Actions: [
          { Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: { Ref: id(app.primaryTargetGroup) }, Weight: 100 }, { TargetGroupArn: { Ref: id(app.alternateTargetGroup) }, Weight: 0 }] } },
        ],
      },
      2,
    );
    template.hasResourceProperties('AWS::ECS::Service', {
      LoadBalancers: [Match.objectLike({ AdvancedConfiguration: Match.objectLike({ AlternateTargetGroupArn: { Ref: id(app.alternateTargetGroup) }, TestListenerRule: Match.anyValue() }) })],
    });
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers']] }],
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ecs.amazonaws.com' } })] },
      Description: 'Assumed by ECS to move the listener rules of Test/App between its target groups',
    });
    const infrastructureRole = app.node.findChild('LoadBalancerInfrastructureRole');
    expect(acknowledged(infrastructureRole)).toEqual({
      'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]':
        'The policy the ECS docs name for blue/green with a load balancer: AWS keeps it in step with the rule and ' +
        'target-group calls ECS makes (most have no resource ARN to narrow, as they describe load balancers).',
    });
  });

  test('linear and canary: the steps are rendered, both need a load balancer, and their ranges are checked', () => {
    const { stack, cluster, props } = base();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    new FargateApp(stack, 'Linear', {
      ...props,
      service: { loadBalancer: { listener }, deployment: AppDeployment.linear({ stepPercent: 10, stepBakeTime: Duration.minutes(2) }) },
    });
    new FargateApp(stack, 'Canary', {
      ...props,
      service: { loadBalancer: { listener }, deployment: AppDeployment.canary({ stepPercent: 5, stepBakeTime: Duration.minutes(10), bakeTime: Duration.minutes(3) }) },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ Strategy: 'LINEAR', BakeTimeInMinutes: 1, LinearConfiguration: { StepPercent: 10, StepBakeTimeInMinutes: 2 } }),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ Strategy: 'CANARY', BakeTimeInMinutes: 3, CanaryConfiguration: { CanaryPercent: 5, CanaryBakeTimeInMinutes: 10 } }),
    });
    // Each one shifts between two target groups.
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 4);

    expect(
      problemMessagesOf(() => new FargateApp(stack, 'Bad', { ...props, service: { deployment: AppDeployment.linear({ stepPercent: 2.5, stepBakeTime: Duration.seconds(90) }) } })),
    ).toEqual([
      'FargateApp.StepPercentRange: the linear stepPercent must be from 3 to 100 in steps of 0.1, got 2.5',
      'FargateApp.TrafficShiftNeedsLoadBalancer: a linear deployment shifts production traffic in steps: give service.loadBalancer',
      'FargateApp.StepBakeTimeMinutes: stepBakeTime must be whole minutes, at most 1440, got 90 s',
    ]);
    expect(
      problemCodesOf(() => new FargateApp(stack, 'Bad2', { ...props, service: { loadBalancer: { listener }, deployment: AppDeployment.canary({ stepPercent: 0.05, stepBakeTime: Duration.minutes(1) }) } })),
    ).toEqual(['FargateApp.StepPercentRange']);
    expect(
      problemCodesOf(() => new FargateApp(stack, 'Ok', { ...props, service: { loadBalancer: { listener }, deployment: AppDeployment.canary({ stepPercent: 0.1, stepBakeTime: Duration.minutes(0) }) } })),
    ).toEqual([]);
    const canary = (id: string, stepPercent: number, stepBakeTime: Duration, bakeTime?: Duration) =>
      problemCodesOf(() => new FargateApp(stack, id, { ...props, service: { loadBalancer: { listener }, deployment: AppDeployment.canary({ stepPercent, stepBakeTime, bakeTime }) } }));
    expect(canary('Edges', 100, Duration.minutes(1440), Duration.minutes(1440))).toEqual([]);
    expect(canary('Over', 100.1, Duration.minutes(1441), Duration.minutes(1441))).toEqual(['FargateApp.StepPercentRange', 'FargateApp.StepBakeTimeMinutes', 'FargateApp.BakeTimeMinutes']);
    expect(canary('Hundredths', 3.05, Duration.minutes(1))).toEqual(['FargateApp.StepPercentRange']);
    expect(
      problemMessagesOf(() => new FargateApp(stack, 'NoLb', { ...props, service: { deployment: AppDeployment.canary({ stepPercent: 200, stepBakeTime: Duration.minutes(1) }) } })),
    ).toEqual([
      'FargateApp.StepPercentRange: the canary stepPercent must be from 0.1 to 100 in steps of 0.1, got 200',
      'FargateApp.TrafficShiftNeedsLoadBalancer: a canary deployment shifts production traffic in steps: give service.loadBalancer',
    ]);
  });

  test('a step bake time known only at deploy time must be given in minutes, the unit ECS takes', () => {
    const { stack, cluster, props } = base();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    const token = new CfnParameter(stack, 'StepMinutes', { type: 'Number' }).valueAsNumber;
    const linear = (id: string, stepBakeTime: Duration) =>
      problemMessagesOf(() => new FargateApp(stack, id, { ...props, service: { loadBalancer: { listener }, deployment: AppDeployment.linear({ stepPercent: 10, stepBakeTime }) } }));
    expect(linear('Seconds', Duration.seconds(token))).toEqual([
      'FargateApp.TokenNotInMinutes: stepBakeTime is a token in seconds, which cannot be converted at synth: give it as Duration.minutes(token)',
    ]);
    expect(linear('Minutes', Duration.minutes(token))).toEqual([]);
  });

  test('a test listener without blue/green is refused: nothing would send it to a new revision', () => {
    const { stack, cluster, props } = base();
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc: cluster.vpc });
    const listener = alb.addListener('Http', { port: 80, defaultAction: elbv2.ListenerAction.fixedResponse(404) });
    expect(problemMessagesOf(() => new FargateApp(stack, 'App', { ...props, service: { loadBalancer: { listener, testListener: listener } } }))).toEqual([
      'FargateApp.TestListenerNeedsBlueGreen: service.loadBalancer.testListener takes test traffic to a new revision during a blue/green deployment: use AppDeployment.blueGreen(), linear() or canary(), or drop it',
    ]);
  });

  test('queue scaling on a cluster without Container Insights is a warning: the task count it divides by would not exist', () => {
    const { stack, props } = base();
    const queue = new sqs.Queue(stack, 'Jobs');
    const app = new FargateApp(stack, 'App', { ...props, service: { queueScaling: { queue, backlogPerTask: 10 } } });
    expect(() => Template.fromStack(stack)).toThrow(
      /service.queueScaling divides by RunningTaskCount, a Container Insights metric, but the cluster's Container Insights is not set here.*\n.*\n.*Annotation::FargateApp.QueueScalingWithoutContainerInsights/,
    );
    Validations.of(app).acknowledge({ id: 'Annotation::FargateApp.QueueScalingWithoutContainerInsights', reason: 'the account default turns it on' });
    expect(() => Template.fromStack(stack)).not.toThrow();

    const off = base();
    const disabled = new ecs.Cluster(off.stack, 'Disabled', { vpc: off.props.cluster.vpc, containerInsightsV2: ecs.ContainerInsights.DISABLED });
    new FargateApp(off.stack, 'App', { ...off.props, cluster: disabled, service: { queueScaling: { queue: new sqs.Queue(off.stack, 'Jobs'), backlogPerTask: 10 } } });
    expect(() => Template.fromStack(off.stack)).toThrow(
      "the cluster's Container Insights is disabled: without it the backlog-per-task policy has no data and never scales. Set containerInsightsV2 on the cluster.",
    );

    const enhanced = base();
    const cluster = new ecs.Cluster(enhanced.stack, 'Enhanced', { vpc: enhanced.props.cluster.vpc, containerInsightsV2: ecs.ContainerInsights.ENHANCED });
    new FargateApp(enhanced.stack, 'App', { ...enhanced.props, cluster, service: { queueScaling: { queue: new sqs.Queue(enhanced.stack, 'Jobs'), backlogPerTask: 10 } } });
    expect(() => Template.fromStack(enhanced.stack)).not.toThrow();

    const imported = base();
    const importedCluster = ecs.Cluster.fromClusterAttributes(imported.stack, 'Imported', { clusterName: 'jobs', vpc: imported.props.cluster.vpc });
    new FargateApp(imported.stack, 'App', { ...imported.props, cluster: importedCluster, service: { queueScaling: { queue: new sqs.Queue(imported.stack, 'Jobs'), backlogPerTask: 10 } } });
    expect(() => Template.fromStack(imported.stack)).toThrow(/Container Insights is not set here \(an imported cluster, or the account default\)/);
  });

  test('scales on CPU and on backlog per task: messages visible divided by running tasks, as metric math', () => {
    const { stack, props } = base();
    const queue = new sqs.Queue(stack, 'Jobs');
    const cluster = new ecs.Cluster(stack, 'InsightsCluster', { vpc: props.cluster.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    new FargateApp(stack, 'App', { ...props, cluster, service: { maxCapacity: 3, cpuTargetPercent: 60, queueScaling: { queue, backlogPerTask: 10 } } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 3, ScalableDimension: 'ecs:service:DesiredCount' });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' }, TargetValue: 60 },
    });
    const backlog = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')).find(
      (p) => p.Properties.TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification,
    );
    const configuration = backlog?.Properties.TargetTrackingScalingPolicyConfiguration;
    expect(configuration.TargetValue).toBe(10);
    // The single metric CDK renders is gone: a customized metric is one metric or metric math, never both.
    expect(Object.keys(configuration.CustomizedMetricSpecification)).toEqual(['Metrics']);
    const metrics = configuration.CustomizedMetricSpecification.Metrics;
    expect(metrics.map((m: { Id: string }) => m.Id)).toEqual(['visible', 'tasks', 'backlogPerTask']);
    expect(metrics[0]).toEqual({
      Id: 'visible',
      MetricStat: { Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as sqs.CfnQueue), 'QueueName'] } }] }, Stat: 'Sum' },
      ReturnData: false,
    });
    expect(metrics[1]).toEqual({
      Id: 'tasks',
      MetricStat: {
        Metric: {
          Namespace: 'ECS/ContainerInsights',
          MetricName: 'RunningTaskCount',
          Dimensions: [{ Name: 'ClusterName', Value: { Ref: stack.getLogicalId(cluster.node.defaultChild as ecs.CfnCluster) } }, { Name: 'ServiceName', Value: expect.anything() }],
        },
        Stat: 'Average',
      },
      ReturnData: false,
    });
    expect(metrics[2]).toEqual({ Id: 'backlogPerTask', Expression: 'visible / tasks', Label: 'messages visible per running task', ReturnData: true });
  });

  test('a desired count above the maximum, and every other capacity problem, is a coded error listed at once', () => {
    const { stack, props } = base();
    const queue = new sqs.Queue(stack, 'Jobs');
    expect(
      problemMessagesOf(
        () =>
          new FargateApp(stack, 'App', {
            ...props,
            service: {
              desiredCount: 5,
              minCapacity: 0,
              maxCapacity: 3,
              cpuTargetPercent: 120,
              queueScaling: { queue, backlogPerTask: 0 },
              deployment: AppDeployment.blueGreen({ bakeTime: Duration.seconds(90) }),
            },
          }),
      ),
    ).toEqual([
      'FargateApp.MinCapacityRange: service.minCapacity must be a whole number of at least 1 (backlog per task divides by the running tasks), got 0',
      'FargateApp.DesiredAboveMax: service.desiredCount (5) must not exceed service.maxCapacity (3): auto scaling would cut it at once',
      'FargateApp.CpuTargetRange: service.cpuTargetPercent must be above 0 and at most 100, got 120',
      'FargateApp.BacklogPerTaskRange: service.queueScaling.backlogPerTask must be above 0, got 0',
      'FargateApp.BakeTimeMinutes: the blue/green bakeTime must be whole minutes, at most 1440, got 90 s',
    ]);
  });

  test('a bake time in milliseconds, or a token in seconds, is listed with the other problems instead of thrown by CDK', () => {
    const service = (bakeTime: Duration) => ({ deployment: AppDeployment.blueGreen({ bakeTime }) });
    const { stack, props } = base();
    expect(problemMessagesOf(() => new FargateApp(stack, 'App', { ...props, service: service(Duration.millis(1500)) }))).toEqual([
      'FargateApp.NotWholeSeconds: service.deployment bakeTime must be a whole number of seconds, got 1.5 s',
      'FargateApp.BakeTimeMinutes: the blue/green bakeTime must be whole minutes, at most 1440, got 2 s',
    ]);
    const minutes = new CfnParameter(stack, 'BakeMinutes', { type: 'Number' }).valueAsNumber;
    expect(problemCodesOf(() => new FargateApp(stack, 'App2', { ...props, service: service(Duration.seconds(minutes)) }))).toEqual(['FargateApp.TokenNotInMinutes']);
    new FargateApp(stack, 'App3', { ...props, service: service(Duration.minutes(minutes)) });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Service', { DeploymentConfiguration: Match.objectLike({ BakeTimeInMinutes: { Ref: 'BakeMinutes' } }) });
  });

  test('a minimum above the maximum, and a desired count below the minimum', () => {
    const { stack, props } = base();
    expect(problemMessagesOf(() => new FargateApp(stack, 'App', { ...props, service: { minCapacity: 4, maxCapacity: 2, desiredCount: 1 } }))).toEqual([
      'FargateApp.MinAboveMax: service.minCapacity (4) must not exceed service.maxCapacity (2)',
      'FargateApp.DesiredBelowMin: service.desiredCount (1) must be at least service.minCapacity (4)',
    ]);
    expect(problemCodesOf(() => new FargateApp(stack, 'Idle', { ...props, service: { cpuTargetPercent: 0 } }))).toEqual(['FargateApp.CpuTargetRange']);
  });
});
