import { ConfigurationSession } from '../../lambda/appconfig-session-reader';
import { DataPlaneStandIn } from '../labs/appconfig/data-plane-stand-in';

const target = { application: 'shop', environment: 'live', profile: 'flags', minimumPollIntervalSeconds: 15 };

function session(standIn: DataPlaneStandIn) {
  let now = 1_000_000;
  const reader = new ConfigurationSession(standIn, target, () => now);
  return { reader, advance: (seconds: number) => (now += seconds * 1000) };
}

test('first read starts a session and returns the configuration; a read within the interval calls nothing', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"beta-search":{"enabled":false}}' };
  const { reader, advance } = session(standIn);
  const first = await reader.read();
  expect(first).toMatchObject({ outcome: 'first', configuration: { 'beta-search': { enabled: false } }, versionLabel: '1', nextPollInSeconds: 15, sessionsStarted: 1 });
  advance(14);
  const second = await reader.read();
  expect(second).toMatchObject({ outcome: 'cached', tokens: undefined, nextPollInSeconds: 1 });
  expect(standIn.calls).toEqual(['StartConfigurationSession', 'GetLatestConfiguration']);
});

test('each poll spends the token the last one received; an empty body keeps the cached configuration', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}' };
  const { reader, advance } = session(standIn);
  const first = await reader.read();
  advance(15);
  const second = await reader.read();
  expect(second.outcome).toBe('unchanged');
  expect(second.configuration).toEqual({ a: 1 });
  expect(second.versionLabel).toBe('1');
  expect(second.tokens?.spent).toBe(first.tokens?.next);
  expect(second.tokens?.next).not.toBe(second.tokens?.spent);
  expect(standIn.calls.filter((c) => c === 'StartConfigurationSession')).toHaveLength(1);
});

test('a new version arrives as a non-empty body at the next poll', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}' };
  const { reader, advance } = session(standIn);
  await reader.read();
  standIn.deployed = { version: '2', content: '{"a":2}' };
  expect((await reader.read()).configuration).toEqual({ a: 1 }); // still inside the interval: cached
  advance(15);
  expect(await reader.read()).toMatchObject({ outcome: 'changed', configuration: { a: 2 }, versionLabel: '2' });
});

test('an expired token starts a new session, which returns the configuration again', async () => {
  const standIn = new DataPlaneStandIn(15);
  standIn.deployed = { version: '1', content: '{"a":1}' };
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
