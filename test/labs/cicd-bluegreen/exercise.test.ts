import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  ListDeploymentsCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { steps } from '../../../labs/cicd-bluegreen/exercise';
import { ExerciseCheckFailed, runSteps } from '../../../labs/support/exercise';

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
const run = (id: string) => runSteps(steps.filter((s) => s.id === id), { outputs, log: (l) => lines.push(l) });
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
  await runSteps(steps, { outputs, log: (l) => lines.push(l) });
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
  ['hook-bad-event', 'a hook that crashes on a bad event', () => lambda.on(InvokeCommand, { FunctionName: 'before-hook' }).resolves({ ...json({ errorType: 'TypeError' }), FunctionError: 'Unhandled' }), 'the hook crashed (Unhandled)'],
  ['live-alias', 'an alias that fails some requests', () => lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolvesOnce(json({ ok: true, version: '3' })).resolvesOnce({ ...json({}), FunctionError: 'Unhandled' }).resolves(json({ ok: true, version: '3' })), '1 of 20 requests failed'],
  ['live-alias', 'an unhealthy alias', () => lambda.on(InvokeCommand, { FunctionName: 'sample' }).resolves(json({ ok: false, version: '3' })), 'the live alias is unhealthy'],
  ['deployments', 'an alias left on a failed version', () => lambda.on(GetAliasCommand).resolves({ FunctionVersion: '4' }), 'the alias points at version 4, but the last successful deployment d-1 shifted it to 3'],
])('%s fails on %s', async (step, _name, breakIt, message) => {
  breakIt();
  const error = await run(step).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  expect((error as Error).message).toContain(message);
});
