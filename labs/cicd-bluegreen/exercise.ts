import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { parse as parseYaml } from 'yaml';
import { check, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { repositoryAccess } from './repository-access-exercise';

/** The run's clients (see serviceEndpoint for the endpoint). */
const codedeployOf = (context: ExerciseContext) => context.client(CodeDeployClient, 'CODEDEPLOY');
const lambdaOf = (context: ExerciseContext) => context.client(LambdaClient, 'LAMBDA');

async function invoke(context: ExerciseContext, functionName: string, qualifier: string | undefined, payload: unknown) {
  const response = await lambdaOf(context).send(
    new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  return { functionError: response.FunctionError, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function deploymentGroup(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'DeploymentApplicationName');
  const deploymentGroupName = requireOutput(outputs, 'DeploymentGroupName');
  const { deploymentGroupInfo: group } = await codedeployOf(context).send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName }));
  check(group !== undefined, `deployment group ${deploymentGroupName} not found`);
  log(`deployment group ${deploymentGroupName}: compute platform ${group.computePlatform}, config ${group.deploymentConfigName}`);
  check(group.computePlatform === 'Lambda', `expected the Lambda compute platform, found ${group.computePlatform}`);
  check(
    group.deploymentStyle?.deploymentType === 'BLUE_GREEN' && group.deploymentStyle.deploymentOption === 'WITH_TRAFFIC_CONTROL',
    `Lambda deployments are blue/green with traffic control; found ${JSON.stringify(group.deploymentStyle)}`,
  );
  const rollbackEvents = group.autoRollbackConfiguration?.events ?? [];
  log(`automatic rollback: ${group.autoRollbackConfiguration?.enabled ? 'on' : 'off'}, on ${rollbackEvents.join(', ')}`);
  check(group.autoRollbackConfiguration?.enabled === true, 'automatic rollback is off');
  for (const event of ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) {
    check(rollbackEvents.includes(event as never), `automatic rollback does not react to ${event}`);
  }
  const alarms = group.alarmConfiguration?.alarms?.map((a) => a.name) ?? [];
  log(`rollback alarms (${group.alarmConfiguration?.enabled ? 'enabled' : 'disabled'}): ${alarms.join(', ')}`);
  check(group.alarmConfiguration?.enabled === true && alarms.length >= 2, 'expected at least 2 enabled rollback alarms');

  const { deploymentConfigInfo: config } = await codedeployOf(context).send(
    new GetDeploymentConfigCommand({ deploymentConfigName: group.deploymentConfigName }),
  );
  const routing = config?.trafficRoutingConfig;
  log(`traffic routing: ${routing?.type} ${JSON.stringify(routing?.timeBasedCanary ?? routing?.timeBasedLinear ?? {})}`);
  check(routing?.type === 'TimeBasedCanary', `expected a canary deployment configuration, found ${routing?.type}`);
}

async function hookRefusesBadEvents(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const hooks = [requireOutput(outputs, 'BeforeAllowTrafficHookName')];
  if (outputs.EcsAfterAllowTestTrafficHookName) hooks.push(outputs.EcsAfterAllowTestTrafficHookName);
  for (const hook of hooks) {
    const { functionError, body } = await invoke(context, hook, undefined, { DeploymentId: 'not-a-deployment' });
    log(`invoked ${hook} with an event that is not CodeDeploy's: ${JSON.stringify(body)}`);
    check(functionError === undefined, `the hook ${hook} crashed (${functionError}) instead of reporting the bad event`);
    check(body.status === 'Failed' && body.reported === false, `the hook ${hook} did not answer Failed (unreported) to a bad event`);
    check(String(body.reason).includes('DeploymentId'), `the hook ${hook} did not say what was wrong with the event`);
  }
  log('a bad event is answered Failed with a logged reason, never an unhandled error: see the hooks\' log groups');
}

/** What the ECS sample's release-page.sh serves at /version.json. */
interface ReleasePage {
  readonly release?: unknown;
  readonly taskDefinition?: unknown;
}

async function releaseOn(listenerUrl: string): Promise<{ status: number; page?: ReleasePage }> {
  const response = await fetch(new URL('version.json', listenerUrl), { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) return { status: response.status };
  return { status: response.status, page: (await response.json()) as ReleasePage };
}

async function ecsListeners(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.EcsProductionUrl) {
    log('the ECS part is not deployed: npx cdk deploy CicdBluegreenLab -c cicd-bluegreen:ecs=true');
    return;
  }
  const production = await releaseOn(outputs.EcsProductionUrl);
  const test = await releaseOn(requireOutput(outputs, 'EcsTestUrl'));
  log(`production listener: HTTP ${production.status} ${JSON.stringify(production.page ?? {})}`);
  log(`test listener:       HTTP ${test.status} ${JSON.stringify(test.page ?? {})}`);
  if (production.status === 404) {
    // Before the first release production runs stock nginx (no /version.json) and the green target group is empty (503).
    log(`no release yet: push a commit to ${requireOutput(outputs, 'EcsRepositoryName')} (README, "ECS blue/green")`);
    return;
  }
  for (const [name, answer] of [['production', production], ['test', test]] as const) {
    check(answer.status === 200, `the ${name} listener answered HTTP ${answer.status} for /version.json`);
    check(
      typeof answer.page?.taskDefinition === 'string' && /^[\w-]+:\d+$/.test(answer.page.taskDefinition),
      `the ${name} listener's tasks do not know their task definition (${JSON.stringify(answer.page?.taskDefinition)}): the AfterAllowTestTraffic hook would refuse them`,
    );
  }
  log(
    production.page?.taskDefinition === test.page?.taskDefinition
      ? 'both listeners reach the same task set: no deployment is between AllowTestTraffic and the end of the shift'
      : 'the listeners reach different task sets: a deployment is testing the new one on 8080 before production moves',
  );
}

async function liveAlias(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const functionName = requireOutput(outputs, 'FunctionName');
  const aliasName = requireOutput(outputs, 'AliasName');
  const alias = await lambdaOf(context).send(new GetAliasCommand({ FunctionName: functionName, Name: aliasName }));
  const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
  log(`alias ${aliasName} → version ${alias.FunctionVersion}${Object.keys(weights).length ? `, shifting: ${JSON.stringify(weights)}` : ''}`);

  const health = await invoke(context, functionName, aliasName, { healthCheck: true });
  log(`health check through the alias: ${JSON.stringify(health.body)}`);
  check(health.functionError === undefined && health.body.ok === true, 'the live alias is unhealthy');

  const byVersion: Record<string, number> = {};
  let failures = 0;
  for (let i = 0; i < 20; i += 1) {
    const { functionError, body } = await invoke(context, functionName, aliasName, { name: `exercise-${i}` });
    if (functionError) failures += 1;
    else byVersion[String(body.version)] = (byVersion[String(body.version)] ?? 0) + 1;
  }
  log(`20 requests through the alias, by the version that answered: ${JSON.stringify(byVersion)}; failed: ${failures}`);
  check(failures === 0, `${failures} of 20 requests failed on the live alias: a rollback alarm should be firing`);
  const versions = Object.keys(byVersion);
  const expected = [alias.FunctionVersion, ...Object.keys(weights)];
  check(versions.every((v) => expected.includes(v)), `versions ${versions.join(', ')} answered; the alias routes to ${expected.join(', ')}`);
}

/** The version an AppSpec shifted the alias to. */
function targetVersionOf(deployment: DeploymentInfo): string | undefined {
  const content = deployment.revision?.appSpecContent?.content ?? deployment.revision?.string?.content;
  if (!content) return undefined;
  const resources = (parseYaml(content) as { Resources?: Record<string, { Properties?: { TargetVersion?: unknown } }>[] })?.Resources ?? [];
  const target = Object.values(resources[0] ?? {})[0]?.Properties?.TargetVersion;
  return target === undefined ? undefined : String(target);
}

async function deployments(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'DeploymentApplicationName');
  const deploymentGroupName = requireOutput(outputs, 'DeploymentGroupName');
  const { deployments: ids = [] } = await codedeployOf(context).send(new ListDeploymentsCommand({ applicationName, deploymentGroupName }));
  if (ids.length === 0) {
    log('no deployment yet: push a commit to the repository (README, "Push a change") and approve it in the pipeline');
    return;
  }
  const { deploymentsInfo = [] } = await codedeployOf(context).send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(0, 25) }));
  const recent = [...deploymentsInfo].sort((a, b) => (b.createTime?.getTime() ?? 0) - (a.createTime?.getTime() ?? 0));
  for (const d of recent.slice(0, 5)) {
    const rollback = d.rollbackInfo?.rollbackDeploymentId ? `, rolled back by ${d.rollbackInfo.rollbackDeploymentId}` : '';
    const error = d.errorInformation?.message ? `: ${d.errorInformation.message}` : '';
    log(`${d.deploymentId} ${d.status} (${d.creator}) → version ${targetVersionOf(d) ?? '?'}${rollback}${error}`);
  }
  const lastGood = recent.find((d) => d.status === 'Succeeded' && targetVersionOf(d) !== undefined);
  if (!lastGood) {
    log('no successful deployment yet: the alias still points at the version CloudFormation created');
    return;
  }
  const alias = await lambdaOf(context).send(new GetAliasCommand({ FunctionName: requireOutput(outputs, 'FunctionName'), Name: requireOutput(outputs, 'AliasName') }));
  const inProgress = recent.some((d) => d.status === 'InProgress' || d.status === 'Ready' || d.status === 'Created');
  if (inProgress) {
    log(`a deployment is in progress; the alias points at ${alias.FunctionVersion} for now`);
    return;
  }
  check(
    alias.FunctionVersion === targetVersionOf(lastGood),
    `the alias points at version ${alias.FunctionVersion}, but the last successful deployment ${lastGood.deploymentId} shifted it to ${targetVersionOf(lastGood)}`,
  );
  log(`the alias is on version ${alias.FunctionVersion}, the target of the last successful deployment: failed ones were rolled back`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'deployment-group', title: 'the deployment group: blue/green, canary, alarms, automatic rollback', run: deploymentGroup },
  { id: 'hook-bad-event', title: 'a lifecycle hook answers a bad event with Failed and a reason, without crashing', run: hookRefusesBadEvents },
  { id: 'live-alias', title: 'the live alias: health check and 20 requests, by the version that answered', run: liveAlias },
  { id: 'deployments', title: 'recent deployments, rollbacks, and the alias on the last good version', run: deployments },
  { id: 'repository-access', title: 'the repository: notification rule and topic policy, the cross-account developer role and its protected branch', run: repositoryAccess },
  { id: 'ecs-listeners', title: 'ECS (optional): the release and task definition behind the production and test listeners', run: ecsListeners },
];
