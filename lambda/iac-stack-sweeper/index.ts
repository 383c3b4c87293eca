/**
 * Custom resource of the iac lab (provider framework, onEvent): on Create and Update it hands out the name prefix of
 * the stacks the exercise creates; on Delete it deletes every stack still carrying that prefix (termination
 * protection off first) and waits until they are gone, so `cdk destroy` leaves no exercise stack behind. A stack
 * importing the lab's export is the exception: while one exists, CloudFormation refuses to start deleting the lab,
 * and this never runs. The provider framework sends the response to CloudFormation: a thrown error becomes a FAILED response with its message.
 */
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStacksCommand,
  paginateListStacks,
  StackStatus,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

const cloudformation = new CloudFormationClient({});

/** Every status but DELETE_COMPLETE: the stacks that still exist. */
const EXISTING = Object.values(StackStatus).filter((s) => s !== StackStatus.DELETE_COMPLETE);

export interface SweeperResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly StackNamePrefix: string };
}

export interface SweeperTiming {
  readonly pollMs: number;
  /** Give up this many milliseconds before the function would time out, so the failure carries a message. */
  readonly marginMs: number;
}

const TIMING: SweeperTiming = { pollMs: 5000, marginMs: 30_000 };

/** Names of the existing stacks whose name starts with `prefix`. */
export async function stacksWithPrefix(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const page of paginateListStacks({ client: cloudformation }, { StackStatusFilter: EXISTING })) {
    for (const summary of page.StackSummaries ?? []) {
      if (summary.StackName?.startsWith(prefix)) names.push(summary.StackName);
    }
  }
  return names;
}

async function statusOf(name: string): Promise<string | undefined> {
  try {
    const { Stacks } = await cloudformation.send(new DescribeStacksCommand({ StackName: name }));
    return Stacks?.[0]?.StackStatus;
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Deletes the stacks and waits until none exists; throws naming the ones that failed or outlived the deadline. */
export async function deleteStacks(names: readonly string[], remainingMs: () => number, timing: SweeperTiming): Promise<void> {
  for (const name of names) {
    await cloudformation.send(new UpdateTerminationProtectionCommand({ StackName: name, EnableTerminationProtection: false }));
    await cloudformation.send(new DeleteStackCommand({ StackName: name }));
  }
  let pending = [...names];
  while (pending.length > 0) {
    const statuses = await Promise.all(pending.map(async (name) => [name, await statusOf(name)] as const));
    const failed = statuses.filter(([, status]) => status === StackStatus.DELETE_FAILED);
    if (failed.length > 0) throw new Error(`could not delete ${failed.map(([name]) => name).join(', ')} (DELETE_FAILED): see their events`);
    pending = statuses.filter(([, status]) => status !== undefined && status !== StackStatus.DELETE_COMPLETE).map(([name]) => name);
    if (pending.length === 0) return;
    if (remainingMs() < timing.marginMs + timing.pollMs) throw new Error(`still deleting ${pending.join(', ')}: delete them by hand`);
    await new Promise((resolve) => setTimeout(resolve, timing.pollMs));
  }
}

/** The onEvent handler, polling as `timing` says (tests poll without waiting). */
export function createHandler(timing: SweeperTiming) {
  return async (event: CloudFormationCustomResourceEvent, context: { getRemainingTimeInMillis(): number }): Promise<SweeperResponse> => {
    const prefix = String(event.ResourceProperties.StackNamePrefix);
    if (event.RequestType === 'Delete') {
      const leftovers = await stacksWithPrefix(prefix);
      console.log(JSON.stringify({ message: 'deleting exercise stacks', prefix, leftovers }));
      await deleteStacks(leftovers, () => context.getRemainingTimeInMillis(), timing);
    }
    // A new prefix is a new physical id: CloudFormation then sends Delete for the old one, which sweeps its stacks.
    return { PhysicalResourceId: `exercise-stacks-${prefix}`, Data: { StackNamePrefix: prefix } };
  };
}

export const handler = createHandler(TIMING);
