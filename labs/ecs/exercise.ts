import { BatchGetBuildsCommand, CodeBuildClient, StartBuildCommand } from '@aws-sdk/client-codebuild';
import {
  DescribeImageScanFindingsCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetLifecyclePolicyCommand,
  ImageDetail,
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
  Service,
  ServiceDeploymentBrief,
  Task,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { DeleteMessageBatchCommand, Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { ECS_LAB } from './constants';

export const timing = defineTiming(ECS_LAB.exerciseTiming);

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Calls `probe` every `pollSeconds` until it returns a value or `deadlineSeconds` pass; undefined when time ran out. */
async function pollUntil<T>(probe: () => Promise<T | undefined>, pollSeconds: number, deadlineSeconds: number): Promise<T | undefined> {
  const deadline = Date.now() + deadlineSeconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(pollSeconds);
  }
}

const ecr = (context: ExerciseContext) => context.client(ECRClient, 'ECR');
const ecsOf = (context: ExerciseContext) => context.client(ECSClient, 'ECS');

async function findImage(context: ExerciseContext, repositoryName: string, imageTag: string): Promise<ImageDetail | undefined> {
  try {
    const { imageDetails } = await ecr(context).send(new DescribeImagesCommand({ repositoryName, imageIds: [{ imageTag }] }));
    return imageDetails?.[0];
  } catch (error) {
    if ((error as Error).name === 'ImageNotFoundException') return undefined;
    throw error;
  }
}

/** A rule of an ECR lifecycle policy, as GetLifecyclePolicy returns its JSON text. */
interface LifecycleRule {
  readonly description?: string;
  readonly selection?: { tagStatus?: string; countType?: string; countUnit?: string; countNumber?: number };
}

async function buildImage(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const repositoryName = requireOutput(outputs, 'RepositoryName');
  const imageTag = requireOutput(outputs, 'ImageTag');
  const { repositories } = await ecr(context).send(new DescribeRepositoriesCommand({ repositoryNames: [repositoryName] }));
  const repository = repositories?.[0];
  check(repository?.imageTagMutability === 'IMMUTABLE', `the repository's tags are ${repository?.imageTagMutability}, not IMMUTABLE`);
  check(repository?.imageScanningConfiguration?.scanOnPush === true, 'the repository does not scan images on push');
  log(`repository ${repositoryName}: tags IMMUTABLE, scan on push, encryption ${repository?.encryptionConfiguration?.encryptionType}`);
  const { lifecyclePolicyText } = await ecr(context).send(new GetLifecyclePolicyCommand({ repositoryName }));
  const rules = (JSON.parse(lifecyclePolicyText ?? '{}') as { rules?: LifecycleRule[] }).rules ?? [];
  const expiresUntagged = rules.some(
    ({ selection: s }) =>
      s?.tagStatus === 'untagged' && s.countType === 'sinceImagePushed' && s.countUnit === 'days' && s.countNumber === ECS_LAB.untaggedExpiryDays,
  );
  const keepsLast = rules.some(
    ({ selection: s }) => s?.tagStatus === 'any' && s.countType === 'imageCountMoreThan' && s.countNumber === ECS_LAB.keepLastImages,
  );
  check(expiresUntagged, `no lifecycle rule expires untagged images ${ECS_LAB.untaggedExpiryDays} day(s) after their push`);
  check(keepsLast, `no lifecycle rule keeps only the last ${ECS_LAB.keepLastImages} images`);
  log(`lifecycle policy: ${rules.map((rule) => rule.description).join('; ')}`);

  let image = await findImage(context, repositoryName, imageTag);
  if (image) {
    log(`${repositoryName}:${imageTag} was pushed before (${image.imageDigest}); tags are immutable, so it is not rebuilt`);
  } else {
    const projectName = requireOutput(outputs, 'BuildProjectName');
    const { build } = await context.client(CodeBuildClient, 'CODEBUILD').send(new StartBuildCommand({ projectName }));
    log(`started CodeBuild build ${build?.id}: docker build on an arm64 host, then docker push ${imageTag}`);
    const { buildDeadlineSeconds, buildPollSeconds } = await context.use(timing);
    const status = await pollUntil(
      async () => {
        const { builds } = await context.client(CodeBuildClient, 'CODEBUILD').send(new BatchGetBuildsCommand({ ids: [build?.id ?? ''] }));
        const current = builds?.[0]?.buildStatus;
        return current && current !== 'IN_PROGRESS' ? current : undefined;
      },
      buildPollSeconds,
      buildDeadlineSeconds,
    );
    check(status === 'SUCCEEDED', `the build ended ${status ?? `still running after ${buildDeadlineSeconds} s`}: read its log group (BuildLogs)`);
    image = await findImage(context, repositoryName, imageTag);
    check(image !== undefined, `the build succeeded but ${repositoryName} has no image tagged ${imageTag}`);
    log(`pushed ${imageTag} as ${image.imageDigest}`);
  }
  const scan = await ecr(context).send(
    new DescribeImageScanFindingsCommand({ repositoryName, imageId: { imageDigest: image.imageDigest } }),
  ).catch((error: Error) => {
    // A scan takes a minute or two after the push; until then ECR answers ScanNotFoundException.
    if (error.name === 'ScanNotFoundException') return undefined;
    throw error;
  });
  const counts = scan?.imageScanFindings?.findingSeverityCounts ?? {};
  log(`scan on push: ${scan?.imageScanStatus?.status ?? 'not available yet'}; findings by severity ${JSON.stringify(counts)}`);
}

/** What one role may do with one resource, as IAM's policy simulator decides it. */
async function decision(context: ExerciseContext, roleArn: string, action: string, resource: string): Promise<string> {
  const { EvaluationResults } = await context
    .client(IAMClient, 'IAM')
    .send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: roleArn, ActionNames: [action], ResourceArns: [resource] }));
  return EvaluationResults?.[0]?.EvalDecision ?? 'unknown';
}

async function twoRoles(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { taskDefinition } = await ecsOf(context).send(
    new DescribeTaskDefinitionCommand({ taskDefinition: requireOutput(outputs, 'TaskDefinitionFamily') }),
  );
  const container = taskDefinition?.containerDefinitions?.find((c) => c.name === requireOutput(outputs, 'ContainerName'));
  check(container !== undefined, 'the task definition has no container named by the ContainerName output');
  log(`${taskDefinition?.family}:${taskDefinition?.revision}: ${taskDefinition?.cpu} CPU units, ${taskDefinition?.memory} MiB, ${taskDefinition?.runtimePlatform?.cpuArchitecture}`);
  check(taskDefinition?.runtimePlatform?.cpuArchitecture === 'ARM64', 'the task definition is not arm64');
  check(taskDefinition?.taskRoleArn !== taskDefinition?.executionRoleArn, 'the task role and the execution role are the same role');
  check(container.readonlyRootFilesystem === true, 'the container can write to its root filesystem');
  check(!['', 'root', '0'].includes((container.user ?? '').split(':')[0]), `the container runs as root (user "${container.user ?? ''}")`);
  check(container.healthCheck?.command !== undefined, 'the container has no health check');
  const secret = container.secrets?.find((s) => s.name === 'API_KEY');
  check(secret?.valueFrom !== undefined, 'API_KEY is not injected from a parameter (secrets[].valueFrom)');
  check(!(container.environment ?? []).some((e) => e.name === 'API_KEY'), 'API_KEY sits in plain environment variables');
  log(`container "${container.name}": user ${container.user}, read-only root filesystem, health check ${container.healthCheck?.command?.join(' ')}`);
  log(`API_KEY comes from ${secret.valueFrom}: the agent reads it with the execution role before the app starts`);

  const taskRole = requireOutput(outputs, 'TaskRoleArn');
  const executionRole = requireOutput(outputs, 'ExecutionRoleArn');
  const queue = requireOutput(outputs, 'JobsQueueArn');
  const apiKey = requireOutput(outputs, 'ApiKeyParameterArn');
  const greeting = requireOutput(outputs, 'GreetingParameterArn');
  const expectations: [string, string, string, string, 'allowed' | 'implicitDeny'][] = [
    ['task role', taskRole, 'sqs:SendMessage', queue, 'allowed'],
    ['task role', taskRole, 'ssm:GetParameter', greeting, 'allowed'],
    ['task role', taskRole, 'ssm:GetParameters', apiKey, 'implicitDeny'],
    ['execution role', executionRole, 'ssm:GetParameters', apiKey, 'allowed'],
    ['execution role', executionRole, 'sqs:SendMessage', queue, 'implicitDeny'],
    ['execution role', executionRole, 'ssm:GetParameter', greeting, 'implicitDeny'],
  ];
  for (const [name, role, action, resource, expected] of expectations) {
    const actual = await decision(context, role, action, resource);
    log(`${name}: ${action} on ${resource.split(':').pop()} → ${actual}`);
    check(actual === expected, `the ${name} should be ${expected} ${action} on ${resource}, the simulator says ${actual}`);
  }
  log('the app reads the greeting and uses the queue with the task role; only the agent, with the execution role, reads the key');
}

/** Starts the batch job as a one-off task and waits for it to stop. */
async function runBatch(context: ExerciseContext, environment: Record<string, string>): Promise<Task> {
  const { outputs } = context;
  const cluster = requireOutput(outputs, 'ClusterName');
  const { tasks, failures } = await ecsOf(context).send(
    new RunTaskCommand({
      cluster,
      taskDefinition: requireOutput(outputs, 'TaskDefinitionFamily'),
      launchType: 'FARGATE',
      count: 1,
      startedBy: `ecs-lab-${context.runId}`,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: requireOutput(outputs, 'SubnetIds').split(','),
          securityGroups: [requireOutput(outputs, 'TaskSecurityGroupId')],
          assignPublicIp: 'ENABLED',
        },
      },
      overrides: {
        containerOverrides: [
          {
            name: requireOutput(outputs, 'ContainerName'),
            command: ['node', 'src/batch.js'],
            environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
          },
        ],
      },
    }),
  );
  const taskArn = tasks?.[0]?.taskArn;
  check(taskArn !== undefined, `RunTask started no task: ${JSON.stringify(failures ?? [])}`);
  const { taskDeadlineSeconds, taskPollSeconds } = await context.use(timing);
  const stopped = await pollUntil(
    async () => {
      const { tasks: described } = await ecsOf(context).send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
      return described?.[0]?.lastStatus === 'STOPPED' ? described[0] : undefined;
    },
    taskPollSeconds,
    taskDeadlineSeconds,
  );
  check(stopped !== undefined, `task ${taskArn} did not stop within ${taskDeadlineSeconds} s`);
  return stopped;
}

const exitCodeOf = (task: Task) => task.containers?.[0]?.exitCode;

async function receiveJobItems(context: ExerciseContext, queueUrl: string, jobId: string, expected: number): Promise<number> {
  const sqs = context.client(SQSClient, 'SQS');
  const { taskDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + taskDeadlineSeconds * 1000;
  let received = 0;
  do {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5 }));
    const ours = Messages.filter((m: Message) => (JSON.parse(m.Body ?? '{}') as { jobId?: string }).jobId === jobId);
    received += ours.length;
    if (ours.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: ours.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) }));
    }
  } while (received < expected && Date.now() < deadline);
  return received;
}

async function oneOffTask(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const jobId = context.runId;
  const task = await runBatch(context, { JOB_ID: jobId, BATCH_SIZE: String(ECS_LAB.batchSize) });
  log(`RunTask with overrides command=node src/batch.js, JOB_ID=${jobId}, BATCH_SIZE=${ECS_LAB.batchSize}: stopped (${task.stoppedReason})`);
  check(exitCodeOf(task) === ECS_LAB.batchExitCodes.ok, `the batch job exited with ${exitCodeOf(task)}, not ${ECS_LAB.batchExitCodes.ok}: read its log stream`);
  log(`exit code ${exitCodeOf(task)}: the job sent its items with the task role`);

  if (outputs.ServiceName) {
    log(`the service's tasks drain ${requireOutput(outputs, 'JobsQueueUrl')}: their log stream shows "processed" for job ${jobId}`);
  } else {
    const received = await receiveJobItems(context, requireOutput(outputs, 'JobsQueueUrl'), jobId, ECS_LAB.batchSize);
    check(received === ECS_LAB.batchSize, `found ${received} of the ${ECS_LAB.batchSize} items of job ${jobId} in the jobs queue`);
    log(`the jobs queue holds the ${received} items of job ${jobId}; deleted them`);
  }

  const bad = await runBatch(context, { JOB_ID: jobId, BATCH_SIZE: '0' });
  check(
    exitCodeOf(bad) === ECS_LAB.batchExitCodes.badInput,
    `the batch job with BATCH_SIZE=0 exited with ${exitCodeOf(bad)}, not ${ECS_LAB.batchExitCodes.badInput} (bad input)`,
  );
  log(`BATCH_SIZE=0: exit code ${exitCodeOf(bad)} (bad input, nothing sent); ECS reports "${bad.stoppedReason}": the exit code is the job's verdict`);
}

async function describeService(context: ExerciseContext): Promise<Service> {
  const { services } = await ecsOf(context).send(
    new DescribeServicesCommand({ cluster: requireOutput(context.outputs, 'ClusterName'), services: [requireOutput(context.outputs, 'ServiceName')] }),
  );
  const service = services?.[0];
  check(service !== undefined, 'the service does not exist');
  return service;
}

const liveRevision = (service: Service) => service.currentServiceRevisions?.[0]?.arn;

async function serviceSettings(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.ServiceName) {
    log('the service is not deployed: run the build step, then npx cdk deploy EcsLab -c ecs:service=true');
    return;
  }
  const service = await describeService(context);
  const config = service.deploymentConfiguration;
  check(config?.strategy === 'BLUE_GREEN', `the service deploys with ${config?.strategy ?? 'ROLLING'}, not BLUE_GREEN`);
  check(config?.deploymentCircuitBreaker?.enable === true && config.deploymentCircuitBreaker.rollback === true, 'the circuit breaker does not roll back');
  check((config?.lifecycleHooks ?? []).length > 0, 'the service has no lifecycle hook');
  log(`${service.serviceName}: ${service.runningCount}/${service.desiredCount} tasks running, strategy BLUE_GREEN, bake ${config?.bakeTimeInMinutes} min`);
  log(`hooks: ${(config?.lifecycleHooks ?? []).map((h) => `${h.hookTargetArn?.split(':').pop()} at ${h.lifecycleStages?.join(', ')}`).join('; ')}`);
  log(`circuit breaker: rollback on; live revision ${liveRevision(service)}`);
  check((service.runningCount ?? 0) >= 1, 'no task of the service is running');
}

/** The deploy gate, opened again when the run ends whatever happened, so the next deployment is not rolled back. */
const gateFixture = defineFixture(
  'the deploy gate',
  (context) => requireOutput(context.outputs, 'GateParameterName'),
  async (name, context) => {
    await context.client(SSMClient, 'SSM').send(new PutParameterCommand({ Name: name, Value: ECS_LAB.gateOpen, Overwrite: true }));
  },
);

/** Forces a new deployment and waits for it to end; returns the deployment as ECS recorded it. */
async function deployAndWait(context: ExerciseContext, gate: string): Promise<ServiceDeploymentBrief> {
  const { outputs } = context;
  const cluster = requireOutput(outputs, 'ClusterName');
  const serviceName = requireOutput(outputs, 'ServiceName');
  await context.client(SSMClient, 'SSM').send(new PutParameterCommand({ Name: await context.use(gateFixture), Value: gate, Overwrite: true }));
  const startedAt = new Date(Date.now() - 1000);
  await ecsOf(context).send(new UpdateServiceCommand({ cluster, service: serviceName, forceNewDeployment: true }));
  const { deploymentDeadlineSeconds, deploymentPollSeconds } = await context.use(timing);
  const ended = await pollUntil(
    async () => {
      const { serviceDeployments } = await ecsOf(context).send(
        new ListServiceDeploymentsCommand({ cluster, service: serviceName, createdAt: { after: startedAt } }),
      );
      // The deployment this call started: the newest one created since (a rollback is a status of it, not another).
      const latest = [...(serviceDeployments ?? [])].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
      return latest && TERMINAL.has(latest.status ?? '') ? latest : undefined;
    },
    deploymentPollSeconds,
    deploymentDeadlineSeconds,
  );
  check(ended !== undefined, `the deployment did not end within ${deploymentDeadlineSeconds} s`);
  return ended;
}

const TERMINAL = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);

async function blueGreen(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.ServiceName) {
    log('the service is not deployed: npx cdk deploy EcsLab -c ecs:service=true');
    return;
  }
  const blue = liveRevision(await describeService(context));
  check(blue !== undefined, 'the service has no live revision yet: wait for its first deployment to finish');
  log(`live (blue) revision: ${blue}`);

  const refused = await deployAndWait(context, ECS_LAB.gateClosed);
  const { serviceDeployments } = await ecsOf(context).send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [refused.serviceDeploymentArn ?? ''] }),
  );
  const details = serviceDeployments?.[0];
  const reason = details?.rollback?.reason ?? refused.statusReason ?? '';
  log(`gate closed → deployment to ${refused.targetServiceRevisionArn} ended ${refused.status}: ${reason}`);
  check(refused.status === 'ROLLBACK_SUCCESSFUL', `with the gate closed the deployment ended ${refused.status}, not ROLLBACK_SUCCESSFUL: the hook did not stop it`);
  // A rollback alone proves nothing: a bad image rolls back too (the circuit breaker). The hook's own result does,
  // or, where ECS no longer lists it, the reason it recorded for the rollback.
  const hookName = requireOutput(outputs, 'HookFunctionName');
  const hook = details?.lifecycleHookDetails?.find((detail) => detail.targetArn?.split(':')[6] === hookName);
  const stoppedByHook = hook ? hook.status === 'FAILED' : /lifecycle hook/i.test(reason);
  check(
    stoppedByHook,
    `the rollback was not the hook's doing (hook ${hookName}: ${hook?.status ?? 'no result listed'}; reason "${reason}"): read the deployment with DescribeServiceDeployments`,
  );
  const afterRollback = liveRevision(await describeService(context));
  check(afterRollback === blue, `after the rollback the live revision is ${afterRollback}, not the blue one ${blue}`);
  log('the hook answered FAILED at POST_SCALE_UP: ECS stopped the green tasks and blue kept serving');

  const accepted = await deployAndWait(context, ECS_LAB.gateOpen);
  check(accepted.status === 'SUCCESSFUL', `with the gate open the deployment ended ${accepted.status}: ${accepted.statusReason ?? ''}`);
  const green = liveRevision(await describeService(context));
  check(green === accepted.targetServiceRevisionArn && green !== blue, `the live revision is ${green}, not the deployment's target ${accepted.targetServiceRevisionArn}`);
  log(`gate open → SUCCESSFUL: green ${green} is live; blue was stopped after the ${ECS_LAB.service.bakeTimeMinutes}-minute bake time`);

  if (outputs.ProductionUrl) {
    // Same image, same release: only the task that answers tells green from blue. Green's tasks started with this
    // deployment; blue's were running before it.
    const page = await pageOf(outputs.ProductionUrl);
    const { tasks } = page.task
      ? await ecsOf(context).send(new DescribeTasksCommand({ cluster: requireOutput(outputs, 'ClusterName'), tasks: [page.task] }))
      : { tasks: [] };
    const startedAt = tasks?.[0]?.startedAt;
    const deployedAt = accepted.createdAt;
    check(
      page.status === 200 && startedAt !== undefined && deployedAt !== undefined && startedAt >= deployedAt,
      `the production listener (HTTP ${page.status}) was answered by task ${page.task ?? 'unknown'}, started ${startedAt?.toISOString() ?? 'never'}, ` +
        `not by a task of the deployment created ${deployedAt?.toISOString()}: production does not reach green`,
    );
    log(`production listener: answered by ${page.task}, started ${startedAt.toISOString()} by this deployment (green)`);
  }
}

/** What the app answers on GET / through one listener: its release and the ARN of the task that answered. */
async function pageOf(url: string): Promise<{ status: number; release?: string; task?: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = response.ok ? ((await response.json()) as { release?: string; task?: string }) : {};
  return { status: response.status, release: body.release, task: body.task };
}

async function loadBalancer(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.ProductionUrl) {
    log('the load balancer is not deployed: npx cdk deploy EcsLab -c ecs:alb=true');
    return;
  }
  const serviceName = requireOutput(outputs, 'ServiceName');
  // Every task of the task definition reports the same release: the task ARN is what shows who answered.
  const { taskArns = [] } = await ecsOf(context).send(
    new ListTasksCommand({ cluster: requireOutput(outputs, 'ClusterName'), serviceName, desiredStatus: 'RUNNING' }),
  );
  for (const [listener, url] of [['production', outputs.ProductionUrl], ['test', requireOutput(outputs, 'TestUrl')]]) {
    const page = await pageOf(url);
    log(`${listener} listener ${url}: HTTP ${page.status}, release ${page.release}, task ${page.task}`);
    check(page.status === 200, `the ${listener} listener answered HTTP ${page.status}: is a task of the service healthy in the primary target group?`);
    check(
      page.task !== undefined && taskArns.includes(page.task),
      `the ${listener} listener was answered by task ${page.task ?? 'unknown'}, not by a running task of ${serviceName} (${taskArns.join(', ') || 'none'})`,
    );
  }
  log('between deployments both listeners forward to the primary (blue) target group; during one, ECS sends the test listener to green first');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'build', title: 'build the image in CodeBuild, push it to the immutable, scanned ECR repository', run: buildImage },
  { id: 'roles', title: 'the task definition: task role vs execution role, read-only root, non-root user, injected secret', run: twoRoles },
  { id: 'run-task', title: 'a one-off batch job with RunTask overrides, judged by its exit code', run: oneOffTask },
  { id: 'service', title: 'the service: BLUE_GREEN strategy, lifecycle hook, circuit breaker with rollback', run: serviceSettings },
  { id: 'load-balancer', title: 'the production and test listeners of the ALB answer from the service', run: loadBalancer },
  { id: 'blue-green', title: 'a deployment the hook refuses rolls back; one it lets through goes live', run: blueGreen },
];
