import { Logger } from '@aws-lambda-powertools/logger';
import {
  CodeDeployClient,
  GetDeploymentCommand,
  GetDeploymentTargetCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeTaskSetsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import * as hook from '../../lambda/deploy-hooks/ecs';
import { HookReportFailed, InvalidHookConfig } from '../../lambda/deploy-hooks/lifecycle';

// CodeDeploy and ECS have no local engine: their SDK calls are mocked. The test listener is a real HTTP server on
// 127.0.0.1 whose answers each test chooses, so the hook's requests, timeouts and connection errors are real.
const codedeploy = mockClient(CodeDeployClient);
const ecs = mockClient(ECSClient);
const errors: unknown[][] = [];

const DEPLOYMENT_ID = 'd-ABCDEFGHI';
const EVENT = { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: 'hook-execution-1' };
const TARGET_ID = 'lab-cluster:web-service';
const BLUE_TASK_SET = 'arn:aws:ecs:us-east-1:123456789012:task-set/lab-cluster/web-service/ecs-svc/1111111111111111111';
const GREEN_TASK_SET = 'arn:aws:ecs:us-east-1:123456789012:task-set/lab-cluster/web-service/ecs-svc/2222222222222222222';
const GREEN_TASK_DEFINITION = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web-family:7';

type Answer = (request: IncomingMessage, response: ServerResponse) => void;
const json =
  (status: number, body: unknown): Answer =>
  (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const text =
  (status: number, body: string, headers: Record<string, string> = {}): Answer =>
  (_request, response) =>
    response.writeHead(status, { 'content-type': 'text/plain', ...headers }).end(body);
const GREEN = json(200, { taskDefinition: 'web-family:7', release: 'abc1234' });
const BLUE = json(200, { taskDefinition: 'web-family:6', release: '0ld0ld0' });
/** Answers the n-th request with the n-th answer, and every later one with the last. */
const inTurn = (...answers: Answer[]): Answer => {
  let next = 0;
  return (request, response) => answers[Math.min(next++, answers.length - 1)](request, response);
};

let answer: Answer;
const received: { method?: string; url?: string }[] = [];
const server = createServer((request, response) => {
  received.push({ method: request.method, url: request.url });
  answer(request, response);
});
const listen = (s: Server) => new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
let testUrl: string;

beforeAll(async () => {
  testUrl = `http://127.0.0.1:${await listen(server)}/version.json`;
});
afterAll(async () => {
  server.closeAllConnections(); // the timeout test leaves a request the server never answered
  await new Promise((resolve) => server.close(resolve));
});

function configure(overrides: Record<string, string | undefined> = {}) {
  const environment = {
    HOOK: 'AfterAllowTestTraffic',
    TEST_URL: testUrl,
    REQUESTS: '3',
    EXPECT_TASK_DEFINITION: 'true',
    APPLICATION_NAME: 'web-app',
    DEPLOYMENT_GROUP_NAME: 'web-group',
    CLUSTER_NAME: 'lab-cluster',
    SERVICE_NAME: 'web-service',
    REQUEST_TIMEOUT_MS: undefined,
    ...overrides,
  };
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

const reported = () => codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input);
const taskSetsInfo = (...labels: ('Blue' | 'Green')[]) =>
  labels.map((label) => ({ taskSetLabel: label, identifer: label === 'Blue' ? BLUE_TASK_SET : GREEN_TASK_SET }));

beforeEach(() => {
  codedeploy.reset();
  ecs.reset();
  errors.length = 0;
  received.length = 0;
  jest.spyOn(Logger.prototype, 'error').mockImplementation((...args: unknown[]) => void errors.push(args));
  codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'web-app', deploymentGroupName: 'web-group' } });
  codedeploy.on(ListDeploymentTargetsCommand).resolves({ targetIds: [TARGET_ID] });
  codedeploy.on(GetDeploymentTargetCommand).resolves({ deploymentTarget: { ecsTarget: { targetId: TARGET_ID, taskSetsInfo: taskSetsInfo('Blue', 'Green') } } });
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({ lifecycleEventHookExecutionId: 'hook-execution-1' });
  ecs.on(DescribeTaskSetsCommand).resolves({ taskSets: [{ taskSetArn: GREEN_TASK_SET, taskDefinition: GREEN_TASK_DEFINITION }] });
  answer = GREEN;
  configure();
});
afterEach(() => jest.restoreAllMocks());

describe('a healthy green task set', () => {
  test('every request through the test listener names its task definition: Succeeded, reported for this hook execution', async () => {
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(received).toEqual(Array(3).fill({ method: 'GET', url: '/version.json' }));
    expect(reported()).toEqual([{ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: 'hook-execution-1', status: 'Succeeded' }]);
    // The expected task definition comes from the Green task set of this deployment's one target.
    expect(codedeploy.commandCalls(GetDeploymentTargetCommand)[0].args[0].input).toEqual({ deploymentId: DEPLOYMENT_ID, targetId: TARGET_ID });
    expect(ecs.commandCalls(DescribeTaskSetsCommand).map((c) => c.args[0].input)).toEqual([
      { cluster: 'lab-cluster', service: 'web-service', taskSets: [GREEN_TASK_SET] },
    ]);
    expect(errors).toEqual([]);
  });

  test('any body that contains <family>:<revision> will do, JSON or not', async () => {
    answer = text(200, '<p>running web-family:7</p>');
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
  });

  test('EXPECT_TASK_DEFINITION=false only requires 2xx answers, and asks neither for targets nor ECS', async () => {
    configure({ EXPECT_TASK_DEFINITION: 'false', REQUESTS: '2' });
    answer = text(204, '');
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(received).toHaveLength(2);
    expect(codedeploy.commandCalls(ListDeploymentTargetsCommand)).toHaveLength(0);
    expect(codedeploy.commandCalls(GetDeploymentTargetCommand)).toHaveLength(0);
    expect(ecs.calls()).toHaveLength(0);
  });
});

describe('answers that fail the deployment', () => {
  test.each<[string, Answer, number, (url: string) => string]>([
    ['HTTP 503 on the second request', inTurn(GREEN, text(503, 'upstream unhealthy')), 2, (url) => `request 2/3 to ${url}: HTTP 503: "upstream unhealthy"`],
    ['a redirect, which is not followed off the test listener', text(302, '', { location: 'http://127.0.0.1:1/elsewhere' }), 1, (url) => `request 1/3 to ${url}: HTTP 302`],
    [
      'the old blue task definition on the third request',
      inTurn(GREEN, GREEN, BLUE),
      3,
      (url) => `request 3/3 to ${url}: answered by task definition web-family:6, expected web-family:7: "{\\"taskDefinition\\":\\"web-family:6\\",\\"release\\":\\"0ld0ld0\\"}"`,
    ],
    ['a body that names no task definition', text(200, 'OK'), 1, (url) => `request 1/3 to ${url}: the answer does not name task definition web-family:7: "OK"`],
  ])('%s is Failed with the reason, and no request follows', async (_name, given, requests, reason) => {
    answer = given;
    const result = await hook.handler(EVENT);
    expect(result).toEqual({ status: 'Failed', reason: reason(testUrl), reported: true });
    expect(received).toHaveLength(requests);
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
    expect(errors).toEqual([['hook failed', { deploymentId: DEPLOYMENT_ID, reason: reason(testUrl) }]]);
  });

  test('a long body is quoted only in part', async () => {
    answer = text(500, 'x'.repeat(1000));
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`request 1/3 to ${testUrl}: HTTP 500: "${'x'.repeat(200)}…"`);
  });

  test('a listener that never answers times out after REQUEST_TIMEOUT_MS', async () => {
    configure({ REQUEST_TIMEOUT_MS: '200' });
    answer = () => undefined;
    const result = await hook.handler(EVENT);
    expect(result).toEqual({ status: 'Failed', reason: `request 1/3 to ${testUrl}: timed out after 0.2 s`, reported: true });
    expect(received).toHaveLength(1);
  });

  test('a refused connection is Failed with the socket error', async () => {
    const closed = createServer();
    const port = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${port}/version.json`;
    configure({ TEST_URL: url });
    const result = await hook.handler(EVENT);
    expect(result).toEqual({ status: 'Failed', reason: `request 1/3 to ${url}: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})`, reported: true });
  });
});

describe('deployments the hook refuses before sending any request', () => {
  test.each([
    ['another deployment group', { applicationName: 'web-app', deploymentGroupName: 'other-group' }, 'web-app/other-group'],
    ['another application', { applicationName: 'other-app', deploymentGroupName: 'web-group' }, 'other-app/web-group'],
  ])('a deployment of %s is Failed', async (_name, deploymentInfo, belongsTo) => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo });
    const result = await hook.handler(EVENT);
    expect(result).toEqual({
      status: 'Failed',
      reason: `deployment ${DEPLOYMENT_ID} belongs to ${belongsTo}; this hook checks web-app/web-group`,
      reported: true,
    });
    expect(received).toHaveLength(0);
    expect(codedeploy.commandCalls(ListDeploymentTargetsCommand)).toHaveLength(0);
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
  });

  test.each([
    ['only a Blue task set', { ecsTarget: { taskSetsInfo: taskSetsInfo('Blue') } }, '(task sets: Blue)'],
    ['a Green task set without its ARN', { ecsTarget: { taskSetsInfo: [...taskSetsInfo('Blue'), { taskSetLabel: 'Green' as const }] } }, '(task sets: Blue, Green)'],
    ['no ECS target at all', { lambdaTarget: { targetId: 'fn:live' } }, '(task sets: none)'],
  ])('a target with %s is Failed', async (_name, deploymentTarget, sets) => {
    codedeploy.on(GetDeploymentTargetCommand).resolves({ deploymentTarget });
    const result = await hook.handler(EVENT);
    expect(result).toMatchObject({ status: 'Failed', reported: true });
    expect(result.reason).toBe(`deployment target ${TARGET_ID} has no Green task set with an ARN ${sets}`);
    expect(ecs.calls()).toHaveLength(0);
    expect(received).toHaveLength(0);
  });

  test.each([
    ['two targets', { targetIds: [TARGET_ID, 'lab-cluster:other-service'] }, 'has 2'],
    ['no target', { targetIds: [] }, 'has 0'],
    ['a second page of targets', { targetIds: [TARGET_ID], nextToken: 'more' }, 'has 1 and more'],
  ])('a deployment with %s is Failed', async (_name, listed, found) => {
    codedeploy.on(ListDeploymentTargetsCommand).resolves(listed);
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`expected exactly one deployment target (the ECS service), deployment ${DEPLOYMENT_ID} ${found}`);
    expect(received).toHaveLength(0);
  });

  test('a Green task set ECS cannot describe is Failed with the ECS failure', async () => {
    ecs.on(DescribeTaskSetsCommand).resolves({ taskSets: [], failures: [{ arn: GREEN_TASK_SET, reason: 'MISSING' }] });
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`ECS could not describe the Green task set ${GREEN_TASK_SET} of lab-cluster/web-service: MISSING`);
    expect(received).toHaveLength(0);
  });

  test('a task definition that is not an ARN is Failed, not guessed at', async () => {
    ecs.on(DescribeTaskSetsCommand).resolves({ taskSets: [{ taskDefinition: 'web-family:7' }] });
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe('the check could not run: Error: "web-family:7" is not a task definition ARN');
  });

  test.each([
    ['CodeDeploy', () => codedeploy.on(GetDeploymentCommand), 'AccessDeniedException'],
    ['ECS', () => ecs.on(DescribeTaskSetsCommand), 'ClusterNotFoundException'],
  ])('a %s SDK error is a Failed, not an unhandled rejection', async (_name, command, errorName) => {
    command().rejects(Object.assign(new Error('no can do'), { name: errorName }));
    const result = await hook.handler(EVENT);
    expect(result).toEqual({ status: 'Failed', reason: `the check could not run: ${errorName}: no can do`, reported: true });
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
    expect(received).toHaveLength(0);
  });
});

describe('configuration', () => {
  test.each<[Record<string, string | undefined>, string]>([
    [{ HOOK: 'AfterAllowTraffic' }, 'HOOK must be AfterAllowTestTraffic, got "AfterAllowTraffic"'],
    [{ TEST_URL: undefined }, 'TEST_URL must be set'],
    [{ TEST_URL: '/version.json' }, 'TEST_URL must be a full http(s) URL, got "/version.json"'],
    [{ TEST_URL: 'my-alb:8080/version.json' }, 'TEST_URL must be an http or https URL, got "my-alb:8080/version.json"'],
    [{ TEST_URL: 'ftp://my-alb/version.json' }, 'TEST_URL must be an http or https URL, got "ftp://my-alb/version.json"'],
    [{ REQUESTS: '0' }, 'REQUESTS must be a whole number from 1 to 50, got "0"'],
    [{ REQUESTS: '51' }, 'REQUESTS must be a whole number from 1 to 50, got "51"'],
    [{ REQUESTS: '2.5' }, 'REQUESTS must be a whole number from 1 to 50, got "2.5"'],
    [{ REQUESTS: '1e1' }, 'REQUESTS must be a whole number from 1 to 50, got "1e1"'],
    [{ EXPECT_TASK_DEFINITION: 'yes' }, 'EXPECT_TASK_DEFINITION must be true or false, got "yes"'],
    [{ REQUEST_TIMEOUT_MS: '0' }, 'REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 1 to 60000, got "0"'],
    [{ DEPLOYMENT_GROUP_NAME: '' }, 'DEPLOYMENT_GROUP_NAME must be set'],
    [{ CLUSTER_NAME: undefined }, 'CLUSTER_NAME must be set'],
  ])('%j is reported Failed with the configuration problem, before any call or request', async (overrides, message) => {
    configure(overrides);
    const result = await hook.handler(EVENT);
    expect(result).toEqual({ status: 'Failed', reason: `the check could not run: InvalidHookConfig: ${message}`, reported: true });
    expect(reported()).toEqual([expect.objectContaining({ status: 'Failed' })]);
    expect(codedeploy.commandCalls(GetDeploymentCommand)).toHaveLength(0);
    expect(received).toHaveLength(0);
  });

  test('every problem is named at once', () => {
    expect(() => hook.configFromEnvironment({ REQUESTS: 'many' })).toThrow(
      new InvalidHookConfig(
        'HOOK must be AfterAllowTestTraffic, got undefined; TEST_URL must be set; REQUESTS must be a whole number from 1 to 50, got "many"; ' +
          'APPLICATION_NAME must be set; DEPLOYMENT_GROUP_NAME must be set; CLUSTER_NAME must be set; SERVICE_NAME must be set',
      ),
    );
  });

  test('defaults: 3 requests, no task definition check, 5 s per request', () => {
    const required = {
      HOOK: 'AfterAllowTestTraffic',
      TEST_URL: 'https://my-alb-123.us-east-1.elb.amazonaws.com:8443/version.json',
      APPLICATION_NAME: 'web-app',
      DEPLOYMENT_GROUP_NAME: 'web-group',
      CLUSTER_NAME: 'lab-cluster',
      SERVICE_NAME: 'web-service',
    };
    expect(hook.configFromEnvironment(required)).toEqual({
      hook: 'AfterAllowTestTraffic',
      testUrl: 'https://my-alb-123.us-east-1.elb.amazonaws.com:8443/version.json',
      requests: 3,
      expectTaskDefinition: false,
      applicationName: 'web-app',
      deploymentGroupName: 'web-group',
      clusterName: 'lab-cluster',
      serviceName: 'web-service',
      requestTimeoutMs: 5000,
    });
  });
});

describe('bad events', () => {
  test.each([
    [null, 'the event must be a JSON object'],
    [{ DeploymentId: 'not-a-deployment', LifecycleEventHookExecutionId: 'x' }, 'DeploymentId must look like d-XXXXXXXXX'],
    [{ DeploymentId: DEPLOYMENT_ID }, 'LifecycleEventHookExecutionId must be a non-empty string'],
  ])('%j resolves to Failed, not reported, with a logged reason; nothing is called or requested', async (event, reason) => {
    const result = await hook.handler(event);
    expect(result).toMatchObject({ status: 'Failed', reported: false });
    expect(result.reason).toContain(reason);
    expect(errors).toEqual([[expect.stringContaining(reason), { event }]]);
    expect(codedeploy.calls()).toHaveLength(0);
    expect(ecs.calls()).toHaveLength(0);
    expect(received).toHaveLength(0);
  });
});

test('when CodeDeploy refuses the status, the handler rejects with HookReportFailed so Lambda retries it', async () => {
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(new Error('LifecycleEventAlreadyCompletedException'));
  await expect(hook.handler(EVENT)).rejects.toThrow(new HookReportFailed(DEPLOYMENT_ID, new Error('LifecycleEventAlreadyCompletedException')));
  expect(received).toHaveLength(3); // the checks ran; only the report failed
});

describe('what the hook asks and makes of each answer', () => {
  test('asks CodeDeploy about this deployment and its targets, and logs what it checks', async () => {
    const logged = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
    expect(codedeploy.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: DEPLOYMENT_ID }]);
    expect(codedeploy.commandCalls(ListDeploymentTargetsCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: DEPLOYMENT_ID }]);
    expect(logged).toHaveBeenCalledWith('checking', { hook: 'AfterAllowTestTraffic', deploymentId: DEPLOYMENT_ID, testUrl, requests: 3, expectedMarker: 'web-family:7' });
  });

  test('a revision of two digits is expected whole', async () => {
    ecs.on(DescribeTaskSetsCommand).resolves({ taskSets: [{ taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web-family:17' }] });
    answer = json(200, { taskDefinition: 'web-family:17' });
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
  });

  test.each([`x${GREEN_TASK_DEFINITION}`, `${GREEN_TASK_DEFINITION}x`])('a task definition %s is not an ARN', async (taskDefinition) => {
    ecs.on(DescribeTaskSetsCommand).resolves({ taskSets: [{ taskDefinition }] });
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`the check could not run: Error: ${JSON.stringify(taskDefinition)} is not a task definition ARN`);
  });

  test('HTTP 299 is a 2xx answer', async () => {
    answer = json(299, { taskDefinition: 'web-family:7' });
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Succeeded', reported: true });
  });

  test('a body of exactly 200 characters is quoted whole', async () => {
    answer = text(500, 'x'.repeat(200));
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`request 1/3 to ${testUrl}: HTTP 500: "${'x'.repeat(200)}"`);
  });

  test('a JSON answer whose taskDefinition is not a string does not name one', async () => {
    answer = json(200, { taskDefinition: 6 });
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`request 1/3 to ${testUrl}: the answer does not name task definition web-family:7: "{\\"taskDefinition\\":6}"`);
  });

  test('a deployment CodeDeploy describes without details belongs to no known group', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({});
    const { reason } = await hook.handler(EVENT);
    expect(reason).toBe(`deployment ${DEPLOYMENT_ID} belongs to undefined/undefined; this hook checks web-app/web-group`);
  });

  test.each<[string, () => void, string]>([
    ['no target list', () => codedeploy.on(ListDeploymentTargetsCommand).resolves({}), `expected exactly one deployment target (the ECS service), deployment ${DEPLOYMENT_ID} has 0`],
    ['no deployment target', () => codedeploy.on(GetDeploymentTargetCommand).resolves({}), `deployment target ${TARGET_ID} has no Green task set with an ARN (task sets: none)`],
    [
      'a task set without a label',
      () => codedeploy.on(GetDeploymentTargetCommand).resolves({ deploymentTarget: { ecsTarget: { taskSetsInfo: [{ identifer: BLUE_TASK_SET }] } } }),
      `deployment target ${TARGET_ID} has no Green task set with an ARN (task sets: unlabelled)`,
    ],
    [
      'no task set and no failure from ECS',
      () => ecs.on(DescribeTaskSetsCommand).resolves({}),
      `ECS could not describe the Green task set ${GREEN_TASK_SET} of lab-cluster/web-service: no task set returned`,
    ],
    [
      'two failures from ECS, one with a detail',
      () => ecs.on(DescribeTaskSetsCommand).resolves({ failures: [{ reason: 'MISSING', detail: 'gone' }, { reason: 'INACTIVE' }] }),
      `ECS could not describe the Green task set ${GREEN_TASK_SET} of lab-cluster/web-service: MISSING (gone), INACTIVE`,
    ],
  ])('%s is Failed with the reason, before any request', async (_name, given, reason) => {
    given();
    await expect(hook.handler(EVENT)).resolves.toEqual({ status: 'Failed', reason, reported: true });
    expect(received).toHaveLength(0);
  });
});

describe('configuration at the edges', () => {
  const required = {
    HOOK: 'AfterAllowTestTraffic',
    TEST_URL: 'http://127.0.0.1/version.json',
    APPLICATION_NAME: 'web-app',
    DEPLOYMENT_GROUP_NAME: 'web-group',
    CLUSTER_NAME: 'lab-cluster',
    SERVICE_NAME: 'web-service',
  };

  test.each([
    [{ REQUESTS: '1', REQUEST_TIMEOUT_MS: '1' }, { requests: 1, requestTimeoutMs: 1 }],
    [{ REQUESTS: '50', REQUEST_TIMEOUT_MS: '60000' }, { requests: 50, requestTimeoutMs: 60_000 }],
  ])('%j is accepted', (given, expected) => {
    expect(hook.configFromEnvironment({ ...required, ...given })).toMatchObject(expected);
  });

  test('a REQUEST_TIMEOUT_MS over 60000 is refused', () => {
    expect(() => hook.configFromEnvironment({ ...required, REQUEST_TIMEOUT_MS: '60001' })).toThrow(
      new InvalidHookConfig('REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 1 to 60000, got "60001"'),
    );
  });
});
