import { GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
// js-yaml, not the yaml package: ~40 KB minified instead of ~110 KB, which would make this hook outweigh the 100 KB limit.
import { load as parseYaml } from 'js-yaml';
import { codedeploy, InvalidHookConfig, logger, runHook, type HookResult } from './lifecycle';

export { HookReportFailed, InvalidHookConfig, InvalidHookEvent, parseEvent } from './lifecycle';
export type { HookEvent, HookResult, HookStatus } from './lifecycle';

/**
 * CodeDeploy lifecycle hook for Lambda blue/green deployments. One handler serves both hooks; HOOK says which:
 *
 * - `BeforeAllowTraffic`: the alias still points at the old version. Invokes the **target version** directly with a
 *   health-check event and requires every answer to be healthy and to come from that version.
 * - `AfterAllowTraffic`: all traffic has shifted. Requires the alias to point at the target version with no weighted
 *   routing left, and every health check through the alias to be answered by the target version.
 *
 * The hook learns the versions from the deployment's AppSpec (GetDeployment), checks that the deployment targets the
 * function and alias it was configured for, and reports `Succeeded` or `Failed` with
 * PutLifecycleEventHookExecutionStatus (`lifecycle.ts`, shared with the ECS hook). A check that throws is a `Failed`,
 * never an unhandled rejection: CodeDeploy would otherwise wait for the hook's one-hour timeout before failing the
 * deployment.
 */

let lambdaClient: LambdaClient | undefined;
const lambda = () => (lambdaClient ??= new LambdaClient({}));

export type HookName = 'BeforeAllowTraffic' | 'AfterAllowTraffic';

export interface HookConfig {
  readonly hook: HookName;
  /** The function the deployment must target (name, not ARN). */
  readonly functionName: string;
  readonly aliasName: string;
  /** Health-check invocations per hook run. */
  readonly invocations: number;
}

export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): HookConfig {
  const hook = env.HOOK;
  if (hook !== 'BeforeAllowTraffic' && hook !== 'AfterAllowTraffic') {
    throw new InvalidHookConfig(`HOOK must be BeforeAllowTraffic or AfterAllowTraffic, got ${JSON.stringify(hook)}`);
  }
  const functionName = env.TARGET_FUNCTION_NAME ?? '';
  const aliasName = env.TARGET_ALIAS_NAME ?? '';
  const invocations = Number(env.HEALTH_CHECK_INVOCATIONS ?? '3');
  if (!functionName || !aliasName) throw new InvalidHookConfig('TARGET_FUNCTION_NAME and TARGET_ALIAS_NAME must be set');
  if (!Number.isInteger(invocations) || invocations < 1 || invocations > 50) {
    throw new InvalidHookConfig(`HEALTH_CHECK_INVOCATIONS must be a whole number from 1 to 50, got ${env.HEALTH_CHECK_INVOCATIONS}`);
  }
  return { hook, functionName, aliasName, invocations };
}

/** What the AppSpec of a Lambda deployment says: which alias moves from which version to which. */
export interface LambdaTarget {
  readonly name: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
}

/** Reads the Lambda resource out of an AppSpec (YAML or JSON; JSON is YAML). Throws with the reason. */
export function targetFromAppSpec(content: string): LambdaTarget {
  let spec: unknown;
  try {
    spec = parseYaml(content);
  } catch (error) {
    throw new Error(`the deployment's AppSpec is not valid YAML/JSON: ${(error as Error).message}`, { cause: error });
  }
  const resources = (spec as { Resources?: unknown })?.Resources;
  if (!Array.isArray(resources) || resources.length !== 1) {
    throw new Error('the AppSpec must list exactly one resource under Resources');
  }
  const [resource] = Object.values(resources[0] as Record<string, unknown>) as { Type?: string; Properties?: Record<string, unknown> }[];
  if (resource?.Type !== 'AWS::Lambda::Function') {
    throw new Error(`the AppSpec resource is a ${resource?.Type ?? 'nothing'}, not an AWS::Lambda::Function`);
  }
  const { Name, Alias, CurrentVersion, TargetVersion } = resource.Properties ?? {};
  const fields = { Name, Alias, CurrentVersion, TargetVersion };
  const missing = Object.entries(fields).filter(([, v]) => (typeof v !== 'string' && typeof v !== 'number') || v === '').map(([k]) => k);
  if (missing.length > 0) throw new Error(`the AppSpec resource lacks ${missing.join(', ')}`);
  return { name: String(Name), alias: String(Alias), currentVersion: String(CurrentVersion), targetVersion: String(TargetVersion) };
}

/** The function name inside a name, partial ARN or full ARN. */
const functionNameOf = (nameOrArn: string) => {
  const match = /(?:^|:function:)([A-Za-z0-9_-]+)(?::[^:]+)?$/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
};

async function deploymentTarget(deploymentId: string): Promise<LambdaTarget> {
  const { deploymentInfo } = await codedeploy().send(new GetDeploymentCommand({ deploymentId }));
  const revision = deploymentInfo?.revision;
  const content = revision?.appSpecContent?.content ?? revision?.string?.content;
  if (!content) {
    throw new Error(`deployment ${deploymentId} has no inline AppSpec (revision type ${revision?.revisionType ?? 'unknown'})`);
  }
  return targetFromAppSpec(content);
}

/** Invokes `qualifier` with a health-check event; returns why it is unhealthy, or undefined when it is healthy. */
async function healthProblem(config: HookConfig, qualifier: string, expectedVersion: string, attempt: number): Promise<string | undefined> {
  const response = await lambda().send(
    new InvokeCommand({
      FunctionName: config.functionName,
      Qualifier: qualifier,
      Payload: Buffer.from(JSON.stringify({ healthCheck: true, hook: config.hook, attempt })),
    }),
  );
  const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (response.FunctionError) return `${qualifier} returned a function error (${response.FunctionError}): ${text.slice(0, 300)}`;
  let body: { ok?: unknown; version?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return `${qualifier} answered with something that is not JSON: ${text.slice(0, 300)}`;
  }
  if (body?.ok !== true) return `${qualifier} reported itself unhealthy: ${text.slice(0, 300)}`;
  if (String(body.version) !== expectedVersion) {
    return `${qualifier} was answered by version ${String(body.version)}, expected version ${expectedVersion}`;
  }
  return undefined;
}

/** Runs the hook's checks; returns the reason of the first failure, or undefined when everything passed. */
export async function runChecks(config: HookConfig, deploymentId: string): Promise<string | undefined> {
  const target = await deploymentTarget(deploymentId);
  if (functionNameOf(target.name) !== config.functionName || target.alias !== config.aliasName) {
    return `deployment ${deploymentId} targets ${target.name}:${target.alias}; this hook checks ${config.functionName}:${config.aliasName}`;
  }
  logger.info('checking', { hook: config.hook, deploymentId, ...target });

  if (config.hook === 'AfterAllowTraffic') {
    const alias = await lambda().send(new GetAliasCommand({ FunctionName: config.functionName, Name: config.aliasName }));
    const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
    if (alias.FunctionVersion !== target.targetVersion || Object.keys(weights).length > 0) {
      return `alias ${config.aliasName} points at version ${alias.FunctionVersion} with extra weights ${JSON.stringify(weights)}; expected all traffic on ${target.targetVersion}`;
    }
  }
  const qualifier = config.hook === 'BeforeAllowTraffic' ? target.targetVersion : config.aliasName;
  for (let attempt = 1; attempt <= config.invocations; attempt += 1) {
    const problem = await healthProblem(config, qualifier, target.targetVersion, attempt);
    if (problem) return `health check ${attempt}/${config.invocations}: ${problem}`;
  }
  return undefined;
}

export function handler(event: unknown): Promise<HookResult> {
  return runHook(event, (deploymentId) => runChecks(configFromEnvironment(), deploymentId));
}
