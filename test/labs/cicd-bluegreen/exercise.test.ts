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
  expect(lines).toEqual([
    '\n== 1/5 deployment-group: the deployment group: blue/green, canary, alarms, automatic rollback',
    'deployment group group: compute platform Lambda, config CodeDeployDefault.LambdaCanary10Percent5Minutes',
    'automatic rollback: on, on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST',
    'rollback alarms (enabled): errors, latency',
    'traffic routing: TimeBasedCanary {"canaryPercentage":10,"canaryInterval":5}',
    '\n== 2/5 hook-bad-event: a lifecycle hook answers a bad event with Failed and a reason, without crashing',
    'invoked before-hook with an event that is not CodeDeploy\'s: {"status":"Failed","reason":"not a CodeDeploy lifecycle hook event: DeploymentId must look like d-XXXXXXXXX","reported":false}',
    'a bad event is answered Failed with a logged reason, never an unhandled error: see the hooks\' log groups',
    '\n== 3/5 live-alias: the live alias: health check and 20 requests, by the version that answered',
    'alias live → version 3',
    'health check through the alias: {"ok":true,"version":"3","message":"Hello, x!"}',
    '20 requests through the alias, by the version that answered: {"3":20}; failed: 0',
    '\n== 4/5 deployments: recent deployments, rollbacks, and the alias on the last good version',
    'd-2 Failed (user) → version 4, rolled back by d-3',
    'd-1 Succeeded (user) → version 3',
    'the alias is on version 3, the target of the last successful deployment: failed ones were rolled back',
    '\n== 5/5 ecs-listeners: ECS (optional): the release and task definition behind the production and test listeners',
    'the ECS part is not deployed: npx cdk deploy CicdBluegreenLab -c cicd-bluegreen:ecs=true',
  ]);
  const inputs = (mock: typeof codedeploy | typeof lambda, command: Parameters<typeof codedeploy.commandCalls>[0]) => mock.commandCalls(command as never).map((c) => c.args[0].input);
  expect(inputs(codedeploy, GetDeploymentGroupCommand)).toEqual([{ applicationName: 'app', deploymentGroupName: 'group' }]);
  expect(inputs(codedeploy, GetDeploymentConfigCommand)).toEqual([{ deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' }]);
  expect(inputs(codedeploy, ListDeploymentsCommand)).toEqual([{ applicationName: 'app', deploymentGroupName: 'group' }]);
  expect(inputs(codedeploy, BatchGetDeploymentsCommand)).toEqual([{ deploymentIds: ['d-2', 'd-1'] }]);
  expect(inputs(lambda, GetAliasCommand)).toEqual([{ FunctionName: 'sample', Name: 'live' }, { FunctionName: 'sample', Name: 'live' }]);
  const invoked = inputs(lambda, InvokeCommand).map((i) => ({ ...i, Payload: JSON.parse(Buffer.from(i.Payload as Uint8Array).toString()) }));
  expect(invoked).toEqual([
    { FunctionName: 'before-hook', Payload: { DeploymentId: 'not-a-deployment' } },
    { FunctionName: 'sample', Qualifier: 'live', Payload: { healthCheck: true } },
    ...Array.from({ length: 20 }, (_, i) => ({ FunctionName: 'sample', Qualifier: 'live', Payload: { name: `exercise-${i}` } })),
  ]);
});

test('deployment-group prints a linear configuration and refuses it', async () => {
  codedeploy.on(GetDeploymentConfigCommand).resolves({ deploymentConfigInfo: { trafficRoutingConfig: { type: 'TimeBasedLinear', timeBasedLinear: { linearPercentage: 10, linearInterval: 1 } } } });
  await expect(run('deployment-group')).rejects.toThrow(new ExerciseCheckFailed('expected a canary deployment configuration, found TimeBasedLinear'));
  expect(lines).toContain('traffic routing: TimeBasedLinear {"linearPercentage":10,"linearInterval":1}');
});

test('live-alias counts each failed request once', async () => {
  lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolvesOnce(json({ ok: true, version: '3' })).resolvesOnce({ ...json({}), FunctionError: 'Unhandled' }).resolves(json({ ok: true, version: '3' }));
  await expect(run('live-alias')).rejects.toThrow(new ExerciseCheckFailed('1 of 20 requests failed on the live alias: a rollback alarm should be firing'));
});

test('live-alias during a shift: the alias routes to two versions, both may answer', async () => {
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '4': 0.1 } } });
  lambda.on(InvokeCommand, { FunctionName: 'sample', Payload: Buffer.from(JSON.stringify({ name: 'exercise-0' })) as never }).resolves(json({ ok: true, version: '4' }));
  await run('live-alias');
  expect(lines).toContain('alias live → version 3, shifting: {"4":0.1}');
  expect(lines).toContain('20 requests through the alias, by the version that answered: {"3":19,"4":1}; failed: 0');
});

test('deployments: the five newest, newest first, with their errors and the version of an AppSpec given as a string', async () => {
  const asString = (d: DeploymentInfo): DeploymentInfo => ({ ...d, revision: { revisionType: 'String', string: { content: d.revision!.appSpecContent!.content } } });
  deployedAs(
    deployment('d-1', 'Succeeded', '1', 60),
    { ...deployment('d-2', 'Failed', '2', 50), errorInformation: { message: 'alarm errors fired' } },
    asString(deployment('d-3', 'Succeeded', '3', 40)),
    { ...deployment('d-4', 'Stopped', '4', 30), revision: undefined },
    { ...deployment('d-5', 'Succeeded', '5', 20), revision: { revisionType: 'AppSpecContent', appSpecContent: { content: '{"version":0,"Resources":[{"app":{"Type":"AWS::Lambda::Function"}}]}' } } },
    { ...deployment('d-6', 'Failed', '6', 10), createTime: undefined },
  )();
  await run('deployments');
  expect(lines.slice(1)).toEqual([
    'd-5 Succeeded (user) → version ?',
    'd-4 Stopped (user) → version ?',
    'd-3 Succeeded (user) → version 3',
    'd-2 Failed (user) → version 2: alarm errors fired',
    'd-1 Succeeded (user) → version 1',
    'the alias is on version 3, the target of the last successful deployment: failed ones were rolled back',
  ]);
});

test('deployment-group prints what is off: rollback without events, alarms disabled or without a list', async () => {
  groupWith({ autoRollbackConfiguration: { enabled: false } })();
  await expect(run('deployment-group')).rejects.toThrow(new ExerciseCheckFailed('automatic rollback is off'));
  groupWith({ alarmConfiguration: { enabled: false, alarms: [{ name: 'errors' }, { name: 'latency' }] } })();
  await expect(run('deployment-group')).rejects.toThrow(new ExerciseCheckFailed(alarmMessage));
  groupWith({ alarmConfiguration: { enabled: true } })();
  await expect(run('deployment-group')).rejects.toThrow(new ExerciseCheckFailed(alarmMessage));
  expect(lines.filter((line) => /^(automatic rollback|rollback alarms)/.test(line))).toEqual([
    'automatic rollback: off, on ',
    'automatic rollback: on, on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM',
    'rollback alarms (disabled): errors, latency',
    'automatic rollback: on, on DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM',
    'rollback alarms (enabled): ',
  ]);
});

test('deployments: an AppSpec in S3 or without resources names no version', async () => {
  deployedAs(
    { ...deployment('d-1', 'Succeeded', '3', 60), revision: { revisionType: 'S3', s3Location: { bucket: 'b', key: 'appspec.yaml', bundleType: 'YAML' } } },
    { ...deployment('d-2', 'Succeeded', '3', 50), revision: { revisionType: 'AppSpecContent', appSpecContent: { content: '{"version":0,"Resources":[]}' } } },
  )();
  await run('deployments');
  expect(lines.slice(1)).toEqual(['d-2 Succeeded (user) → version ?', 'd-1 Succeeded (user) → version ?', 'no successful deployment yet: the alias still points at the version CloudFormation created']);
});

test('deployments: BatchGetDeployments is asked for 25 deployments at most (its limit)', async () => {
  deployedAs(...Array.from({ length: 30 }, (_, i) => deployment(`d-${i}`, 'Succeeded', '3', 30 - i)))();
  await run('deployments');
  expect(codedeploy.commandCalls(BatchGetDeploymentsCommand).map((c) => c.args[0].input.deploymentIds)).toEqual([Array.from({ length: 25 }, (_, i) => `d-${i}`)]);
});

test('deployments: answers without their lists are read as empty', async () => {
  codedeploy.on(ListDeploymentsCommand).resolves({});
  await run('deployments');
  expect(lines.at(-1)).toMatch(/^no deployment yet/);
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: ['d-1'] });
  codedeploy.on(BatchGetDeploymentsCommand).resolves({});
  lines.length = 0;
  await run('deployments');
  expect(lines.slice(1)).toEqual(['no successful deployment yet: the alias still points at the version CloudFormation created']);
});

test('deployments: none succeeded yet', async () => {
  deployedAs({ ...deployment('d-1', 'Failed', '2', 10), revision: undefined })();
  await run('deployments');
  expect(lines.at(-1)).toBe('no successful deployment yet: the alias still points at the version CloudFormation created');
});

test.each(['InProgress', 'Ready', 'Created'])('deployments: a deployment %s leaves the alias where it is for now', async (status) => {
  deployedAs(deployment('d-1', 'Succeeded', '3', 60), deployment('d-2', status, '4', 10))();
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '4' });
  await run('deployments');
  expect(lines.at(-1)).toBe('a deployment is in progress; the alias points at 4 for now');
});

test('deployments: no deployment yet is explained, not failed', async () => {
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
  await run('deployments');
  expect(lines.at(-1)).toMatch(/^no deployment yet: push a commit/);
});

/** The deployment group as deployed, with `change` made to it. */
const groupWith = (change: Record<string, unknown>) => () => codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { computePlatform: 'Lambda', deploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes', deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' }, autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] }, alarmConfiguration: { enabled: true, alarms: [{ name: 'errors' }, { name: 'latency' }] }, ...change } });
/** Deployments of the group, listed and described. */
const deployedAs = (...deployments: DeploymentInfo[]) => () => {
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: deployments.map((d) => d.deploymentId!) });
  codedeploy.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: deployments });
};
const alarmMessage = 'expected at least 2 enabled rollback alarms';
test.each<[string, string, () => void, string]>([
  ['deployment-group', 'a deployment group not found', () => codedeploy.on(GetDeploymentGroupCommand).resolves({}), 'deployment group group not found'],
  ['deployment-group', 'the EC2 compute platform', groupWith({ computePlatform: 'Server' }), 'expected the Lambda compute platform, found Server'],
  ['deployment-group', 'in-place deployments', groupWith({ deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' } }), 'Lambda deployments are blue/green with traffic control; found {"deploymentType":"IN_PLACE","deploymentOption":"WITH_TRAFFIC_CONTROL"}'],
  ['deployment-group', 'no traffic control', groupWith({ deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' } }), 'Lambda deployments are blue/green with traffic control; found {"deploymentType":"BLUE_GREEN","deploymentOption":"WITHOUT_TRAFFIC_CONTROL"}'],
  ['deployment-group', 'no deployment style', groupWith({ deploymentStyle: undefined }), 'Lambda deployments are blue/green with traffic control; found undefined'],
  ['deployment-group', 'no rollback configuration', groupWith({ autoRollbackConfiguration: undefined }), 'automatic rollback is off'],
  ['deployment-group', 'no rollback on an alarm', groupWith({ autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] } }), 'automatic rollback does not react to DEPLOYMENT_STOP_ON_ALARM'],
  ['deployment-group', 'no rollback on a failure', groupWith({ autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_STOP_ON_ALARM'] } }), 'automatic rollback does not react to DEPLOYMENT_FAILURE'],
  ['deployment-group', 'one alarm', groupWith({ alarmConfiguration: { enabled: true, alarms: [{ name: 'errors' }] } }), alarmMessage],
  ['deployment-group', 'two alarms disabled', groupWith({ alarmConfiguration: { enabled: false, alarms: [{ name: 'errors' }, { name: 'latency' }] } }), alarmMessage],
  ['deployment-group', 'no alarm configuration', groupWith({ alarmConfiguration: undefined }), alarmMessage],
  ['deployment-group', 'alarms enabled without alarms', groupWith({ alarmConfiguration: { enabled: true } }), alarmMessage],
  ['deployment-group', 'no deployment configuration', () => codedeploy.on(GetDeploymentConfigCommand).resolves({}), 'expected a canary deployment configuration, found undefined'],
  ['hook-bad-event', 'a hook that answers Succeeded', () => lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves(json({ status: 'Succeeded', reason: 'DeploymentId', reported: false })), 'the hook before-hook did not answer Failed (unreported) to a bad event'],
  ['hook-bad-event', 'a hook that reports a bad event to CodeDeploy', () => lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves(json({ status: 'Failed', reason: 'DeploymentId', reported: true })), 'the hook before-hook did not answer Failed (unreported) to a bad event'],
  ['hook-bad-event', 'a hook that does not say why', () => lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves(json({ status: 'Failed', reason: 'bad event', reported: false })), 'the hook before-hook did not say what was wrong with the event'],
  ['live-alias', 'a version neither version of a shift', () => lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '4': 0.1 } } }).on(InvokeCommand, { FunctionName: 'sample', Payload: Buffer.from(JSON.stringify({ name: 'exercise-19' })) as never }).resolves(json({ ok: true, version: '5' })), 'versions 3, 5 answered; the alias routes to 3, 4'],
  ['live-alias', 'a version the alias does not route to', () => lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolves(json({ ok: true, version: '3' })).on(InvokeCommand, { FunctionName: 'sample', Payload: Buffer.from(JSON.stringify({ name: 'exercise-19' })) as never }).resolves(json({ ok: true, version: '5' })), 'versions 3, 5 answered; the alias routes to 3'],
  ['deployments', 'the newest successful deployment of a version the alias left', deployedAs(deployment('d-1', 'Succeeded', '3', 60), deployment('d-2', 'Succeeded', '4', 10)), 'the alias points at version 3, but the last successful deployment d-2 shifted it to 4'],
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
    expect(lines).toContain('production listener: HTTP 200 {"release":"abc1234","taskDefinition":"web-family:7"}');
    expect(lines.at(-1)).toMatch(/^both listeners reach the same task set/);
  });

  test('during a deployment the test listener shows the new task set first', async () => {
    serve('test', 200, { release: 'def5678', taskDefinition: 'web-family:18' });
    await runEcs('ecs-listeners');
    expect(lines).toContain('test listener:       HTTP 200 {"release":"def5678","taskDefinition":"web-family:18"}');
    expect(lines.at(-1)).toMatch(/^the listeners reach different task sets/);
  });

  test('before the first release it says what to do', async () => {
    serve('prod', 404);
    serve('test', 503);
    await runEcs('ecs-listeners');
    expect(lines.at(-1)).toBe('no release yet: push a commit to ecs-repo (README, "ECS blue/green")');
    expect(lines).toContain('production listener: HTTP 404 {}');
  });

  test.each<[string, () => void, string]>([
    ['a test listener that answers 503', () => serve('test', 503), 'the test listener answered HTTP 503'],
    ['tasks that do not know their task definition', () => serve('prod', 200, { release: 'abc1234', taskDefinition: 'unknown' }), 'the production listener\'s tasks do not know their task definition ("unknown")'],
    ['tasks that name their task definition by ARN', () => serve('test', 200, { release: 'abc1234', taskDefinition: 'arn:aws:ecs:us-east-1:111111111111:task-definition/web-family:7' }), 'the test listener\'s tasks do not know their task definition ("arn:aws:ecs:us-east-1:111111111111:task-definition/web-family:7")'],
    ['tasks that add to their task definition', () => serve('test', 200, { release: 'abc1234', taskDefinition: 'web-family:7 (draining)' }), 'the test listener\'s tasks do not know their task definition ("web-family:7 (draining)")'],
    ['tasks whose task definition is a number', () => serve('test', 200, { release: 'abc1234', taskDefinition: 7 }), 'the test listener\'s tasks do not know their task definition (7)'],
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
