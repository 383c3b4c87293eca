import type { Context } from 'aws-lambda';
import type * as Greeter from '../../lambda/versioned-greeter';

// The greeter has no X-Ray SDK: what links a log line to its X-Ray trace is the trace id Powertools Logger writes.
// Logger reads its level when the module loads, as in Lambda, where the environment exists before the code.
Object.assign(process.env, { POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_SERVICE_NAME: 'greeter' });
let greeter: typeof Greeter;
const stdout: string[] = [];
beforeAll(async () => {
  greeter = await import('../../lambda/versioned-greeter');
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0);
  // Errors go to stderr; Lambda sends both streams to the log group.
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0);
});
afterAll(() => {
  jest.restoreAllMocks();
  delete process.env._X_AMZN_TRACE_ID;
});

test('every log line carries the X-Ray trace id that Lambda sets for the invocation under active tracing', async () => {
  process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
  const context = { functionName: 'greeter', functionVersion: '2', awsRequestId: 'req-1', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:greeter:live' };
  await greeter.handler({ name: 'Ada' }, context as Context);
  const lines = stdout.flatMap((chunk) => chunk.split('\n')).filter((line) => line.trim().startsWith('{')).map((line) => JSON.parse(line));
  expect(lines.find((line) => line.message === 'greeted')).toMatchObject({
    xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
    service: 'greeter',
    version: '2',
  });
});

test('a greeting logs its run id and request id; a failure logs the error it throws', async () => {
  const context = { functionName: 'greeter', functionVersion: '3', awsRequestId: 'req-2', invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:greeter:live' };
  stdout.length = 0;
  await greeter.handler({ runId: 'run-9' }, context as Context);
  await greeter.handler({ fail: true, runId: 'run-9' }, context as Context).catch(() => undefined);
  const lines = stdout.flatMap((chunk) => chunk.split('\n')).filter((line) => line.trim().startsWith('{') && !line.includes('"_aws"')).map((line) => JSON.parse(line));
  expect(lines).toEqual([
    expect.objectContaining({ level: 'INFO', message: 'greeted', runId: 'run-9', function_request_id: 'req-2' }),
    expect.objectContaining({ level: 'ERROR', message: 'invocation failed', error: expect.objectContaining({ name: 'DeliberateFailure', message: 'failing on purpose (runId run-9)' }) }),
  ]);
});
