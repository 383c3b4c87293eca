/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

export const ECS_LAB = {
  containerPort: 8080,
  /** The ALB's test listener (feature alb): it reaches a new revision before production (80) does. */
  testListenerPort: 8080,
  /** Task size: 0.25 vCPU and 0.5 GB, the smallest Fargate task. */
  taskCpu: 256,
  taskMemoryMiB: 512,
  /** The non-root uid the image's USER and the task definition both name (the node image's `node` user). */
  containerUser: '1000',
  /** The tag the task definition runs; the exercise's build step pushes it once (tags are immutable). */
  imageTag: 'v1',
  /** ECR lifecycle policy: images kept, and days an untagged image stays. */
  keepLastImages: 5,
  untaggedExpiryDays: 1,
  service: {
    desiredCount: 1,
    minCapacity: 1,
    maxCapacity: 3,
    cpuTargetPercent: 70,
    /** Messages one task may have waiting: it handles ~1 a second and 10 s of latency is acceptable. */
    backlogPerTask: 10,
    bakeTimeMinutes: 1,
  },
  /** What the gate parameter holds for the lifecycle hook to let a deployment through (lambda/ecs-deploy-gate). */
  gateOpen: 'open',
  gateClosed: 'closed',
  /** Exit codes of the batch job (app/src/app.js EXIT_CODES). */
  batchExitCodes: { ok: 0, badInput: 2 },
  batchSize: 3,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** A CodeBuild image build (pull the base image, npm ci, push) takes 2-4 minutes. */
    buildDeadlineSeconds: 900,
    buildPollSeconds: 10,
    /** A one-off Fargate task: provisioning, pull, run, stop; about a minute. */
    taskDeadlineSeconds: 300,
    taskPollSeconds: 5,
    /** A blue/green deployment: green up, the hook, bake time, blue down (or the rollback). */
    deploymentDeadlineSeconds: 1200,
    deploymentPollSeconds: 15,
  },
} as const;
