import type { Context } from 'aws-lambda';
import type * as Greeter from '../../lambda/versioned-greeter';

// Powertools reads its settings when the module loads, as in Lambda, where the environment exists before the code.
Object.assign(process.env, { POWERTOOLS_METRICS_NAMESPACE: 'Test', POWERTOOLS_SERVICE_NAME: 'greeter' });
let greeter: typeof Greeter;
/** What the function writes to stdout: Powertools Metrics' embedded-metric-format lines. */
const stdout: string[] = [];
beforeAll(async () => {
  greeter = await import('../../lambda/versioned-greeter');
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0);
  jest.spyOn(console, 'log').mockImplementation((line: unknown) => void stdout.push(String(line)));
});
afterAll(() => jest.restoreAllMocks());

const context = (functionVersion: string) =>
  ({ functionName: 'greeter', functionVersion, awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:greeter:live' }) as Context;

beforeEach(() => {
  Object.assign(process.env, { RELEASE: '2', GREETING: 'Hello from release 2' });
  stdout.length = 0;
});

test('greets and reports the version that ran and the release in its configuration', async () => {
  await expect(greeter.handler({ name: 'Ada', runId: 'r1' }, context('7'))).resolves.toEqual({
    message: 'Hello from release 2, Ada!',
    version: '7',
    release: '2',
    runId: 'r1',
  });
});

test('greets the world when no name is given', () => {
  expect(greeter.greet({}, '$LATEST', { RELEASE: '1' }).message).toBe('Hello, world!');
});

test('a version without a RELEASE in its configuration reports the release as unknown', () => {
  expect(greeter.greet({}, '$LATEST', {}).release).toBe('unknown');
});

test('takes a name of 100 characters', () => {
  expect(greeter.parseEvent({ name: 'x'.repeat(100) })).toEqual({ name: 'x'.repeat(100) });
});

test('fails on purpose when asked, naming the run', async () => {
  await expect(greeter.handler({ fail: true, runId: 'r2' }, context('1'))).rejects.toThrow(new greeter.DeliberateFailure('r2'));
  await expect(greeter.handler({ fail: true }, context('1'))).rejects.toThrow('failing on purpose (runId none)');
  await expect(greeter.handler({ fail: true }, context('1'))).rejects.toMatchObject({ name: 'DeliberateFailure' });
});

test.each([
  [null, 'the event must be a JSON object'],
  ['hello', 'the event must be a JSON object'],
  [[1, 2], 'the event must be a JSON object'],
  [{ name: 42 }, 'name must be a string of 1–100 characters'],
  [{ name: '' }, 'name must be a string of 1–100 characters'],
  [{ name: 'x'.repeat(101) }, 'name must be a string of 1–100 characters'],
  [{ fail: 'yes' }, 'fail must be true or false'],
  [{ runId: 7 }, 'runId must be a string'],
])('refuses the event %j with InvalidGreetingEvent: %s', async (event, message) => {
  expect(() => greeter.parseEvent(event)).toThrow(new greeter.InvalidGreetingEvent(message));
  expect(() => greeter.parseEvent(event)).toThrow(expect.objectContaining({ name: 'InvalidGreetingEvent', message }));
  await expect(greeter.handler(event, context('1'))).rejects.toBeInstanceOf(greeter.InvalidGreetingEvent);
});

test('emits its metrics in the embedded metric format, with the version as a dimension', async () => {
  await greeter.handler({ name: 'metrics' }, context('3'));
  await greeter.handler({ fail: true }, context('3')).catch(() => undefined);
  const emf = stdout.map((l) => l.trim()).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
  expect(emf).toHaveLength(2);
  expect(emf[0]).toMatchObject({ Greetings: 1, version: '3', service: 'greeter' });
  expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Test', Metrics: [{ Name: 'Greetings', Unit: 'Count' }] });
  expect(emf[1]).toMatchObject({ DeliberateFailures: 1, version: '3' });
});
