/**
 * What every lab exercise shares. A run (`startExerciseRun`, or `runExercise` for steps run in one go, as
 * `npm run lab -- exercise` does) gives its steps one `ExerciseContext`: the stack's outputs, `log`, the run's id,
 * `client(SQSClient, 'SQS')` (an SDK client made on first use, shared by the run's steps) and
 * `use(fixture)` (something a step needs, set up by the first step that asks for it and torn down when the run
 * ends, passed or failed). Exercise modules keep no state of their own: only constants, steps and fixture definitions.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { LabDefinition } from '../catalogue';

/** What an SDK v3 client constructor takes that the context sets: the endpoint of a local emulator, when there is one. */
export interface ClientEndpointConfig {
  endpoint?: string;
}

/** An SDK v3 client class (SQSClient, DynamoDBClient ...): what `context.client` creates. */
export type SdkClientClass<T, C extends object> = new (config: C & ClientEndpointConfig) => T;

/**
 * Something a step needs that is set up once per run and shared by the steps that ask for it (seeded items, a role
 * session, a derived client, a setting a test overrides), with an optional tear-down run when the run ends, whether
 * its steps passed or failed. Define one with `defineFixture`; a step gets its value with `await context.use(fixture)`.
 */
export interface Fixture<T> {
  /** What it is, for what the run prints when its tear-down fails. */
  readonly name: string;
  readonly setUp: (context: ExerciseContext) => Promise<T> | T;
  readonly tearDown?: (value: T, context: ExerciseContext) => Promise<void>;
}

export function defineFixture<T>(
  name: string,
  setUp: Fixture<T>['setUp'],
  tearDown?: Fixture<T>['tearDown'],
): Fixture<T> {
  return { name, setUp, tearDown };
}

/** Figures of how long a lab's steps wait, each named with its unit (`emptyPollSeconds`, `pollMs`). */
export type ExerciseTiming = Readonly<Record<string, number | readonly number[]>>;

/** `T` with its literal figures widened (`2` to `number`), so a test can give other ones. */
export type TimingFigures<T extends ExerciseTiming> = { readonly [K in keyof T]: T[K] extends number ? number : readonly number[] };

/**
 * How long a lab's steps wait (long polls, windows in which nothing more may arrive, expiries, pauses, polling):
 * figures in the lab's constants, `<LAB>.exerciseTiming`, so the deployed lab shows what its README describes. The
 * exercise defines `export const timing = defineTiming(LAB.exerciseTiming)` and a step reads them with
 * `await context.use(timing)`; a test runs the same checks against local engines with short figures given through
 * the run's options: `provide(timing, { ...LAB.exerciseTiming, emptyPollSeconds: 1 })`.
 */
export function defineTiming<T extends ExerciseTiming>(figures: T): Fixture<TimingFigures<T>> {
  return defineFixture('timing of the steps', () => figures as TimingFigures<T>);
}

/** What a step gets: the deployed stack's outputs, a way to print what it shows, the run's id, clients and fixtures. */
export interface ExerciseContext {
  readonly outputs: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
  /** Marks the messages and items this run creates, so leftovers of earlier runs never confuse a check. */
  readonly runId: string;
  /**
   * The run's client of `service` (the suffix of AWS_ENDPOINT_URL_<SERVICE>: 'SQS', 'DYNAMODB' ...), created on first
   * use with the caller's credentials and `config`, then shared by every step of the run (one per class and config).
   */
  client<T, C extends object = object>(type: SdkClientClass<T, C>, service: string, config?: C): T;
  /** The fixture's value in this run: set up on first use (also when a step runs alone), then shared. */
  use<T>(fixture: Fixture<T>): Promise<T>;
}

/** One thing a learner does against a deployed lab; it checks what it shows and throws when the lab misbehaves. */
export interface ExerciseStep {
  /** What `npm run lab -- exercise <lab> <id>` takes. */
  readonly id: string;
  readonly title: string;
  readonly run: (context: ExerciseContext) => Promise<void>;
}

/** The deployed lab does not behave as its README says. */
export class ExerciseCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExerciseCheckFailed';
  }
}

/** Tearing down a run's fixtures failed: what is left behind, per fixture. */
export class ExerciseCleanupFailed extends Error {
  constructor(readonly failures: readonly string[]) {
    super(`cleaning up after the exercise failed (${failures.join('; ')})`);
    this.name = 'ExerciseCleanupFailed';
  }
}

/** An expected situation the learner can fix (no credentials, stack not deployed, not a lab stack). */
export class LabNotReady extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabNotReady';
  }
}

/** A new run id: `run-` and the time in base 36, short enough for names with tight limits. */
const newRunId = () => `run-${Date.now().toString(36)}`;

/** Seconds since `since` (a Date.now() value), for what a step prints. */
export const elapsedSeconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/**
 * The endpoint of `service` (AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL), read when a client is created so that
 * what a caller (or a test) sets is honoured. It is passed to clients explicitly because without it the SQS client
 * sends each request to the host named in the queue URL, which for local emulators often does not resolve.
 */
export const serviceEndpoint = (service: string): string | undefined =>
  process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL;

/** A client of `service` with its endpoint (see serviceEndpoint) and `config` (credentials of a role session ...), not shared. */
export function createClient<T, C extends object = object>(type: SdkClientClass<T, C>, service: string, config?: C): T {
  return new type({ ...(config as C), endpoint: serviceEndpoint(service) });
}

/** A value given for a fixture instead of setting it up (a test's shorter timings, a local key set). */
export interface ProvidedFixture {
  readonly fixture: Fixture<unknown>;
  readonly value: unknown;
}

export const provide = <T>(fixture: Fixture<T>, value: T): ProvidedFixture => ({ fixture: fixture as Fixture<unknown>, value });

export interface ExerciseRunOptions {
  readonly outputs: ExerciseContext['outputs'];
  readonly log: ExerciseContext['log'];
  /** @default newRunId() */
  readonly runId?: string;
  /** Fixture values to use instead of setting them up. */
  readonly provide?: readonly ProvidedFixture[];
}

/** One run of an exercise: its context, and `close()`, which tears down its fixtures (last set up first) and clients. */
export interface ExerciseRun {
  readonly context: ExerciseContext;
  close(): Promise<void>;
}

/** Starts a run: nothing is created until a step asks for it. */
export function startExerciseRun(options: ExerciseRunOptions): ExerciseRun {
  const clients = new Map<SdkClientClass<unknown, object>, Map<string, unknown>>();
  const fixtures = new Map<Fixture<unknown>, Promise<unknown>>();
  const tearDowns: { fixture: Fixture<unknown>; value: unknown }[] = [];
  for (const { fixture, value } of options.provide ?? []) fixtures.set(fixture, Promise.resolve(value));

  const context: ExerciseContext = {
    outputs: options.outputs,
    log: options.log,
    runId: options.runId ?? newRunId(),
    client<T, C extends object = object>(type: SdkClientClass<T, C>, service: string, config?: C): T {
      const byConfig = clients.get(type as SdkClientClass<unknown, object>) ?? new Map<string, unknown>();
      clients.set(type as SdkClientClass<unknown, object>, byConfig);
      const key = `${service} ${JSON.stringify(config ?? {})}`;
      if (!byConfig.has(key)) byConfig.set(key, createClient(type, service, config));
      return byConfig.get(key) as T;
    },
    use<T>(fixture: Fixture<T>): Promise<T> {
      let value = fixtures.get(fixture as Fixture<unknown>) as Promise<T> | undefined;
      if (!value) {
        value = Promise.resolve()
          .then(() => fixture.setUp(context))
          .then((created) => {
            if (fixture.tearDown) tearDowns.push({ fixture: fixture as Fixture<unknown>, value: created });
            return created;
          });
        // A failed set-up is not remembered: a later step may try again.
        const pending = value;
        fixtures.set(fixture as Fixture<unknown>, pending);
        pending.catch(() => {
          if (fixtures.get(fixture as Fixture<unknown>) === pending) fixtures.delete(fixture as Fixture<unknown>);
        });
      }
      return value;
    },
  };

  return {
    context,
    async close() {
      const failures: string[] = [];
      for (const { fixture, value } of tearDowns.splice(0).reverse()) {
        try {
          await fixture.tearDown?.(value, context);
        } catch (error) {
          failures.push(`${fixture.name}: ${(error as Error).message}`);
        }
      }
      fixtures.clear();
      for (const byConfig of clients.values()) {
        for (const client of byConfig.values()) (client as { destroy?: () => void }).destroy?.();
      }
      clients.clear();
      if (failures.length > 0) throw new ExerciseCleanupFailed(failures);
    },
  };
}

export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ExerciseCheckFailed(message);
}

/**
 * Runs `call`, which must be rejected, and returns its error. `expected` is the error's name (a string, compared
 * exactly) or a pattern matched against its name or its message. A success, or another error, is a failed check
 * naming `what`.
 */
export async function expectRejection(call: () => Promise<unknown>, expected: string | RegExp, what: string): Promise<Error> {
  let error: unknown;
  try {
    await call();
  } catch (caught) {
    error = caught;
  }
  check(error !== undefined, `${what} succeeded, but it should have been refused`);
  const name = (error as { name?: string })?.name ?? '';
  const message = (error as { message?: string })?.message ?? String(error);
  const matches = typeof expected === 'string' ? name === expected : expected.test(name) || expected.test(message);
  check(matches, `${what}: expected ${expected}, got ${name || 'an error'}: ${message}`);
  return error instanceof Error ? error : new Error(message);
}

export function requireOutput(outputs: ExerciseContext['outputs'], name: string): string {
  const value = outputs[name];
  if (!value) throw new LabNotReady(`the stack has no output ${name}: redeploy the lab (npx cdk deploy)`);
  return value;
}

const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ExpiredTokenException', 'UnrecognizedClientException']);

/** Turns the SDK's errors about missing credentials or stacks into one sentence for the learner. */
export function explainAwsError(error: unknown, stackName: string): Error {
  const name = (error as { name?: string })?.name ?? '';
  const message = (error as Error)?.message ?? String(error);
  if (CREDENTIAL_ERRORS.has(name) || /credential/i.test(message)) {
    return new LabNotReady(
      'no usable AWS credentials: configure a profile (aws configure / aws sso login) or set AWS_PROFILE, then retry',
    );
  }
  if (/region is missing/i.test(message)) {
    return new LabNotReady('no AWS region: set AWS_REGION or a region in your AWS profile, then retry');
  }
  if (/does not exist/.test(message)) {
    return new LabNotReady(`stack ${stackName} is not deployed in this account/region: npx cdk deploy ${stackName}`);
  }
  return error instanceof Error ? error : new Error(message);
}

/** Status of a lab's stack, or undefined when it is not deployed. Throws LabNotReady without credentials. */
export async function describeLabStack(
  lab: LabDefinition,
  client = new CloudFormationClient({}),
): Promise<{ status: string; tags: Record<string, string>; outputs: Record<string, string> } | undefined> {
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: lab.stackName }));
    const stack = Stacks?.[0];
    if (!stack) return undefined;
    return {
      status: stack.StackStatus ?? 'UNKNOWN',
      tags: Object.fromEntries((stack.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
      outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
    };
  } catch (error) {
    const explained = explainAwsError(error, lab.stackName);
    if (explained instanceof LabNotReady && /not deployed/.test(explained.message)) return undefined;
    throw explained;
  }
}

/** The outputs of a deployed lab stack; refuses a stack that is missing or lacks the `lab=<id>` tag. */
export async function loadLabOutputs(lab: LabDefinition, client?: CloudFormationClient): Promise<Record<string, string>> {
  const stack = await describeLabStack(lab, client);
  if (!stack) throw new LabNotReady(`stack ${lab.stackName} is not deployed: npx cdk deploy ${lab.stackName}`);
  if (stack.tags.lab !== lab.id) {
    throw new LabNotReady(
      `stack ${lab.stackName} has no tag lab=${lab.id}, so it is not this lab's stack; refusing to touch it`,
    );
  }
  return stack.outputs;
}

/** Runs the steps (or the one named) in order, printing each; stops at the first failed check. */
export async function runSteps(
  steps: readonly ExerciseStep[],
  context: ExerciseContext,
  only?: string,
): Promise<void> {
  const selected = only ? steps.filter((s) => s.id === only) : steps;
  for (const [index, step] of selected.entries()) {
    context.log(`\n== ${index + 1}/${selected.length} ${step.id}: ${step.title}`);
    await step.run(context);
  }
}

/**
 * Runs the steps (or the one named) in a run of their own and closes it, passed or failed: the fixtures the steps
 * set up are torn down. A tear-down failure after a failed step is printed and the step's error is thrown.
 */
export async function runExercise(
  steps: readonly ExerciseStep[],
  options: ExerciseRunOptions,
  only?: string,
): Promise<void> {
  const run = startExerciseRun(options);
  let failed = false;
  try {
    await runSteps(steps, run.context, only);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    await run.close().catch((error: unknown) => {
      if (!failed) throw error;
      options.log(`(${(error as Error).message})`);
    });
  }
}
