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

describe('what the hook makes of each answer', () => {
  const deploymentOf = (content: string) => codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { revision: { appSpecContent: { content } } } });

  test('asks CodeDeploy for this deployment, and logs what it checks', async () => {
    const logged = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    await expect(hooks.handler(EVENT)).resolves.toStrictEqual({ status: 'Succeeded', reported: true });
    expect(codedeploy.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: DEPLOYMENT_ID }]);
    expect(logged.mock.calls).toEqual([
      ['checking', { hook: 'BeforeAllowTraffic', deploymentId: DEPLOYMENT_ID, name: 'app-fn', alias: 'live', currentVersion: '3', targetVersion: '4' }],
      ['hook succeeded', { deploymentId: DEPLOYMENT_ID }],
    ]);
  });

  test('BeforeAllowTraffic does not look at the alias, which still points at the old version', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '3' });
    await expect(hooks.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
  });

  test('a deployment of another function with the same alias is Failed', async () => {
    deploymentOf(appSpec({ Name: 'other-fn' }));
    const { reason } = await hooks.handler(EVENT);
    expect(reason).toBe(`deployment ${DEPLOYMENT_ID} targets other-fn:live; this hook checks app-fn:live`);
  });

  test.each(['app-fn:4', 'arn:aws:lambda:us-east-1:123456789012:function:app-fn:live'])('the function named with a qualifier (%s) is the one configured', async (name) => {
    deploymentOf(appSpec({ Name: name }));
    await expect(hooks.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
  });

  test.each<[string, string]>([
    ['', 'the AppSpec must list exactly one resource under Resources'],
    ['{"Resources": {}}', 'the AppSpec must list exactly one resource under Resources'],
    ['{"Resources": []}', 'the AppSpec must list exactly one resource under Resources'],
    [appSpec().replace('"Resources":[', '"Resources":[{"other":{"Type":"AWS::Lambda::Function"}},'), 'the AppSpec must list exactly one resource under Resources'],
    ['{"Resources": [{}]}', 'the AppSpec resource is a nothing, not an AWS::Lambda::Function'],
    ['{"Resources": [{"app": {"Type": "AWS::Lambda::Function", "Properties": {"Name": "app-fn", "CurrentVersion": 3}}}]}', 'the AppSpec resource lacks Alias, TargetVersion'],
  ])('the AppSpec %j is refused', (content, message) => {
    expect(() => hooks.targetFromAppSpec(content)).toThrow(new Error(message));
  });

  test('an AppSpec that does not parse keeps the parser\'s error as the cause', () => {
    let failure: unknown;
    try {
      hooks.targetFromAppSpec('Resources: [');
    } catch (error) {
      failure = error;
    }
    expect((failure as Error).message).toMatch(/^the deployment's AppSpec is not valid YAML\/JSON: /);
    expect((failure as Error).cause).toMatchObject({ name: 'YAMLException' });
  });

  test('a deployment CodeDeploy describes without a revision is Failed with the reason', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({});
    const { reason } = await hooks.handler(EVENT);
    expect(reason).toBe(`the check could not run: Error: deployment ${DEPLOYMENT_ID} has no inline AppSpec (revision type unknown)`);
  });

  test.each<[string, object, string]>([
    ['an empty payload', { StatusCode: 200 }, '4 answered with something that is not JSON: '],
    ['null', payload(null), '4 reported itself unhealthy: null'],
    ['a long function error', { ...payload({ errorMessage: 'e'.repeat(1000) }), FunctionError: 'Unhandled' }, `4 returned a function error (Unhandled): ${JSON.stringify({ errorMessage: 'e'.repeat(1000) }).slice(0, 300)}`],
    ['a long page that is not JSON', { StatusCode: 200, Payload: Buffer.from('<'.repeat(1000)) }, `4 answered with something that is not JSON: ${'<'.repeat(300)}`],
    ['a long unhealthy answer', payload({ ok: false, detail: 'd'.repeat(1000) }), `4 reported itself unhealthy: ${JSON.stringify({ ok: false, detail: 'd'.repeat(1000) }).slice(0, 300)}`],
  ])('a health check answered with %s is Failed, quoting at most 300 characters', async (_name, response, problem) => {
    lambda.on(InvokeCommand).resolves(response as never);
    const { reason } = await hooks.handler(EVENT);
    expect(reason).toBe(`health check 1/3: ${problem}`);
  });

  test.each([
    ['on the target version with weight left on another', { FunctionVersion: '4', RoutingConfig: { AdditionalVersionWeights: { '3': 0.5 } } }, 'alias live points at version 4 with extra weights {"3":0.5}'],
    ['wholly on the old version', { FunctionVersion: '3' }, 'alias live points at version 3 with extra weights {}'],
  ])('AfterAllowTraffic: an alias %s is Failed, and no health check runs', async (_name, alias, message) => {
    configure('AfterAllowTraffic');
    lambda.on(GetAliasCommand).resolves(alias);
    const { reason } = await hooks.handler(EVENT);
    expect(reason).toBe(`${message}; expected all traffic on 4`);
    expect(lambda.commandCalls(GetAliasCommand).map((c) => c.args[0].input)).toEqual([{ FunctionName: 'app-fn', Name: 'live' }]);
    expect(invoked()).toHaveLength(0);
  });
});

describe('the event and the report', () => {
  test.each([
    [{ DeploymentId: [DEPLOYMENT_ID], LifecycleEventHookExecutionId: 'x' }, `DeploymentId must look like d-XXXXXXXXX, got ["${DEPLOYMENT_ID}"]`],
    [{ DeploymentId: `x${DEPLOYMENT_ID}`, LifecycleEventHookExecutionId: 'x' }, `DeploymentId must look like d-XXXXXXXXX, got "x${DEPLOYMENT_ID}"`],
    [{ DeploymentId: `${DEPLOYMENT_ID}J`, LifecycleEventHookExecutionId: 'x' }, `DeploymentId must look like d-XXXXXXXXX, got "${DEPLOYMENT_ID}J"`],
  ])('%j is not a hook event', (event, message) => {
    expect(() => hooks.parseEvent(event)).toThrow(new hooks.InvalidHookEvent(message));
    expect(() => hooks.parseEvent(event)).toThrow(expect.objectContaining({ name: 'InvalidHookEvent' }));
  });

  test('a refused report names the deployment and CodeDeploy\'s reason, as a HookReportFailed', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(new Error('LifecycleEventAlreadyCompletedException'));
    const failure = await hooks.handler(EVENT).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      name: 'HookReportFailed',
      message: `could not report the hook status of deployment ${DEPLOYMENT_ID}: LifecycleEventAlreadyCompletedException`,
    });
  });
});

describe('configFromEnvironment: HEALTH_CHECK_INVOCATIONS from 1 to 50', () => {
  const env = (invocations?: string) => ({ HOOK: 'AfterAllowTraffic', TARGET_FUNCTION_NAME: 'f', TARGET_ALIAS_NAME: 'live', HEALTH_CHECK_INVOCATIONS: invocations });

  test.each([['1', 1], ['50', 50]])('%s is accepted', (invocations, expected) => {
    expect(hooks.configFromEnvironment(env(invocations)).invocations).toBe(expected);
  });

  test('51 is refused, and so is a missing alias', () => {
    expect(() => hooks.configFromEnvironment(env('51'))).toThrow(new hooks.InvalidHookConfig('HEALTH_CHECK_INVOCATIONS must be a whole number from 1 to 50, got 51'));
    expect(() => hooks.configFromEnvironment({ HOOK: 'AfterAllowTraffic', TARGET_FUNCTION_NAME: 'f' })).toThrow(
      new hooks.InvalidHookConfig('TARGET_FUNCTION_NAME and TARGET_ALIAS_NAME must be set'),
    );
  });
});
