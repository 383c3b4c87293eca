import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { runServer, workerServer } from './worker-servers';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest's globalSetup is plain CommonJS
const { killRunServers } = require('./run-folder') as { killRunServers: (dir: string) => void };
interface Report {
  filePath: string;
  diagnostics: string[];
}
interface CachedValidation {
  version: string;
  engineJson: string;
  template: { name: string; readBytes: () => Uint8Array };
  options: object;
  validate: (template: { name: string }, options: object) => Report;
  dir: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded by the worker environment, plain CommonJS
const { validateWithCache } = require('./validation-cache') as { validateWithCache: (request: CachedValidation) => Report };

// jest.config.js runs every test file in worker-environment.js: these tests check that what it shares behaves.

const SCHEMA_ERROR = /VisibilityTimeout: 'soon' is not of type 'integer' \(CloudFormation Validate\)[\s\S]*CloudFormation-Validate::F3012/;

function appWithSchemaError(): App {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true, '@aws-cdk/core:strictCfnValidateErrors': true } });
  new CfnResource(new Stack(app, 'Stack'), 'Queue', { type: 'AWS::SQS::Queue', properties: { VisibilityTimeout: 'soon' } });
  return app;
}

test('CloudFormation validation through the worker\'s shared engine still fails a synth on a schema error', () => {
  expect(() => appWithSchemaError().synth()).toThrow(SCHEMA_ERROR);
});

test('the engine, reused for a second app of the same resource types, finds the same error', () => {
  expect(() => appWithSchemaError().synth()).toThrow(SCHEMA_ERROR);
});

test('a worker server is started once, and every later request gets the same one', async () => {
  let starts = 0;
  const start = async () => ({ id: ++starts, kill: () => undefined });
  const first = await workerServer('test-server', start);
  const second = await workerServer('test-server', start);
  expect(starts).toBe(1);
  expect(second).toBe(first);
});

describe('a run server: started once for the whole run, by the first worker that asks', () => {
  // A folder of these tests' own: the run's real one holds the run's servers, which the run kills at its end.
  let runDir: string;
  const realRunDir = process.env.JEST_RUN_DIR;
  beforeAll(() => {
    runDir = mkdtempSync(path.join(tmpdir(), 'run-server-test-'));
    process.env.JEST_RUN_DIR = runDir;
  });
  afterAll(() => {
    process.env.JEST_RUN_DIR = realRunDir;
    rmSync(runDir, { recursive: true, force: true });
  });
  const serverFile = (name: string) => path.join(runDir, `${name}.server.json`);
  const writeWhole = (file: string, value: object) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(value));
    renameSync(`${file}.tmp`, file);
  };

  test('the first request starts it, in a folder of the run, and writes its address for the other workers', async () => {
    const start = jest.fn(async (dir: string) => ({ endpoint: `http://127.0.0.1:1/${path.basename(dir)}`, pid: 0 }));
    const address = await runServer('run-server-first', start);
    expect(start).toHaveBeenCalledTimes(1);
    expect(path.dirname(start.mock.calls[0][0])).toBe(runDir);
    expect(readFileSync(path.join(start.mock.calls[0][0], 'starter.pid'), 'utf8')).toBe(String(process.pid));
    expect(JSON.parse(readFileSync(serverFile('run-server-first'), 'utf8'))).toEqual({ endpoint: address.endpoint, pid: 0 });
  });

  test('a worker that finds it being started waits for the address instead of starting a second one', async () => {
    mkdirSync(path.join(runDir, 'run-server-second.starting'));
    setTimeout(() => writeWhole(serverFile('run-server-second'), { endpoint: 'http://127.0.0.1:2', pid: 0 }), 100);
    const start = jest.fn();
    await expect(runServer('run-server-second', start)).resolves.toMatchObject({ endpoint: 'http://127.0.0.1:2' });
    expect(start).not.toHaveBeenCalled();
  });

  test('a start that failed in another worker fails here with its reason', async () => {
    mkdirSync(path.join(runDir, 'run-server-failed.starting'));
    writeWhole(serverFile('run-server-failed'), { error: 'java was not found on PATH' });
    await expect(runServer('run-server-failed', jest.fn())).rejects.toThrow('run-server-failed did not start in another jest worker:\njava was not found on PATH');
  });

  test('a worker that died while starting it fails the others at once, pointing at its output', async () => {
    const starting = path.join(runDir, 'run-server-orphaned.starting');
    mkdirSync(starting);
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(path.join(starting, 'starter.pid'), String(gone.pid));
    await expect(runServer('run-server-orphaned', jest.fn())).rejects.toThrow(
      `run-server-orphaned: the jest worker that was starting it (pid ${gone.pid}) exited before it answered; its output is in ${starting}`,
    );
  });

  test('the run folder\'s process kills every run server when the run ends, even one whose start did not finish', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'run-folder-'));
    const running = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const [started, starting] = [running(), running()];
    try {
      writeFileSync(path.join(dir, 'started.server.json'), JSON.stringify({ endpoint: 'http://127.0.0.1:3', pid: started.pid }));
      writeFileSync(path.join(dir, 'failed.server.json'), JSON.stringify({ error: 'no pid: skipped' }));
      mkdirSync(path.join(dir, 'starting.starting'));
      writeFileSync(path.join(dir, 'starting.starting', 'server.pid'), String(starting.pid));
      const signals = [started, starting].map((child) => new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal))));
      killRunServers(dir);
      await expect(Promise.all(signals)).resolves.toEqual(['SIGKILL', 'SIGKILL']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('templates validated before are not validated again', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'validation-cache-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const template = (name: string, body: string) => ({ name, readBytes: () => Buffer.from(body) });
  /** Validates like the engine would, counting its calls; a template holding `bad` gets a finding. */
  const engine = () => {
    const validate = jest.fn((t: { name: string; readBytes: () => Uint8Array }) => ({
      filePath: t.name,
      diagnostics: Buffer.from(t.readBytes()).toString().includes('bad') ? ['E3001 bad'] : [],
    }));
    return validate as unknown as jest.Mock & CachedValidation['validate'];
  };
  const request = (overrides: Partial<CachedValidation>): CachedValidation => ({
    version: '1.14.0', engineJson: '{}', template: template('a/Stack.template.json', '{"Resources":{}}'), options: { severityLevel: 'WARN' }, validate: engine(), dir, ...overrides,
  });

  test('the same bytes, engine version, configuration and options: the report kept, named after this template', () => {
    validateWithCache(request({ template: template('run-1/Stack.template.json', '{"same":1}') }));
    const validate = engine();
    const report = validateWithCache(request({ template: template('run-2/Stack.template.json', '{"same":1}'), validate }));
    expect(validate).not.toHaveBeenCalled();
    expect(report).toEqual({ filePath: 'run-2/Stack.template.json', diagnostics: [] });
  });

  test('a report with findings is kept too, named after this template', () => {
    validateWithCache(request({ template: template('run-1/Stack.template.json', '{"bad":1}') }));
    const validate = engine();
    const report = validateWithCache(request({ template: template('run-2/Stack.template.json', '{"bad":1}'), validate }));
    expect(validate).not.toHaveBeenCalled();
    expect(report).toEqual({ filePath: 'run-2/Stack.template.json', diagnostics: ['E3001 bad'] });
  });

  test.each([
    ['other bytes', { template: template('x', '{"same":2}') }],
    ['another engine version', { version: '1.15.0' }],
    ['another engine configuration', { engineJson: '{"types":["AWS::SQS::Queue"]}' }],
    ['other options', { options: { severityLevel: 'ERROR' } }],
  ])('%s: validated again', (_change, change) => {
    validateWithCache(request({ template: template('x', '{"same":1}') }));
    const validate = engine();
    validateWithCache(request({ template: template('x', '{"same":1}'), ...change, validate }));
    expect(validate).toHaveBeenCalledTimes(1);
  });
});
