import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../../labs/cicd-bluegreen/exercise';
import { ExerciseCheckFailed, runExercise } from '../../../labs/support/exercise';

// No local engine runs CodeDeploy or CodePipeline: the SDK answers are mocked as a deployed lab answers them, then
// broken one way at a time to show that each check catches what it claims to.
const codedeploy = mockClient(CodeDeployClient);
const lambda = mockClient(LambdaClient);
const outputs = {
  DeploymentApplicationName: 'app',
  DeploymentGroupName: 'group',
  BeforeAllowTrafficHookName: 'before-hook',
  FunctionName: 'sample',
  AliasName: 'live',
};
const lines: string[] = [];
const run = (id: string) => runExercise(steps.filter((s) => s.id === id), { outputs, log: (l) => lines.push(l) });
const json = (body: unknown) => ({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(body)) as never });
const appSpec = (target: string) =>
  JSON.stringify({ version: 0, Resources: [{ app: { Type: 'AWS::Lambda::Function', Properties: { Name: 'sample', Alias: 'live', CurrentVersion: '1', TargetVersion: target } } }] });
const deployment = (id: string, status: string, target: string, minutesAgo: number): DeploymentInfo => ({
  deploymentId: id,
  status: status as DeploymentInfo['status'],
  creator: 'user',
  createTime: new Date(Date.now() - minutesAgo * 60_000),
  revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(target) } },
});

beforeEach(() => {
  codedeploy.reset();
  lambda.reset();
  lines.length = 0;
  codedeploy.on(GetDeploymentGroupCommand).resolves({
    deploymentGroupInfo: {
      computePlatform: 'Lambda',
      deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'] },
      alarmConfiguration: { enabled: true, alarms: [{ name: 'errors' }, { name: 'latency' }] },
    },
  });
  codedeploy.on(GetDeploymentConfigCommand).resolves({
    deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedCanary', timeBasedCanary: { canaryPercentage: 10, canaryInterval: 5 } } },
  });
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3' });
  lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves(json({ status: 'Failed', reason: 'not a CodeDeploy lifecycle hook event: DeploymentId must look like d-XXXXXXXXX', reported: false }));
  lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolves(json({ ok: true, version: '3', message: 'Hello, x!' }));
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-2', 'd-1'] });
  codedeploy.on(BatchGetDeploymentsCommand).resolves({
    deploymentsInfo: [deployment('d-1', 'Succeeded', '3', 60), { ...deployment('d-2', 'Failed', '4', 10), rollbackInfo: { rollbackDeploymentId: 'd-3' } }],
  });
});

test('every step passes against a lab that behaves as its README says', async () => {
  // repository-access has its own doubles (CodeStar Notifications, SNS, IAM, STS): repository-access.test.ts.
  await runExercise(steps.filter((s) => s.id !== 'repository-access'), { outputs, log: (l) => lines.push(l) });
  expect(lines).toContain('d-2 Failed (user) → version 4, rolled back by d-3');
  expect(lines).toContain('the alias is on version 3, the target of the last successful deployment: failed ones were rolled back');
  expect(lines).toContain('20 requests through the alias, by the version that answered: {"3":20}; failed: 0');
});

test('deployments: no deployment yet is explained, not failed', async () => {
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
  await run('deployments');
  expect(lines.at(-1)).toMatch(/^no deployment yet: push a commit/);
});

test.each<[string, string, () => void, string]>([
  ['deployment-group', 'automatic rollback off', () => codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { computePlatform: 'Lambda', deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' }, autoRollbackConfiguration: { enabled: false } } }), 'automatic rollback is off'],
  ['deployment-group', 'an all-at-once configuration', () => codedeploy.on(GetDeploymentConfigCommand).resolves({ deploymentConfigInfo: { trafficRoutingConfig: { type: 'AllAtOnce' } } }), 'expected a canary deployment configuration, found AllAtOnce'],
  ['hook-bad-event', 'a hook that crashes on a bad event', () => lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves({ ...json({ errorType: 'TypeError' }), FunctionError: 'Unhandled' }), 'the hook before-hook crashed (Unhandled)'],
  ['live-alias', 'an alias that fails some requests', () => lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolvesOnce(json({ ok: true, version: '3' })).resolvesOnce({ ...json({}), FunctionError: 'Unhandled' }).resolves(json({ ok: true, version: '3' })), '1 of 20 requests failed'],
  ['live-alias', 'an unhealthy alias', () => lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolves(json({ ok: false, version: '3' })), 'the live alias is unhealthy'],
  ['deployments', 'an alias left on a failed version', () => lambda.on(GetAliasCommand).resolves({ FunctionVersion: '4' }), 'the alias points at version 4, but the last successful deployment d-1 shifted it to 3'],
])('%s fails on %s', async (step, _name, breakIt, message) => {
  breakIt();
  const error = await run(step).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  expect((error as Error).message).toContain(message);
});

describe('ecs-listeners, against a stand-in for the ALB listeners', () => {
  const pages: Record<string, { status: number; body?: unknown }> = {};
  let server: Server;
  let base: string;
  const ecsOutputs = () => ({ ...outputs, EcsProductionUrl: `${base}/prod/`, EcsTestUrl: `${base}/test/`, EcsRepositoryName: 'ecs-repo', EcsAfterAllowTestTrafficHookName: 'ecs-hook' });
  const runEcs = (id: string) => runExercise(steps.filter((s) => s.id === id), { outputs: ecsOutputs(), log: (l) => lines.push(l) });
  const serve = (listener: 'prod' | 'test', status: number, body?: unknown) => (pages[`/${listener}/version.json`] = { status, body });

  beforeAll(async () => {
    server = createServer((request, response) => {
      const page = pages[request.url ?? ''] ?? { status: 404 };
      response.writeHead(page.status, { 'content-type': 'application/json' }).end(page.body === undefined ? '' : JSON.stringify(page.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    serve('prod', 200, { release: 'abc1234', taskDefinition: 'web-family:7' });
    serve('test', 200, { release: 'abc1234', taskDefinition: 'web-family:7' });
  });

  test('both listeners on the last release', async () => {
    await runEcs('ecs-listeners');
    expect(lines.at(-1)).toMatch(/^both listeners reach the same task set/);
  });

  test('during a deployment the test listener shows the new task set first', async () => {
    serve('test', 200, { release: 'def5678', taskDefinition: 'web-family:8' });
    await runEcs('ecs-listeners');
    expect(lines).toContain('test listener:       HTTP 200 {"release":"def5678","taskDefinition":"web-family:8"}');
    expect(lines.at(-1)).toMatch(/^the listeners reach different task sets/);
  });

  test('before the first release it says what to do', async () => {
    serve('prod', 404);
    serve('test', 503);
    await runEcs('ecs-listeners');
    expect(lines.at(-1)).toBe('no release yet: push a commit to ecs-repo (README, "ECS blue/green")');
  });

  test.each<[string, () => void, string]>([
    ['a test listener that answers 503', () => serve('test', 503), 'the test listener answered HTTP 503'],
    ['tasks that do not know their task definition', () => serve('prod', 200, { release: 'abc1234', taskDefinition: 'unknown' }), 'the production listener\'s tasks do not know their task definition ("unknown")'],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    await expect(runEcs('ecs-listeners')).rejects.toThrow(message);
  });

  test('without the ECS part the step says how to deploy it', async () => {
    await run('ecs-listeners');
    expect(lines.at(-1)).toBe('the ECS part is not deployed: npx cdk deploy CicdBluegreenLab -c cicd-bluegreen:ecs=true');
  });

  test('hook-bad-event also checks the ECS hook when it is deployed', async () => {
    lambda.on(InvokeCommand, { FunctionName: 'ecs-hook' }).resolves({ ...json({ errorType: 'TypeError' }), FunctionError: 'Unhandled' });
    await expect(runEcs('hook-bad-event')).rejects.toThrow('the hook ecs-hook crashed (Unhandled)');
  });
});
