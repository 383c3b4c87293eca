import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AppConfigClient,
  CreateHostedConfigurationVersionCommand,
  DeleteHostedConfigurationVersionCommand,
  GetDeploymentCommand,
  StartDeploymentCommand,
  ValidateConfigurationCommand,
} from '@aws-sdk/client-appconfig';
import { AppConfigDataClient, GetLatestConfigurationCommand, StartConfigurationSessionCommand } from '@aws-sdk/client-appconfigdata';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as flagReader } from '../../../lambda/appconfig-flag-reader';
import { ConfigurationSession } from '../../../lambda/appconfig-session-reader';
import { APPCONFIG_LAB, betaSearchFlags } from '../../../labs/appconfig/constants';
import { clock, ExerciseClock, steps, timing } from '../../../labs/appconfig/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, LabNotReady, provide, runExercise } from '../../../labs/support/exercise';
import { DataPlaneFaults, DataPlaneStandIn } from './data-plane-stand-in';
import { FakeAppConfig, FakeFaults, IDS } from './fake-appconfig';

const appconfig = mockClient(AppConfigClient);
const appconfigData = mockClient(AppConfigDataClient);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);

const OUTPUTS = {
  ApplicationId: IDS.application,
  EnvironmentId: IDS.liveEnvironment,
  DevEnvironmentId: IDS.devEnvironment,
  FlagsProfileId: IDS.flags,
  CheckoutProfileId: IDS.checkout,
  DeploymentStrategyId: IDS.strategy,
  ImmediateStrategyId: IDS.immediateStrategy,
  FlagReaderFunctionName: 'flag-reader',
  SessionReaderFunctionName: 'session-reader',
  RollbackAlarmName: 'rollback-alarm',
};
/** The session's minimum poll interval, which AppConfig hands back as the wait before the next poll. */
const SESSION_POLL_SECONDS: number = APPCONFIG_LAB.extensionPollIntervalSeconds;

/** The steps' waits, with the lab's own figures, pass on a virtual clock: nothing sleeps. */
let virtualNow: number;
const virtualClock: ExerciseClock = {
  now: () => virtualNow,
  pause: async (seconds) => void (virtualNow += seconds * 1000),
};

let fake: FakeAppConfig;
/**
 * What the agent stand-in serves: what is deployed; or, for a broken agent, always the version given (it stopped
 * polling) or the last version created (it took a new version and never went back).
 */
let agentServes: number | 'deployed' | 'last created';
let agent: Server;
let dataPlane: DataPlaneStandIn;
/** The session reader's state in its one execution environment: a new one per test. */
let session: ConfigurationSession;
const lines: string[] = [];

/** What the agent serves for the feature-flag profile: the flags' values, without their definitions. */
function agentAnswer(): { version: number; body: string; label?: string } {
  const created = fake.listVersions(IDS.flags);
  const version = agentServes === 'deployed' ? fake.served(IDS.flags).version : agentServes === 'last created' ? Math.max(...created) : agentServes;
  const content = fake.versions.get(IDS.flags)?.get(version) ?? '{"values":{}}';
  return { version, body: JSON.stringify(JSON.parse(content).values), label: fake.labelOf(IDS.flags, version) };
}

/** Wires the SDK doubles to a fresh fake AppConfig with `faults`, and the data plane to a stand-in polling every `pollSeconds`. */
function wire(faults: FakeFaults = {}, pollSeconds = SESSION_POLL_SECONDS, dataPlaneFaults: DataPlaneFaults = {}): void {
  virtualNow = Date.parse('2026-01-01T00:00:00Z');
  fake = new FakeAppConfig(faults);
  fake.deployEverywhere(IDS.flags, fake.createVersion(IDS.flags, JSON.stringify(betaSearchFlags(APPCONFIG_LAB.initialFlags))));
  fake.deployEverywhere(IDS.checkout, fake.createVersion(IDS.checkout, JSON.stringify(APPCONFIG_LAB.initialCheckout)));
  agentServes = 'deployed';
  dataPlane = new DataPlaneStandIn(pollSeconds, dataPlaneFaults);
  appconfig.reset();
  appconfig
    .on(CreateHostedConfigurationVersionCommand)
    .callsFake((input) => ({ VersionNumber: fake.createVersion(input.ConfigurationProfileId, Buffer.from(input.Content).toString('utf8'), input.VersionLabel) }))
    .on(DeleteHostedConfigurationVersionCommand)
    .callsFake((input) => void fake.deleteVersion(input.ConfigurationProfileId, input.VersionNumber))
    .on(ValidateConfigurationCommand)
    .callsFake(async (input) => fake.validate(input.ConfigurationProfileId, Number(input.ConfigurationVersion)).then(() => ({})))
    .on(StartDeploymentCommand)
    .callsFake(async (input) => ({
      DeploymentNumber: await fake.startDeployment(input.EnvironmentId, input.ConfigurationProfileId, Number(input.ConfigurationVersion), input.DeploymentStrategyId),
    }))
    .on(GetDeploymentCommand)
    .callsFake((input) => fake.look(input.EnvironmentId, input.DeploymentNumber));
  // The exercise's own data-plane sessions: each token serves the flags of the environment its session named.
  const sessionsDataPlane = new DataPlaneStandIn(pollSeconds);
  const environmentOfToken = new Map<string, string>();
  appconfigData.reset();
  appconfigData
    .on(StartConfigurationSessionCommand)
    .callsFake(async (input) => {
      const started = (await sessionsDataPlane.send(new StartConfigurationSessionCommand(input))) as { InitialConfigurationToken: string };
      environmentOfToken.set(started.InitialConfigurationToken, input.EnvironmentIdentifier);
      return started;
    })
    .on(GetLatestConfigurationCommand)
    .callsFake(async (input) => {
      const environment = environmentOfToken.get(input.ConfigurationToken) ?? '';
      const { version, content, label } = fake.served(IDS.flags, environment);
      sessionsDataPlane.deployed = { version: String(version), content: JSON.stringify(JSON.parse(content).values), label };
      const latest = (await sessionsDataPlane.send(new GetLatestConfigurationCommand(input))) as { NextPollConfigurationToken: string };
      environmentOfToken.set(latest.NextPollConfigurationToken, environment);
      return latest;
    });
  cloudwatch.reset();
  cloudwatch.on(SetAlarmStateCommand).callsFake((input) => void fake.setAlarm(input.StateValue));
  // The data plane serves what the fake deployed, as the agent does.
  const servedByDataPlane = {
    send: (command: unknown) => {
      const { version, body, label } = agentAnswer();
      dataPlane.deployed = { version: String(version), content: body, label };
      return dataPlane.send(command);
    },
  };
  session = new ConfigurationSession(
    servedByDataPlane as never,
    { application: 'shop', environment: 'live', profile: 'flags', minimumPollIntervalSeconds: SESSION_POLL_SECONDS },
    () => virtualNow,
  );
  lambda.reset();
  lambda.on(InvokeCommand).callsFake(async (input) => {
    const payload = JSON.parse(Buffer.from(input.Payload).toString('utf8'));
    const run = input.FunctionName === 'flag-reader' ? () => flagReader(payload) : () => session.read();
    return run().then(
      (result) => ({ Payload: Buffer.from(JSON.stringify(result)) }),
      (error: Error) => ({ FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorMessage: error.message })) }),
    );
  });
}

const options = (outputs: Record<string, string> = OUTPUTS, runId?: string): ExerciseRunOptions => ({
  outputs,
  runId,
  log: (line) => lines.push(line),
  provide: [provide(timing, APPCONFIG_LAB.exerciseTiming), provide(clock, virtualClock)],
});
const step = (id: string) => steps.filter((s) => s.id === id);
const failureOf = (id: string, outputs?: Record<string, string>) => runExercise(step(id), options(outputs, 'run-x')).then(() => undefined, (error: unknown) => error as Error);
/** The deployments the exercise started: after the stack's own (version 1 of each profile to each environment). */
const exerciseDeployments = () => fake.deployments.slice(4);

beforeAll(async () => {
  agent = createServer((_request, response) => {
    const { version, body } = agentAnswer();
    response.writeHead(200, { 'Content-Type': 'application/json', 'Configuration-Version': String(version), Connection: 'close' });
    response.end(body);
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String((agent.address() as AddressInfo).port),
    APPCONFIG_APPLICATION: 'AppconfigLab-shop',
    APPCONFIG_ENVIRONMENT: 'AppconfigLab-live',
    APPCONFIG_PROFILE: 'AppconfigLab-flags',
    FLAG_NAME: 'beta-search',
    MAX_MAINTENANCE_WINDOW_HOURS: String(APPCONFIG_LAB.maxMaintenanceWindowHours),
  });
});
afterAll(() => {
  const closed = new Promise<void>((resolve) => agent.close(() => resolve()));
  agent.closeAllConnections();
  return closed;
});
beforeEach(() => (lines.length = 0));

test('every step passes its own checks against the doubles, in order', async () => {
  wire();
  await runExercise(steps, options(OUTPUTS, 'run-a'));
  // environments: version 2 in dev only; rollout: version 3 reached live; rollback: version 4 rolled back, 3 still served.
  // Numbered per environment, after the stack's two in each.
  expect(exerciseDeployments().map((d) => [d.environment, d.number, d.version, d.state])).toEqual([
    [IDS.devEnvironment, 3, 2, 'COMPLETE'],
    [IDS.liveEnvironment, 3, 3, 'COMPLETE'],
    [IDS.liveEnvironment, 4, 4, 'ROLLED_BACK'],
  ]);
  expect(fake.served(IDS.flags).version).toBe(3);
  expect(fake.served(IDS.flags, IDS.devEnvironment).version).toBe(2);
  expect(fake.alarm).toBe('OK');
  // validators: the three checkout versions the step created were deleted.
  expect([...(fake.versions.get(IDS.checkout)?.keys() ?? [])]).toEqual([1]);
  expect(lines).toEqual([
    '\n== 1/5 read: read the flag through the agent extension and through the data-plane session',
    'through the agent extension (version 1): alice=off (flag off), carol=off (flag off), mallory=off (flag off)',
    'data plane, read 1: first, label (none), next poll in 15 s',
    'data plane, read 2 at once: cached, no call (AppConfig asked for 15 s between polls)',
    'data plane, read 3 after 16 s: empty body = unchanged, cached configuration kept;',
    '  token …00000002 spent, …00000003 to use next (a token is good for one call)',
    '\n== 2/5 environments: a version tried in dev, deployed at once, while live keeps the version it has',
    'live, through a new data-plane session: label (none), beta-search off',
    'created flags version 2, label dev-trial-run-a (beta search on for the allow list); deployment 3 to dev started with the immediate strategy',
    '  dev: COMPLETE 100 %',
    'dev, through a new data-plane session: label dev-trial-run-a, beta-search on',
    'live, through a new data-plane session: label (none), beta-search off',
    'one profile, a version per environment: dev serves version 2, live what was deployed to it; a version reaches live only by a deployment to live (step rollout, gradual)',
    '\n== 3/5 rollout: deploy a flag change gradually and watch it reach the function (allow and block lists)',
    'created flags version 3 (allowList alice, mallory; blockList mallory)',
    'deployment 3 started with the lab\'s strategy (linear, 50 % per step, 2 min, bake 2 min)',
    '  0.0 s: DEPLOYING 50 %; the function serves version 1',
    '  10.0 s: BAKING 100 %; the function serves version 3',
    '  20.0 s: COMPLETE 100 %; the function serves version 3',
    'version 3 reached the function without a code deployment: alice=on (on the allow list), carol=off (not on the allow list), mallory=off (on the block list)',
    '\n== 4/5 validators: the JSON Schema and the Lambda validator refuse bad checkout settings',
    'version 2 (discount 15 %) passes both validators (ValidateConfiguration)',
    'version 2 (discount 80 %): StartDeployment refused by the JSON Schema (maximum 50): {"message":"Validation failed for the configuration","details":{"InvalidConfiguration":[{"Type":"JSON_SCHEMA","Location":"/discountPercent","Constraint":"maximum","Reason":"must be <= 50"}]}}',
    'version 2 (window 04:00–03:00, valid for the schema): refused by the Lambda validator: {"message":"Validation failed for the configuration","details":{"InvalidConfiguration":[{"Type":"LAMBDA","Reason":"maintenanceWindow.start (04:00) must be before maintenanceWindow.end (03:00) on the same day"}]}}',
    'the refused versions were deleted; nothing reached the environment',
    '\n== 5/5 rollback: an alarm in ALARM during a deployment rolls it back (-c appconfig:rollback-alarm=true)',
    'deployment 4 of version 4 (beta search for everyone) started; the function serves version 3',
    '  0.0 s: DEPLOYING 50 %',
    '  set rollback-alarm to ALARM while the deployment runs',
    '  10.0 s: BAKING 100 %',
    '  set rollback-alarm to ALARM again (CloudWatch may have put it back to OK)',
    '  20.0 s: ROLLED_BACK 0 %',
    'rolled back: "Rollback initiated"',
    'the function serves version 3 again: alice=on (on the allow list), carol=off (not on the allow list), mallory=off (on the block list)',
  ]);
});

test('rollback: CloudWatch puts the alarm back to OK before AppConfig looks; the step sets it again until the rollback', async () => {
  wire();
  await runExercise(step('rollback'), options());
  expect(fake.alarmsSet).toBe(2);
  expect(exerciseDeployments().map((d) => [d.version, d.state])).toEqual([[2, 'ROLLED_BACK']]);
  expect(lines).toContainEqual(expect.stringContaining('set rollback-alarm to ALARM again (CloudWatch may have put it back to OK)'));
});

test('the steps create, deploy and alarm in the name of the run, each client at its own service\'s endpoint', async () => {
  wire();
  const endpoints = {
    AWS_ENDPOINT_URL_APPCONFIG: 'http://appconfig.test',
    AWS_ENDPOINT_URL_APPCONFIGDATA: 'http://appconfigdata.test',
    AWS_ENDPOINT_URL_LAMBDA: 'http://lambda.test',
    AWS_ENDPOINT_URL_CLOUDWATCH: 'http://monitoring.test',
  };
  Object.assign(process.env, endpoints);
  try {
    await runExercise(steps, options(OUTPUTS, 'run-t'));
  } finally {
    for (const name of Object.keys(endpoints)) delete process.env[name];
  }
  const created = appconfig.commandCalls(CreateHostedConfigurationVersionCommand).map((c) => c.args[0].input);
  expect(created.map(({ ContentType, Description }) => [ContentType, Description])).toEqual(Array(6).fill(['application/json', 'appconfig lab exercise run-t']));
  // Only the version tried in dev is labelled: the data plane names it by its label, never by its number.
  expect(created.map(({ VersionLabel }) => VersionLabel)).toEqual(['dev-trial-run-t', undefined, undefined, undefined, undefined, undefined]);
  expect(appconfig.commandCalls(StartDeploymentCommand).map((c) => c.args[0].input.Description)).toEqual(Array(5).fill('appconfig lab exercise run-t'));
  // Dev at once, live with the lab's strategy.
  expect(appconfig.commandCalls(StartDeploymentCommand).map((c) => [c.args[0].input.EnvironmentId, c.args[0].input.DeploymentStrategyId]).slice(0, 2)).toEqual([
    [IDS.devEnvironment, IDS.immediateStrategy],
    [IDS.liveEnvironment, IDS.strategy],
  ]);
  // Live before, dev, live after: a new session each.
  expect(appconfigData.commandCalls(StartConfigurationSessionCommand).map((c) => c.args[0].input)).toEqual(
    [IDS.liveEnvironment, IDS.devEnvironment, IDS.liveEnvironment].map((environment) => ({
      ApplicationIdentifier: IDS.application,
      EnvironmentIdentifier: environment,
      ConfigurationProfileIdentifier: IDS.flags,
      RequiredMinimumPollIntervalInSeconds: SESSION_POLL_SECONDS,
    })),
  );
  expect(appconfig.commandCalls(ValidateConfigurationCommand).map((c) => c.args[0].input)).toEqual([{ ApplicationId: IDS.application, ConfigurationProfileId: IDS.checkout, ConfigurationVersion: '2' }]);
  expect(cloudwatch.commandCalls(SetAlarmStateCommand).map((c) => [c.args[0].input.StateValue, c.args[0].input.StateReason])).toEqual([
    ['ALARM', 'appconfig lab exercise run-t'],
    ['ALARM', 'appconfig lab exercise run-t'],
    ['OK', 'appconfig lab exercise done'],
  ]);
  const hostOf = async (call: { thisValue: unknown }) => (await (call.thisValue as AppConfigClient).config.endpoint!()).hostname;
  expect(await hostOf(appconfig.commandCalls(StartDeploymentCommand)[0])).toBe('appconfig.test');
  expect(await hostOf(appconfigData.commandCalls(StartConfigurationSessionCommand)[0])).toBe('appconfigdata.test');
  expect(await hostOf(lambda.commandCalls(InvokeCommand)[0])).toBe('lambda.test');
  expect(await hostOf(cloudwatch.commandCalls(SetAlarmStateCommand)[0])).toBe('monitoring.test');
});

describe('each check fails when the lab misbehaves', () => {
  type Answer = Record<string, unknown> & { decisions?: Record<string, unknown>; tokens?: { spent: string; next: string }; configurationVersion?: string };
  /** The functions answer as wired, except `functionName`, whose n-th answer (from 1) passes through `edit`. */
  function answersOf(functionName: string, edit: (answer: Answer, nth: number) => object): void {
    let nth = 0;
    lambda.on(InvokeCommand).callsFake(async (input) => {
      const answer = (input.FunctionName === 'flag-reader' ? await flagReader(JSON.parse(Buffer.from(input.Payload).toString('utf8'))) : await session.read()) as unknown as Answer;
      return { Payload: Buffer.from(JSON.stringify(input.FunctionName === functionName ? edit(answer, (nth += 1)) : answer)) };
    });
  }
  /** GetDeployment answers as the fake looks, with the n-th look's fields replaced by `looks[n]` (the last one repeats). */
  function looks(...replaced: object[]): void {
    let nth = 0;
    appconfig.on(GetDeploymentCommand).callsFake((input) => ({ ...fake.look(input.EnvironmentId, input.DeploymentNumber), ...replaced[Math.min(nth++, replaced.length - 1)] }));
  }
  const refusal = (message: string) => Object.assign(new Error(message), { name: 'BadRequestException' });
  const flagReaderCalls = () => lambda.commandCalls(InvokeCommand).filter((c) => c.args[0].input.FunctionName === 'flag-reader').length;

  test.each<[string, string, () => void, string]>([
    ['read', 'a flag reader answering for another flag', () => answersOf('flag-reader', (a) => ({ ...a, flag: 'other-flag' })), 'the flag reader returned no beta-search flag: {"flag":"other-flag"'],
    ['read', 'a flag whose value is not a switch', () => answersOf('flag-reader', (a) => ({ ...a, value: { enabled: 'yes' } })), 'the flag reader returned no beta-search flag: {"flag":"beta-search","configurationVersion":"1","value":{"enabled":"yes"}'],
    ['read', 'a flag reader deciding for some users only', () => answersOf('flag-reader', (a) => ({ ...a, decisions: { ...a.decisions, carol: undefined } })), 'the flag reader decided for alice, mallory, not for alice, carol, mallory'],
    ['read', 'a cached read that spent a token', () => answersOf('session-reader', (a, nth) => (nth === 2 ? { ...a, tokens: { spent: '…1', next: '…2' } } : a)), 'a read within the poll interval called AppConfig (cached)'],
    ['read', 'a second read that changed without a token', () => answersOf('session-reader', (a, nth) => (nth === 2 ? { ...a, outcome: 'changed', tokens: undefined } : a)), 'a read within the poll interval called AppConfig (changed)'],
    ['read', 'a cached read of another configuration', () => answersOf('session-reader', (a, nth) => (nth === 2 ? { ...a, configuration: { other: true } } : a)), 'the cached read returned another configuration'],
    ['read', 'a third read without tokens', () => answersOf('session-reader', (a, nth) => (nth === 3 ? { ...a, tokens: undefined } : a)), 'GetLatestConfiguration did not hand out a new token'],
    ['read', 'a third read spending another token than read 1 received', () => answersOf('session-reader', (a, nth) => (nth === 3 ? { ...a, tokens: { ...a.tokens, spent: '…99999999' } } : a)), 'read 3 spent …99999999, not the token read 1 received (…00000002)'],
    ['environments', 'a deployment to dev rolled back', () => looks({ State: 'ROLLED_BACK', PercentageComplete: 0 }), 'the deployment to dev ended ROLLED_BACK, not COMPLETE'],
    ['environments', 'dev serving the version it had', () => appconfigData.on(GetLatestConfigurationCommand).resolves({ Configuration: Buffer.from('{"beta-search":{"enabled":false}}') as never }), 'dev serves label (none), beta-search off, not version 2 (label dev-trial-run-x) deployed there'],
    ['environments', 'dev serving the flag off under the new version', () => appconfigData.on(GetLatestConfigurationCommand).resolves({ VersionLabel: 'dev-trial-run-x', Configuration: Buffer.from('{"beta-search":{"enabled":false}}') as never }), 'dev serves label dev-trial-run-x, beta-search off: version 2 has beta-search on'],
    ['environments', 'dev serving no flags at all', () => appconfigData.on(GetLatestConfigurationCommand).resolves({ VersionLabel: 'dev-trial-run-x', Configuration: Buffer.from('{}') as never }), 'dev serves label dev-trial-run-x, no beta-search flag: version 2 has beta-search on'],
    ['rollout', 'a deployment rolled back', () => looks({ State: 'DEPLOYING', PercentageComplete: 50 }, { State: 'ROLLED_BACK', PercentageComplete: 0 }), 'deployment 3 ended ROLLED_BACK, not COMPLETE'],
    ['rollout', 'a deployment reverted', () => looks({ State: 'DEPLOYING', PercentageComplete: 50 }, { State: 'REVERTED', PercentageComplete: 50 }), 'deployment 3 ended REVERTED, not COMPLETE'],
    ['rollout', 'a deployment jumping from 0 to 100 %', () => looks({ State: 'DEPLOYING', PercentageComplete: 0 }, { State: 'BAKING', PercentageComplete: 100 }, { State: 'COMPLETE', PercentageComplete: 100 }), 'the deployment never showed a step between 0 and 100 % (saw 0, 100, 100): not gradual'],
    ['rollout', 'a percentage going back', () => looks({ State: 'DEPLOYING', PercentageComplete: 50 }, { State: 'DEPLOYING', PercentageComplete: 40 }, { State: 'COMPLETE', PercentageComplete: 100 }), 'the percentage went back during the rollout: 50, 40, 100'],
    ['rollout', 'mallory switched on', () => answersOf('flag-reader', (a) => (a.configurationVersion === '2' ? { ...a, decisions: { ...a.decisions, mallory: { on: true, reason: 'made up' } } } : a)), 'mallory should be off, the function says {"on":true,"reason":"made up"}'],
    ['rollout', 'alice left off', () => answersOf('flag-reader', (a) => (a.configurationVersion === '2' ? { ...a, decisions: { ...a.decisions, alice: { on: false, reason: 'made up' } } } : a)), 'alice should be on, the function says {"on":false,"reason":"made up"}'],
    ['rollout', 'no decision for carol', () => answersOf('flag-reader', (a) => (a.configurationVersion === '2' ? { ...a, decisions: { ...a.decisions, carol: undefined } } : a)), 'carol should be off, the function says undefined'],
    ['validators', 'a refusal that does not name the field', () => appconfig.on(StartDeploymentCommand).rejects(refusal('refused')), 'the refusal does not name discountPercent: {"message":"refused","details":null}'],
    ['validators', 'a window refused by something else than the Lambda validator', () => appconfig.on(StartDeploymentCommand).rejects(refusal('refused: discountPercent')), 'the refusal is not the Lambda validator\'s: {"message":"refused: discountPercent","details":null}'],
    ['rollback', 'an alarm-triggered event that is not a rollback start', () => appconfig.on(GetDeploymentCommand).callsFake((input) => { const look = fake.look(input.EnvironmentId, input.DeploymentNumber); return look.State === 'ROLLED_BACK' ? { ...look, EventLog: [{ EventType: 'ROLLBACK_COMPLETED', TriggeredBy: 'CLOUDWATCH_ALARM' }] } : look; }), 'the event log shows no rollback started by the alarm: [{"EventType":"ROLLBACK_COMPLETED","TriggeredBy":"CLOUDWATCH_ALARM"}]'],
  ])('%s: %s', async (id, _name, breakIt, message) => {
    wire();
    breakIt();
    const failure = await failureOf(id);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toContain(message);
  });

  test('read: a failing flag reader is named with what it answered', async () => {
    wire();
    lambda.on(InvokeCommand, { FunctionName: 'flag-reader' }).callsFake(() => ({ FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"boom"}') }));
    expect((await failureOf('read'))?.message).toBe('flag-reader failed: {"errorMessage":"boom"}');
  });

  test('read: a first read without tokens (a warm session) is not compared with read 3', async () => {
    wire();
    answersOf('session-reader', (a, nth) => (nth === 1 ? { ...a, tokens: undefined } : a));
    await expect(runExercise(step('read'), options())).resolves.toBeUndefined();
  });

  test('rollout: a deployment that never ends is looked at every poll until the deadline, not after', async () => {
    wire();
    looks({ State: 'DEPLOYING', PercentageComplete: 50 });
    const shortDeadline = { ...options(), provide: [provide(timing, { ...APPCONFIG_LAB.exerciseTiming, deploymentPollSeconds: 10, deploymentDeadlineSeconds: 30 }), provide(clock, virtualClock)] };
    const failure = await runExercise(step('rollout'), shortDeadline).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('deployment 3 is still DEPLOYING after 30 s');
    // At 0, 10, 20 and 30 s: the look at the deadline is the last.
    expect(appconfig.commandCalls(GetDeploymentCommand)).toHaveLength(4);
  });

  test('rollback: a deployment that ends before the alarm could be set leaves the alarm alone', async () => {
    wire();
    looks({ State: 'COMPLETE', PercentageComplete: 100 });
    expect((await failureOf('rollback'))?.message).toBe('deployment 3 ended COMPLETE before the exercise could set the alarm');
    expect(cloudwatch.commandCalls(SetAlarmStateCommand)).toEqual([]);
  });
  test('read: a reader that calls AppConfig on every read instead of caching within the poll interval', async () => {
    wire({}, 0);
    expect((await failureOf('read'))?.message).toBe('a read within the poll interval called AppConfig (unchanged)');
  });

  test('read: a data plane that does not rotate the token', async () => {
    wire({}, SESSION_POLL_SECONDS, { reusesTokens: true });
    expect((await failureOf('read'))?.message).toBe('GetLatestConfiguration did not hand out a new token');
  });

  test('read: a data plane that sends the configuration again on every poll', async () => {
    wire({}, SESSION_POLL_SECONDS, { resendsConfiguration: true });
    expect((await failureOf('read'))?.message).toBe('after the poll interval, with no deployment running, the read was changed, not unchanged');
  });

  test('rollout: a strategy that deploys all at once', async () => {
    wire({ allAtOnce: true });
    const failure = await failureOf('rollout');
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('the deployment never showed a step between 0 and 100 % (saw 100, 100): not gradual');
  });

  test('environments: a stack whose DevEnvironmentId names live lets the deployment "to dev" reach live', async () => {
    wire();
    expect((await failureOf('environments', { ...OUTPUTS, DevEnvironmentId: IDS.liveEnvironment }))?.message).toBe(
      'live serves label dev-trial-run-x, beta-search on after a deployment to dev only; before it, label (none), beta-search off',
    );
  });

  test('rollout: a function whose agent keeps serving the old version', async () => {
    wire();
    agentServes = 1;
    expect((await failureOf('rollout'))?.message).toBe('the flag reader still did not serve version 2 30 s after the deployment completed');
    // 3 looks at the deployment, then reads every 10 s poll until 30 s have passed: at 0, 10, 20 and 30 s.
    expect(flagReaderCalls()).toBe(3 + 4);
  });

  test('validators: a profile without validators lets the bad discount deploy', async () => {
    wire({ validators: 'none' });
    expect((await failureOf('validators'))?.message).toBe('deploying a discount of 80 % succeeded, but it should have been refused');
  });

  test('validators: a profile without the Lambda validator lets the backwards window deploy', async () => {
    wire({ validators: 'schema only' });
    expect((await failureOf('validators'))?.message).toBe('deploying a window that ends before it starts succeeded, but it should have been refused');
    expect(lines).toContainEqual(expect.stringContaining('refused by the JSON Schema (maximum 50)'));
  });

  test('rollback: an environment without the alarm as monitor completes the deployment', async () => {
    wire({ noMonitor: true });
    expect((await failureOf('rollback'))?.message).toBe('deployment 3 ended COMPLETE, not ROLLED_BACK, with its alarm in ALARM');
    expect(fake.alarm).toBe('OK');
  });

  test('rollback: a rollback the alarm did not start (someone stopped the deployment)', async () => {
    wire({ rollbackTrigger: 'USER' });
    expect((await failureOf('rollback'))?.message).toMatch(/^the event log shows no rollback started by the alarm: \[/);
  });

  test('rollback: a function whose agent keeps serving the version that was rolled back', async () => {
    wire();
    agentServes = 'last created';
    expect((await failureOf('rollback'))?.message).toBe('after the rollback the function does not serve version 1 again');
    expect(exerciseDeployments().map((d) => d.state)).toEqual(['ROLLED_BACK']);
  });

  test('rollback: without the feature, the step says how to deploy the alarm', async () => {
    wire();
    const withoutAlarm: Record<string, string> = { ...OUTPUTS };
    delete withoutAlarm.RollbackAlarmName;
    const failure = await failureOf('rollback', withoutAlarm);
    expect(failure).toBeInstanceOf(LabNotReady);
    expect(failure?.message).toBe('the rollback step needs the alarm: npx cdk deploy AppconfigLab -c appconfig:rollback-alarm=true');
  });
});
