import { Duration, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AppDeployment, FargateApp, ImageRepository } from '../../../lib/fargate-app';

/** A repository, and a worker service scaled on CPU and on backlog per task, deployed blue/green. */
export function build(stack: Stack): void {
  const images = new ImageRepository(stack, 'Images', { keepLastImages: 10, untaggedExpiry: Duration.days(1) });
  const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1 });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const jobs = new sqs.Queue(stack, 'Jobs', { enforceSSL: true });
  const app = new FargateApp(stack, 'Worker', {
    cluster,
    image: ecs.ContainerImage.fromEcrRepository(images.repository, 'v1'),
    cpu: 512,
    memoryLimitMiB: 1024,
    healthCheck: { command: ['CMD', 'node', 'healthcheck.js'] },
    environment: { QUEUE_URL: jobs.queueUrl },
    service: {
      maxCapacity: 10,
      queueScaling: { queue: jobs, backlogPerTask: 20 },
      deployment: AppDeployment.blueGreen({ bakeTime: Duration.minutes(5) }),
    },
  });
  jobs.grantConsumeMessages(app.taskRole);
}
