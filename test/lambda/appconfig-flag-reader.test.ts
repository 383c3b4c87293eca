import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { agentUrl, decide, handler } from '../../lambda/appconfig-flag-reader';

/** A stand-in of the AppConfig agent: serves one configuration on the path the agent uses, with its version header. */
let server: Server;
const requests: string[] = [];
let served: { status: number; body: string; version: string } = { status: 200, body: '{}', version: '1' };

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    requests.push(request.url ?? '');
    response.writeHead(served.status, { 'Content-Type': 'application/json', 'Configuration-Version': served.version, Connection: 'close' });
    response.end(served.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_APPCONFIG_EXTENSION_HTTP_PORT: String((server.address() as AddressInfo).port),
    APPCONFIG_APPLICATION: 'AppconfigLab-shop',
    APPCONFIG_ENVIRONMENT: 'AppconfigLab-live',
    APPCONFIG_PROFILE: 'AppconfigLab-flags',
    FLAG_NAME: 'beta-search',
  });
});
afterAll(() => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return closed;
});
beforeEach(() => (requests.length = 0));

test('asks the agent on localhost:2772 unless the extension\'s port variable says otherwise', () => {
  expect(agentUrl({ APPCONFIG_APPLICATION: 'a', APPCONFIG_ENVIRONMENT: 'e', APPCONFIG_PROFILE: 'p p' })).toBe(
    'http://localhost:2772/applications/a/environments/e/configurations/p%20p',
  );
  expect(agentUrl({})).toBe('http://localhost:2772/applications//environments//configurations/');
});

test('decides the flag per user from the agent\'s answer, with the version it served', async () => {
  served = {
    status: 200,
    version: '3',
    body: JSON.stringify({ 'beta-search': { enabled: true, allowList: ['alice', 'mallory'], blockList: ['mallory'] } }),
  };
  const answer = await handler({ users: ['alice', 'carol', 'mallory'] });
  expect(requests).toEqual(['/applications/AppconfigLab-shop/environments/AppconfigLab-live/configurations/AppconfigLab-flags']);
  expect(answer.configurationVersion).toBe('3');
  expect(answer.decisions).toEqual({
    alice: { on: true, reason: 'on the allow list' },
    carol: { on: false, reason: 'not on the allow list' },
    mallory: { on: false, reason: 'on the block list' },
  });
});

test('an off flag is off for everyone, an empty allow list lets everyone in but the blocked', () => {
  expect(decide({ enabled: false, allowList: ['alice'] }, 'alice')).toEqual({ on: false, reason: 'flag off' });
  expect(decide({ enabled: true, allowList: [], blockList: ['mallory'] }, 'carol')).toEqual({ on: true, reason: 'on for everyone' });
  expect(decide({ enabled: true }, 'mallory')).toEqual({ on: true, reason: 'on for everyone' });
  expect(decide({ enabled: true, blockList: ['mallory'] }, 'mallory')).toEqual({ on: false, reason: 'on the block list' });
});

test('fails with the agent\'s answer when it refuses, and names the flags when the one asked for is missing', async () => {
  served = { status: 404, version: '', body: 'configuration not found' };
  await expect(handler({ users: ['alice'] })).rejects.toThrow('the AppConfig agent answered 404: configuration not found');
  served = { status: 200, version: '2', body: JSON.stringify({ 'dark-mode': { enabled: true }, 'new-cart': { enabled: false } }) };
  await expect(handler({ users: ['alice'] })).rejects.toThrow('the configuration has no flag beta-search; it has dark-mode, new-cart');
  served = { status: 200, version: '3', body: '{}' };
  await expect(handler({ users: ['alice'] })).rejects.toThrow('the configuration has no flag beta-search; it has none');
});
