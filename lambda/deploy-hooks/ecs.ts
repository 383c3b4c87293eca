import {
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeTaskSetsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { codedeploy, InvalidHookConfig, logger, runHook, type HookResult } from './lifecycle';

/**
 * CodeDeploy lifecycle hook for ECS blue/green deployments, run at `AfterAllowTestTraffic`: the ALB's test listener
 * already forwards to the replacement (green) task set, production traffic still goes to the original (blue) one.
 *
 * The hook checks that the deployment belongs to the application and deployment group it was configured for
 * (GetDeployment), then sends REQUESTS sequential GETs to TEST_URL through the test listener and requires every answer
 * to be 2xx. With EXPECT_TASK_DEFINITION=true it also learns the green task set's task definition (deployment target →
 * Green task set → DescribeTaskSets) and requires every answer's body to name it as `<family>:<revision>`: a healthy
 * answer from the old blue tasks would otherwise let a deployment pass that never reached the new code.
 *
 * It reports `Succeeded` or `Failed` with PutLifecycleEventHookExecutionStatus (`lifecycle.ts`, shared with the Lambda
 * hook). A check that throws is a `Failed`, never an unhandled rejection: CodeDeploy would otherwise wait for the
 * hook's one-hour timeout before failing the deployment (and rolling traffic back to blue).
 */

let ecsClient: ECSClient | undefined;
const ecs = () => (ecsClient ??= new ECSClient({}));

export interface EcsHookConfig {
  readonly hook: 'AfterAllowTestTraffic';
  /** The full http(s) URL requested through the ALB's test listener. */
  readonly testUrl: string;
  /** Sequential requests per hook run, each of which must pass. */
  readonly requests: number;
  /** Whether every answer must name the green task set's task definition (`<family>:<revision>`) in its body. */
  readonly expectTaskDefinition: boolean;
  /** The CodeDeploy application and deployment group the deployment must belong to. */
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** The ECS cluster and service whose task sets the deployment replaces. */
  readonly clusterName: string;
  readonly serviceName: string;
  /** How long one request may take, in milliseconds. */
  readonly requestTimeoutMs: number;
}

const WHOLE_NUMBER = /^[0-9]+$/;
const wholeNumberIn = (value: string, min: number, max: number) => WHOLE_NUMBER.test(value) && Number(value) >= min && Number(value) <= max;

/**
 * Reads the hook's environment. Every problem is collected and reported at once, so one failed deployment shows all
 * that is wrong with the hook's configuration.
 *
 * REQUEST_TIMEOUT_MS (optional, default 5000) exists for tests and for health endpoints slower than 5 s; the hook
 * function's own timeout must cover REQUESTS × REQUEST_TIMEOUT_MS plus the API calls.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): EcsHookConfig {
  const problems: string[] = [];
  const required = (name: string) => {
    const value = env[name] ?? '';
    if (!value) problems.push(`${name} must be set`);
    return value;
  };

  if (env.HOOK !== 'AfterAllowTestTraffic') problems.push(`HOOK must be AfterAllowTestTraffic, got ${JSON.stringify(env.HOOK)}`);

  const testUrl = required('TEST_URL');
  if (testUrl && !URL.canParse(testUrl)) problems.push(`TEST_URL must be a full http(s) URL, got ${JSON.stringify(testUrl)}`);
  else if (testUrl && !['http:', 'https:'].includes(new URL(testUrl).protocol)) {
    problems.push(`TEST_URL must be an http or https URL, got ${JSON.stringify(testUrl)}`);
  }

  const requests = env.REQUESTS ?? '3';
  if (!wholeNumberIn(requests, 1, 50)) problems.push(`REQUESTS must be a whole number from 1 to 50, got ${JSON.stringify(requests)}`);

  const expectTaskDefinition = env.EXPECT_TASK_DEFINITION ?? 'false';
  if (expectTaskDefinition !== 'true' && expectTaskDefinition !== 'false') {
    problems.push(`EXPECT_TASK_DEFINITION must be true or false, got ${JSON.stringify(expectTaskDefinition)}`);
  }

  const requestTimeoutMs = env.REQUEST_TIMEOUT_MS ?? '5000';
  if (!wholeNumberIn(requestTimeoutMs, 1, 60_000)) {
    problems.push(`REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 1 to 60000, got ${JSON.stringify(requestTimeoutMs)}`);
  }

  const applicationName = required('APPLICATION_NAME');
  const deploymentGroupName = required('DEPLOYMENT_GROUP_NAME');
  const clusterName = required('CLUSTER_NAME');
  const serviceName = required('SERVICE_NAME');

  if (problems.length > 0) throw new InvalidHookConfig(problems.join('; '));
  return {
    hook: 'AfterAllowTestTraffic',
    testUrl,
    requests: Number(requests),
    expectTaskDefinition: expectTaskDefinition === 'true',
    applicationName,
    deploymentGroupName,
    clusterName,
    serviceName,
    requestTimeoutMs: Number(requestTimeoutMs),
  };
}

const TASK_DEFINITION_ARN = /^arn:[a-z-]+:ecs:[a-z0-9-]+:[0-9]{12}:task-definition\/([A-Za-z0-9_-]+):([0-9]+)$/;

/** `<family>:<revision>` of a task definition ARN: what the lab's container serves in `/version.json`. */
function taskDefinitionMarker(arn: string): string {
  const match = TASK_DEFINITION_ARN.exec(arn);
  if (!match) throw new Error(`${JSON.stringify(arn)} is not a task definition ARN`);
  return `${match[1]}:${match[2]}`;
}

/** The green (replacement) task set's task definition as `<family>:<revision>`, or why it cannot be known. */
async function greenTaskDefinition(config: EcsHookConfig, deploymentId: string): Promise<{ marker: string } | { problem: string }> {
  const { targetIds = [], nextToken } = await codedeploy().send(new ListDeploymentTargetsCommand({ deploymentId }));
  if (targetIds.length !== 1 || nextToken) {
    const found = nextToken ? `${targetIds.length} and more` : String(targetIds.length);
    return { problem: `expected exactly one deployment target (the ECS service), deployment ${deploymentId} has ${found}` };
  }
  const [targetId] = targetIds;
  const { deploymentTarget } = await codedeploy().send(new GetDeploymentTargetCommand({ deploymentId, targetId }));
  const taskSets = deploymentTarget?.ecsTarget?.taskSetsInfo ?? [];
  // AWS spells the task set ARN's field `identifer`.
  const green = taskSets.find((taskSet) => taskSet.taskSetLabel === 'Green')?.identifer;
  if (!green) {
    const labels = taskSets.map((taskSet) => taskSet.taskSetLabel ?? 'unlabelled').join(', ') || 'none';
    return { problem: `deployment target ${targetId} has no Green task set with an ARN (task sets: ${labels})` };
  }
  const { taskSets: described = [], failures = [] } = await ecs().send(
    new DescribeTaskSetsCommand({ cluster: config.clusterName, service: config.serviceName, taskSets: [green] }),
  );
  const taskDefinition = described[0]?.taskDefinition;
  if (!taskDefinition) {
    const why = failures.map((failure) => `${failure.reason}${failure.detail ? ` (${failure.detail})` : ''}`).join(', ') || 'no task set returned';
    return { problem: `ECS could not describe the Green task set ${green} of ${config.clusterName}/${config.serviceName}: ${why}` };
  }
  return { marker: taskDefinitionMarker(taskDefinition) };
}

/** At most 200 characters of an answer's body, quoted, for a failure reason. */
const quoted = (body: string) => JSON.stringify(body.length > 200 ? `${body.slice(0, 200)}…` : body);

/** The task definition an answer names, when its body is JSON like the lab's `{"taskDefinition":"family:7"}`. */
function servedTaskDefinition(body: string): string | undefined {
  try {
    const served = (JSON.parse(body) as { taskDefinition?: unknown })?.taskDefinition;
    return typeof served === 'string' ? served : undefined;
  } catch {
    return undefined;
  }
}

function describeRequestError(error: unknown, timeoutMs: number): string {
  const { name, message, cause } = error as Error;
  if (name === 'TimeoutError') return `timed out after ${timeoutMs / 1000} s`;
  // fetch reports network failures as "fetch failed" with the socket error (ECONNREFUSED, ENOTFOUND...) as the cause.
  const detail = cause ? (cause as Error).message || (cause as { code?: string }).code || String(cause) : undefined;
  return detail ? `${message} (${detail})` : `${name}: ${message}`;
}

/** Sends one GET through the test listener; returns why the answer is unacceptable, or undefined when it passes. */
async function requestProblem(config: EcsHookConfig, expectedMarker: string | undefined): Promise<string | undefined> {
  let status: number;
  let body: string;
  try {
    // A redirect is an answer of its own: following it could leave the test listener and check production instead.
    const response = await fetch(config.testUrl, { redirect: 'manual', signal: AbortSignal.timeout(config.requestTimeoutMs) });
    status = response.status;
    body = await response.text();
  } catch (error) {
    return describeRequestError(error, config.requestTimeoutMs);
  }
  if (status < 200 || status > 299) return `HTTP ${status}${body ? `: ${quoted(body)}` : ''}`;
  if (expectedMarker !== undefined && !body.includes(expectedMarker)) {
    const served = servedTaskDefinition(body);
    return served
      ? `answered by task definition ${served}, expected ${expectedMarker}: ${quoted(body)}`
      : `the answer does not name task definition ${expectedMarker}: ${quoted(body)}`;
  }
  return undefined;
}

/** Runs the hook's checks; returns the reason of the first failure, or undefined when everything passed. */
export async function runChecks(config: EcsHookConfig, deploymentId: string): Promise<string | undefined> {
  const { deploymentInfo } = await codedeploy().send(new GetDeploymentCommand({ deploymentId }));
  const applicationName = deploymentInfo?.applicationName;
  const deploymentGroupName = deploymentInfo?.deploymentGroupName;
  if (applicationName !== config.applicationName || deploymentGroupName !== config.deploymentGroupName) {
    return `deployment ${deploymentId} belongs to ${applicationName}/${deploymentGroupName}; this hook checks ${config.applicationName}/${config.deploymentGroupName}`;
  }

  let expectedMarker: string | undefined;
  if (config.expectTaskDefinition) {
    const green = await greenTaskDefinition(config, deploymentId);
    if ('problem' in green) return green.problem;
    expectedMarker = green.marker;
  }
  logger.info('checking', { hook: config.hook, deploymentId, testUrl: config.testUrl, requests: config.requests, expectedMarker });

  for (let attempt = 1; attempt <= config.requests; attempt += 1) {
    const problem = await requestProblem(config, expectedMarker);
    if (problem) return `request ${attempt}/${config.requests} to ${config.testUrl}: ${problem}`;
  }
  return undefined;
}

export function handler(event: unknown): Promise<HookResult> {
  return runHook(event, (deploymentId) => runChecks(configFromEnvironment(), deploymentId));
}
