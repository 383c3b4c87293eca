import { Logger } from '@aws-lambda-powertools/logger';
import {
  CodeDeployClient,
  GetDeploymentCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as hooks from '../../lambda/deploy-hooks';

// CodeDeploy has no local engine: the SDK calls are mocked; the checks, the parsing and the reporting are real.
const codedeploy = mockClient(CodeDeployClient);
const lambda = mockClient(LambdaClient);
const errors: unknown[][] = [];

const DEPLOYMENT_ID = 'd-ABCDEFGHI';
const EVENT = { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: 'hook-execution-1' };
const appSpec = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: 0.0,
    Resources: [{ app: { Type: 'AWS::Lambda::Function', Properties: { Name: 'app-fn', Alias: 'live', CurrentVersion: '3', TargetVersion: '4', ...overrides } } }],
    Hooks: [{ BeforeAllowTraffic: 'before' }, { AfterAllowTraffic: 'after' }],
  });
const payload = (body: unknown) => ({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(body)) as never });
const reported = () => codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input);
const invoked = () => lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input as InvokeCommandInput);

function configure(hook: hooks.HookName) {
  Object.assign(process.env, { HOOK: hook, TARGET_FUNCTION_NAME: 'app-fn', TARGET_ALIAS_NAME: 'live', HEALTH_CHECK_INVOCATIONS: '3' });
}

beforeEach(() => {
  codedeploy.reset();
  lambda.reset();
  errors.length = 0;
  jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec() } } } });
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'hook-execution-1' });
  lambda.on(InvokeCommand).resolves(payload({ ok: true, version: '4' }));
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '4' });
  configure('BeforeAllowTraffic');
});
afterEach(() => jest.restoreAllMocks());

describe('BeforeAllowTraffic', () => {
  test('a healthy target version: invokes version 4 itself three times, reports Succeeded', async () => {
    await expect(hooks.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(invoked().map((i) => [i.FunctionName, i.Qualifier])).toEqual([['app-fn', '4'], ['app-fn', '4'], ['app-fn', '4']]);
    expect(JSON.parse(Buffer.from(invoked()[0].Payload as Uint8Array).toString())).toMatchObject({ healthCheck: true });
    expect(reported()).toEqual([{ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: 'hook-execution-1', status: 'Succeeded' }]);
  });

  test.each([
    ['reports itself unhealthy', payload({ ok: false, version: '4' }), 'reported itself unhealthy'],
    ['throws (function error)', { ...payload({ errorType: 'Error' }), FunctionError: 'Unhandled' }, 'returned a function error (Unhandled)'],
    ['answers from another version', payload({ ok: true, version: '3' }), 'was answered by version 3, expected version 4'],
    ['answers something that is not JSON', { StatusCode: 200, Payload: Buffer.from('<html>') as never }, 'is not JSON'],
  ])('an unhealthy new version that %s is reported Failed', async (_name, response, reason) => {
    lambda.on(InvokeCommand).resolves(response);
    const result = await hooks.handler(EVENT);
    expect(result.status).toBe('Failed');
    expect(result.reason).toContain(reason);
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
    expect(invoked()).toHaveLength(1); // stops at the first failed check
    expect(errors[0][1]).toMatchObject({ reason: expect.stringContaining(reason) });
  });

  test('a deployment of another function or alias is Failed, and nothing is invoked', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { revision: { appSpecContent: { content: appSpec({ Alias: 'beta' }) } } } });
    const result = await hooks.handler(EVENT);
    expect(result).toMatchObject({ status: 'Failed', reported: true });
    expect(result.reason).toContain('targets app-fn:beta; this hook checks app-fn:live');
    expect(invoked()).toHaveLength(0);
  });

  test('an AppSpec given as YAML and a function named by ARN are understood', async () => {
    const yaml = [
      'version: 0.0',
      'Resources:',
      '  - app:',
      '      Type: AWS::Lambda::Function',
      '      Properties: { Name: "arn:aws:lambda:us-east-1:123456789012:function:app-fn", Alias: live, CurrentVersion: 3, TargetVersion: 4 }',
    ].join('\n');
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { revision: { appSpecContent: { content: yaml } } } });
    await expect(hooks.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
  });

  test.each([
    ['no inline AppSpec', { revision: { revisionType: 'S3' } }, 'has no inline AppSpec (revision type S3)'],
    ['a broken AppSpec', { revision: { appSpecContent: { content: 'Resources: [' } } }, 'is not valid YAML/JSON'],
    ['an ECS AppSpec', { revision: { appSpecContent: { content: '{"Resources":[{"x":{"Type":"AWS::ECS::Service"}}]}' } } }, 'not an AWS::Lambda::Function'],
    ['no TargetVersion', { revision: { appSpecContent: { content: appSpec({ TargetVersion: '' }) } } }, 'lacks TargetVersion'],
  ])('a deployment with %s is Failed with the reason', async (_name, deploymentInfo, reason) => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: deploymentInfo as never });
    const result = await hooks.handler(EVENT);
    expect(result).toMatchObject({ status: 'Failed', reported: true });
    expect(result.reason).toContain(reason);
  });

  test('an SDK error during the checks is a Failed, not an unhandled rejection', async () => {
    lambda.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const result = await hooks.handler(EVENT);
    expect(result).toMatchObject({ status: 'Failed', reported: true });
    expect(result.reason).toBe('the check could not run: TooManyRequestsException: Rate exceeded');
  });

  test('a misconfigured hook reports Failed instead of throwing', async () => {
    process.env.HOOK = 'Sometime';
    const result = await hooks.handler(EVENT);
    expect(result.status).toBe('Failed');
    expect(result.reason).toContain('HOOK must be BeforeAllowTraffic or AfterAllowTraffic');
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });
});

describe('AfterAllowTraffic', () => {
  beforeEach(() => configure('AfterAllowTraffic'));

  test('all traffic on the target version: invokes the alias, reports Succeeded', async () => {
    await expect(hooks.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(invoked().map((i) => i.Qualifier)).toEqual(['live', 'live', 'live']);
    expect(reported()).toEqual([expect.objectContaining({ status: 'Succeeded' })]);
  });

  test('an alias still split between versions is Failed', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3', RoutingConfig: { AdditionalVersionWeights: { '4': 0.1 } } });
    const result = await hooks.handler(EVENT);
    expect(result.status).toBe('Failed');
    expect(result.reason).toContain('alias live points at version 3 with extra weights {"4":0.1}');
    expect(invoked()).toHaveLength(0);
  });

  test('an unhealthy answer through the alias on the third call is Failed', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce(payload({ ok: true, version: '4' }))
      .resolvesOnce(payload({ ok: true, version: '4' }))
      .resolves({ ...payload({ errorMessage: 'boom' }), FunctionError: 'Unhandled' });
    const result = await hooks.handler(EVENT);
    expect(result.reason).toMatch(/^health check 3\/3: live returned a function error/);
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });
});

describe('bad events', () => {
  test.each([
    [null, 'the event must be a JSON object'],
    ['d-ABCDEFGHI', 'the event must be a JSON object'],
    [[EVENT], 'the event must be a JSON object'],
    [{}, 'DeploymentId must look like d-XXXXXXXXX, got undefined'],
    [{ DeploymentId: 'not-a-deployment', LifecycleEventHookExecutionId: 'x' }, 'DeploymentId must look like d-XXXXXXXXX'],
    [{ DeploymentId: DEPLOYMENT_ID }, 'LifecycleEventHookExecutionId must be a non-empty string'],
    [{ DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: '' }, 'LifecycleEventHookExecutionId must be a non-empty string'],
  ])('%j resolves to Failed with a logged reason, calls nothing', async (event, reason) => {
    const result = await hooks.handler(event);
    expect(result).toMatchObject({ status: 'Failed', reported: false });
    expect(result.reason).toContain(reason);
    expect(errors).toEqual([[expect.stringContaining(reason), { event }]]);
    expect(codedeploy.calls()).toHaveLength(0);
    expect(lambda.calls()).toHaveLength(0);
  });
});

test('when CodeDeploy refuses the status, the handler rejects with HookReportFailed so Lambda retries it', async () => {
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(new Error('LifecycleEventAlreadyCompletedException'));
  await expect(hooks.handler(EVENT)).rejects.toThrow(new hooks.HookReportFailed(DEPLOYMENT_ID, new Error('LifecycleEventAlreadyCompletedException')));
});

describe('configFromEnvironment', () => {
  test.each<[Record<string, string>, string]>([
    [{ HOOK: 'AfterAllowTraffic', TARGET_ALIAS_NAME: 'live' }, 'TARGET_FUNCTION_NAME and TARGET_ALIAS_NAME must be set'],
    [{ HOOK: 'AfterAllowTraffic', TARGET_FUNCTION_NAME: 'f', TARGET_ALIAS_NAME: 'live', HEALTH_CHECK_INVOCATIONS: '0' }, 'HEALTH_CHECK_INVOCATIONS must be a whole number from 1 to 50'],
    [{ HOOK: 'AfterAllowTraffic', TARGET_FUNCTION_NAME: 'f', TARGET_ALIAS_NAME: 'live', HEALTH_CHECK_INVOCATIONS: '2.5' }, 'HEALTH_CHECK_INVOCATIONS must be a whole number from 1 to 50'],
  ])('%j is refused', (env, message) => {
    expect(() => hooks.configFromEnvironment(env)).toThrow(new hooks.InvalidHookConfig(`${message}${message.startsWith('HEALTH') ? `, got ${env.HEALTH_CHECK_INVOCATIONS}` : ''}`));
  });

  test('defaults to 3 health checks', () => {
    expect(hooks.configFromEnvironment({ HOOK: 'BeforeAllowTraffic', TARGET_FUNCTION_NAME: 'f', TARGET_ALIAS_NAME: 'a' }).invocations).toBe(3);
  });
});
