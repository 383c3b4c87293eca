/**
 * What the exercise does with CloudFormation besides its checks: wait for a stack or a change set, read a stack's
 * outputs, parameters and resources, and sort the changes of a change set. Pure SDK calls; no CDK.
 */
import {
  Change,
  ChangeSetStatus,
  CloudFormationClient,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeChangeSetCommandOutput,
  DescribeStacksCommand,
  ListStackResourcesCommand,
  DetectStackResourceDriftCommand,
  Stack,
  StackResourceDrift,
  StackResourceDriftStatus,
  StackResourceSummary,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { check, defineTiming, ExerciseContext } from '../../support/exercise';
import { IAC_LAB } from '../constants';

export const timing = defineTiming(IAC_LAB.exerciseTiming);

export const cloudFormationOf = (context: ExerciseContext) => context.client(CloudFormationClient, 'CLOUDFORMATION');

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** The status a deleted stack is reported with: DescribeStacks by name no longer finds it. */
export const DELETED = 'DELETED';

/** The stack, or undefined once it no longer exists. */
export async function describeStack(context: ExerciseContext, stackName: string): Promise<Stack | undefined> {
  try {
    const { Stacks } = await cloudFormationOf(context).send(new DescribeStacksCommand({ StackName: stackName }));
    return Stacks?.[0];
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** Waits until the stack leaves every *_IN_PROGRESS status; returns the status it ends in, or DELETED. */
export async function waitForStack(context: ExerciseContext, stackName: string): Promise<string> {
  const { pollSeconds, stackDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + stackDeadlineSeconds * 1000;
  for (;;) {
    const status = (await describeStack(context, stackName))?.StackStatus ?? DELETED;
    if (!status.endsWith('_IN_PROGRESS')) return status;
    check(Date.now() < deadline, `stack ${stackName} is still ${status} after ${stackDeadlineSeconds} s`);
    await sleep(pollSeconds);
  }
}

/** Waits until the stack ends in `expected`, failing with the status it ended in otherwise. */
export async function expectStackStatus(context: ExerciseContext, stackName: string, expected: string): Promise<void> {
  const status = await waitForStack(context, stackName);
  const reason = status === expected ? '' : ` (${(await describeStack(context, stackName))?.StackStatusReason ?? 'no reason given'})`;
  check(status === expected, `stack ${stackName} ended in ${status}, expected ${expected}${reason}`);
}

/** Deletes a stack the exercise created, termination protection off first, and waits until it is gone. */
export async function deleteExerciseStack(context: ExerciseContext, stackName: string): Promise<void> {
  if (!(await describeStack(context, stackName))) return;
  const cloudformation = cloudFormationOf(context);
  await cloudformation.send(new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: false }));
  await cloudformation.send(new DeleteStackCommand({ StackName: stackName }));
  await expectStackStatus(context, stackName, DELETED);
}

/**
 * Runs DetectStackResourceDrift on one resource until it reports `expected`, as a change made outside CloudFormation
 * may take a while to show (SQS applies a changed attribute within 60 s); fails with the last status at the deadline.
 * Returns the drift and how many detections it took.
 */
export async function detectResourceDrift(
  context: ExerciseContext,
  stackName: string,
  logicalId: string,
  expected: StackResourceDriftStatus,
): Promise<{ drift: StackResourceDrift; detections: number }> {
  const { pollSeconds, driftDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + driftDeadlineSeconds * 1000;
  for (let detections = 1; ; detections++) {
    const { StackResourceDrift: drift } = await cloudFormationOf(context).send(
      new DetectStackResourceDriftCommand({ StackName: stackName, LogicalResourceId: logicalId }),
    );
    if (drift?.StackResourceDriftStatus === expected) return { drift, detections };
    check(
      Date.now() < deadline,
      `drift detection of ${logicalId} still says ${drift?.StackResourceDriftStatus ?? 'nothing'}, not ${expected}, after ${detections} detections in ${driftDeadlineSeconds} s`,
    );
    await sleep(pollSeconds);
  }
}

export const outputsOf = (stack: Stack | undefined): Record<string, string> =>
  Object.fromEntries((stack?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));

export const parametersOf = (stack: Stack | undefined): Record<string, string> =>
  Object.fromEntries((stack?.Parameters ?? []).map((p) => [p.ParameterKey ?? '', p.ParameterValue ?? '']));

/** The stack's resources by logical id. */
export async function resourcesOf(context: ExerciseContext, stackName: string): Promise<Record<string, StackResourceSummary>> {
  const resources: Record<string, StackResourceSummary> = {};
  let NextToken: string | undefined;
  do {
    const page = await cloudFormationOf(context).send(new ListStackResourcesCommand({ StackName: stackName, NextToken }));
    for (const summary of page.StackResourceSummaries ?? []) resources[summary.LogicalResourceId ?? ''] = summary;
    NextToken = page.NextToken;
  } while (NextToken);
  return resources;
}

/** Waits until the change set is computed; returns its description with every change (all pages). */
export async function describeChangeSet(context: ExerciseContext, stackName: string, changeSetName: string): Promise<DescribeChangeSetCommandOutput & { Changes: Change[] }> {
  const { pollSeconds, changeSetDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + changeSetDeadlineSeconds * 1000;
  const describe = (NextToken?: string) =>
    cloudFormationOf(context).send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName, NextToken }));
  let first = await describe();
  while (first.Status === ChangeSetStatus.CREATE_PENDING || first.Status === ChangeSetStatus.CREATE_IN_PROGRESS) {
    check(Date.now() < deadline, `change set ${changeSetName} is still ${first.Status} after ${changeSetDeadlineSeconds} s`);
    await sleep(pollSeconds);
    first = await describe();
  }
  check(first.Status === ChangeSetStatus.CREATE_COMPLETE, `change set ${changeSetName} is ${first.Status}: ${first.StatusReason ?? 'no reason given'}`);
  const changes = [...(first.Changes ?? [])];
  for (let next = first.NextToken; next; ) {
    const page = await describe(next);
    changes.push(...(page.Changes ?? []));
    next = page.NextToken;
  }
  return { ...first, Changes: changes };
}

/** What a change set would do, resource by resource (logical ids), and why. */
export interface ChangeSetSummary {
  readonly added: string[];
  readonly removed: string[];
  /** Modify with Replacement True: a new physical resource, the old one deleted in the cleanup phase. */
  readonly replaced: string[];
  /** Modify with Replacement Conditional: replaced or not depending on a value CloudFormation learns while updating. */
  readonly mayBeReplaced: string[];
  /** Modify with Replacement False: updated in place. */
  readonly modifiedInPlace: string[];
  /** For each changed resource, what changes: `<property> (recreation: Always) ← <parameter or resource>`. */
  readonly causes: Readonly<Record<string, string[]>>;
}

/** Sorts a change set's resource changes by what CloudFormation will do to each resource. */
export function summarizeChanges(changes: readonly Change[]): ChangeSetSummary {
  const summary = { added: [] as string[], removed: [] as string[], replaced: [] as string[], mayBeReplaced: [] as string[], modifiedInPlace: [] as string[] };
  const causes: Record<string, string[]> = {};
  for (const change of changes) {
    const resource = change.ResourceChange;
    const id = resource?.LogicalResourceId;
    if (!resource || !id) continue;
    if (resource.Action === 'Add') summary.added.push(id);
    else if (resource.Action === 'Remove') summary.removed.push(id);
    else if (resource.Action === 'Modify') {
      if (resource.Replacement === 'True') summary.replaced.push(id);
      else if (resource.Replacement === 'Conditional') summary.mayBeReplaced.push(id);
      else summary.modifiedInPlace.push(id);
    }
    causes[id] = (resource.Details ?? []).map((detail) => {
      const target = detail.Target?.Name ?? detail.Target?.Attribute ?? 'the resource';
      const source = detail.CausingEntity ?? detail.ChangeSource ?? detail.Evaluation ?? 'the template';
      return `${target} (recreation: ${detail.Target?.RequiresRecreation ?? 'n/a'}) ← ${source}`;
    });
  }
  return { ...summary, causes };
}
