import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  Capability,
  CreateChangeSetCommand,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStackSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListExportsCommand,
  ListImportsCommand,
  ListStackInstancesCommand,
  RollbackStackCommand,
  StackEvent,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { EC2Client, GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import { SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { check, defineFixture, ExerciseContext, ExerciseStep, expectRejection, requireOutput } from '../support/exercise';
import { CONSUMER_TEMPLATE_FILE, IAC_LAB } from './constants';
import { FAILING_UPDATE_TEMPLATE, PLAYGROUND_TEMPLATE } from './playground-templates';
import {
  cloudFormationOf,
  deleteExerciseStack,
  DELETED,
  describeChangeSet,
  describeStack,
  detectResourceDrift,
  expectStackStatus,
  outputsOf,
  parametersOf,
  resourcesOf,
  summarizeChanges,
} from './exercise/stack-operations';

export { timing } from './exercise/stack-operations';

const LAB_STACK = IAC_LAB.stackName;
const { stage, archive, signingSecret } = IAC_LAB.parameters;
const exportName = `${LAB_STACK}${IAC_LAB.exportSuffix}`;
/** Stacks created with the SDK need these to create IAM resources or run a transform; the lab's own updates too. */
const CAPABILITIES = [Capability.CAPABILITY_IAM, Capability.CAPABILITY_NAMED_IAM, Capability.CAPABILITY_AUTO_EXPAND];
const tags = [{ Key: 'lab', Value: 'iac' }];

/** The name of a stack this run creates, with the prefix the lab's custom resource hands out. */
const stackNameOf = (context: ExerciseContext, what: string) => `${requireOutput(context.outputs, 'ExerciseStackPrefix')}${what}`;

/**
 * The playground stack (one queue), created by the first step that needs it and deleted when the run ends; the
 * termination-protection step deletes it itself.
 */
export const playground = defineFixture(
  'the playground stack',
  async (context) => {
    const stackName = stackNameOf(context, 'playground');
    await deleteExerciseStack(context, stackName); // left by an interrupted run
    await cloudFormationOf(context).send(
      new CreateStackCommand({ StackName: stackName, TemplateBody: JSON.stringify(PLAYGROUND_TEMPLATE), Tags: tags }),
    );
    await expectStackStatus(context, stackName, 'CREATE_COMPLETE');
    context.log(`created the playground stack ${stackName}`);
    return { stackName };
  },
  (created, context) => deleteExerciseStack(context, created.stackName),
);

async function anatomy(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const stack = await describeStack(context, LAB_STACK);
  check(stack !== undefined, `stack ${LAB_STACK} is not deployed`);
  const parameters = parametersOf(stack);
  log(`parameters: ${Object.entries(parameters).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  check(parameters[signingSecret.parameter] === '****', `the NoEcho parameter ${signingSecret.parameter} is shown as ${parameters[signingSecret.parameter]}, not ****`);
  log(`${signingSecret.parameter} is NoEcho: DescribeStacks shows **** (GetTemplate still shows its default)`);

  const archiveOn = parameters[archive.parameter] === 'true';
  const stackOutputs = outputsOf(stack);
  check(
    archiveOn === ('ArchiveQueueUrl' in stackOutputs),
    `${archive.parameter}=${parameters[archive.parameter]} but the output ArchiveQueueUrl is ${'ArchiveQueueUrl' in stackOutputs ? 'there' : 'missing'}`,
  );
  log(`condition CreateArchive is ${archiveOn}: the archive queue and its output ${archiveOn ? 'exist' : 'do not exist'} (ArchiveState: ${stackOutputs.ArchiveState})`);
  const expectedName = `${LAB_STACK}-orders-${parameters[stage.parameter]}`;
  check(stackOutputs.OrdersQueueName === expectedName, `OrdersQueueName (Fn::Select of the URL) is ${stackOutputs.OrdersQueueName}, expected ${expectedName} (Fn::Sub)`);
  log(`Fn::Sub named the orders queue ${expectedName}; Fn::Select took it back out of its URL`);

  let exported: string | undefined;
  let NextToken: string | undefined;
  do {
    const page = await cloudFormationOf(context).send(new ListExportsCommand({ NextToken }));
    exported ??= page.Exports?.find((e) => e.Name === exportName)?.Value;
    NextToken = page.NextToken;
  } while (NextToken && exported === undefined);
  check(exported === requireOutput(outputs, 'SharedDlqArn'), `export ${exportName} is ${exported ?? 'missing'}, expected the SharedDlqArn output`);
  log(`export ${exportName} = ${exported}`);

  const summary = await cloudFormationOf(context).send(new GetTemplateSummaryCommand({ StackName: LAB_STACK }));
  const metadata = JSON.parse(summary.Metadata ?? '{}') as Record<string, unknown>;
  check('AWS::CloudFormation::Interface' in metadata, 'the template metadata has no AWS::CloudFormation::Interface (parameter groups)');
  const noEcho = (summary.Parameters ?? []).filter((p) => p.NoEcho).map((p) => p.ParameterKey);
  check(noEcho.includes(signingSecret.parameter), `GetTemplateSummary lists NoEcho parameters ${noEcho.join(', ') || 'none'}`);
  log(`Metadata AWS::CloudFormation::Interface groups the parameters for the console; NoEcho: ${noEcho.join(', ')}`);
}

/** The stacks importing an export; ListImports refuses an export nobody imports, which is an empty list here. */
async function importersOf(context: ExerciseContext, name: string): Promise<string[]> {
  try {
    return (await cloudFormationOf(context).send(new ListImportsCommand({ ExportName: name }))).Imports ?? [];
  } catch (error) {
    if (/is not imported/.test((error as Error).message)) return [];
    throw error;
  }
}

async function importValue(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const cloudformation = cloudFormationOf(context);
  const stackName = stackNameOf(context, 'consumer');
  const template = readFileSync(path.join(__dirname, CONSUMER_TEMPLATE_FILE), 'utf8');
  await deleteExerciseStack(context, stackName);
  await cloudformation.send(new CreateStackCommand({
    StackName: stackName,
    TemplateBody: template,
    Parameters: [{ ParameterKey: 'LabStackName', ParameterValue: LAB_STACK }],
    Tags: tags,
  }));
  try {
    await expectStackStatus(context, stackName, 'CREATE_COMPLETE');
    const imported = outputsOf(await describeStack(context, stackName)).ImportedDlqArn;
    check(imported === requireOutput(outputs, 'SharedDlqArn'), `the consumer imported ${imported}, not the lab's SharedDlqArn`);
    log(`${stackName} imported ${exportName} with Fn::ImportValue: ${imported}`);
    const importers = await importersOf(context, exportName);
    check(importers.includes(stackName), `ListImports(${exportName}) names ${importers.join(', ') || 'no stack'}, not ${stackName}`);
    log(`ListImports names ${stackName}: while it imports, CloudFormation refuses to change or delete the export`);
  } finally {
    await deleteExerciseStack(context, stackName);
  }
  check(!(await importersOf(context, exportName)).includes(stackName), `${stackName} still imports ${exportName} after its deletion`);
  log(`deleted ${stackName}; the export is free again`);
}

async function nestedSam(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const samStackId = requireOutput(outputs, 'SamStackId');
  const [lab, nested] = await Promise.all([describeStack(context, LAB_STACK), describeStack(context, samStackId)]);
  check(nested?.ParentId === lab?.StackId, `the SAM stack's ParentId is ${nested?.ParentId}, not the lab stack ${lab?.StackId}`);
  log(`nested stack ${nested?.StackName}: ParentId and RootId are ${LAB_STACK}; status ${nested?.StackStatus}`);
  check(parametersOf(nested).SigningSecret === '****', 'the nested stack shows its NoEcho parameter SigningSecret in clear');
  log(`parameters passed in: ${Object.entries(parametersOf(nested)).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  log(`outputs read back by the parent (Fn::GetAtt <nested>.Outputs.<name>): ${Object.keys(outputsOf(nested)).join(', ')}`);

  const templateOf = async (stage: 'Original' | 'Processed') => {
    const { TemplateBody } = await cloudFormationOf(context).send(new GetTemplateCommand({ StackName: samStackId, TemplateStage: stage }));
    return JSON.parse(TemplateBody ?? '{}') as { Transform?: unknown; Resources?: Record<string, { Type: string }> };
  };
  const typesOf = (template: Awaited<ReturnType<typeof templateOf>>) => Object.values(template.Resources ?? {}).map((r) => r.Type);
  const original = await templateOf('Original');
  check(JSON.stringify(original.Transform ?? '').includes('AWS::Serverless-2016-10-31'), 'the original SAM template has no AWS::Serverless-2016-10-31 transform');
  check(typesOf(original).includes('AWS::Serverless::Function'), 'the original SAM template has no AWS::Serverless::Function');
  const processed = await templateOf('Processed');
  const expanded = typesOf(processed);
  check(!expanded.some((type) => type.startsWith('AWS::Serverless::')), `the processed template still holds ${expanded.filter((t) => t.startsWith('AWS::Serverless::')).join(', ')}`);
  const missing = ['AWS::Lambda::Function', 'AWS::IAM::Role', 'AWS::Events::Rule', 'AWS::Lambda::Permission'].filter((t) => !expanded.includes(t));
  check(missing.length === 0, `the transform did not create ${missing.join(', ')}`);
  log(`original: ${typesOf(original).join(', ')}`);
  log(`processed (after the SAM transform): ${[...expanded].sort().join(', ')}`);
}

async function changeSet(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const cloudformation = cloudFormationOf(context);
  const current = parametersOf(await describeStack(context, LAB_STACK));
  const flip = (values: readonly string[], value: string) => values.find((v) => v !== value) ?? value;
  const changed = {
    [stage.parameter]: flip(stage.allowedValues, current[stage.parameter]),
    [archive.parameter]: flip(archive.allowedValues, current[archive.parameter]),
  };
  const changeSetName = `iac-flip-${context.runId}`;
  await cloudformation.send(new CreateChangeSetCommand({
    StackName: LAB_STACK,
    ChangeSetName: changeSetName,
    UsePreviousTemplate: true,
    Capabilities: CAPABILITIES,
    Parameters: Object.keys(current).map((key) =>
      key in changed ? { ParameterKey: key, ParameterValue: changed[key] } : { ParameterKey: key, UsePreviousValue: true }),
  }));
  log(`change set ${changeSetName}: ${Object.entries(changed).map(([k, v]) => `${k} ${current[k]} → ${v}`).join(', ')}`);
  try {
    const summary = summarizeChanges((await describeChangeSet(context, LAB_STACK, changeSetName)).Changes);
    for (const [kind, ids] of Object.entries(summary)) {
      if (kind !== 'causes' && (ids as string[]).length > 0) log(`${kind}: ${(ids as string[]).join(', ')}`);
    }
    log(`why OrdersQueue: ${(summary.causes.OrdersQueue ?? []).join('; ')}`);
    check(summary.replaced.includes('OrdersQueue'), `OrdersQueue is not replaced, although its QueueName changes (${JSON.stringify(summary)})`);
    check(
      (summary.causes.OrdersQueue ?? []).some((cause) => cause.includes('QueueName') && cause.includes('Always')),
      `the change set does not say that QueueName requires recreation: ${(summary.causes.OrdersQueue ?? []).join('; ')}`,
    );
    const archiveChange = changed[archive.parameter] === 'true' ? summary.added : summary.removed;
    check(archiveChange.includes('ArchiveQueue'), `ArchiveEnabled → ${changed[archive.parameter]} does not ${changed[archive.parameter] === 'true' ? 'add' : 'remove'} ArchiveQueue`);
    check(
      !summary.replaced.some((id) => id.startsWith('Levels')),
      `the construct-level queues would be replaced (${summary.replaced.join(', ')}), although no parameter they use changed`,
    );
    log('OrdersQueue would be replaced (a new queue, then the old one deleted); the archive queue added or removed by its condition');
  } finally {
    await cloudformation.send(new DeleteChangeSetCommand({ StackName: LAB_STACK, ChangeSetName: changeSetName }));
    log(`deleted ${changeSetName} without executing it: the lab is unchanged`);
  }
}

/** The stack's events caused by one request (ClientRequestToken), oldest first. */
async function eventsOf(context: ExerciseContext, stackName: string, token: string): Promise<StackEvent[]> {
  const { StackEvents } = await cloudFormationOf(context).send(new DescribeStackEventsCommand({ StackName: stackName }));
  return (StackEvents ?? []).filter((e) => e.ClientRequestToken === token).reverse();
}

async function rollback(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const cloudformation = cloudFormationOf(context);
  const { stackName } = await context.use(playground);
  const update = (token: string, disableRollback: boolean) =>
    cloudformation.send(new UpdateStackCommand({
      StackName: stackName,
      TemplateBody: JSON.stringify(FAILING_UPDATE_TEMPLATE),
      DisableRollback: disableRollback,
      ClientRequestToken: token,
      Tags: tags,
    }));

  const rolledBack = `${context.runId}-rollback`;
  await update(rolledBack, false);
  await expectStackStatus(context, stackName, 'UPDATE_ROLLBACK_COMPLETE');
  const failure = (await eventsOf(context, stackName, rolledBack)).find((e) => e.ResourceStatus === 'CREATE_FAILED');
  check(failure?.LogicalResourceId === 'DeliberateFailure', `the update failed on ${failure?.LogicalResourceId ?? 'nothing'}, not on DeliberateFailure`);
  log(`update failed on ${failure.LogicalResourceId}: ${failure.ResourceStatusReason}`);
  const afterRollback = await resourcesOf(context, stackName);
  check(!('ExtraQueue' in afterRollback), 'ExtraQueue is still in the stack after the rollback');
  log(`UPDATE_ROLLBACK_COMPLETE: ExtraQueue, created during the update, was deleted again; resources: ${Object.keys(afterRollback).join(', ')}`);

  const kept = `${context.runId}-no-rollback`;
  await update(kept, true);
  await expectStackStatus(context, stackName, 'UPDATE_FAILED');
  const afterFailure = await resourcesOf(context, stackName);
  check(afterFailure.ExtraQueue?.ResourceStatus === 'CREATE_COMPLETE', `with DisableRollback, ExtraQueue is ${afterFailure.ExtraQueue?.ResourceStatus ?? 'gone'}, not CREATE_COMPLETE`);
  log(`DisableRollback: UPDATE_FAILED, and what succeeded stays: ExtraQueue ${afterFailure.ExtraQueue.ResourceStatus}, DeliberateFailure ${afterFailure.DeliberateFailure?.ResourceStatus}`);
  log('fix the cause and update again, or roll back: RollbackStack');
  await cloudformation.send(new RollbackStackCommand({ StackName: stackName }));
  await expectStackStatus(context, stackName, 'UPDATE_ROLLBACK_COMPLETE');
  check(!('ExtraQueue' in (await resourcesOf(context, stackName))), 'ExtraQueue is still in the stack after RollbackStack');
  log('RollbackStack: back to the last stable template, ExtraQueue deleted');
}

async function drift(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { stackName } = await context.use(playground);
  const queueUrl = (await resourcesOf(context, stackName)).Queue?.PhysicalResourceId;
  check(queueUrl !== undefined, `the playground stack ${stackName} has no Queue`);
  const { visibilityTimeoutSeconds, driftedVisibilityTimeoutSeconds } = IAC_LAB.playground;
  const setVisibility = (seconds: number) =>
    context.client(SQSClient, 'SQS').send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { VisibilityTimeout: String(seconds) } }));

  await setVisibility(driftedVisibilityTimeoutSeconds);
  log(`changed the queue's VisibilityTimeout by hand: ${visibilityTimeoutSeconds} → ${driftedVisibilityTimeoutSeconds} s`);
  // SQS may take up to 60 s to apply the change: until then, drift detection still sees the old value.
  const { drift: drifted, detections } = await detectResourceDrift(context, stackName, 'Queue', 'MODIFIED');
  const difference = drifted.PropertyDifferences?.find((d) => d.PropertyPath === '/VisibilityTimeout');
  check(
    difference?.ExpectedValue === String(visibilityTimeoutSeconds) && difference.ActualValue === String(driftedVisibilityTimeoutSeconds),
    `drift detection reports ${JSON.stringify(drifted.PropertyDifferences)}, not VisibilityTimeout ${visibilityTimeoutSeconds} → ${driftedVisibilityTimeoutSeconds}`,
  );
  log(`DetectStackResourceDrift: MODIFIED after ${detections} detection(s), ${difference.PropertyPath} expected ${difference.ExpectedValue}, actual ${difference.ActualValue} (${difference.DifferenceType})`);
  await setVisibility(visibilityTimeoutSeconds);
  const { detections: untilInSync } = await detectResourceDrift(context, stackName, 'Queue', 'IN_SYNC');
  log(`restored the value: IN_SYNC again after ${untilInSync} detection(s) (drift detection reports; it never changes a resource)`);
}

async function terminationProtection(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const cloudformation = cloudFormationOf(context);
  const { stackName } = await context.use(playground);
  await cloudformation.send(new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: true }));
  const refused = await expectRejection(
    () => cloudformation.send(new DeleteStackCommand({ StackName: stackName })),
    /TerminationProtection/i,
    `DeleteStack of ${stackName} with termination protection`,
  );
  check((await describeStack(context, stackName))?.StackStatus !== undefined, `${stackName} is gone although DeleteStack was refused`);
  log(`termination protection on: DeleteStack refused (${refused.message})`);
  await deleteExerciseStack(context, stackName);
  check((await describeStack(context, stackName)) === undefined, `${stackName} still exists`);
  log(`termination protection off: ${stackName} ${DELETED}`);
}

async function stackSet(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const cloudformation = cloudFormationOf(context);
  const name = requireOutput(outputs, 'StackSetName');
  const { StackSet: set } = await cloudformation.send(new DescribeStackSetCommand({ StackSetName: name }));
  check(set?.PermissionModel === 'SELF_MANAGED', `stack set ${name} has permission model ${set?.PermissionModel}`);
  check(set.AdministrationRoleARN === requireOutput(outputs, 'StackSetAdministrationRoleArn'), `stack set ${name} uses the administration role ${set.AdministrationRoleARN}, not the lab's`);
  check(set.ExecutionRoleName === requireOutput(outputs, 'StackSetExecutionRoleName'), `stack set ${name} uses the execution role ${set.ExecutionRoleName}, not the lab's`);
  log(`${name}: SELF_MANAGED, administration role ${set.AdministrationRoleARN}, execution role ${set.ExecutionRoleName}`);

  const { Summaries } = await cloudformation.send(new ListStackInstancesCommand({ StackSetName: name }));
  const instances = Summaries ?? [];
  for (const instance of instances) {
    log(`instance ${instance.Account}/${instance.Region}: ${instance.Status}, ${instance.StackInstanceStatus?.DetailedStatus} ${instance.StatusReason ?? ''}`.trimEnd());
  }
  const expected = requireOutput(outputs, 'StackSetRegions').split(',').sort();
  const regions = instances.map((i) => i.Region ?? '').sort();
  check(JSON.stringify(regions) === JSON.stringify(expected), `stack instances in ${regions.join(', ') || 'no Region'}, expected ${expected.join(', ')}`);
  const unhealthy = instances.filter((i) => i.Status !== 'CURRENT' || i.StackInstanceStatus?.DetailedStatus !== 'SUCCEEDED');
  check(unhealthy.length === 0, `stack instances not CURRENT/SUCCEEDED: ${unhealthy.map((i) => `${i.Region} ${i.Status} ${i.StatusReason ?? ''}`).join('; ')}`);
  log(`one instance per Region (${expected.join(', ')}), all CURRENT; cdk destroy removes the instances, then the set`);
}

async function cfnInit(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const instanceId = outputs.CfnInitInstanceId;
  if (!instanceId) {
    log('the cfn-init part is not deployed (npx cdk deploy IacLab -c iac:cfn-init=true): nothing to check');
    return;
  }
  // CloudFormation records the instance's cfn-signal as an event of the instance resource: "Received SUCCESS signal".
  let signal: StackEvent | undefined;
  let NextToken: string | undefined;
  do {
    const page = await cloudFormationOf(context).send(new DescribeStackEventsCommand({ StackName: LAB_STACK, NextToken }));
    signal = page.StackEvents?.find((e) => e.PhysicalResourceId === instanceId && /Received SUCCESS signal/.test(e.ResourceStatusReason ?? ''));
    NextToken = page.NextToken;
  } while (!signal && NextToken);
  check(signal !== undefined, `no SUCCESS signal from ${instanceId} in the events of ${LAB_STACK}: the creation policy did not hear cfn-signal`);
  log(`${signal.LogicalResourceId}: ${signal.ResourceStatusReason}`);
  const { Output } = await context.client(EC2Client, 'EC2').send(new GetConsoleOutputCommand({ InstanceId: instanceId, Latest: true }));
  const console = Buffer.from(Output ?? '', 'base64').toString('utf8');
  const line = console.split('\n').find((l) => l.includes('iac-lab: configured by cfn-init'));
  check(line !== undefined, `the console output of ${instanceId} has no line written by cfn-init's command: the init metadata did not run`);
  log(`console output: ${line.trim()}`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'anatomy', title: 'parameters (NoEcho), conditions, Fn::Sub / Fn::Select, metadata and the export', run: anatomy },
  { id: 'import', title: 'a second stack imports the export with Fn::ImportValue; ListImports', run: importValue },
  { id: 'nested-sam', title: 'the nested SAM stack: parameters in, outputs out, the template before and after the transform', run: nestedSam },
  { id: 'change-set', title: 'a change set flipping two parameters: what is replaced, added, modified, and why', run: changeSet },
  { id: 'rollback', title: 'an update that fails on purpose: rollback, then DisableRollback and RollbackStack', run: rollback },
  { id: 'drift', title: 'drift detection on a queue changed by hand', run: drift },
  { id: 'termination-protection', title: 'termination protection refuses DeleteStack', run: terminationProtection },
  { id: 'stackset', title: 'the StackSet: self-managed roles and one stack instance per Region', run: stackSet },
  { id: 'cfn-init', title: 'cfn-init configured the instance and cfn-signal reported it (with -c iac:cfn-init=true)', run: cfnInit },
];

