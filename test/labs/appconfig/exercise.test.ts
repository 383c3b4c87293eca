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
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);

const OUTPUTS = {
  ApplicationId: IDS.application,
  EnvironmentId: IDS.environment,
  FlagsProfileId: IDS.flags,
  CheckoutProfileId: IDS.checkout,
  DeploymentStrategyId: IDS.strategy,
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
function agentAnswer(): { version: number; body: string } {
  const created = fake.listVersions(IDS.flags);
  const version = agentServes === 'deployed' ? fake.served(IDS.flags).version : agentServes === 'last created' ? Math.max(...created) : agentServes;
  const content = fake.versions.get(IDS.flags)?.get(version) ?? '{"values":{}}';
  return { version, body: JSON.stringify(JSON.parse(content).values) };
}

/** Wires the SDK doubles to a fresh fake AppConfig with `faults`, and the data plane to a stand-in polling every `pollSeconds`. */
function wire(faults: FakeFaults = {}, pollSeconds = SESSION_POLL_SECONDS, dataPlaneFaults: DataPlaneFaults = {}): void {
  virtualNow = Date.parse('2026-01-01T00:00:00Z');
  fake = new FakeAppConfig(faults);
  fake.deployed.set(IDS.flags, fake.createVersion(IDS.flags, JSON.stringify(betaSearchFlags(APPCONFIG_LAB.initialFlags))));
  fake.deployed.set(IDS.checkout, fake.createVersion(IDS.checkout, JSON.stringify(APPCONFIG_LAB.initialCheckout)));
  agentServes = 'deployed';
  dataPlane = new DataPlaneStandIn(pollSeconds, dataPlaneFaults);
  appconfig.reset();
  appconfig
    .on(CreateHostedConfigurationVersionCommand)
    .callsFake((input) => ({ VersionNumber: fake.createVersion(input.ConfigurationProfileId, Buffer.from(input.Content).toString('utf8')) }))
    .on(DeleteHostedConfigurationVersionCommand)
    .callsFake((input) => void fake.deleteVersion(input.ConfigurationProfileId, input.VersionNumber))
    .on(ValidateConfigurationCommand)
    .callsFake(async (input) => fake.validate(input.ConfigurationProfileId, Number(input.ConfigurationVersion)).then(() => ({})))
    .on(StartDeploymentCommand)
    .callsFake(async (input) => ({ DeploymentNumber: await fake.startDeployment(input.ConfigurationProfileId, Number(input.ConfigurationVersion)) }))
    .on(GetDeploymentCommand)
    .callsFake((input) => fake.look(input.DeploymentNumber));
  cloudwatch.reset();
  cloudwatch.on(SetAlarmStateCommand).callsFake((input) => void fake.setAlarm(input.StateValue));
  // The data plane serves what the fake deployed, as the agent does.
  const servedByDataPlane = {
    send: (command: unknown) => {
      const { version, body } = agentAnswer();
      dataPlane.deployed = { version: String(version), content: body };
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

const options = (outputs: Record<string, string> = OUTPUTS): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  provide: [provide(timing, APPCONFIG_LAB.exerciseTiming), provide(clock, virtualClock)],
});
const step = (id: string) => steps.filter((s) => s.id === id);
const failureOf = (id: string, outputs?: Record<string, string>) => runExercise(step(id), options(outputs)).then(() => undefined, (error: unknown) => error as Error);

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
  await runExercise(steps, options());
  // rollout: version 2 reached every target; rollback: version 3 was rolled back, version 2 still served.
  expect(fake.deployments.map((d) => [d.version, d.state])).toEqual([
    [2, 'COMPLETE'],
    [3, 'ROLLED_BACK'],
  ]);
  expect(fake.served(IDS.flags).version).toBe(2);
  expect(fake.alarm).toBe('OK');
  // validators: the three checkout versions the step created were deleted.
  expect([...(fake.versions.get(IDS.checkout)?.keys() ?? [])]).toEqual([1]);
  expect(lines).toContainEqual(expect.stringContaining('alice=on (on the allow list), carol=off (not on the allow list), mallory=off (on the block list)'));
  expect(lines).toContainEqual(expect.stringContaining('data plane, read 3 after 16 s: empty body = unchanged'));
});

test('rollback: CloudWatch puts the alarm back to OK before AppConfig looks; the step sets it again until the rollback', async () => {
  wire();
  await runExercise(step('rollback'), options());
  expect(fake.alarmsSet).toBe(2);
  expect(fake.deployments.map((d) => [d.version, d.state])).toEqual([[2, 'ROLLED_BACK']]);
  expect(lines).toContainEqual(expect.stringContaining('set rollback-alarm to ALARM again (CloudWatch may have put it back to OK)'));
});

describe('each check fails when the lab misbehaves', () => {
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

  test('rollout: a function whose agent keeps serving the old version', async () => {
    wire();
    agentServes = 1;
    expect((await failureOf('rollout'))?.message).toBe('the flag reader still did not serve version 2 30 s after the deployment completed');
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
    expect((await failureOf('rollback'))?.message).toBe('deployment 1 ended COMPLETE, not ROLLED_BACK, with its alarm in ALARM');
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
    expect(fake.deployments.map((d) => d.state)).toEqual(['ROLLED_BACK']);
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
