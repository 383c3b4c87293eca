import { SQSClient } from '@aws-sdk/client-sqs';
import {
  createClient,
  defineFixture,
  ExerciseCheckFailed,
  ExerciseCleanupFailed,
  ExerciseStep,
  LabNotReady,
  provide,
  runExercise,
  startExerciseRun,
} from '../../../labs/support/exercise';

const quiet = { outputs: {}, log: () => undefined };

describe('the exercise context', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('a client is made on first use with the endpoint of AWS_ENDPOINT_URL_<SERVICE>, then shared by the run', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    process.env.AWS_ENDPOINT_URL_SQS = 'http://127.0.0.1:4566';
    const run = startExerciseRun(quiet);
    const sqs = run.context.client(SQSClient, 'SQS');
    expect(run.context.client(SQSClient, 'SQS')).toBe(sqs);
    expect(run.context.client(SQSClient, 'SQS', { maxAttempts: 1 })).not.toBe(sqs);
    expect(run.context.client(SQSClient, 'SQS', {})).toBe(sqs);
    expect(run.context.client(SQSClient, 'SQS', { maxAttempts: 2 })).not.toBe(run.context.client(SQSClient, 'SQS', { maxAttempts: 1 }));
    expect(await sqs.config.endpoint?.()).toMatchObject({ hostname: '127.0.0.1', port: 4566 });
    expect(startExerciseRun(quiet).context.client(SQSClient, 'SQS')).not.toBe(sqs);
    const destroy = jest.spyOn(sqs, 'destroy');
    await run.close();
    // Closing destroys the run's clients and forgets them: a later use makes a new one.
    expect(destroy).toHaveBeenCalled();
    expect(run.context.client(SQSClient, 'SQS')).not.toBe(sqs);
  });

  test('without a service endpoint, AWS_ENDPOINT_URL; createClient makes a client that is not shared', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://localhost:9324';
    delete process.env.AWS_ENDPOINT_URL_SQS;
    const client = createClient(SQSClient, 'SQS', { region: 'eu-west-1' });
    expect(await client.config.endpoint?.()).toMatchObject({ hostname: 'localhost', port: 9324 });
    expect(await client.config.region()).toBe('eu-west-1');
  });

  test('a fixture is set up once per run, on first use, and torn down at the end, last set up first', async () => {
    const events: string[] = [];
    const table = defineFixture('table', async (context) => {
      events.push(`set up table for ${context.runId}`);
      return 'orders';
    }, async (value) => {
      events.push(`tear down ${value}`);
    });
    const seeded = defineFixture('seeded', async (context) => `${await context.use(table)}+items`, async (value) => {
      events.push(`tear down ${value}`);
    });
    const run = startExerciseRun({ ...quiet, runId: 'run-test' });
    expect(events).toEqual([]);
    const [a, b] = await Promise.all([run.context.use(seeded), run.context.use(seeded)]);
    expect([a, b]).toEqual(['orders+items', 'orders+items']);
    await run.close();
    expect(events).toEqual(['set up table for run-test', 'tear down orders+items', 'tear down orders']);
  });

  test('a failed set-up is not remembered, and a provided value replaces the set-up', async () => {
    let attempts = 0;
    const flaky = defineFixture('flaky', async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('not yet');
      return attempts;
    });
    const run = startExerciseRun(quiet);
    await expect(run.context.use(flaky)).rejects.toThrow('not yet');
    await expect(run.context.use(flaky)).resolves.toBe(2);
    const given = startExerciseRun({ ...quiet, provide: [provide(flaky, 42)] });
    await expect(given.context.use(flaky)).resolves.toBe(42);
    expect(attempts).toBe(2);
  });

  test('runExercise tears the fixtures down when a step fails, and throws the step\'s error, not the tear-down\'s', async () => {
    const lines: string[] = [];
    const events: string[] = [];
    const resource = defineFixture('resource', () => 'r', async () => {
      events.push('torn down');
      throw new Error('could not delete r');
    });
    const steps: ExerciseStep[] = [
      { id: 'use', title: 'uses the resource', run: async (context) => void (await context.use(resource)) },
      { id: 'fail', title: 'fails', run: async () => Promise.reject(new ExerciseCheckFailed('the lab misbehaves')) },
    ];
    await expect(runExercise(steps, { outputs: {}, log: (l) => lines.push(l) })).rejects.toThrow(new ExerciseCheckFailed('the lab misbehaves'));
    expect(events).toEqual(['torn down']);
    expect(lines).toContain('(cleaning up after the exercise failed (resource: could not delete r))');
    // Steps that pass: the tear-down failure is the run's error.
    await expect(runExercise(steps, quiet, 'use')).rejects.toThrow(ExerciseCleanupFailed);
  });

  test('a run prints each step numbered, with its id and title, and a closed run sets its fixtures up again', async () => {
    const lines: string[] = [];
    let setUps = 0;
    const counter = defineFixture('counter', async () => (setUps += 1));
    const steps: ExerciseStep[] = [
      { id: 'first', title: 'does one thing', run: async (context) => void (await context.use(counter)) },
      { id: 'second', title: 'does another', run: async () => undefined },
    ];
    await runExercise(steps, { outputs: {}, log: (l) => lines.push(l) });
    expect(lines).toEqual(['\n== 1/2 first: does one thing', '\n== 2/2 second: does another']);
    const run = startExerciseRun(quiet);
    await run.context.use(counter);
    await run.close();
    await expect(run.context.use(counter)).resolves.toBe(3);
  });

  test('errors carry the name of their class; a cleanup failure lists each fixture\'s, last set up first', async () => {
    expect([new ExerciseCheckFailed('x'), new LabNotReady('x'), new ExerciseCleanupFailed([])].map((error) => error.name)).toEqual([
      'ExerciseCheckFailed',
      'LabNotReady',
      'ExerciseCleanupFailed',
    ]);
    const failing = (name: string) =>
      defineFixture(name, () => name, async () => {
        throw new Error(`could not delete ${name}`);
      });
    const [a, b] = [failing('a'), failing('b')];
    const run = startExerciseRun(quiet);
    await run.context.use(a);
    await run.context.use(b);
    await expect(run.close()).rejects.toThrow('cleaning up after the exercise failed (b: could not delete b; a: could not delete a)');
  });

  test('each run has its own id, unless given one', () => {
    expect(startExerciseRun(quiet).context.runId).toMatch(/^run-[0-9a-z]+$/);
    expect(startExerciseRun({ ...quiet, runId: 'run-given' }).context.runId).toBe('run-given');
  });
});
