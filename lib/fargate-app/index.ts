import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { PropsValidator } from '../core/validation';
import { AppDeployment, DeploymentHook, ECS_DEPLOYMENT_LIMITS } from './deployment';

export * from './deployment';
export * from './image-repository';

const steps = (from: number, to: number, step: number) => Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

/** What Fargate accepts (Linux tasks), as the ECS developer guide's task size table lists it. */
export const FARGATE_LIMITS = {
  /** Task memory (MiB) Fargate accepts for each task CPU value (CPU units: 1024 = 1 vCPU). */
  memoryMiBByCpu: {
    256: [512, 1024, 2048],
    512: steps(1024, 4096, 1024),
    1024: steps(2048, 8192, 1024),
    2048: steps(4096, 16384, 1024),
    4096: steps(8192, 30720, 1024),
    8192: steps(16384, 61440, 4096),
    16384: steps(32768, 122880, 8192),
  } as Readonly<Record<number, readonly number[]>>,
} as const;

/** Scaling on the backlog of a queue the tasks drain: messages visible divided by tasks running. */
export interface QueueScalingOptions {
  readonly queue: sqs.IQueue;
  /**
   * Messages one task should have waiting: how many it handles within the latency you accept
   * (acceptable latency ÷ average processing time).
   */
  readonly backlogPerTask: number;
}

/**
 * The service behind an Application Load Balancer. With a blue/green deployment ECS shifts the listener rules from
 * the primary (blue) target group to the alternate (green) one itself: the test listener first, production after the
 * hooks pass.
 */
export interface AppLoadBalancerOptions {
  /** The listener production traffic arrives on; the construct adds a rule forwarding to the service. */
  readonly listener: elbv2.ApplicationListener;
  /** A listener that reaches the new revision before production does (blue/green only). @default none */
  readonly testListener?: elbv2.ApplicationListener;
  /** Path of the target group health check. @default '/health' */
  readonly healthCheckPath?: string;
}

/** The optional long-running part: an ECS service keeping tasks of the task definition running, scaled. */
export interface FargateAppServiceOptions {
  /** Tasks to run when created. @default 1 */
  readonly desiredCount?: number;
  /** Fewest tasks auto scaling keeps. @default 1 */
  readonly minCapacity?: number;
  /** Most tasks auto scaling starts. @default 4 */
  readonly maxCapacity?: number;
  /** Average CPU utilization (percent) the CPU policy keeps. @default 70 */
  readonly cpuTargetPercent?: number;
  /**
   * Scale on backlog per task as well. The task count comes from Container Insights (`RunningTaskCount`): turn it on
   * for the cluster. @default no queue scaling
   */
  readonly queueScaling?: QueueScalingOptions;
  /** @default AppDeployment.rolling() */
  readonly deployment?: AppDeployment;
  /** Put the service behind an Application Load Balancer. @default no load balancer */
  readonly loadBalancer?: AppLoadBalancerOptions;
  /** Give tasks a public IP (public subnets without a NAT gateway need one to reach ECR and AWS APIs). @default false */
  readonly assignPublicIp?: boolean;
  /** @default the cluster VPC's private subnets, or public ones with assignPublicIp */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

export interface FargateAppProps {
  /** The cluster that runs the service and the one-off tasks. */
  readonly cluster: ecs.ICluster;
  readonly image: ecs.ContainerImage;
  /** Task CPU units (1024 = 1 vCPU); with memoryLimitMiB one of the pairs in FARGATE_LIMITS. @default 256 */
  readonly cpu?: number;
  /** Task memory in MiB. @default 512 */
  readonly memoryLimitMiB?: number;
  /** Port the container listens on. @default 8080 */
  readonly containerPort?: number;
  /** The container health check ECS runs (it ignores the image's HEALTHCHECK). */
  readonly healthCheck: ecs.HealthCheck;
  /** User (name or uid[:gid]) the container runs as; root is refused. @default '1000' */
  readonly user?: string;
  /** Plain settings. Secrets go in `secrets`. @default none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Values the ECS agent reads with the execution role and injects as environment variables at start. @default none */
  readonly secrets?: Readonly<Record<string, ecs.Secret>>;
  /** @default one is created */
  readonly logGroup?: logs.ILogGroup;
  /** Settings of the log group created when `logGroup` is not given. @default retention of one month */
  readonly logGroupProps?: CreatedLogGroupProps;
  /** The service part: absent means task definition only (run it with RunTask). */
  readonly service?: FargateAppServiceOptions;
}

const ROOT_USERS = new Set(['root', '0']);

/**
 * A container app on Fargate (arm64) done the way the ECS docs recommend: two roles kept apart — the TASK role is
 * what the app's code may call (grant to `taskRole`), the EXECUTION role is what the ECS agent needs to start it (pull
 * the image, write logs, read the injected secrets) — a read-only root filesystem, a non-root user, a health check, logs
 * with retention; optionally a service with a circuit breaker that rolls back, CPU and queue-backlog scaling, and a
 * rolling or native blue/green deployment.
 */
export class FargateApp extends Construct {
  /** The name of the app's container in the task definition: what RunTask overrides and load balancer targets name. */
  static readonly CONTAINER_NAME = 'app';

  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  /** Assumed by the app's code: grant it what the app calls. */
  public readonly taskRole: iam.IRole;
  /** Assumed by the ECS agent: image pull, log writes and the secrets in `secrets`, nothing else. */
  public readonly executionRole: iam.IRole;
  public readonly logGroup: logs.ILogGroup;
  public readonly service?: ecs.FargateService;
  public readonly scaling?: ecs.ScalableTaskCount;
  /** With a load balancer: the target group production traffic goes to between deployments (blue). */
  public readonly primaryTargetGroup?: elbv2.ApplicationTargetGroup;
  /** With a load balancer and blue/green: the target group a deployment's new revision registers in (green). */
  public readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;

  constructor(scope: Construct, id: string, props: FargateAppProps) {
    super(scope, id);
    const cpu = props.cpu ?? 256;
    const memoryLimitMiB = props.memoryLimitMiB ?? 512;
    const user = props.user ?? '1000';
    const check = new PropsValidator(this, 'FargateApp');
    const validMemory = FARGATE_LIMITS.memoryMiBByCpu[cpu];
    check.require(
      validMemory?.includes(memoryLimitMiB) ?? false,
      'CpuMemoryPair',
      validMemory
        ? `Fargate has no task with ${cpu} CPU units and ${memoryLimitMiB} MiB: with ${cpu} CPU units memory is one of ${validMemory.join(', ')} MiB`
        : `Fargate has no task with ${cpu} CPU units: cpu is one of ${Object.keys(FARGATE_LIMITS.memoryMiBByCpu).join(', ')}`,
    );
    check.require(!ROOT_USERS.has(user.split(':')[0]), 'RootUser', `user must not be root (got "${user}"): run the container as an unprivileged uid`);
    check.existingOrProps(props.logGroup, props.logGroupProps, { existing: 'logGroup', props: 'logGroupProps' });
    const deployment = props.service ? checkService(check, props.service) : undefined;
    if (props.service?.queueScaling) {
      const insights = containerInsightsOf(props.cluster);
      check.warnUnless(
        insights === 'enabled' || insights === 'enhanced',
        'QueueScalingWithoutContainerInsights',
        `service.queueScaling divides by RunningTaskCount, a Container Insights metric, but the cluster's Container Insights is ${insights ?? 'not set here (an imported cluster, or the account default)'}: ` +
          'without it the backlog-per-task policy has no data and never scales. Set containerInsightsV2 on the cluster.',
      );
    }
    check.throwIfInvalid();

    this.logGroup =
      props.logGroup ??
      new logs.LogGroup(this, 'Logs', { retention: props.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION, removalPolicy: RemovalPolicy.RETAIN });
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: ecsTasksPrincipal(this),
      description: `Task role of ${this.node.path}: what the app's code may call`,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: `Execution role of ${this.node.path}: what the ECS agent needs to pull, log and inject secrets`,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu,
      memoryLimitMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
      executionRole: this.executionRole,
    });
    const containerPort = props.containerPort ?? 8080;
    this.container = this.taskDefinition.addContainer(FargateApp.CONTAINER_NAME, {
      image: props.image,
      essential: true,
      user,
      readonlyRootFilesystem: true,
      portMappings: [{ containerPort }],
      healthCheck: props.healthCheck,
      environment: props.environment ? { ...props.environment } : undefined,
      secrets: props.secrets ? { ...props.secrets } : undefined,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'app' }),
      stopTimeout: Duration.seconds(30),
    });
    const executionPolicy = this.executionRole.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      Validations.of(executionPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken, which the agent calls before pulling, has no resource ARN; the pull actions ' +
          '(BatchGetImage, GetDownloadUrlForLayer) are limited to the repository.',
      });
    }
    if (props.environment) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds names and plain settings only; every secret value is injected through `secrets`.',
      });
    }

    if (props.service && deployment) {
      const options = props.service;
      // Blue/green, linear and canary all run two revisions side by side; only rolling replaces tasks in place.
      const blueGreen = deployment.strategy !== ecs.DeploymentStrategy.ROLLING;
      const steps = deployment.trafficShift;
      this.service = new ecs.FargateService(this, 'Service', {
        cluster: props.cluster,
        taskDefinition: this.taskDefinition,
        desiredCount: options.desiredCount ?? 1,
        assignPublicIp: options.assignPublicIp ?? false,
        vpcSubnets: options.vpcSubnets,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { enable: true, rollback: true },
        deploymentStrategy: deployment.strategy,
        bakeTime: blueGreen ? deployment.options.bakeTime ?? Duration.minutes(1) : undefined,
        linearConfiguration: deployment.strategy === ecs.DeploymentStrategy.LINEAR ? steps : undefined,
        canaryConfiguration: deployment.strategy === ecs.DeploymentStrategy.CANARY ? steps : undefined,
        lifecycleHooks: this.lifecycleHooks(deployment.options.hooks ?? []),
      });
      if (options.loadBalancer) {
        const targetGroups = this.attachToLoadBalancer(this.service, options.loadBalancer, containerPort, blueGreen);
        this.primaryTargetGroup = targetGroups.primary;
        this.alternateTargetGroup = targetGroups.alternate;
      }
      this.scaling = this.service.autoScaleTaskCount({ minCapacity: options.minCapacity ?? 1, maxCapacity: options.maxCapacity ?? 4 });
      this.scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: options.cpuTargetPercent ?? 70 });
      if (options.queueScaling) this.scaleOnBacklogPerTask(props.cluster, this.service, this.scaling, options.queueScaling);
    }
  }

  /**
   * Target groups and listener rules. Blue/green: both target groups sit in each rule (100/0), and ECS moves the
   * weights with the infrastructure role; rolling: one target group, one rule.
   */
  private attachToLoadBalancer(
    service: ecs.FargateService,
    options: AppLoadBalancerOptions,
    containerPort: number,
    blueGreen: boolean,
  ): { primary: elbv2.ApplicationTargetGroup; alternate?: elbv2.ApplicationTargetGroup } {
    const targetGroup = (id: string) =>
      new elbv2.ApplicationTargetGroup(this, id, {
        vpc: service.cluster.vpc,
        port: containerPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(10),
        healthCheck: { path: options.healthCheckPath ?? '/health', interval: Duration.seconds(10), healthyThresholdCount: 2 },
      });
    const primary = targetGroup('PrimaryTargetGroup');
    const alternate = blueGreen ? targetGroup('AlternateTargetGroup') : undefined;
    const forward = alternate
      ? elbv2.ListenerAction.weightedForward([
          { targetGroup: primary, weight: 100 },
          { targetGroup: alternate, weight: 0 },
        ])
      : elbv2.ListenerAction.forward([primary]);
    const rule = (id: string, listener: elbv2.ApplicationListener) =>
      new elbv2.ApplicationListenerRule(this, id, { listener, priority: 10, conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])], action: forward });
    const productionRule = rule('ProductionRule', options.listener);
    const testRule = alternate && options.testListener ? rule('TestRule', options.testListener) : undefined;
    for (const listener of [options.listener, options.testListener]) {
      if (listener) service.connections.allowFrom(listener.loadBalancer, ec2.Port.tcp(containerPort), 'from the load balancer only');
    }
    if (!alternate) {
      service.attachToApplicationTargetGroup(primary);
      return { primary };
    }
    const infrastructureRole = new iam.Role(this, 'LoadBalancerInfrastructureRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `Assumed by ECS to move the listener rules of ${this.node.path} between its target groups`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonECSInfrastructureRolePolicyForLoadBalancers')],
    });
    Validations.of(infrastructureRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      reason:
        'The policy the ECS docs name for blue/green with a load balancer: AWS keeps it in step with the rule and ' +
        'target-group calls ECS makes (most have no resource ARN to narrow, as they describe load balancers).',
    });
    service
      .loadBalancerTarget({
        containerName: this.container.containerName,
        containerPort,
        alternateTarget: new ecs.AlternateTarget('Alternate', {
          alternateTargetGroup: alternate,
          role: infrastructureRole,
          productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(productionRule),
          testListener: testRule ? ecs.ListenerRuleConfiguration.applicationListenerRule(testRule) : undefined,
        }),
      })
      .attachToApplicationTargetGroup(primary);
    return { primary, alternate };
  }

  /**
   * The hooks, with one role ECS assumes to call them: lambda:InvokeFunction on each function's ARN only (CDK's
   * default role would also allow every version and alias, `<arn>:*`).
   */
  private lifecycleHooks(hooks: readonly DeploymentHook[]): ecs.IDeploymentLifecycleHookTarget[] | undefined {
    if (hooks.length === 0) return undefined;
    const role = new iam.Role(this, 'HookInvokeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `Assumed by ECS to call the deployment lifecycle hooks of ${this.node.path}`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: hooks.map((hook) => hook.handler.functionArn) }));
    return hooks.map(
      (hook, index) => new ecs.DeploymentLifecycleLambdaTarget(hook.handler, `Hook${index}`, { role, lifecycleStages: [...hook.stages] }),
    );
  }

  /**
   * Target tracking on backlog per task (AWS's recommended way to scale queue workers): metric math dividing the
   * messages visible by the tasks running. CDK's target tracking takes a single metric, so the policy's metric is
   * replaced by the math in the template.
   */
  private scaleOnBacklogPerTask(cluster: ecs.ICluster, service: ecs.FargateService, scaling: ecs.ScalableTaskCount, options: QueueScalingOptions): void {
    scaling.scaleToTrackCustomMetric('BacklogPerTask', {
      metric: options.queue.metricApproximateNumberOfMessagesVisible(),
      targetValue: options.backlogPerTask,
    });
    // ScalableTaskCount adds its policies to the scalable target it wraps, one level down.
    const policy = scaling.node.findAll().find((child) => child.node.id === 'BacklogPerTask')?.node.defaultChild as appscaling.CfnScalingPolicy;
    const spec = 'TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification';
    // A customized metric is either one metric or `Metrics` (math): drop the single metric CDK rendered.
    for (const key of ['Namespace', 'MetricName', 'Dimensions', 'Statistic']) policy.addPropertyDeletionOverride(`${spec}.${key}`);
    policy.addPropertyOverride(`${spec}.Metrics`, [
      {
        Id: 'visible',
        MetricStat: {
          Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: options.queue.queueName }] },
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      {
        Id: 'tasks',
        MetricStat: {
          Metric: {
            Namespace: 'ECS/ContainerInsights',
            MetricName: 'RunningTaskCount',
            Dimensions: [
              { Name: 'ClusterName', Value: cluster.clusterName },
              { Name: 'ServiceName', Value: service.serviceName },
            ],
          },
          Stat: 'Average',
        },
        ReturnData: false,
      },
      { Id: 'backlogPerTask', Expression: 'visible / tasks', Label: 'messages visible per running task', ReturnData: true },
    ]);
  }
}

/** The service's problems, recorded on `check`; returns the deployment to use. */
function checkService(check: PropsValidator, options: FargateAppServiceOptions): AppDeployment {
  const desired = options.desiredCount ?? 1;
  const min = options.minCapacity ?? 1;
  const max = options.maxCapacity ?? 4;
  check.require(Number.isInteger(min) && min >= 1, 'MinCapacityRange', `service.minCapacity must be a whole number of at least 1 (backlog per task divides by the running tasks), got ${min}`);
  check.require(min <= max, 'MinAboveMax', `service.minCapacity (${min}) must not exceed service.maxCapacity (${max})`);
  check.require(desired <= max, 'DesiredAboveMax', `service.desiredCount (${desired}) must not exceed service.maxCapacity (${max}): auto scaling would cut it at once`);
  check.require(desired >= min, 'DesiredBelowMin', `service.desiredCount (${desired}) must be at least service.minCapacity (${min})`);
  const cpuTarget = options.cpuTargetPercent ?? 70;
  check.require(cpuTarget > 0 && cpuTarget <= 100, 'CpuTargetRange', `service.cpuTargetPercent must be above 0 and at most 100, got ${cpuTarget}`);
  if (options.queueScaling) {
    const backlog = options.queueScaling.backlogPerTask;
    check.require(backlog > 0, 'BacklogPerTaskRange', `service.queueScaling.backlogPerTask must be above 0, got ${backlog}`);
  }
  const deployment = options.deployment ?? AppDeployment.rolling();
  check.require(
    options.loadBalancer?.testListener === undefined || deployment.strategy !== ecs.DeploymentStrategy.ROLLING,
    'TestListenerNeedsBlueGreen',
    'service.loadBalancer.testListener takes test traffic to a new revision during a blue/green deployment: use AppDeployment.blueGreen(), linear() or canary(), or drop it',
  );
  if (deployment.trafficShift) {
    const linear = deployment.strategy === ecs.DeploymentStrategy.LINEAR;
    const { min, max } = linear ? ECS_DEPLOYMENT_LIMITS.linearStepPercent : ECS_DEPLOYMENT_LIMITS.canaryPercent;
    const percent = deployment.trafficShift.stepPercent;
    check.require(
      percent >= min && percent <= max && Math.abs(percent * 10 - Math.round(percent * 10)) < 1e-9,
      'StepPercentRange',
      `the ${linear ? 'linear' : 'canary'} stepPercent must be from ${min} to ${max} in steps of 0.1, got ${percent}`,
    );
    check.require(
      options.loadBalancer !== undefined,
      'TrafficShiftNeedsLoadBalancer',
      `a ${linear ? 'linear' : 'canary'} deployment shifts production traffic in steps: give service.loadBalancer`,
    );
    const stepSeconds = check.seconds(deployment.trafficShift.stepBakeTime, 'stepBakeTime', { tokenUnit: 'minutes' });
    if (stepSeconds !== undefined) {
      check.require(
        stepSeconds % 60 === 0 && stepSeconds / 60 <= ECS_DEPLOYMENT_LIMITS.maxBakeTimeMinutes,
        'StepBakeTimeMinutes',
        `stepBakeTime must be whole minutes, at most ${ECS_DEPLOYMENT_LIMITS.maxBakeTimeMinutes}, got ${stepSeconds} s`,
      );
    }
  }
  const bakeSeconds = check.seconds(deployment.options.bakeTime, 'service.deployment bakeTime', { tokenUnit: 'minutes' });
  if (bakeSeconds !== undefined) {
    check.require(
      bakeSeconds % 60 === 0 && bakeSeconds / 60 <= ECS_DEPLOYMENT_LIMITS.maxBakeTimeMinutes,
      'BakeTimeMinutes',
      `the blue/green bakeTime must be whole minutes, at most ${ECS_DEPLOYMENT_LIMITS.maxBakeTimeMinutes}, got ${bakeSeconds} s`,
    );
  }
  return deployment;
}

/** The cluster's containerInsights setting as its template renders it; undefined when not set in this app. */
function containerInsightsOf(cluster: ecs.ICluster): string | undefined {
  const settings = (cluster.node.defaultChild as ecs.CfnCluster | undefined)?.clusterSettings;
  const list = Array.isArray(settings) ? (settings as ecs.CfnCluster.ClusterSettingsProperty[]) : [];
  return list.find((setting) => setting.name === 'containerInsights')?.value;
}

/**
 * ecs-tasks.amazonaws.com, only for tasks of this account: the confused-deputy guard the ECS docs give for task roles.
 */
function ecsTasksPrincipal(scope: Construct): iam.IPrincipal {
  return new iam.ServicePrincipal('ecs-tasks.amazonaws.com').withConditions({
    StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
  });
}
