import { Logger } from '@aws-lambda-powertools/logger';
import { CodeDeployClient, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';

/**
 * What every CodeDeploy lifecycle hook shares, whatever it deploys (Lambda in `index.ts`, ECS in `ecs.ts`): reading
 * the hook event, running the hook's checks, and reporting `Succeeded` or `Failed` with
 * PutLifecycleEventHookExecutionStatus.
 *
 * CodeDeploy waits for that report. A check that throws is therefore a `Failed` with the reason logged, never an
 * unhandled rejection: CodeDeploy would otherwise wait for the hook's one-hour timeout before failing the deployment.
 * The one error that escapes is a report CodeDeploy did not accept, so that Lambda's asynchronous retries run the
 * hook again.
 */

export const logger = new Logger({ serviceName: 'deploy-hooks' });

let codedeployClient: CodeDeployClient | undefined;
export const codedeploy = () => (codedeployClient ??= new CodeDeployClient({}));

export type HookStatus = 'Succeeded' | 'Failed';

export interface HookResult {
  readonly status: HookStatus;
  /** Why the hook failed; absent on success. */
  readonly reason?: string;
  /** Whether the status reached CodeDeploy (false only when the event named no deployment to report to). */
  readonly reported: boolean;
}

/** The event is not a CodeDeploy lifecycle hook event. */
export class InvalidHookEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHookEvent';
  }
}

/** The hook's configuration (environment) is wrong: a deployment problem, reported as Failed. */
export class InvalidHookConfig extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidHookConfig';
  }
}

/**
 * CodeDeploy did not accept the status. Rethrown so Lambda's asynchronous retries (CodeDeploy invokes hooks
 * asynchronously) run the hook again instead of leaving the deployment waiting for the one-hour hook timeout.
 */
export class HookReportFailed extends Error {
  constructor(deploymentId: string, cause: unknown) {
    super(`could not report the hook status of deployment ${deploymentId}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'HookReportFailed';
  }
}

export interface HookEvent {
  readonly deploymentId: string;
  readonly hookExecutionId: string;
}

const DEPLOYMENT_ID = /^d-[A-Z0-9]{9}$/;

export function parseEvent(event: unknown): HookEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidHookEvent('the event must be a JSON object with DeploymentId and LifecycleEventHookExecutionId');
  }
  const { DeploymentId, LifecycleEventHookExecutionId } = event as Record<string, unknown>;
  if (typeof DeploymentId !== 'string' || !DEPLOYMENT_ID.test(DeploymentId)) {
    throw new InvalidHookEvent(`DeploymentId must look like d-XXXXXXXXX, got ${JSON.stringify(DeploymentId)}`);
  }
  if (typeof LifecycleEventHookExecutionId !== 'string' || LifecycleEventHookExecutionId.length === 0) {
    throw new InvalidHookEvent('LifecycleEventHookExecutionId must be a non-empty string');
  }
  return { deploymentId: DeploymentId, hookExecutionId: LifecycleEventHookExecutionId };
}

async function report(event: HookEvent, status: HookStatus): Promise<void> {
  try {
    await codedeploy().send(
      new PutLifecycleEventHookExecutionStatusCommand({
        deploymentId: event.deploymentId,
        lifecycleEventHookExecutionId: event.hookExecutionId,
        status,
      }),
    );
  } catch (error) {
    throw new HookReportFailed(event.deploymentId, error);
  }
}

/**
 * A hook's checks: resolves to the reason of the first failure, or undefined when everything passed. Reading the
 * configuration belongs inside, so that a misconfigured hook is reported Failed like any other failed check.
 */
export type HookChecks = (deploymentId: string) => Promise<string | undefined>;

/** Parses the event, runs the checks and reports their outcome to CodeDeploy. */
export async function runHook(event: unknown, checks: HookChecks): Promise<HookResult> {
  let parsed: HookEvent;
  try {
    parsed = parseEvent(event);
  } catch (error) {
    // Without both ids there is nothing to report to: log why, and let the deployment's hook timeout fail it.
    const reason = `not a CodeDeploy lifecycle hook event: ${(error as Error).message}`;
    logger.error(reason, { event });
    return { status: 'Failed', reason, reported: false };
  }

  let reason: string | undefined;
  try {
    reason = await checks(parsed.deploymentId);
  } catch (error) {
    reason = `the check could not run: ${(error as Error).name}: ${(error as Error).message}`;
  }
  const status: HookStatus = reason === undefined ? 'Succeeded' : 'Failed';
  if (status === 'Failed') logger.error('hook failed', { deploymentId: parsed.deploymentId, reason });
  else logger.info('hook succeeded', { deploymentId: parsed.deploymentId });
  await report(parsed, status);
  return reason === undefined ? { status, reported: true } : { status, reason, reported: true };
}
