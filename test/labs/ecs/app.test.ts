import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { ECS_LAB } from '../../../labs/ecs/constants';
import { ECS_APP_DIR } from '../../../labs/ecs/stack';

// The container's own logic (labs/ecs/app/src/app.js) is plain CommonJS so the image runs it without a build step.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the app's module, as the container loads it
const app = require('../../../labs/ecs/app/src/app.js') as {
  EXIT_CODES: Record<'ok' | 'badInput' | 'failed', number>;
  MAX_BATCH_SIZE: number;
  route: (method: string, path: string, state: object) => { status: number; body: Record<string, unknown> };
  planBatch: (env: Record<string, string | undefined>) => { messages?: { jobId: string; item: number; of: number }[]; problems?: string[] };
  sendBatches: (messages: object[]) => { Id: string; MessageBody: string }[][];
  parseJobItem: (body: string) => { item?: object; problem?: string };
};

const TASK_ARN = 'arn:aws:ecs:us-east-1:1:task/cluster/0123abcd';
const state = { release: 'v1', task: TASK_ARN, greeting: 'hello', apiKeyInjected: true, processed: 2 };

describe('the container app', () => {
  test('GET /health answers 200 for the health check; GET / says which release and task answered, never the key itself', () => {
    expect(app.route('GET', '/health', state)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(app.route('GET', '/', { ...state, apiKey: 'secret' })).toEqual({
      status: 200,
      body: { release: 'v1', task: TASK_ARN, greeting: 'hello', apiKeyInjected: true, processed: 2 },
    });
    expect(app.route('GET', '/nope', state).status).toBe(404);
    expect(app.route('POST', '/', state).status).toBe(405);
  });

  test('the batch job plans BATCH_SIZE items of JOB_ID, sent 10 per SendMessageBatch call', () => {
    const { messages, problems } = app.planBatch({ JOB_ID: 'run-1', BATCH_SIZE: '23' });
    expect(problems).toBeUndefined();
    expect(messages?.[0]).toEqual({ jobId: 'run-1', item: 1, of: 23 });
    const batches = app.sendBatches(messages ?? []);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(new Set(batches.flat().map((e) => e.Id)).size).toBe(23);
    expect(JSON.parse(batches[2][2].MessageBody)).toEqual({ jobId: 'run-1', item: 23, of: 23 });
  });

  test.each([
    [{ JOB_ID: 'run-1', BATCH_SIZE: '0' }, /BATCH_SIZE must be a whole number from 1 to 100, got "0"/],
    [{ JOB_ID: 'run-1', BATCH_SIZE: '101' }, /got "101"/],
    [{ JOB_ID: 'run-1', BATCH_SIZE: '2.5' }, /got "2.5"/],
    [{ JOB_ID: 'run 1; rm', BATCH_SIZE: '3' }, /JOB_ID must be 1-64 letters/],
    [{ BATCH_SIZE: '3' }, /JOB_ID must be/],
  ])('bad input %j is refused, so the job exits with the bad-input code and sends nothing', (env, problem) => {
    const { messages, problems } = app.planBatch(env);
    expect(messages).toBeUndefined();
    expect(problems?.join('\n')).toMatch(problem);
  });

  test('the exit codes the exercise reads are the ones the app uses', () => {
    expect(app.EXIT_CODES.ok).toBe(ECS_LAB.batchExitCodes.ok);
    expect(app.EXIT_CODES.badInput).toBe(ECS_LAB.batchExitCodes.badInput);
    expect(new Set(Object.values(app.EXIT_CODES)).size).toBe(3);
  });

  test('the worker accepts job items and names anything else', () => {
    expect(app.parseJobItem(JSON.stringify({ jobId: 'a', item: 1, of: 1 }))).toEqual({ item: { jobId: 'a', item: 1, of: 1 } });
    expect(app.parseJobItem('{"hello":1}').problem).toMatch(/not a job item/);
    expect(app.parseJobItem('not json').problem).toMatch(/not a job item: not json/);
  });
});

describe('the container entry points, run as the image runs them', () => {
  const src = path.join(ECS_APP_DIR, 'src');
  /** Runs a script of the app to its end, with only the given environment (no AWS credentials, no network). */
  const runScript = (script: string, env: Record<string, string>) =>
    spawnSync(process.execPath, [path.join(src, script)], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 10_000 });

  test('the batch job exits with the bad-input code, before any AWS call, when BATCH_SIZE is 0', () => {
    const result = runScript('batch.js', { JOB_ID: 'run-1', BATCH_SIZE: '0', QUEUE_URL: 'https://sqs.invalid/1/jobs' });
    expect(result.status).toBe(ECS_LAB.batchExitCodes.badInput);
    expect(JSON.parse(result.stdout)).toMatchObject({ event: 'bad input', problems: [expect.stringMatching(/^BATCH_SIZE must be/)] });
  });

  // Two Node.js processes start (the server loads the SDK): seconds on a busy machine, so a longer timeout.
  test('the server answers the health check that the task definition and the Dockerfile run, and stops on SIGTERM', async () => {
    // The task metadata endpoint ECS gives the container, answering GET <endpoint>/task as it does.
    const metadata = createServer((request, response) => {
      response.writeHead(request.url === '/v4/task' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify({ TaskARN: TASK_ARN }));
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    const metadataUri = `http://127.0.0.1:${(metadata.address() as AddressInfo).port}/v4`;
    // PORT=0: the system picks a free port, which the server logs.
    const server = spawn(process.execPath, [path.join(src, 'server.js')], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', RELEASE: 'v9', API_KEY: 'injected', ECS_CONTAINER_METADATA_URI_V4: metadataUri },
    });
    let port: string | undefined;
    try {
      const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
        server.stdout.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString())));
        server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      });
      expect(listening).toMatchObject({ event: 'listening', port: expect.any(Number), release: 'v9', apiKeyInjected: true });
      port = String(listening.port);
      expect(runScript('healthcheck.js', { PORT: port }).status).toBe(0);
      const page = await (await fetch(`http://127.0.0.1:${port}/`)).json();
      expect(page).toEqual({ release: 'v9', task: TASK_ARN, greeting: '', apiKeyInjected: true, processed: 0 });
    } finally {
      metadata.close();
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    }
    // Nothing listens any more: the health check fails, as ECS would see it.
    expect(runScript('healthcheck.js', { PORT: String(port) }).status).toBe(1);
  }, 30_000);
});

describe('the Dockerfile, checked without Docker', () => {
  const dockerfile = readFileSync(path.join(ECS_APP_DIR, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .split('\n')
    .filter((line) => line.trim() && !line.trim().startsWith('#'))
    .map((line) => line.trim().split(/\s+/));

  test('the base image is pinned by a sha256 digest, from the ECR Public mirror', () => {
    const froms = instructions.filter(([keyword]) => keyword === 'FROM').map(([, image]) => image);
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) expect(image).toMatch(/^public\.ecr\.aws\/[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
  });

  test('the last USER is not root, and it is the uid the task definition runs as', () => {
    const users = instructions.filter(([keyword]) => keyword === 'USER').map(([, user]) => user);
    const last = users.at(-1) ?? 'root';
    expect(['root', '0']).not.toContain(last.split(':')[0]);
    // The node image's `node` user is uid 1000: the task definition names the uid.
    expect(last).toBe('node');
    expect(ECS_LAB.containerUser).toBe('1000');
  });

  test('it has a HEALTHCHECK running the same command as the task definition, and the port the task maps', () => {
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "src\/healthcheck\.js"\]$/m);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${ECS_LAB.containerPort}$`, 'm'));
  });

  test('dependencies install from the lock file, without dev dependencies or install scripts', () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --ignore-scripts/m);
    const manifest = JSON.parse(readFileSync(path.join(ECS_APP_DIR, 'package.json'), 'utf8'));
    const lock = JSON.parse(readFileSync(path.join(ECS_APP_DIR, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].dependencies).toEqual(manifest.dependencies);
    for (const [name, version] of Object.entries(manifest.dependencies)) expect(lock.packages[`node_modules/${name}`].version).toBe(version);
  });

  test('the buildspec pushes the tag it is given, to the repository the project names', () => {
    const buildspec = readFileSync(path.join(ECS_APP_DIR, 'buildspec.yml'), 'utf8');
    expect(buildspec).toContain('docker build --build-arg RELEASE="$IMAGE_TAG" --tag "$REPOSITORY_URI:$IMAGE_TAG" .');
    expect(buildspec).toContain('docker push "$REPOSITORY_URI:$IMAGE_TAG"');
  });
});
