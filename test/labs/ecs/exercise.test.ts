import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
} from '@aws-sdk/client-ecr';
import {
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
const fast = provide(timing, {
  ...ECS_LAB.exerciseTiming,
  buildPollSeconds: 0,
  taskPollSeconds: 0,
  deploymentPollSeconds: 0,
  // Long enough for the build's second poll; the others end at their first probe, as the mocks answer at once.
  buildDeadlineSeconds: 1,
  taskDeadlineSeconds: 0,
  deploymentDeadlineSeconds: 0,
});
const lines: string[] = [];
const run = (id: string, outputs: Record<string, string> = baseOutputs) =>
  runExercise(steps.filter((s) => s.id === id), { outputs, log: (l) => lines.push(l), runId: RUN_ID, provide: [fast] });
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
let gateRefusal: 'ROLLBACK_SUCCESSFUL' | 'SUCCESSFUL';

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
  sqs.on(DeleteMessageBatchCommand).resolves({});

  ssm.on(PutParameterCommand).callsFake(({ Value }) => {
    gate = Value;
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
  ecs.on(DescribeServiceDeploymentsCommand).resolves({
    serviceDeployments: [{ rollback: { reason: 'lifecycle hook returned FAILED' }, lifecycleHookDetails: [{ targetArn: HOOK_ARN, status: 'FAILED' }] }],
  });
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
    expect(lines).toContain(`pushed ${ECS_LAB.imageTag} as sha256:new`);
  });

  test('a failed build, or a repository whose tags can be overwritten, fails the step', async () => {
    ecr.on(DescribeImagesCommand).rejects(named('ImageNotFoundException'));
    codebuild.on(BatchGetBuildsCommand).resolves({ builds: [{ buildStatus: 'FAILED' }] });
    await expect(run('build')).rejects.toThrow(new ExerciseCheckFailed('the build ended FAILED: read its log group (BuildLogs)'));
    ecr.on(DescribeRepositoriesCommand).resolves({ repositories: [{ imageTagMutability: 'MUTABLE', imageScanningConfiguration: { scanOnPush: true } }] });
    await expect(run('build')).rejects.toThrow("the repository's tags are MUTABLE, not IMMUTABLE");
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
    expect(good.networkConfiguration?.awsvpcConfiguration).toEqual({ subnets: ['subnet-a', 'subnet-b'], securityGroups: ['sg-1'], assignPublicIp: 'ENABLED' });
    expect(bad.overrides?.containerOverrides?.[0].environment).toContainEqual({ name: 'BATCH_SIZE', value: '0' });
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.Entries).toHaveLength(ECS_LAB.batchSize);
    expect(lines).toContain(`the jobs queue holds the ${ECS_LAB.batchSize} items of job ${RUN_ID}; deleted them`);
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
    expect(ssm.commandCalls(PutParameterCommand).map((c) => c.args[0].input.Value)).toEqual([ECS_LAB.gateClosed, ECS_LAB.gateOpen, ECS_LAB.gateOpen]);
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
    expect(lines).toContain(`production listener ${url}: HTTP 200, release ${ECS_LAB.imageTag}, task task-blue`);
    expect(lines).toContain(`test listener ${url}: HTTP 200, release ${ECS_LAB.imageTag}, task task-blue`);
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

  /** Blue's task ran before any deployment; green's started with the deployment the gate let through. */
  const startedAt: Record<string, Date> = { 'task-blue': new Date(Date.UTC(2025, 0, 1)), 'task-green': new Date(Date.UTC(2026, 5, 1)) };
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
  ])('roles: a task definition with %s', async (_name, change, message) => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: { ...taskDefinition, ...change } });
    await expect(run('roles')).rejects.toThrow(new ExerciseCheckFailed(message));
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
