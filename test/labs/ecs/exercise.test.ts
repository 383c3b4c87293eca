import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import {
  DeploymentLifecycleHookStage,
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RunTaskCommand,
  ContainerDefinition,
  ServiceDeploymentBrief,
  TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { ECS_LAB } from '../../../labs/ecs/constants';
import { steps, timing } from '../../../labs/ecs/exercise';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';

// No local engine runs ECS, ECR, CodeBuild or the IAM policy simulator: the SDK answers are mocked as a deployed lab
// answers them, then broken one way at a time to show that each check catches what it claims to.
const codebuild = mockClient(CodeBuildClient);
const ecr = mockClient(ECRClient);
const ecs = mockClient(ECSClient);
const iam = mockClient(IAMClient);
const sqs = mockClient(SQSClient);
const ssm = mockClient(SSMClient);

const RUN_ID = 'run-test';
/** The container the ContainerName output names (FargateApp.CONTAINER_NAME; the exercise reads only the output). */
const CONTAINER_NAME = 'app';
const baseOutputs = {
  ClusterName: 'cluster',
  TaskDefinitionFamily: 'family',
  ContainerName: CONTAINER_NAME,
  SubnetIds: 'subnet-a,subnet-b',
  TaskSecurityGroupId: 'sg-1',
  RepositoryName: 'images',
  ImageTag: ECS_LAB.imageTag,
  BuildProjectName: 'image-build',
  JobsQueueUrl: 'https://sqs/jobs',
  JobsQueueArn: 'arn:aws:sqs:us-east-1:1:jobs',
  GreetingParameterArn: 'arn:aws:ssm:us-east-1:1:parameter/greeting',
  ApiKeyParameterArn: 'arn:aws:ssm:us-east-1:1:parameter/api-key',
  TaskRoleArn: 'arn:aws:iam::1:role/task',
  ExecutionRoleArn: 'arn:aws:iam::1:role/execution',
};
const HOOK_ARN = 'arn:aws:lambda:us-east-1:1:function:hook';
const serviceOutputs = { ...baseOutputs, ServiceName: 'service', GateParameterName: 'gate', HookFunctionName: 'hook' };
const FAST_TIMING = {
  ...ECS_LAB.exerciseTiming,
  buildPollSeconds: 0,
  taskPollSeconds: 0,
  deploymentPollSeconds: 0,
  // Long enough for the build's second poll; the others end at their first probe, as the mocks answer at once.
  buildDeadlineSeconds: 1,
  taskDeadlineSeconds: 0,
  deploymentDeadlineSeconds: 0,
};
const lines: string[] = [];
const run = (id: string, outputs: Record<string, string> = baseOutputs, figures: Partial<typeof FAST_TIMING> = {}) =>
  runExercise(steps.filter((s) => s.id === id), { outputs, log: (l) => lines.push(l), runId: RUN_ID, provide: [provide(timing, { ...FAST_TIMING, ...figures })] });
const named = (name: string) => Object.assign(new Error(name), { name });

/** The lifecycle rules as ECR returns the deployed lab's policy. */
const untaggedRule = {
  rulePriority: 1,
  description: 'untagged images expire 1 day(s) after their push',
  selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: ECS_LAB.untaggedExpiryDays },
  action: { type: 'expire' },
};
const keepLastRule = {
  rulePriority: 2,
  description: 'keep the last 5 images',
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: ECS_LAB.keepLastImages },
  action: { type: 'expire' },
};

/** The task definition as the deployed lab has it. */
const container: ContainerDefinition = {
  name: CONTAINER_NAME,
  user: '1000',
  readonlyRootFilesystem: true,
  healthCheck: { command: ['CMD', 'node', 'src/healthcheck.js'] },
  secrets: [{ name: 'API_KEY', valueFrom: baseOutputs.ApiKeyParameterArn }],
  environment: [{ name: 'QUEUE_URL', value: baseOutputs.JobsQueueUrl }],
};
const taskDefinition: TaskDefinition = {
  family: 'family',
  revision: 1,
  cpu: '256',
  memory: '512',
  runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
  taskRoleArn: baseOutputs.TaskRoleArn,
  executionRoleArn: baseOutputs.ExecutionRoleArn,
  containerDefinitions: [container],
};

/** A deployment as ListServiceDeployments lists it, created after the ones before it. */
const deployment = (target: string, status: ServiceDeploymentBrief['status'], statusReason?: string): ServiceDeploymentBrief => ({
  serviceDeploymentArn: `deployment-${target}`,
  targetServiceRevisionArn: target,
  status,
  statusReason,
  createdAt: new Date(Date.UTC(2026, 0, 1) + deployments.length * 60_000),
});

/** What IAM's simulator allows: the lab's two roles, exactly as the stack grants them. */
let allowed: Set<string>;
/** The exit code each batch task stops with, by BATCH_SIZE. */
let exitCodes: Record<string, number>;
/** Items of the run's job waiting in the queue. */
let queued: number;
/** The blue/green state: the live revision, the gate, and the deployments so far (newest first). */
let live: string;
let gate: string;
let deployments: ServiceDeploymentBrief[];
let gateRefusal: ServiceDeploymentBrief['status'];

beforeEach(() => {
  for (const client of [codebuild, ecr, ecs, iam, sqs, ssm]) client.reset();
  lines.length = 0;
  allowed = new Set([
    `task sqs:SendMessage ${baseOutputs.JobsQueueArn}`,
    `task ssm:GetParameter ${baseOutputs.GreetingParameterArn}`,
    `execution ssm:GetParameters ${baseOutputs.ApiKeyParameterArn}`,
  ]);
  exitCodes = { [String(ECS_LAB.batchSize)]: 0, '0': 2 };
  queued = ECS_LAB.batchSize;
  live = 'rev-1';
  gate = ECS_LAB.gateOpen;
  deployments = [];
  gateRefusal = 'ROLLBACK_SUCCESSFUL';

  ecr.on(DescribeRepositoriesCommand).resolves({
    repositories: [{ imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true }, encryptionConfiguration: { encryptionType: 'AES256' } }],
  });
  ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify({ rules: [untaggedRule, keepLastRule] }) });
  ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: 'sha256:abc', imageTags: [ECS_LAB.imageTag] }] });
  ecr.on(DescribeImageScanFindingsCommand).resolves({ imageScanStatus: { status: 'COMPLETE' }, imageScanFindings: { findingSeverityCounts: { LOW: 2 } } });
  codebuild.on(StartBuildCommand).resolves({ build: { id: 'image-build:1' } });
  codebuild.on(BatchGetBuildsCommand).resolvesOnce({ builds: [{ buildStatus: 'IN_PROGRESS' }] }).resolves({ builds: [{ buildStatus: 'SUCCEEDED' }] });

  ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition });
  iam.on(SimulatePrincipalPolicyCommand).callsFake(({ PolicySourceArn, ActionNames, ResourceArns }) => {
    const role = PolicySourceArn.split('/').pop();
    return { EvaluationResults: [{ EvalDecision: allowed.has(`${role} ${ActionNames[0]} ${ResourceArns[0]}`) ? 'allowed' : 'implicitDeny' }] };
  });

  ecs.on(RunTaskCommand).callsFake(({ overrides }) => {
    const size = overrides.containerOverrides[0].environment.find((e: { name: string }) => e.name === 'BATCH_SIZE').value;
    return { tasks: [{ taskArn: `task-${size}` }] };
  });
  ecs.on(DescribeTasksCommand).callsFake(({ tasks: [taskArn] }) => ({
    tasks: [{ taskArn, lastStatus: 'STOPPED', stoppedReason: 'Essential container in task exited', containers: [{ exitCode: exitCodes[taskArn.slice(5)] }] }],
  }));
  sqs.on(ReceiveMessageCommand).callsFake(() => {
    const messages = Array.from({ length: queued }, (_, i) => ({ Body: JSON.stringify({ jobId: RUN_ID, item: i + 1 }), ReceiptHandle: `r${i}` }));
    queued = 0;
    return { Messages: [{ Body: JSON.stringify({ jobId: 'someone-else', item: 1 }), ReceiptHandle: 'x' }, ...messages] };
  });
  // SQS refuses an empty batch, and entries without distinct ids made of letters, digits, - and _.
  sqs.on(DeleteMessageBatchCommand).callsFake(({ Entries }: { Entries: { Id?: string; ReceiptHandle?: string }[] }) => {
    if (Entries.length === 0) throw named('EmptyBatchRequest');
    const ids = Entries.map((entry) => entry?.Id ?? '');
    if (!ids.every((id) => /^[\w-]{1,80}$/.test(id)) || new Set(ids).size < ids.length) throw named('InvalidBatchEntryId');
    return { Successful: Entries.map(({ Id }) => ({ Id })) };
  });

  // The gate parameter exists: SSM changes it only with Overwrite.
  ssm.on(PutParameterCommand).callsFake(({ Name, Value, Overwrite }) => {
    if (Overwrite !== true) throw named('ParameterAlreadyExists');
    if (Name === serviceOutputs.GateParameterName) gate = Value;
    return {};
  });
  ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [
      {
        serviceName: 'service',
        desiredCount: 1,
        runningCount: 1,
        currentServiceRevisions: [{ arn: live }],
        deploymentConfiguration: {
          strategy: 'BLUE_GREEN',
          bakeTimeInMinutes: 1,
          deploymentCircuitBreaker: { enable: true, rollback: true },
          lifecycleHooks: [{ hookTargetArn: 'arn:aws:lambda:us-east-1:1:function:hook', lifecycleStages: ['POST_SCALE_UP'] }],
        },
      },
    ],
  }));
  ecs.on(UpdateServiceCommand).callsFake(() => {
    const target = `rev-${deployments.length + 2}`;
    const status = gate === ECS_LAB.gateOpen ? 'SUCCESSFUL' : gateRefusal;
    if (status === 'SUCCESSFUL') live = target;
    deployments.unshift(deployment(target, status));
    return {};
  });
  // Oldest first, to show the step picks the newest by its creation time rather than by position.
  ecs.on(ListServiceDeploymentsCommand).callsFake(() => ({ serviceDeployments: [...deployments].reverse() }));
  // The details of the deployment asked for: the hook's FAILED verdict on the one the closed gate rolled back.
  ecs.on(DescribeServiceDeploymentsCommand).callsFake(({ serviceDeploymentArns: [arn] }) => ({
    serviceDeployments: deployments
      .filter((d) => d.serviceDeploymentArn === arn && d.status === 'ROLLBACK_SUCCESSFUL')
      .map(() => ({ rollback: { reason: 'lifecycle hook returned FAILED' }, lifecycleHookDetails: [{ targetArn: HOOK_ARN, status: 'FAILED' }] })),
  }));
});

// What each step prints against the mocked lab, line by line (its title first): the lab's lesson is in these lines.
const PRINTED: [string, Record<string, string>, string[]][] = [
  ['build', baseOutputs, [
    '\n== 1/1 build: build the image in CodeBuild, push it to the immutable, scanned ECR repository',
    'repository images: tags IMMUTABLE, scan on push, encryption AES256',
    'lifecycle policy: untagged images expire 1 day(s) after their push; keep the last 5 images',
    'images:v1 was pushed before (sha256:abc); tags are immutable, so it is not rebuilt',
    'scan on push: COMPLETE; findings by severity {"LOW":2}',
  ]],
  ['roles', baseOutputs, [
    '\n== 1/1 roles: the task definition: task role vs execution role, read-only root, non-root user, injected secret',
    'family:1: 256 CPU units, 512 MiB, ARM64',
    'container "app": user 1000, read-only root filesystem, health check CMD node src/healthcheck.js',
    'API_KEY comes from arn:aws:ssm:us-east-1:1:parameter/api-key: the agent reads it with the execution role before the app starts',
    'task role: sqs:SendMessage on jobs → allowed',
    'task role: ssm:GetParameter on parameter/greeting → allowed',
    'task role: ssm:GetParameters on parameter/api-key → implicitDeny',
    'execution role: ssm:GetParameters on parameter/api-key → allowed',
    'execution role: sqs:SendMessage on jobs → implicitDeny',
    'execution role: ssm:GetParameter on parameter/greeting → implicitDeny',
    'the app reads the greeting and uses the queue with the task role; only the agent, with the execution role, reads the key',
  ]],
  ['run-task', baseOutputs, [
    '\n== 1/1 run-task: a one-off batch job with RunTask overrides, judged by its exit code',
    'RunTask with overrides command=node src/batch.js, JOB_ID=run-test, BATCH_SIZE=3: stopped (Essential container in task exited)',
    'exit code 0: the job sent its items with the task role',
    'the jobs queue holds the 3 items of job run-test; deleted them',
    'BATCH_SIZE=0: exit code 2 (bad input, nothing sent); ECS reports "Essential container in task exited": the exit code is the job\'s verdict',
  ]],
  ['run-task', serviceOutputs, [
    '\n== 1/1 run-task: a one-off batch job with RunTask overrides, judged by its exit code',
    'RunTask with overrides command=node src/batch.js, JOB_ID=run-test, BATCH_SIZE=3: stopped (Essential container in task exited)',
    'exit code 0: the job sent its items with the task role',
    'the service\'s tasks drain https://sqs/jobs: their log stream shows "processed" for job run-test',
    'BATCH_SIZE=0: exit code 2 (bad input, nothing sent); ECS reports "Essential container in task exited": the exit code is the job\'s verdict',
  ]],
  ['service', serviceOutputs, [
    '\n== 1/1 service: the service: BLUE_GREEN strategy, lifecycle hook, circuit breaker with rollback',
    'service: 1/1 tasks running, strategy BLUE_GREEN, bake 1 min',
    'hooks: hook at POST_SCALE_UP',
    'circuit breaker: rollback on; live revision rev-1',
  ]],
  ['service', baseOutputs, [
    '\n== 1/1 service: the service: BLUE_GREEN strategy, lifecycle hook, circuit breaker with rollback',
    'the service is not deployed: run the build step, then npx cdk deploy EcsLab -c ecs:service=true',
  ]],
  ['blue-green', serviceOutputs, [
    '\n== 1/1 blue-green: a deployment the hook refuses rolls back; one it lets through goes live',
    'live (blue) revision: rev-1',
    'gate closed → deployment to rev-2 ended ROLLBACK_SUCCESSFUL: lifecycle hook returned FAILED',
    'the hook answered FAILED at POST_SCALE_UP: ECS stopped the green tasks and blue kept serving',
    'gate open → SUCCESSFUL: green rev-3 is live; blue was stopped after the 1-minute bake time',
  ]],
  ['blue-green', baseOutputs, [
    '\n== 1/1 blue-green: a deployment the hook refuses rolls back; one it lets through goes live',
    'the service is not deployed: npx cdk deploy EcsLab -c ecs:service=true',
  ]],
  ['load-balancer', serviceOutputs, [
    '\n== 1/1 load-balancer: the production and test listeners of the ALB answer from the service',
    'the load balancer is not deployed: npx cdk deploy EcsLab -c ecs:alb=true',
  ]],
];
test.each(PRINTED)('step %s prints what it saw (with the outputs %#)', async (id, outputs, printed) => {
  await run(id, outputs);
  expect(lines).toEqual(printed);
});

describe('build', () => {
  test('an image already pushed is not rebuilt: tags are immutable', async () => {
    await run('build');
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(lines).toContain(`images:${ECS_LAB.imageTag} was pushed before (sha256:abc); tags are immutable, so it is not rebuilt`);
    expect(lines).toContain('scan on push: COMPLETE; findings by severity {"LOW":2}');
  });

  test('a missing image is built by CodeBuild, waited for, then found in the repository', async () => {
    ecr.on(DescribeImagesCommand).rejectsOnce(named('ImageNotFoundException')).resolves({ imageDetails: [{ imageDigest: 'sha256:new' }] });
    await run('build');
    expect(codebuild.commandCalls(StartBuildCommand)[0].args[0].input).toEqual({ projectName: 'image-build' });
    expect(codebuild.commandCalls(BatchGetBuildsCommand)).toHaveLength(2);
    expect(lines.slice(3)).toEqual([
      'started CodeBuild build image-build:1: docker build on an arm64 host, then docker push v1',
      'pushed v1 as sha256:new',
      'scan on push: COMPLETE; findings by severity {"LOW":2}',
    ]);
  });

  test('a failed build, or a repository whose tags can be overwritten, fails the step', async () => {
    ecr.on(DescribeImagesCommand).rejects(named('ImageNotFoundException'));
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ buildStatus: 'FAILED' }] });
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed('the build ended FAILED: read its log group (BuildLogs)'));
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: 'MUTABLE', imageScanningConfiguration: { scanOnPush: true } }] });
    await expect(run('build')).rejects.toThrow("the repository's tags are MUTABLE, not IMMUTABLE");
  });
});

// Each rule differs from the lab's in one field of its selection: every field is what makes the rule.
test.each<[string, object, string]>([
  ['expires tagged images', { ...untaggedRule, selection: { ...untaggedRule.selection, tagStatus: 'tagged', tagPrefixList: ['v'] } }, 'no lifecycle rule expires untagged images 1 day(s) after their push'],
  ['counts images instead of days', { ...untaggedRule, selection: { ...untaggedRule.selection, countType: 'imageCountMoreThan' } }, 'no lifecycle rule expires untagged images 1 day(s) after their push'],
  ['counts in another unit', { ...untaggedRule, selection: { ...untaggedRule.selection, countUnit: 'hours' } }, 'no lifecycle rule expires untagged images 1 day(s) after their push'],
  ['keeps images by age', { ...keepLastRule, selection: { ...keepLastRule.selection, countType: 'sinceImagePushed', countUnit: 'days' } }, `no lifecycle rule keeps only the last ${ECS_LAB.keepLastImages} images`],
])('a lifecycle rule that %s instead of the lab\'s fails the build step', async (_name, changed, message) => {
  const description = (changed as { description: string }).description;
  const rules = [untaggedRule, keepLastRule].map((rule) => (rule.description === description ? changed : rule));
  ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify({ rules }) });
  await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed(message));
});

test('a lifecycle rule without a selection is not one of the lab\'s, and does not hide them', async () => {
  ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: JSON.stringify({ rules: [{ rulePriority: 3, description: 'other' }, untaggedRule, keepLastRule] }) });
  await run('build');
  expect(lines).toContain('lifecycle policy: other; untagged images expire 1 day(s) after their push; keep the last 5 images');
});

describe('build against a repository or a scan ECR describes only in part', () => {
  test('no repository listed', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({});
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed("the repository's tags are undefined, not IMMUTABLE"));
  });

  test('no scanning configuration', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: 'IMMUTABLE' }] });
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed('the repository does not scan images on push'));
  });

  test('no encryption configuration', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: true } }] });
    await run('build');
    expect(lines[1]).toBe('repository images: tags IMMUTABLE, scan on push, encryption undefined');
  });

  test('a scan not there yet, or one without status and findings', async () => {
    ecr.on(DescribeImageScanFindingsCommand).rejects(named('ScanNotFoundException'));
    await run('build');
    ecr.on(DescribeImageScanFindingsCommand).resolves({});
    await run('build');
    expect(lines.filter((line) => line.startsWith('scan on push'))).toEqual([
      'scan on push: not available yet; findings by severity {}',
      'scan on push: not available yet; findings by severity {}',
    ]);
  });

  test('any other error of ECR fails the step', async () => {
    ecr.on(DescribeImageScanFindingsCommand).rejects(named('AccessDeniedException'));
    await expect(run('build')).rejects.toThrow('AccessDeniedException');
    ecr.on(DescribeImagesCommand).rejects(named('AccessDeniedException'));
    await expect(run('build')).rejects.toThrow('AccessDeniedException');
    expect(codebuild.commandCalls(StartBuildCommand)).toHaveLength(0);
  });

  test('an answer without image details is no image: the build runs, and pushed none', async () => {
    ecr.on(DescribeImagesCommand).resolves({});
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed(`the build succeeded but images has no image tagged ${ECS_LAB.imageTag}`));
  });

  test('a build CodeBuild does not describe is still running at the deadline', async () => {
    ecr.on(DescribeImagesCommand).rejects(named('ImageNotFoundException'));
    for (const answer of [{}, { builds: [] }]) {
      codebuild.on(BatchGetBuildsCommand).resolves(answer);
      await expect(run('build', baseOutputs, { buildDeadlineSeconds: 0 })).rejects.toThrow(
        new ExerciseCheckFailed('the build ended still running after 0 s: read its log group (BuildLogs)'),
      );
    }
  });
});

test('a lifecycle policy without its two rules, or a build that pushed no image, fails the step', async () => {
  const policy = (...rules: object[]) => ({ lifecyclePolicyText: JSON.stringify({ rules }) });
  ecr.on(GetLifecyclePolicyCommand).resolves(policy(keepLastRule));
  await expect(run('build')).rejects.toThrow('no lifecycle rule expires untagged images 1 day(s) after their push');
  // Two rules, but untagged images stay 30 days: a count of rules would pass it.
  ecr.on(GetLifecyclePolicyCommand).resolves(policy({ ...untaggedRule, selection: { ...untaggedRule.selection, countNumber: 30 } }, keepLastRule));
  await expect(run('build')).rejects.toThrow('no lifecycle rule expires untagged images 1 day(s) after their push');
  ecr.on(GetLifecyclePolicyCommand).resolves(policy(untaggedRule, { ...keepLastRule, selection: { ...keepLastRule.selection, tagStatus: 'tagged', tagPrefixList: ['v'] } }));
  await expect(run('build')).rejects.toThrow(`no lifecycle rule keeps only the last ${ECS_LAB.keepLastImages} images`);
  ecr.on(GetLifecyclePolicyCommand).resolves(policy(untaggedRule, { ...keepLastRule, selection: { ...keepLastRule.selection, countNumber: 50 } }));
  await expect(run('build')).rejects.toThrow(`no lifecycle rule keeps only the last ${ECS_LAB.keepLastImages} images`);
  ecr.on(GetLifecyclePolicyCommand).resolves(policy(untaggedRule, keepLastRule));
  ecr.on(DescribeImagesCommand).rejects(named('ImageNotFoundException'));
  await expect(run('build')).rejects.toThrow(`the build succeeded but images has no image tagged ${ECS_LAB.imageTag}`);
});

describe('roles', () => {
  test('the simulator confirms each role does its own job and not the other one', async () => {
    await run('roles');
    expect(iam.commandCalls(SimulatePrincipalPolicyCommand)).toHaveLength(6);
    expect(lines).toContain('task role: ssm:GetParameters on parameter/api-key → implicitDeny');
    expect(lines).toContain('execution role: ssm:GetParameters on parameter/api-key → allowed');
  });

  test('a task role that could read the key, or an execution role that could use the queue, fails the step', async () => {
    allowed.add(`task ssm:GetParameters ${baseOutputs.ApiKeyParameterArn}`);
    await expect(run('roles')).rejects.toThrow(/the task role should be implicitDeny ssm:GetParameters on .*api-key, the simulator says allowed/);
    allowed.delete(`task ssm:GetParameters ${baseOutputs.ApiKeyParameterArn}`);
    allowed.add(`execution sqs:SendMessage ${baseOutputs.JobsQueueArn}`);
    await expect(run('roles')).rejects.toThrow(/the execution role should be implicitDeny sqs:SendMessage/);
  });

  test('a writable root filesystem, a root user or a key in plain environment fails the step', async () => {
    const broken: [Partial<ContainerDefinition>, string][] = [
      [{ readonlyRootFilesystem: false }, 'the container can write to its root filesystem'],
      [{ user: '0' }, 'the container runs as root (user "0")'],
      [{ user: undefined }, 'the container runs as root (user "")'],
      [{ environment: [{ name: 'API_KEY', value: 'plain' }] }, 'API_KEY sits in plain environment variables'],
    ];
    for (const [change, message] of broken) {
      ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...taskDefinition, containerDefinitions: [{ ...container, ...change }] } });
      await expect(run('roles')).rejects.toThrow(message);
    }
  });
});

describe('run-task', () => {
  test('the job runs with overrides, exits 0, its items are in the queue; bad input exits 2', async () => {
    await run('run-task');
    const [good, bad] = ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input);
    expect(good.overrides?.containerOverrides?.[0]).toEqual({
      name: CONTAINER_NAME,
      command: ['node', 'src/batch.js'],
      environment: [
        { name: 'JOB_ID', value: RUN_ID },
        { name: 'BATCH_SIZE', value: String(ECS_LAB.batchSize) },
      ],
    });
    expect(good).toMatchObject({ cluster: 'cluster', taskDefinition: 'family', launchType: 'FARGATE', count: 1, startedBy: `ecs-lab-${RUN_ID}` });
    expect(good.networkConfiguration?.awsvpcConfiguration).toEqual({ subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' });
    expect(bad.overrides?.containerOverrides?.[0].environment).toContainEqual({ name: 'BATCH_SIZE', value: '0' });
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.Entries).toHaveLength(ECS_LAB.batchSize);
    expect(lines).toContain(`the jobs queue holds the ${ECS_LAB.batchSize} items of job ${RUN_ID}; deleted them`);
  });

  test('items that arrive over several receives are all counted, and reading stops once the job\'s are in', async () => {
    // A fourth message of the job (SQS delivers at least once) would come with a third receive.
    const arrivals = [2, 1, 1];
    sqs.on(ReceiveMessageCommand).callsFake(() => {
      const count = arrivals.shift() ?? 0;
      return { Messages: Array.from({ length: count }, (_, i) => ({ Body: JSON.stringify({ jobId: RUN_ID, item: i + 1 }), ReceiptHandle: `r${count}-${i}` })) };
    });
    await run('run-task', baseOutputs, { taskDeadlineSeconds: 1 });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(2);
    expect(lines).toContain(`the jobs queue holds the 3 items of job ${RUN_ID}; deleted them`);
  });

  test('with the service deployed, the queue is left to its tasks', async () => {
    await run('run-task', serviceOutputs);
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  test('a job that fails, items that never arrive, or bad input that is accepted each fail the step', async () => {
    exitCodes[String(ECS_LAB.batchSize)] = 3;
    await expect(run('run-task')).rejects.toThrow('the batch job exited with 3, not 0: read its log stream');
    exitCodes[String(ECS_LAB.batchSize)] = 0;
    queued = 1;
    await expect(run('run-task')).rejects.toThrow(`found 1 of the ${ECS_LAB.batchSize} items of job ${RUN_ID} in the jobs queue`);
    queued = ECS_LAB.batchSize;
    exitCodes['0'] = 0;
    await expect(run('run-task')).rejects.toThrow('the batch job with BATCH_SIZE=0 exited with 0, not 2 (bad input)');
  });

  test('a task that never stops fails the step instead of waiting forever', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ lastStatus: 'RUNNING' }] });
    await expect(run('run-task')).rejects.toThrow(`task task-${ECS_LAB.batchSize} did not stop within 0 s`);
  });
});

describe('service and blue-green', () => {
  test('both steps say how to deploy the service when it is not', async () => {
    await run('service');
    await run('blue-green');
    expect(lines.filter((l) => l.includes('-c ecs:service=true'))).toHaveLength(2);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  test('the service step refuses a rolling service or a circuit breaker that does not roll back', async () => {
    await run('service', serviceOutputs);
    ecs.on(DescribeServicesCommand).resolves({ services: [{ runningCount: 1, deploymentConfiguration: { strategy: 'ROLLING' } }] });
    await expect(run('service', serviceOutputs)).rejects.toThrow('the service deploys with ROLLING, not BLUE_GREEN');
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ runningCount: 1, deploymentConfiguration: { strategy: 'BLUE_GREEN', deploymentCircuitBreaker: { enable: true, rollback: false } } }],
    });
    await expect(run('service', serviceOutputs)).rejects.toThrow('the circuit breaker does not roll back');
  });

  test('a service without a lifecycle hook, or without a running task, fails the service step', async () => {
    const settings = { strategy: 'BLUE_GREEN' as const, deploymentCircuitBreaker: { enable: true, rollback: true } };
    ecs.on(DescribeServicesCommand).resolves({ services: [{ runningCount: 1, deploymentConfiguration: { ...settings, lifecycleHooks: [] } }] });
    await expect(run('service', serviceOutputs)).rejects.toThrow('the service has no lifecycle hook');
    ecs.on(DescribeServicesCommand).resolves({
      services: [{ runningCount: 0, desiredCount: 1, deploymentConfiguration: { ...settings, lifecycleHooks: [{ lifecycleStages: ['POST_SCALE_UP'] }] } }],
    });
    await expect(run('service', serviceOutputs)).rejects.toThrow('no task of the service is running');
  });

  test('a deployment that fails with the gate open, or leaves blue live, fails the step', async () => {
    ecs.on(UpdateServiceCommand).callsFake(() => {
      const target = `rev-${deployments.length + 2}`;
      deployments.unshift(deployment(target, 'ROLLBACK_SUCCESSFUL', 'circuit breaker'));
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow('with the gate open the deployment ended ROLLBACK_SUCCESSFUL: circuit breaker');
    deployments = [];
    ecs.on(UpdateServiceCommand).callsFake(() => {
      const target = `rev-${deployments.length + 2}`;
      deployments.unshift(deployment(target, gate === ECS_LAB.gateOpen ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL'));
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow('the live revision is rev-1, not the deployment\'s target rev-3');
  });

  test('gate closed: the deployment is rolled back and blue stays live; gate open: green goes live; the gate ends open', async () => {
    await run('blue-green', serviceOutputs);
    expect(deployments.map((d) => [d.targetServiceRevisionArn, d.status])).toEqual([
      ['rev-3', 'SUCCESSFUL'],
      ['rev-2', 'ROLLBACK_SUCCESSFUL'],
    ]);
    expect(live).toBe('rev-3');
    expect(ssm.commandCalls(PutParameterCommand).map((c) => [c.args[0].input.Name, c.args[0].input.Value])).toEqual([
      ['gate', ECS_LAB.gateClosed],
      ['gate', ECS_LAB.gateOpen],
      ['gate', ECS_LAB.gateOpen],
    ]);
    expect(lines).toContain('gate closed → deployment to rev-2 ended ROLLBACK_SUCCESSFUL: lifecycle hook returned FAILED');
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({ cluster: 'cluster', service: 'service', forceNewDeployment: true });
  });

  test('a deployment the closed gate did not stop fails the step, and the gate is opened again', async () => {
    gateRefusal = 'SUCCESSFUL';
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(
      'with the gate closed the deployment ended SUCCESSFUL, not ROLLBACK_SUCCESSFUL: the hook did not stop it',
    );
    expect(gate).toBe(ECS_LAB.gateOpen);
  });

  test('a rollback the hook did not cause (the circuit breaker after a bad image) fails the step', async () => {
    const circuitBreaker = 'circuit breaker: 3 tasks failed to start';
    const rolledBack = (hookStatus?: 'SUCCEEDED' | 'FAILED', reason = circuitBreaker) => ({
      serviceDeployments: [{ rollback: { reason }, lifecycleHookDetails: hookStatus ? [{ targetArn: HOOK_ARN, status: hookStatus }] : [] }],
    });
    ecs.on(DescribeServiceDeploymentsCommand).resolves(rolledBack('SUCCEEDED'));
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(`the rollback was not the hook's doing (hook hook: SUCCEEDED; reason "${circuitBreaker}")`);
    ecs.on(DescribeServiceDeploymentsCommand).resolves(rolledBack(undefined));
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(`the rollback was not the hook's doing (hook hook: no result listed; reason "${circuitBreaker}")`);
    // Another function's hook failing is not this one's verdict.
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [{ rollback: { reason: circuitBreaker }, lifecycleHookDetails: [{ targetArn: `${HOOK_ARN}-other`, status: 'FAILED' }] }],
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow("the rollback was not the hook's doing");
    // Where ECS no longer lists the hook's result, the recorded reason decides.
    ecs.on(DescribeServiceDeploymentsCommand).resolves(rolledBack(undefined, 'lifecycle hook hook returned FAILED at POST_SCALE_UP'));
    await run('blue-green', serviceOutputs);
  });

  test('a rollback that leaves another revision live, or a deployment that never ends, fails the step', async () => {
    ecs.on(UpdateServiceCommand).callsFakeOnce(() => {
      live = 'rev-2';
      deployments.unshift(deployment('rev-2', 'ROLLBACK_SUCCESSFUL'));
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow('after the rollback the live revision is rev-2, not the blue one rev-1');
    ecs.on(UpdateServiceCommand).resolves({});
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [{ status: 'IN_PROGRESS' }] });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow('the deployment did not end within 0 s');
  });
});

describe('load-balancer', () => {
  let server: Server;
  let url: string;
  /** What the app behind the listeners answers: status, release and the task that answered. */
  let answer: { status: number; release: string; task?: string };
  beforeAll(async () => {
    server = createServer((_request, response) => {
      response.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify({ release: answer.release, task: answer.task }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    answer = { status: 200, release: ECS_LAB.imageTag, task: 'task-blue' };
    ecs.on(ListTasksCommand, { cluster: 'cluster', serviceName: 'service', desiredStatus: 'RUNNING' }).resolves({ taskArns: ['task-blue'] });
  });
  const albOutputs = () => ({ ...serviceOutputs, ProductionUrl: url, TestUrl: url });

  test("both listeners are answered by a running task of the service", async () => {
    await run('load-balancer', albOutputs());
    expect(lines.slice(1)).toEqual([
      `production listener ${url}: HTTP 200, release ${ECS_LAB.imageTag}, task task-blue`,
      `test listener ${url}: HTTP 200, release ${ECS_LAB.imageTag}, task task-blue`,
      'between deployments both listeners forward to the primary (blue) target group; during one, ECS sends the test listener to green first',
    ]);
  });

  test('a listener without a healthy target, or answered by a task that is not the service\'s, fails the step', async () => {
    answer = { status: 503, release: '' };
    await expect(run('load-balancer', albOutputs())).rejects.toThrow('the production listener answered HTTP 503');
    // The right release from the wrong task (a stale target, another service): a release check would pass it.
    answer = { status: 200, release: ECS_LAB.imageTag, task: 'task-elsewhere' };
    await expect(run('load-balancer', albOutputs())).rejects.toThrow(
      'the production listener was answered by task task-elsewhere, not by a running task of service (task-blue)',
    );
    answer = { status: 200, release: ECS_LAB.imageTag };
    await expect(run('load-balancer', albOutputs())).rejects.toThrow('the production listener was answered by task unknown');
  });

  /**
   * Blue's task ran before any deployment; green's started with the deployment the gate let through, and task-now
   * the very moment that deployment (the second one, a minute after the first) was created.
   */
  const startedAt: Record<string, Date> = {
    'task-blue': new Date(Date.UTC(2025, 0, 1)),
    'task-green': new Date(Date.UTC(2026, 5, 1)),
    'task-now': new Date(Date.UTC(2026, 0, 1, 0, 1)),
  };
  const describeServedTask = () =>
    ecs.on(DescribeTasksCommand).callsFake(({ tasks: [taskArn] }) => ({ tasks: [{ taskArn, startedAt: startedAt[taskArn] }] }));

  test('blue-green with the load balancer: after the deployment, production is answered by a green task', async () => {
    describeServedTask();
    answer = { status: 200, release: ECS_LAB.imageTag, task: 'task-green' };
    await run('blue-green', albOutputs());
    expect(lines).toContain('production listener: answered by task-green, started 2026-06-01T00:00:00.000Z by this deployment (green)');
  });

  test('blue-green with the load balancer: production still answered by blue fails the step', async () => {
    describeServedTask();
    await expect(run('blue-green', albOutputs())).rejects.toThrow(
      'the production listener (HTTP 200) was answered by task task-blue, started 2025-01-01T00:00:00.000Z, not by a task of the deployment created',
    );
  });

  test('blue-green with the load balancer: a green task that started the moment the deployment was created is green', async () => {
    describeServedTask();
    answer = { status: 200, release: ECS_LAB.imageTag, task: 'task-now' };
    await run('blue-green', albOutputs());
    expect(lines).toContain('production listener: answered by task-now, started 2026-01-01T00:01:00.000Z by this deployment (green)');
  });

  test('blue-green with the load balancer: green answering with another status than 200 fails the step', async () => {
    describeServedTask();
    answer = { status: 203, release: ECS_LAB.imageTag, task: 'task-green' };
    await expect(run('blue-green', albOutputs())).rejects.toThrow(new ExerciseCheckFailed(
      'the production listener (HTTP 203) was answered by task task-green, started 2026-06-01T00:00:00.000Z, not by a task of the deployment created 2026-01-01T00:01:00.000Z: production does not reach green',
    ));
  });

  test('blue-green with the load balancer: a task ECS does not describe never started', async () => {
    answer = { status: 200, release: ECS_LAB.imageTag, task: 'task-gone' };
    for (const described of [{}, { tasks: [] }]) {
      ecs.on(DescribeTasksCommand).resolves(described);
      await expect(run('blue-green', albOutputs())).rejects.toThrow(new ExerciseCheckFailed(
        'the production listener (HTTP 200) was answered by task task-gone, started never, not by a task of the deployment created 2026-01-01T00:01:00.000Z: production does not reach green',
      ));
      deployments = [];
      live = 'rev-1';
    }
  });

  test('says how to deploy the load balancer when it is not', async () => {
    await run('load-balancer', serviceOutputs);
    expect(lines).toContain('the load balancer is not deployed: npx cdk deploy EcsLab -c ecs:alb=true');
  });
});

describe('the checks the tests above do not reach, one fact changed each', () => {
  test('build: a repository that does not scan on push', async () => {
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: 'IMMUTABLE', imageScanningConfiguration: { scanOnPush: false } }] });
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed('the repository does not scan images on push'));
  });

  test.each<[string, Partial<TaskDefinition>, string]>([
    ['no container of the ContainerName output', { containerDefinitions: [{ ...container, name: 'sidecar' }] }, 'the task definition has no container named by the ContainerName output'],
    ['x86_64', { runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' } }, 'the task definition is not arm64'],
    ['one role for both jobs', { executionRoleArn: taskDefinition.taskRoleArn }, 'the task role and the execution role are the same role'],
    ['no health check', { containerDefinitions: [{ ...container, healthCheck: undefined }] }, 'the container has no health check'],
    ['the key not injected from the parameter', { containerDefinitions: [{ ...container, secrets: [] }] }, 'API_KEY is not injected from a parameter (secrets[].valueFrom)'],
    ['no secrets at all', { containerDefinitions: [{ ...container, secrets: undefined }] }, 'API_KEY is not injected from a parameter (secrets[].valueFrom)'],
    ['only another secret injected', { containerDefinitions: [{ ...container, secrets: [{ name: 'OTHER', valueFrom: baseOutputs.GreetingParameterArn }] }] }, 'API_KEY is not injected from a parameter (secrets[].valueFrom)'],
    ['the key also in plain environment, after another variable', { containerDefinitions: [{ ...container, environment: [...container.environment!, { name: 'API_KEY', value: 'plain' }] }] }, 'API_KEY sits in plain environment variables'],
    ['a container run as user root', { containerDefinitions: [{ ...container, user: 'root' }] }, 'the container runs as root (user "root")'],
    ['no container definitions', { containerDefinitions: undefined }, 'the task definition has no container named by the ContainerName output'],
    ['no runtime platform', { runtimePlatform: undefined }, 'the task definition is not arm64'],
  ])('roles: a task definition with %s', async (_name, change, message) => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...taskDefinition, ...change } });
    await expect(run('roles')).rejects.toThrow(new ExerciseCheckFailed(message));
  });

  test('roles: no task definition of the family', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({});
    await expect(run('roles')).rejects.toThrow(new ExerciseCheckFailed('the task definition has no container named by the ContainerName output'));
  });

  test('roles: a simulator that answers no decision', async () => {
    iam.on(SimulatePrincipalPolicyCommand).resolves({ EvaluationResults: [] });
    await expect(run('roles')).rejects.toThrow(
      new ExerciseCheckFailed('the task role should be allowed sqs:SendMessage on arn:aws:sqs:us-east-1:1:jobs, the simulator says unknown'),
    );
    iam.on(SimulatePrincipalPolicyCommand).resolves({});
    await expect(run('roles')).rejects.toThrow(
      new ExerciseCheckFailed('the task role should be allowed sqs:SendMessage on arn:aws:sqs:us-east-1:1:jobs, the simulator says unknown'),
    );
  });

  test('run-task: RunTask that answers neither tasks nor failures', async () => {
    ecs.on(RunTaskCommand).resolves({});
    await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed('RunTask started no task: []'));
    ecs.on(RunTaskCommand).resolves({ tasks: [] });
    await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed('RunTask started no task: []'));
  });

  test('run-task: a task ECS no longer describes never counts as stopped', async () => {
    for (const answer of [{}, { tasks: [] }]) {
      ecs.on(DescribeTasksCommand).resolves(answer);
      await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed(`task task-${ECS_LAB.batchSize} did not stop within 0 s`));
    }
  });

  test('run-task: a stopped task without its container\'s exit code', async () => {
    for (const containers of [undefined, []]) {
      ecs.on(DescribeTasksCommand).callsFake(({ tasks: [taskArn] }) => ({ tasks: [{ taskArn, lastStatus: 'STOPPED', containers }] }));
      await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed('the batch job exited with undefined, not 0: read its log stream'));
    }
  });

  test('run-task: no item of the job in the queue, only another job\'s', async () => {
    queued = 0;
    await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed(`found 0 of the ${ECS_LAB.batchSize} items of job ${RUN_ID} in the jobs queue`));
    expect(sqs.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  });

  test('service: DescribeServices that answers no list', async () => {
    ecs.on(DescribeServicesCommand).resolves({});
    await expect(run('service', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('the service does not exist'));
  });

  test('service: a service without deployment configuration, or with a circuit breaker that is off', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ runningCount: 1 }] });
    await expect(run('service', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('the service deploys with ROLLING, not BLUE_GREEN'));
    for (const deploymentCircuitBreaker of [undefined, { enable: false, rollback: true }]) {
      ecs.on(DescribeServicesCommand).resolves({ services: [{ runningCount: 1, deploymentConfiguration: { strategy: 'BLUE_GREEN', deploymentCircuitBreaker } }] });
      await expect(run('service', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('the circuit breaker does not roll back'));
    }
  });

  test('service: every hook is printed with its stages', async () => {
    const hook = (name: string, lifecycleStages: DeploymentLifecycleHookStage[]) => ({ hookTargetArn: `arn:aws:lambda:us-east-1:1:function:${name}`, lifecycleStages });
    ecs.on(DescribeServicesCommand).resolves({
      services: [{
        serviceName: 'service', runningCount: 2, desiredCount: 2, currentServiceRevisions: [{ arn: 'rev-1' }],
        deploymentConfiguration: {
          strategy: 'BLUE_GREEN', bakeTimeInMinutes: 5, deploymentCircuitBreaker: { enable: true, rollback: true },
          lifecycleHooks: [hook('hook', ['POST_SCALE_UP', 'POST_TEST_TRAFFIC_SHIFT']), hook('audit', ['POST_PRODUCTION_TRAFFIC_SHIFT'])],
        },
      }],
    });
    await run('service', serviceOutputs);
    expect(lines.slice(1)).toEqual([
      'service: 2/2 tasks running, strategy BLUE_GREEN, bake 5 min',
      'hooks: hook at POST_SCALE_UP, POST_TEST_TRAFFIC_SHIFT; audit at POST_PRODUCTION_TRAFFIC_SHIFT',
      'circuit breaker: rollback on; live revision rev-1',
    ]);
  });

  test.each(['STOPPED', 'ROLLBACK_FAILED'] as const)('blue-green: a deployment that ends %s with the gate closed has ended, and fails the step', async (status) => {
    gateRefusal = status;
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(
      new ExerciseCheckFailed(`with the gate closed the deployment ended ${status}, not ROLLBACK_SUCCESSFUL: the hook did not stop it`),
    );
  });

  test('blue-green: a deployment that fails with the gate open and gives no reason', async () => {
    ecs.on(UpdateServiceCommand).callsFake(() => {
      deployments.unshift(deployment(`rev-${deployments.length + 2}`, gate === ECS_LAB.gateOpen ? 'ROLLBACK_FAILED' : 'ROLLBACK_SUCCESSFUL'));
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('with the gate open the deployment ended ROLLBACK_FAILED: '));
  });

  test('blue-green: the revision live after the deployment must be its target and not blue', async () => {
    // A deployment whose target is the blue revision itself: green never went live.
    ecs.on(UpdateServiceCommand).callsFake(() => {
      const open = gate === ECS_LAB.gateOpen;
      deployments.unshift({ ...deployment(open ? 'rev-1' : 'rev-2', open ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL'), serviceDeploymentArn: `deployment-${deployments.length}` });
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed("the live revision is rev-1, not the deployment's target rev-1"));
    // Another deployment went live in the meantime: neither blue nor this one's target.
    deployments = [];
    ecs.on(UpdateServiceCommand).callsFake(() => {
      const open = gate === ECS_LAB.gateOpen;
      if (open) live = 'rev-9';
      deployments.unshift(deployment(`rev-${deployments.length + 2}`, open ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL'));
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed("the live revision is rev-9, not the deployment's target rev-3"));
  });

  test('blue-green: the hook\'s verdict is read from whatever details ECS still lists', async () => {
    const reason = 'lifecycle hook hook returned FAILED at POST_SCALE_UP';
    // No details at all: the reason recorded on the deployment decides.
    ecs.on(UpdateServiceCommand).callsFake(() => {
      const open = gate === ECS_LAB.gateOpen;
      if (open) live = `rev-${deployments.length + 2}`;
      deployments.unshift(deployment(`rev-${deployments.length + 2}`, open ? 'SUCCESSFUL' : 'ROLLBACK_SUCCESSFUL', open ? undefined : reason));
      return {};
    });
    ecs.on(DescribeServiceDeploymentsCommand).resolves({});
    await run('blue-green', serviceOutputs);
    expect(lines).toContain(`gate closed → deployment to rev-2 ended ROLLBACK_SUCCESSFUL: ${reason}`);
    for (const details of [
      { lifecycleHookDetails: [{ status: 'FAILED' as const }, { targetArn: HOOK_ARN, status: 'FAILED' as const }] },
      { rollback: { reason } },
    ]) {
      deployments = [];
      live = 'rev-1';
      ecs.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [details] });
      await run('blue-green', serviceOutputs);
    }
  });

  test('blue-green: a gate that cannot be opened again when the run ends is reported by its name', async () => {
    ssm.on(PutParameterCommand).callsFake(({ Value }) => {
      if (ssm.commandCalls(PutParameterCommand).length === 3) throw new Error('AccessDenied');
      gate = Value;
      return {};
    });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow('the deploy gate: AccessDenied');
  });

  test('run-task: RunTask that starts no task', async () => {
    ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [{ reason: 'RESOURCE:MEMORY' }] });
    await expect(run('run-task')).rejects.toThrow(new ExerciseCheckFailed('RunTask started no task: [{"reason":"RESOURCE:MEMORY"}]'));
  });

  test('service: a service that does not exist', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: 'MISSING' }] });
    await expect(run('service', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('the service does not exist'));
  });

  test('blue-green: a service with no live revision yet', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ runningCount: 0, currentServiceRevisions: [] }] });
    await expect(run('blue-green', serviceOutputs)).rejects.toThrow(new ExerciseCheckFailed('the service has no live revision yet: wait for its first deployment to finish'));
  });
});
