import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import type { LabDefinition } from '../catalogue';

/** What a step gets: the deployed stack's outputs and a way to print what it shows. */
export interface ExerciseContext {
  readonly outputs: Readonly<Record<string, string>>;
  readonly log: (line: string) => void;
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

/** An expected situation the learner can fix (no credentials, stack not deployed, not a lab stack). */
export class LabNotReady extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabNotReady';
  }
}

/** Marks the messages and items an exercise run creates, so leftovers of earlier runs never confuse a check. */
export const runId = `run-${Date.now().toString(36)}`;

/** Seconds since `since` (a Date.now() value), for what a step prints. */
export const elapsedSeconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/**
 * An SDK v3 client created on first use, so AWS_ENDPOINT_URL and credentials set by a caller (or a test) are
 * honoured. The endpoint (AWS_ENDPOINT_URL_<SERVICE> or AWS_ENDPOINT_URL) is passed explicitly because without it
 * the SQS client sends each request to the host named in the queue URL, which for local emulators often does not
 * resolve.
 */
export function lazyClient<T>(create: (config: { endpoint?: string }) => T, service: string): () => T {
  let client: T | undefined;
  return () => (client ??= create({ endpoint: process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL }));
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
