import { AppConfigDataClient, GetLatestConfigurationCommand, StartConfigurationSessionCommand } from '@aws-sdk/client-appconfigdata';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigurationSession, handler } from '../../lambda/appconfig-session-reader';
import { DataPlaneStandIn } from '../labs/appconfig/data-plane-stand-in';

const target = { application: 'shop', environment: 'live', profile: 'flags', minimumPollIntervalSeconds: 15 };

function session(standIn: DataPlaneStandIn) {
  let now = 1_000_000;
  const reader = new ConfigurationSession(standIn, target, () => now);
  return { reader, advance: (seconds: number) => (now += seconds * 1000) };
}

test('first read starts a session and returns the configuration; a read within the interval calls nothing', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"beta-search":{"enabled":false}}', label: 'v1' };
  const { reader, advance } = session(standIn);
  const first = await reader.read();
  expect(first).toMatchObject({ outcome: 'first', configuration: { 'beta-search': { enabled: false } }, versionLabel: 'v1', nextPollInSeconds: 15, sessionsStarted: 1 });
  advance(14);
  const second = await reader.read();
  expect(second).toMatchObject({ outcome: 'cached', tokens: undefined, nextPollInSeconds: 1 });
  expect(standIn.calls).toEqual(['StartConfigurationSession', 'GetLatestConfiguration']);
});

test('each poll spends the token the last one received; an empty body keeps the cached configuration', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}', label: 'v1' };
  const { reader, advance } = session(standIn);
  const first = await reader.read();
  advance(15);
  const second = await reader.read();
  expect(second.outcome).toBe('unchanged');
  expect(second.configuration).toEqual({ a: 1 });
  expect(second.versionLabel).toBe('v1');
  expect(second.tokens?.spent).toBe(first.tokens?.next);
  expect(second.tokens?.next).not.toBe(second.tokens?.spent);
  expect(standIn.calls.filter((c) => c === 'StartConfigurationSession')).toHaveLength(1);
});

test('a new version arrives as a non-empty body at the next poll', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}', label: 'v1' };
  const { reader, advance } = session(standIn);
  await reader.read();
  standIn.deployed = { version: '2', content: '{"a":2}', label: 'v2' };
  expect((await reader.read()).configuration).toEqual({ a: 1 }); // still inside the interval: cached
  advance(15);
  expect(await reader.read()).toMatchObject({ outcome: 'changed', configuration: { a: 2 }, versionLabel: 'v2' });
});

test('an expired token starts a new session, which returns the configuration again', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}', label: 'v1' };
  const { reader, advance } = session(standIn);
  await reader.read();
  standIn.expireTokens();
  advance(15);
  const read = await reader.read();
  expect(read).toMatchObject({ outcome: 'changed', configuration: { a: 1 }, sessionsStarted: 2 });
  expect(standIn.calls).toEqual(['StartConfigurationSession', 'GetLatestConfiguration', 'GetLatestConfiguration', 'StartConfigurationSession', 'GetLatestConfiguration']);
});

test('a reader that reused a spent token would be refused by the contract', async () => {
  const standIn = new DataPlaneStandIn(15);
  const { GetLatestConfigurationCommand } = await import('@aws-sdk/client-appconfigdata');
  const { reader } = session(standIn);
  const first = await reader.read();
  expect(first.tokens).toBeDefined();
  const spentToken = `token-1-${first.tokens?.spent.slice(1)}`;
  await expect(standIn.send(new GetLatestConfigurationCommand({ ConfigurationToken: spentToken }))).rejects.toThrow('invalid or expired configuration token');
});

/** A client whose answers a test writes: the session's token, then one answer per GetLatestConfiguration. */
function scriptedClient(...answers: (object | Error)[]) {
  const inputs: unknown[] = [];
  const send = async (command: { input: unknown }) => {
    inputs.push(command.input);
    if (command instanceof StartConfigurationSessionCommand) return { InitialConfigurationToken: 'initial-token-0123456789' };
    const answer = answers.shift();
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { client: { send } as unknown as AppConfigDataClient, inputs };
}
const body = (text: string) => new TextEncoder().encode(text);

test('asks for the session the target names, waits the interval each answer sets, and shows only the tokens\' last 8 characters', async () => {
  const { client, inputs } = scriptedClient({ NextPollConfigurationToken: 'next-token-abcdefghij', NextPollIntervalInSeconds: 60, Configuration: body('{"a":1}'), VersionLabel: 'v1' });
  const read = await new ConfigurationSession(client, target, () => 0).read();
  expect(inputs).toEqual([
    { ApplicationIdentifier: 'shop', EnvironmentIdentifier: 'live', ConfigurationProfileIdentifier: 'flags', RequiredMinimumPollIntervalInSeconds: 15 },
    { ConfigurationToken: 'initial-token-0123456789' },
  ]);
  expect(read).toMatchObject({ outcome: 'first', tokens: { spent: '…23456789', next: '…cdefghij' }, nextPollInSeconds: 60 });
});

test('until a configuration has arrived, every read polls, even within the interval', async () => {
  const { client, inputs } = scriptedClient({ NextPollConfigurationToken: 'token-2', NextPollIntervalInSeconds: 15 }, { NextPollConfigurationToken: 'token-3', Configuration: body('{"a":1}') });
  const reader = new ConfigurationSession(client, target, () => 0);
  expect(await reader.read()).toMatchObject({ outcome: 'unchanged', configuration: undefined });
  expect(await reader.read()).toMatchObject({ outcome: 'first', configuration: { a: 1 } });
  expect(inputs).toHaveLength(3);
});

test('an error other than an expired token is thrown, without starting a new session', async () => {
  const { client, inputs } = scriptedClient(new Error('Rate exceeded'), new Error('Rate exceeded'));
  await expect(new ConfigurationSession(client, target, () => 0).read()).rejects.toThrow('Rate exceeded');
  expect(inputs).toHaveLength(2);
});

test('the handler keeps one session per execution environment, for the target its environment names', async () => {
  const appconfigdata = mockClient(AppConfigDataClient);
  const environment = { APPCONFIG_APPLICATION: 'shop', APPCONFIG_ENVIRONMENT: 'live', APPCONFIG_PROFILE: 'flags', MINIMUM_POLL_INTERVAL_SECONDS: '20' };
  Object.assign(process.env, environment);
  try {
    appconfigdata.on(StartConfigurationSessionCommand).resolves({ InitialConfigurationToken: 'token-1' });
    appconfigdata.on(GetLatestConfigurationCommand).resolves({ NextPollConfigurationToken: 'token-2', Configuration: body('{"a":1}') as never });
    expect(await handler()).toMatchObject({ outcome: 'first', configuration: { a: 1 }, nextPollInSeconds: 20, sessionsStarted: 1 });
    expect(await handler()).toMatchObject({ outcome: 'cached', sessionsStarted: 1 });
    expect(appconfigdata.commandCalls(StartConfigurationSessionCommand).map((call) => call.args[0].input)).toEqual([
      { ApplicationIdentifier: 'shop', EnvironmentIdentifier: 'live', ConfigurationProfileIdentifier: 'flags', RequiredMinimumPollIntervalInSeconds: 20 },
    ]);
  } finally {
    appconfigdata.restore();
    for (const name of Object.keys(environment)) delete process.env[name];
  }
});
