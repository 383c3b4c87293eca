import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The ecs lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const ecsLab = defineLab({
  id: 'ecs',
  title: 'ECS and ECR: an image built by CodeBuild, task role vs execution role, RunTask, a scaled Fargate service with native blue/green',
  stackName: 'EcsLab',
  seedTopics: ['002: ECS', '002: Code Build (build → push to ECR → task definition)', '000: Credentials provider chain (container credentials)'],
  // Nothing bills while idle: the VPC (no NAT gateway), the cluster, the task definition, the CodeBuild project
  // (per build minute), the queue and the parameters. ECR bills $0.10 per GB-month stored: the lifecycle policy keeps
  // at most 5 images of ~60 MB (about $0.03/month once images are pushed).
  idleCostUsdPerMonth: 0,
  features: {
    service: {
      description:
        'a Fargate service (arm64, 0.25 vCPU, 0.5 GB, 1 task with a public IPv4 address) draining the jobs queue, ' +
        'scaled on CPU and backlog per task, deployed by native ECS blue/green with a Lambda lifecycle hook; ' +
        '$0.0149/hour for the task and its address plus $0.60/month of scaling alarms. Container Insights, which ' +
        'backlog-per-task scaling needs, comes on top: its 20-35 metrics bill as custom metrics ($0.30 per ' +
        'metric-month, prorated by the hour), about $6-$11/month while a task runs',
      // Task: (0.25 vCPU x $0.03238 + 0.5 GB x $0.00356 + IPv4 $0.005) x 730 h = $10.86; alarms: the CPU policy's
      // 2 alarms read 1 metric each ($0.20), the backlog-per-task policy's 2 alarms read 2 metrics each ($0.40).
      idleCostUsdPerMonth: 11.46,
    },
    alb: {
      description:
        'the service (turned on with it) behind an internet-facing Application Load Balancer with a production (80) ' +
        'and a test (8080) listener, so blue/green shifts traffic between two target groups; $0.0225/hour for the ' +
        'load balancer and $0.005/hour for each of its 2 public IPv4 addresses, plus LCUs ($0.008 per LCU-hour) under load',
      // ALB ($0.0225 + 2 x $0.005) x 730 h = $23.73, plus the service's $11.46 (Container Insights on top).
      idleCostUsdPerMonth: 35.18,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).EcsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
