import * as path from 'node:path';
import { Duration, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { AppDeployment, FargateApp, ImageRepository } from '../../lib/fargate-app';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { LAB_LOG_RETENTION, LabStack, LabStackProps } from '../support/lab-stack';
import { labVpc } from '../support/lab-vpc';
import type { ecsLab } from './lab';
import { ECS_LAB } from './constants';

/** The container's source: the Dockerfile, its buildspec and the app, uploaded as a zip for CodeBuild. */
export const ECS_APP_DIR = path.join(__dirname, 'app');

/**
 * ECS lab: an ECR repository and the CodeBuild project that builds the image into it (no Docker on the learner's
 * machine), a Fargate arm64 task definition with a task role and an execution role kept apart, a jobs queue the batch
 * job fills through RunTask; with `-c ecs:service=true`, a service draining that queue, scaled on CPU and backlog per
 * task, deployed by native ECS blue/green with a deploy-gate lifecycle hook.
 */
export class EcsLabStack extends LabStack<typeof ecsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    // The load balancer fronts the service, so it brings the service with it.
    const withLoadBalancer = this.feature('alb');
    const withService = this.feature('service') || withLoadBalancer;

    // Public subnets only: tasks reach ECR and AWS APIs through their public IP instead of a NAT gateway ($32.85/month).
    const vpc = labVpc(this, 'Vpc', { subnets: 'public', maxAzs: 2 });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      // Backlog per task divides by Container Insights' RunningTaskCount: on with the service only, since it bills per metric.
      containerInsightsV2: withService ? ecs.ContainerInsights.ENABLED : ecs.ContainerInsights.DISABLED,
    });
    if (!withService) {
      Validations.of(cluster).acknowledge({
        id: 'AwsSolutions-ECS4',
        reason:
          'Container Insights bills its metrics per metric-month; without the service the cluster runs only one-off ' +
          'tasks, whose logs and exit codes tell everything. The service feature turns it on (its scaling needs it).',
      });
    }

    const images = new ImageRepository(this, 'Images', {
      keepLastImages: ECS_LAB.keepLastImages,
      untaggedExpiry: Duration.days(ECS_LAB.untaggedExpiryDays),
    });
    const build = this.imageBuild(images);

    const greeting = new ssm.StringParameter(this, 'Greeting', {
      description: 'What the ecs lab app answers on GET /: read at start by the app with the TASK role',
      stringValue: 'hello from a Fargate task',
    });
    // A stand-in for a secret: CloudFormation cannot create SecureString parameters. The agent reads a SecureString
    // (or a Secrets Manager secret) the same way, with kms:Decrypt added to the execution role for a customer key.
    const apiKey = new ssm.StringParameter(this, 'ApiKey', {
      description: 'Injected into the ecs lab container as API_KEY by the ECS agent with the EXECUTION role',
      stringValue: 'lab-api-key-not-a-real-secret',
    });
    const jobs = new QueueWithDlq(this, 'Jobs', { visibilityTimeout: Duration.seconds(30), maxReceiveCount: 3 });

    const gate = withService
      ? new ssm.StringParameter(this, 'DeployGate', {
          description: `Lifecycle hook gate of the ecs lab service: "${ECS_LAB.gateOpen}" lets a deployment through, anything else rolls it back`,
          stringValue: ECS_LAB.gateOpen,
        })
      : undefined;
    const gateHook = gate ? this.gateHook(gate) : undefined;

    const loadBalancer = withLoadBalancer ? this.loadBalancer(vpc) : undefined;

    const app = new FargateApp(this, 'App', {
      cluster,
      image: ecs.ContainerImage.fromEcrRepository(images.repository, ECS_LAB.imageTag),
      cpu: ECS_LAB.taskCpu,
      memoryLimitMiB: ECS_LAB.taskMemoryMiB,
      containerPort: ECS_LAB.containerPort,
      user: ECS_LAB.containerUser,
      healthCheck: {
        command: ['CMD', 'node', 'src/healthcheck.js'],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(10),
      },
      environment: {
        GREETING_PARAMETER: greeting.parameterName,
        QUEUE_URL: jobs.queue.queueUrl,
        RELEASE: ECS_LAB.imageTag,
      },
      secrets: { API_KEY: ecs.Secret.fromSsmParameter(apiKey) },
      service: gateHook
        ? {
            desiredCount: ECS_LAB.service.desiredCount,
            minCapacity: ECS_LAB.service.minCapacity,
            maxCapacity: ECS_LAB.service.maxCapacity,
            cpuTargetPercent: ECS_LAB.service.cpuTargetPercent,
            queueScaling: { queue: jobs.queue, backlogPerTask: ECS_LAB.service.backlogPerTask },
            assignPublicIp: true,
            vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
            loadBalancer: loadBalancer && { listener: loadBalancer.production, testListener: loadBalancer.test },
            deployment: AppDeployment.blueGreen({
              bakeTime: Duration.minutes(ECS_LAB.service.bakeTimeMinutes),
              hooks: [{ handler: gateHook, stages: [ecs.DeploymentLifecycleStage.POST_SCALE_UP] }],
            }),
          }
        : undefined,
    });
    // The task role: what the app's code calls, nothing the agent needs.
    greeting.grantRead(app.taskRole);
    jobs.queue.grantSendMessages(app.taskRole);
    jobs.queue.grantConsumeMessages(app.taskRole);

    // One-off tasks (RunTask) take their network from the caller: this group lets nothing in, everything out.
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc,
      description: 'ecs lab one-off tasks: no inbound traffic; outbound open (ECR, SQS and SSM endpoints)',
    });

    const outputs: Record<string, string> = {
      ClusterName: cluster.clusterName,
      TaskDefinitionFamily: app.taskDefinition.family,
      ContainerName: app.container.containerName,
      SubnetIds: Fn.join(',', vpc.publicSubnets.map((subnet) => subnet.subnetId)),
      TaskSecurityGroupId: taskSecurityGroup.securityGroupId,
      RepositoryName: images.repository.repositoryName,
      ImageTag: ECS_LAB.imageTag,
      BuildProjectName: build.projectName,
      JobsQueueUrl: jobs.queue.queueUrl,
      JobsQueueArn: jobs.queue.queueArn,
      GreetingParameterArn: greeting.parameterArn,
      ApiKeyParameterArn: apiKey.parameterArn,
      TaskRoleArn: app.taskRole.roleArn,
      ExecutionRoleArn: app.executionRole.roleArn,
    };
    if (app.service && gate && gateHook) {
      outputs.ServiceName = app.service.serviceName;
      outputs.GateParameterName = gate.parameterName;
      outputs.HookFunctionName = gateHook.functionName;
    }
    if (loadBalancer) {
      outputs.ProductionUrl = `http://${loadBalancer.production.loadBalancer.loadBalancerDnsName}/`;
      outputs.TestUrl = `http://${loadBalancer.production.loadBalancer.loadBalancerDnsName}:${ECS_LAB.testListenerPort}/`;
    }
    this.addOutputs(outputs);
  }

  /**
   * The image build: CodeBuild (arm64, privileged for the Docker daemon) builds `app/` from its zip in S3 and pushes
   * `<repository>:<IMAGE_TAG>`. The exercise starts it; nothing in synth or deploy needs Docker.
   */
  private imageBuild(images: ImageRepository): codebuild.Project {
    const source = new s3assets.Asset(this, 'AppSource', { path: ECS_APP_DIR, exclude: ['node_modules'] });
    const logGroup = new logs.LogGroup(this, 'BuildLogs', { retention: LAB_LOG_RETENTION, removalPolicy: RemovalPolicy.DESTROY });
    const project = new codebuild.Project(this, 'ImageBuild', {
      description: 'Builds the ecs lab image from labs/ecs/app and pushes it to the lab repository',
      source: codebuild.Source.s3({ bucket: source.bucket, path: source.s3ObjectKey }),
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: codebuild.ComputeType.SMALL,
        // docker build needs the Docker daemon, which CodeBuild runs only in privileged mode.
        privileged: true,
      },
      environmentVariables: {
        REPOSITORY_URI: { value: images.repository.repositoryUri },
        IMAGE_TAG: { value: ECS_LAB.imageTag },
      },
      timeout: Duration.minutes(20),
      logging: { cloudWatch: { logGroup } },
    });
    images.repository.grantPullPush(project);
    const projectId = this.getLogicalId(project.node.defaultChild as codebuild.CfnProject);
    const grants: Record<string, string> = {
      'Action::s3:GetBucket*': 'read of the source zip: CDK grants the asset bucket read actions, limited to that bucket and its objects',
      'Action::s3:GetObject*': 'read of the source zip: CDK grants the asset bucket read actions, limited to that bucket and its objects',
      'Action::s3:List*': 'read of the source zip: CDK grants the asset bucket read actions, limited to that bucket and its objects',
      [`Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/codebuild/<${projectId}>:*`]:
        "CodeBuild's default grant to its default log group /aws/codebuild/<project>; this project logs to its own group instead",
      [`Resource::arn:<AWS::Partition>:codebuild:<AWS::Region>:<AWS::AccountId>:report-group/<${projectId}>-*`]:
        "CodeBuild's default grant to report groups named after the project; the buildspec has no reports section, so none is created",
      'Resource::*': 'ecr:GetAuthorizationToken, which `docker login` calls, has no resource ARN; the push actions are limited to the repository',
    };
    for (const [finding, reason] of Object.entries(grants)) {
      Validations.of(project).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    Validations.of(project).acknowledge({
      id: 'AwsSolutions-CB3',
      reason: 'Privileged mode runs the Docker daemon that `docker build` needs; the build runs only this lab\'s Dockerfile.',
    });
    Validations.of(project).acknowledge({
      id: 'AwsSolutions-CB4',
      reason:
        'The build produces no artifacts (the image goes to ECR, encrypted there) and its logs go to CloudWatch Logs; ' +
        'a customer managed key would add $1/month for nothing it protects.',
    });
    return project;
  }

  /**
   * An internet-facing ALB with a production listener (80) and a test listener (8080) that answer 404 until the
   * service adds its rules: during a blue/green deployment ECS points the test listener at green first.
   */
  private loadBalancer(vpc: ec2.IVpc): { production: elbv2.ApplicationListener; test: elbv2.ApplicationListener } {
    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', { vpc, internetFacing: true, dropInvalidHeaderFields: true });
    Validations.of(alb).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason:
        "No access logs: CDK's logAccessLogs helper needs a literal Region to name that Region's ELB log-delivery " +
        'account in the bucket policy, and this stack is Region-agnostic. A CloudFormation mapping of those accounts ' +
        'would do, but adds a bucket nobody reads: the exercise checks what each listener answers, and the VPC flow ' +
        'logs record rejected traffic.',
    });
    Validations.of(alb).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'A public demo endpoint: the learner calls both listeners from an address the stack cannot know. The tasks ' +
        'accept traffic from the load balancer only.',
    });
    const listener = (id: string, port: number) =>
      alb.addListener(id, {
        port,
        protocol: elbv2.ApplicationProtocol.HTTP,
        defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'no route' }),
      });
    return { production: listener('Production', 80), test: listener('Test', ECS_LAB.testListenerPort) };
  }

  /** The lifecycle hook: lets a deployment through while the gate parameter is open. */
  private gateHook(gate: ssm.StringParameter): SafeNodejsFunction {
    const hook = new SafeNodejsFunction(this, 'GateHook', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'ecs-deploy-gate', 'index.ts'),
      description: 'ecs lab: POST_SCALE_UP lifecycle hook of the service, SUCCEEDED while the deploy gate is open',
      environment: { GATE_PARAMETER: gate.parameterName },
    });
    gate.grantRead(hook);
    return hook;
  }
}
