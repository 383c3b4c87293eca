import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { BlueGreenPipeline, CodeCommitSource, DeployTarget, EcsServiceTarget, PipelineSource } from '../../lib/blue-green-pipeline';
import { labVpc } from '../support/lab-vpc';

/** The ECS sample the second pipeline releases; its files seed that pipeline's CodeCommit repository. */
export const ECS_APP_DIR = path.join(__dirname, 'app-ecs');

export const ECS_SAMPLE = {
  /**
   * The first task set's image, until the pipeline's first release replaces it with one it built and pushed to ECR:
   * nginx from the ECR Public Gallery (multi-arch, pulled without credentials or a NAT gateway).
   */
  image: 'public.ecr.aws/nginx/nginx:stable-alpine',
  /** Written by the image's release-page.sh: `{"release": ..., "taskDefinition": "<family>:<revision>"}`. */
  versionPath: '/version.json',
  containerName: 'web',
  productionPort: 80,
  testPort: 8080,
} as const;

export interface EcsBlueGreenProps {
  readonly artifactBucket: s3.IBucket;
  readonly notificationTopic?: sns.ITopic;
}

/**
 * The optional ECS half of the lab: a Fargate service (CODE_DEPLOY deployment controller) behind an ALB with a
 * production and a test listener, and a second BlueGreenPipeline whose Deploy stage is a CodeDeployToECS action.
 * Public subnets and public task IPs instead of a NAT gateway ($32.85/month).
 */
export class EcsBlueGreen extends Construct {
  public readonly delivery: BlueGreenPipeline;
  /** The CodeCommit source of the ECS pipeline: its repository. */
  public readonly source: CodeCommitSource;
  /** The ECS deploy target: its deployment group, image repository and AfterAllowTestTraffic hook. */
  public readonly target: EcsServiceTarget;
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly service: ecs.FargateService;

  constructor(scope: Construct, id: string, props: EcsBlueGreenProps) {
    super(scope, id);

    const vpc = labVpc(this, 'Vpc', { subnets: 'public', maxAzs: 2 });

    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });
    Validations.of(cluster).acknowledge({
      id: 'AwsSolutions-ECS4',
      reason:
        'Container Insights bills its custom metrics per task and per service while deployed; one idle lab task ' +
        'needs only the free AWS/ECS service metrics and the container logs.',
    });

    const logGroup = new logs.LogGroup(this, 'WebLogs', { removalPolicy: RemovalPolicy.DESTROY });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: 256,
      memoryLimitMiB: 512,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    taskDefinition.addContainer(ECS_SAMPLE.containerName, {
      image: ecs.ContainerImage.fromRegistry(ECS_SAMPLE.image),
      essential: true,
      portMappings: [{ containerPort: ECS_SAMPLE.productionPort }],
      entryPoint: ['sh', '-c'],
      command: ["echo 'release initial' > /usr/share/nginx/html/index.html && exec nginx -g 'daemon off;'"],
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'web' }),
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      dropInvalidHeaderFields: true,
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        'Access logs need a bucket policy naming the ELB log-delivery account of the Region, and CDK refuses logAccessLogs ' +
        'in a Region-agnostic stack like this one ("Region is required"); the VPC flow logs record rejected traffic instead.',
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'A public demo endpoint: the learner opens the production (80) and test (8080) listeners from a browser whose ' +
        'address the stack cannot know. The tasks accept traffic from the load balancer only.',
    });

    const targetGroup = (name: string) =>
      new elbv2.ApplicationTargetGroup(this, name, {
        vpc,
        port: ECS_SAMPLE.productionPort,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(5),
        healthCheck: { path: '/', interval: Duration.seconds(10), healthyThresholdCount: 2 },
      });
    const blue = targetGroup('Blue');
    const green = targetGroup('Green');
    const listener = this.loadBalancer.addListener('Production', {
      port: ECS_SAMPLE.productionPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [blue],
    });
    const testListener = this.loadBalancer.addListener('Test', {
      port: ECS_SAMPLE.testPort,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [green],
    });

    this.service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: 1,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      deploymentController: { type: ecs.DeploymentControllerType.CODE_DEPLOY },
      minHealthyPercent: 100,
    });
    this.service.attachToApplicationTargetGroup(blue);
    this.service.connections.allowFrom(this.loadBalancer, ec2.Port.tcp(ECS_SAMPLE.productionPort), 'the load balancer only');

    this.source = PipelineSource.codeCommit({ repositoryProps: { initialContents: ECS_APP_DIR }, branch: 'main' });
    this.target = DeployTarget.ecsService({
      service: this.service,
      blueTargetGroup: blue,
      greenTargetGroup: green,
      listener,
      testListener,
      testTrafficCheck: { path: ECS_SAMPLE.versionPath, expectTaskDefinitionInBody: true },
    });
    this.delivery = new BlueGreenPipeline(this, 'Delivery', {
      source: this.source,
      target: this.target,
      packageStore: false,
      build: {
        buildReportGroups: [],
        testReportGroups: [],
        reportGroupRemovalPolicy: RemovalPolicy.DESTROY,
        environmentVariables: {
          TASK_FAMILY: { value: taskDefinition.family },
          EXECUTION_ROLE_ARN: { value: taskDefinition.obtainExecutionRole().roleArn },
          CONTAINER_NAME: { value: ECS_SAMPLE.containerName },
          LOG_GROUP: { value: logGroup.logGroupName },
        },
      },
      approval: false,
      integrationTestStack: false,
      notifications: props.notificationTopic ? { alarmTopic: props.notificationTopic } : false,
      artifactBucket: props.artifactBucket,
    });
  }
}
