import {
  ChangeSetStatus,
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  DetectStackResourceDriftCommand,
  ListStackResourcesCommand,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { steps, timing } from '../../../labs/iac/exercise';
import { FAILING_UPDATE_TEMPLATE } from '../../../labs/iac/playground-templates';
import { IAC_LAB } from '../../../labs/iac/constants';
import {
  cloudFormationOf,
  describeChangeSet,
  describeStack,
  expectStackStatus,
  outputsOf,
  parametersOf,
  resourcesOf,
  summarizeChanges,
  waitForStack,
} from '../../../labs/iac/exercise/stack-operations';
import { ExerciseCheckFailed, ExerciseContext, provide, runExercise, startExerciseRun } from '../../../labs/support/exercise';
import { CFN_INIT_INSTANCE, FakeCloudFormation, LAB_OUTPUTS, Misbehaviour, PREFIX } from './fake-cloudformation';

// CloudFormation, StackSets and drift detection have no local engine: the steps run against a stand-in that keeps
// stacks, statuses and resources (fake-cloudformation.ts), with no wait between polls.
const fake = new FakeCloudFormation();
const lines: string[] = [];
const SHORT_TIMING = { pollSeconds: 0, stackDeadlineSeconds: 5, changeSetDeadlineSeconds: 5, driftDeadlineSeconds: 5 };
const run = (id: string, outputs = LAB_OUTPUTS, timingFigures = SHORT_TIMING) =>
  runExercise([steps.find((s) => s.id === id)!], {
    outputs,
    log: (line) => lines.push(line),
    runId: 'run-test',
    provide: [provide(timing, timingFigures)],
  });
const failureOf = async (id: string, outputs = LAB_OUTPUTS, timingFigures = SHORT_TIMING) => {
  const error = await run(id, outputs, timingFigures).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  return (error as Error).message;
};
const exerciseStacks = () => [...fake.stacks.keys()].filter((name) => name.startsWith(PREFIX));
/** The lab deployed with ArchiveEnabled=true: the condition creates the archive queue and its output. */
const archiveOn = () => {
  const lab = fake.stacks.get(IAC_LAB.stackName)!;
  lab.parameters = { ...lab.parameters, ArchiveEnabled: 'true' };
  lab.outputs = { ...LAB_OUTPUTS, ArchiveQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/IacLab-archive', ArchiveState: 'archive queue IacLab-archive' };
};

beforeEach(() => {
  fake.reset();
  lines.length = 0;
});

test.each(steps.map((s) => [s.id] as const))('step %s passes against a lab that behaves as its README says', async (id) => {
  await run(id, { ...LAB_OUTPUTS, CfnInitInstanceId: CFN_INIT_INSTANCE });
  expect(lines.length).toBeGreaterThan(2);
  // Every stack the step created is gone when the run ends: only the lab and its nested stack remain.
  expect(exerciseStacks()).toEqual([]);
});

// What each step prints against the stand-in, line by line (its title first): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  anatomy: [
    '\n== 1/1 anatomy: parameters (NoEcho), conditions, Fn::Sub / Fn::Select, metadata and the export',
    'parameters: Stage=dev, ArchiveEnabled=false, Owner=learner, SigningSecret=****, StackSetRegionCount=2, BootstrapVersion=/cdk-bootstrap/hnb659fds/version',
    'SigningSecret is NoEcho: DescribeStacks shows **** (GetTemplate still shows its default)',
    'condition CreateArchive is false: the archive queue and its output do not exist (ArchiveState: no archive queue)',
    'Fn::Sub named the orders queue IacLab-orders-dev; Fn::Select took it back out of its URL',
    'export IacLab-SharedDlqArn = arn:aws:sqs:us-east-1:123456789012:IacLab-LevelsLevelTwoQueue-1AB',
    'Metadata AWS::CloudFormation::Interface groups the parameters for the console; NoEcho: SigningSecret',
  ],
  import: [
    '\n== 1/1 import: a second stack imports the export with Fn::ImportValue; ListImports',
    'IacLab-exercise-consumer imported IacLab-SharedDlqArn with Fn::ImportValue: arn:aws:sqs:us-east-1:123456789012:IacLab-LevelsLevelTwoQueue-1AB',
    'ListImports names IacLab-exercise-consumer: while it imports, CloudFormation refuses to change or delete the export',
    'deleted IacLab-exercise-consumer; the export is free again',
  ],
  'nested-sam': [
    '\n== 1/1 nested-sam: the nested SAM stack: parameters in, outputs out, the template before and after the transform',
    'nested stack IacLab-SamAppNestedStack-1ABC: ParentId and RootId are IacLab; status CREATE_COMPLETE',
    'parameters passed in: SigningSecret=****, ExerciseStackPrefix=IacLab-exercise-',
    'outputs read back by the parent (Fn::GetAtt <nested>.Outputs.<name>): FunctionName',
    'original: AWS::Logs::LogGroup, AWS::Serverless::Function',
    'processed (after the SAM transform): AWS::Events::Rule, AWS::IAM::Role, AWS::Lambda::Function, AWS::Lambda::Permission, AWS::Logs::LogGroup',
  ],
  'change-set': [
    '\n== 1/1 change-set: a change set flipping two parameters: what is replaced, added, modified, and why',
    'change set iac-flip-run-test: Stage dev → prod, ArchiveEnabled false → true',
    'added: ArchiveQueue, ArchiveQueuePolicy',
    'replaced: OrdersQueue',
    'modifiedInPlace: OrdersQueuePolicy',
    'why OrdersQueue: QueueName (recreation: Always) ← Stage; Tags (recreation: Never) ← Stage',
    'OrdersQueue would be replaced (a new queue, then the old one deleted); the archive queue added or removed by its condition',
    'deleted iac-flip-run-test without executing it: the lab is unchanged',
  ],
  rollback: [
    '\n== 1/1 rollback: an update that fails on purpose: rollback, then DisableRollback and RollbackStack',
    'created the playground stack IacLab-exercise-playground',
    'update failed on DeliberateFailure: WaitCondition timed out. Received 0 conditions when expecting 1',
    'UPDATE_ROLLBACK_COMPLETE: ExtraQueue, created during the update, was deleted again; resources: Queue',
    'DisableRollback: UPDATE_FAILED, and what succeeded stays: ExtraQueue CREATE_COMPLETE, DeliberateFailure CREATE_FAILED',
    'fix the cause and update again, or roll back: RollbackStack',
    'RollbackStack: back to the last stable template, ExtraQueue deleted',
  ],
  drift: [
    '\n== 1/1 drift: drift detection on a queue changed by hand',
    'created the playground stack IacLab-exercise-playground',
    'changed the queue\'s VisibilityTimeout by hand: 30 → 45 s',
    'DetectStackResourceDrift: MODIFIED after 1 detection(s), /VisibilityTimeout expected 30, actual 45 (NOT_EQUAL)',
    'restored the value: IN_SYNC again after 1 detection(s) (drift detection reports; it never changes a resource)',
  ],
  'termination-protection': [
    '\n== 1/1 termination-protection: termination protection refuses DeleteStack',
    'created the playground stack IacLab-exercise-playground',
    'termination protection on: DeleteStack refused (Stack [IacLab-exercise-playground] cannot be deleted while TerminationProtection is enabled)',
    'termination protection off: IacLab-exercise-playground DELETED',
  ],
  stackset: [
    '\n== 1/1 stackset: the StackSet: self-managed roles and one stack instance per Region',
    'IacLab-regional: SELF_MANAGED, administration role arn:aws:iam::123456789012:role/IacLab-RegionalAdministrationRole-1AB, execution role IacLab-RegionalExecutionRole-1CD',
    'instance 123456789012/us-west-2: CURRENT, SUCCEEDED',
    'instance 123456789012/us-east-1: CURRENT, SUCCEEDED',
    'one instance per Region (us-east-1, us-west-2), all CURRENT; cdk destroy removes the instances, then the set',
  ],
  'cfn-init': [
    '\n== 1/1 cfn-init: cfn-init configured the instance and cfn-signal reported it (with -c iac:cfn-init=true)',
    'CfnInitInstanceCFE49773: Received SUCCESS signal with UniqueId i-0123456789abcdef0',
    'console output: iac-lab: configured by cfn-init from the AWS::CloudFormation::Init metadata of IacLab',
  ],
};
test.each(Object.entries(PRINTED))('step %s prints what it saw', async (id, printed) => {
  await run(id, { ...LAB_OUTPUTS, CfnInitInstanceId: CFN_INIT_INSTANCE });
  expect(lines).toEqual(printed);
});


describe('change-set', () => {
  test('flips Stage and ArchiveEnabled, keeps every other value, and deletes the change set without executing it', async () => {
    await run('change-set');
    const [input] = fake.createdChangeSets;
    expect(input.UsePreviousTemplate).toBe(true);
    expect(input.Capabilities).toContain('CAPABILITY_AUTO_EXPAND');
    expect(input.Parameters).toEqual([
      { ParameterKey: 'Stage', ParameterValue: 'prod' },
      { ParameterKey: 'ArchiveEnabled', ParameterValue: 'true' },
      { ParameterKey: 'Owner', UsePreviousValue: true },
      { ParameterKey: 'SigningSecret', UsePreviousValue: true },
      { ParameterKey: 'StackSetRegionCount', UsePreviousValue: true },
      { ParameterKey: 'BootstrapVersion', UsePreviousValue: true },
    ]);
    expect(fake.deletedChangeSets).toEqual([input.ChangeSetName]);
  });

  test('reports OrdersQueue replaced because QueueName requires recreation, and the archive queue added, from every page', async () => {
    await run('change-set');
    expect(lines).toContain('replaced: OrdersQueue');
    expect(lines).toContain('added: ArchiveQueue, ArchiveQueuePolicy');
    expect(lines).toContain('modifiedInPlace: OrdersQueuePolicy');
    expect(lines).toContain('why OrdersQueue: QueueName (recreation: Always) ← Stage; Tags (recreation: Never) ← Stage');
  });

  test('fails when the queue would only be modified in place, and still deletes the change set', async () => {
    fake.misbehaviour.ordersModifiedInPlace = true;
    expect(await failureOf('change-set')).toMatch(/^OrdersQueue is not replaced, although its QueueName changes/);
    expect(fake.deletedChangeSets).toHaveLength(1);
  });

  test('on a lab with the archive queue, turns ArchiveEnabled off and expects the archive queue removed', async () => {
    archiveOn();
    await run('change-set');
    expect(lines).toContain('change set iac-flip-run-test: Stage dev → prod, ArchiveEnabled true → false');
    expect(lines).toContain('removed: ArchiveQueue, ArchiveQueuePolicy');
  });
});

test('summarizeChanges sorts each resource change by what CloudFormation will do, and names the cause', () => {
  const summary = summarizeChanges([
    { ResourceChange: { Action: 'Modify', LogicalResourceId: 'A', Replacement: 'True', Details: [{ Target: { Name: 'QueueName', RequiresRecreation: 'Always' }, CausingEntity: 'Stage' }] } },
    { ResourceChange: { Action: 'Modify', LogicalResourceId: 'B', Replacement: 'Conditional', Details: [{ Target: { Attribute: 'Properties', RequiresRecreation: 'Conditionally' }, ChangeSource: 'DirectModification' }] } },
    { ResourceChange: { Action: 'Modify', LogicalResourceId: 'C', Replacement: 'False' } },
    { ResourceChange: { Action: 'Add', LogicalResourceId: 'D' } },
    { ResourceChange: { Action: 'Remove', LogicalResourceId: 'E' } },
  ]);
  expect(summary).toEqual({
    replaced: ['A'],
    mayBeReplaced: ['B'],
    modifiedInPlace: ['C'],
    added: ['D'],
    removed: ['E'],
    causes: { A: ['QueueName (recreation: Always) ← Stage'], B: ['Properties (recreation: Conditionally) ← DirectModification'], C: [], D: [], E: [] },
  });
});

test('rollback shows the new queue deleted by the rollback, kept by DisableRollback, and deleted by RollbackStack', async () => {
  await run('rollback');
  expect(lines).toContain('update failed on DeliberateFailure: WaitCondition timed out. Received 0 conditions when expecting 1');
  expect(lines).toContain('DisableRollback: UPDATE_FAILED, and what succeeded stays: ExtraQueue CREATE_COMPLETE, DeliberateFailure CREATE_FAILED');
});

// Each step's checks, against a lab or account that does not behave as the README says.
const misbehaving: [keyof Misbehaviour, string, RegExp][] = [
  ['noEchoInClear', 'anatomy', /^the NoEcho parameter SigningSecret is shown as NotASecretChangeMe2026, not \*\*\*\*$/],
  ['forgetsImports', 'import', /^ListImports\(IacLab-SharedDlqArn\) names no stack, not IacLab-exercise-consumer$/],
  ['noTransform', 'nested-sam', /^the processed template still holds AWS::Serverless::Function$/],
  ['ignoresDisableRollback', 'rollback', /^stack IacLab-exercise-playground ended in UPDATE_ROLLBACK_COMPLETE, expected UPDATE_FAILED/],
  ['ignoresTerminationProtection', 'termination-protection', /^DeleteStack of IacLab-exercise-playground with termination protection succeeded, but it should have been refused$/],
  ['outdatedInstance', 'stackset', /^stack instances not CURRENT\/SUCCEEDED: us-west-2 OUTDATED User: .* ssm:PutParameter$/],
  ['noExport', 'anatomy', /^export IacLab-SharedDlqArn is missing, expected the SharedDlqArn output$/],
  ['noParameterGroups', 'anatomy', /^the template metadata has no AWS::CloudFormation::Interface \(parameter groups\)$/],
  ['noEchoOnOtherParameters', 'anatomy', /^GetTemplateSummary lists NoEcho parameters Stage, Owner$/],
  ['levelsReplaced', 'change-set', /^the construct-level queues would be replaced \(OrdersQueue, LevelsLevelOneQueue\), although no parameter they use changed$/],
  ['replacementCauseUnclear', 'change-set', /^the change set does not say that QueueName requires recreation: QueueName \(recreation: Conditionally\) ← Stage; Tags \(recreation: Always\) ← Stage$/],
  ['archiveUnchanged', 'change-set', /^ArchiveEnabled → true does not add ArchiveQueue$/],
  ['failureUnreported', 'rollback', /^the update failed on nothing, not on DeliberateFailure$/],
  ['rollbackKeepsExtraQueue', 'rollback', /^ExtraQueue is still in the stack after the rollback$/],
  ['disableRollbackLosesExtraQueue', 'rollback', /^with DisableRollback, ExtraQueue is gone, not CREATE_COMPLETE$/],
  ['rollbackStackKeepsExtraQueue', 'rollback', /^ExtraQueue is still in the stack after RollbackStack$/],
  ['serviceManagedStackSet', 'stackset', /^stack set IacLab-regional has permission model SERVICE_MANAGED$/],
];
test.each(misbehaving)('with %s, step %s fails with what it saw', async (misbehaviour, id, message) => {
  fake.misbehaviour[misbehaviour] = true;
  expect(await failureOf(id)).toMatch(message);
  expect(exerciseStacks()).toEqual([]);
});

test('a failing ListImports fails the import step with its error, and the consumer stack is still deleted', async () => {
  fake.misbehaviour.throttlesImports = true;
  await expect(run('import')).rejects.toThrow('Rate exceeded');
  expect(exerciseStacks()).toEqual([]);
});

test('every stack the steps create or update carries the lab\'s tag', async () => {
  await run('import');
  await run('rollback');
  const tagged = [...fake.cloudformation.commandCalls(CreateStackCommand), ...fake.cloudformation.commandCalls(UpdateStackCommand)].map((call) => call.args[0].input.Tags);
  expect(tagged).toEqual([[{ Key: 'lab', Value: 'iac' }], [{ Key: 'lab', Value: 'iac' }], [{ Key: 'lab', Value: 'iac' }], [{ Key: 'lab', Value: 'iac' }]]);
});

// Checks against a lab whose deployment differs from what the steps expect (outputs or stacks changed by hand).
const SAM_STACK_NAME = 'IacLab-SamAppNestedStack-1ABC';
const LAB_STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/IacLab/0000-6';
const differing: [string, string, () => void, Record<string, string>, string][] = [
  ['the lab stack is missing', 'anatomy', () => fake.stacks.delete(IAC_LAB.stackName), LAB_OUTPUTS, 'stack IacLab is not deployed'],
  ['the queue name is not the Fn::Sub one', 'anatomy', () => (fake.stacks.get(IAC_LAB.stackName)!.outputs = { ...LAB_OUTPUTS, OrdersQueueName: 'orders' }), LAB_OUTPUTS, 'OrdersQueueName (Fn::Select of the URL) is orders, expected IacLab-orders-dev (Fn::Sub)'],
  ['the export is not the SharedDlqArn output', 'anatomy', () => undefined, { ...LAB_OUTPUTS, SharedDlqArn: 'arn:aws:sqs:us-east-1:123456789012:other' }, 'export IacLab-SharedDlqArn is arn:aws:sqs:us-east-1:123456789012:IacLab-LevelsLevelTwoQueue-1AB, expected the SharedDlqArn output'],
  ['the consumer imports something else', 'import', () => undefined, { ...LAB_OUTPUTS, SharedDlqArn: 'arn:aws:sqs:us-east-1:123456789012:other' }, 'the consumer imported arn:aws:sqs:us-east-1:123456789012:IacLab-LevelsLevelTwoQueue-1AB, not the lab\'s SharedDlqArn'],
  ['the SAM stack is not nested in the lab', 'nested-sam', () => (fake.stacks.get(SAM_STACK_NAME)!.parentId = 'arn:other'), LAB_OUTPUTS, 'the SAM stack\'s ParentId is arn:other, not the lab stack arn:aws:cloudformation:us-east-1:123456789012:stack/IacLab/0000-6'],
  ['the nested stack shows its NoEcho parameter', 'nested-sam', () => (fake.stacks.get(SAM_STACK_NAME)!.parameters = { ...fake.stacks.get(SAM_STACK_NAME)!.parameters, SigningSecret: 'secret' }), LAB_OUTPUTS, 'the nested stack shows its NoEcho parameter SigningSecret in clear'],
  ['the stack set has another administration role', 'stackset', () => undefined, { ...LAB_OUTPUTS, StackSetAdministrationRoleArn: 'arn:aws:iam::123456789012:role/Other' }, 'stack set IacLab-regional uses the administration role arn:aws:iam::123456789012:role/IacLab-RegionalAdministrationRole-1AB, not the lab\'s'],
  ['the stack set has another execution role', 'stackset', () => undefined, { ...LAB_OUTPUTS, StackSetExecutionRoleName: 'Other' }, 'stack set IacLab-regional uses the execution role IacLab-RegionalExecutionRole-1CD, not the lab\'s'],
  ['the stack set has an instance in a Region not asked for', 'stackset', () => undefined, { ...LAB_OUTPUTS, StackSetRegions: 'us-east-1' }, 'stack instances in us-east-1, us-west-2, expected us-east-1'],
  ['the stack set misses a Region asked for', 'stackset', () => undefined, { ...LAB_OUTPUTS, StackSetRegions: 'us-east-1,eu-west-1' }, 'stack instances in us-east-1, us-west-2, expected eu-west-1, us-east-1'],
  ['the archive output is missing although its condition is true', 'anatomy', () => (fake.stacks.get(IAC_LAB.stackName)!.parameters.ArchiveEnabled = 'true'), LAB_OUTPUTS, 'ArchiveEnabled=true but the output ArchiveQueueUrl is missing'],
  ['the SAM stack is gone', 'nested-sam', () => fake.stacks.delete(SAM_STACK_NAME), LAB_OUTPUTS, `the SAM stack's ParentId is undefined, not the lab stack ${LAB_STACK_ID}`],
  ['the lab stack is gone', 'nested-sam', () => fake.stacks.delete(IAC_LAB.stackName), LAB_OUTPUTS, `the SAM stack's ParentId is ${LAB_STACK_ID}, not the lab stack undefined`],
  ['the original SAM template has no transform', 'nested-sam', () => (fake.samTemplates.original = { Resources: fake.samTemplates.original.Resources }), LAB_OUTPUTS, 'the original SAM template has no AWS::Serverless-2016-10-31 transform'],
  ['the original SAM template has no function', 'nested-sam', () => (fake.samTemplates.original = { ...fake.samTemplates.original, Resources: { StackEventsLogGroup: { Type: 'AWS::Logs::LogGroup' } } }), LAB_OUTPUTS, 'the original SAM template has no AWS::Serverless::Function'],
  ['the processed template keeps two SAM resources', 'nested-sam', () => (fake.samTemplates.processed = { Resources: { Function: { Type: 'AWS::Serverless::Function' }, Api: { Type: 'AWS::Serverless::Api' } } }), LAB_OUTPUTS, 'the processed template still holds AWS::Serverless::Function, AWS::Serverless::Api'],
  ['the transform made neither the rule nor its permission', 'nested-sam', () => (fake.samTemplates.processed = { Resources: { Function: { Type: 'AWS::Lambda::Function' }, Role: { Type: 'AWS::IAM::Role' } } }), LAB_OUTPUTS, 'the transform did not create AWS::Events::Rule, AWS::Lambda::Permission'],
  ['the change set keeps the archive queue of a lab that has one', 'change-set', () => (archiveOn(), (fake.misbehaviour.archiveUnchanged = true)), LAB_OUTPUTS, 'ArchiveEnabled → false does not remove ArchiveQueue'],
  ['the SUCCESS signal came from another instance', 'cfn-init', () => undefined, { ...LAB_OUTPUTS, CfnInitInstanceId: 'i-0fedcba9876543210' }, 'no SUCCESS signal from i-0fedcba9876543210 in the events of IacLab: the creation policy did not hear cfn-signal'],
];
test.each(differing)('when %s, step %s fails with what it saw', async (_, id, change, outputs, message) => {
  change();
  expect(await failureOf(id, outputs)).toBe(message);
});

test('anatomy on a lab with ArchiveEnabled=true finds the archive queue\'s output', async () => {
  archiveOn();
  await run('anatomy');
  expect(lines).toContain('condition CreateArchive is true: the archive queue and its output exist (ArchiveState: archive queue IacLab-archive)');
});

test('stackset compares the Regions in any order', async () => {
  await run('stackset', { ...LAB_OUTPUTS, StackSetRegions: 'us-west-2,us-east-1' });
  expect(lines).toContain('one instance per Region (us-east-1, us-west-2), all CURRENT; cdk destroy removes the instances, then the set');
});

describe('drift', () => {
  const detections = () => fake.cloudformation.commandCalls(DetectStackResourceDriftCommand).length;
  // A deadline of 0 s allows one detection: a step that gave up without waiting would fail the same way.
  const noWait = { ...SHORT_TIMING, driftDeadlineSeconds: 0 };

  test('detects again until SQS has applied the change, then again until it has applied the restored value', async () => {
    fake.staleDetections = 2;
    await run('drift');
    expect(detections()).toBe(6);
    expect(lines).toContain('DetectStackResourceDrift: MODIFIED after 3 detection(s), /VisibilityTimeout expected 30, actual 45 (NOT_EQUAL)');
    expect(lines).toContain('restored the value: IN_SYNC again after 3 detection(s) (drift detection reports; it never changes a resource)');
  });

  test('fails at the deadline when drift detection never sees the change', async () => {
    fake.misbehaviour.blindToDrift = true;
    expect(await failureOf('drift', LAB_OUTPUTS, noWait)).toBe('drift detection of Queue still says IN_SYNC, not MODIFIED, after 1 detections in 0 s');
    expect(exerciseStacks()).toEqual([]);
  });

  test('fails at the deadline when the restored value never shows', async () => {
    fake.misbehaviour.remembersDrift = true;
    expect(await failureOf('drift', LAB_OUTPUTS, noWait)).toBe('drift detection of Queue still says MODIFIED, not IN_SYNC, after 1 detections in 0 s');
    expect(lines).toContain('DetectStackResourceDrift: MODIFIED after 1 detection(s), /VisibilityTimeout expected 30, actual 45 (NOT_EQUAL)');
  });

  test('fails when drift detection reports another property than VisibilityTimeout', async () => {
    fake.misbehaviour.driftOnOtherProperty = true;
    expect(await failureOf('drift')).toBe(
      'drift detection reports [{"PropertyPath":"/MessageRetentionPeriod","ExpectedValue":"345600","ActualValue":"1209600","DifferenceType":"NOT_EQUAL"}], not VisibilityTimeout 30 → 45',
    );
  });

  test('a change SQS has not applied yet fails a step that does not wait for it', async () => {
    fake.staleDetections = 1;
    expect(await failureOf('drift', LAB_OUTPUTS, noWait)).toBe('drift detection of Queue still says IN_SYNC, not MODIFIED, after 1 detections in 0 s');
  });
});

describe('cfn-init', () => {
  const withInstance = { ...LAB_OUTPUTS, CfnInitInstanceId: CFN_INIT_INSTANCE };

  test('finds the instance\'s SUCCESS signal in the lab\'s events and cfn-init\'s line in its console output', async () => {
    await run('cfn-init', withInstance);
    expect(lines).toContain(`CfnInitInstanceCFE49773: Received SUCCESS signal with UniqueId ${CFN_INIT_INSTANCE}`);
    expect(lines).toContain('console output: iac-lab: configured by cfn-init from the AWS::CloudFormation::Init metadata of IacLab');
  });

  test('fails when the instance never signalled', async () => {
    fake.misbehaviour.cfnInitSilent = true;
    expect(await failureOf('cfn-init', withInstance)).toBe(
      `no SUCCESS signal from ${CFN_INIT_INSTANCE} in the events of IacLab: the creation policy did not hear cfn-signal`,
    );
  });

  test('fails when the instance signalled but cfn-init wrote no line to its console', async () => {
    fake.misbehaviour.cfnInitLineMissing = true;
    expect(await failureOf('cfn-init', withInstance)).toBe(
      `the console output of ${CFN_INIT_INSTANCE} has no line written by cfn-init's command: the init metadata did not run`,
    );
  });

  test('says how to deploy the part when the lab runs without it', async () => {
    await run('cfn-init');
    expect(lines).toContain('the cfn-init part is not deployed (npx cdk deploy IacLab -c iac:cfn-init=true): nothing to check');
  });
});

test('anatomy fails when the archive output exists although its condition is false', async () => {
  fake.stacks.get(IAC_LAB.stackName)!.outputs = { ...LAB_OUTPUTS, ArchiveQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/archive' };
  expect(await failureOf('anatomy')).toBe('ArchiveEnabled=false but the output ArchiveQueueUrl is there');
});

test('a protected playground left by an interrupted run is deleted before the step creates its own', async () => {
  const leftover = `${PREFIX}playground`;
  await new CloudFormationClient({}).send(new CreateStackCommand({ StackName: leftover, TemplateBody: JSON.stringify(FAILING_UPDATE_TEMPLATE) }));
  await new CloudFormationClient({}).send(new UpdateTerminationProtectionCommand({ StackName: leftover, EnableTerminationProtection: true }));
  await run('drift');
  expect(lines).toContain(`created the playground stack ${leftover}`);
  expect(exerciseStacks()).toEqual([]);
});

// The stack helpers the steps share, called on their own in a run of their own (the steps' context, short timings).
describe('stack operations', () => {
  const inRun = async <T>(act: (context: ExerciseContext) => Promise<T>, timingFigures = SHORT_TIMING): Promise<T> => {
    const { context, close } = startExerciseRun({ outputs: LAB_OUTPUTS, log: (line) => lines.push(line), runId: 'run-test', provide: [provide(timing, timingFigures)] });
    try {
      return await act(context);
    } finally {
      await close();
    }
  };
  const failureIn = async (act: (context: ExerciseContext) => Promise<unknown>, timingFigures = SHORT_TIMING) => {
    const error = await inRun(act, timingFigures).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    return (error as Error).message;
  };
  const describeStacksCalls = () => fake.cloudformation.commandCalls(DescribeStacksCommand).length;
  const describeChangeSetCalls = () => fake.cloudformation.commandCalls(DescribeChangeSetCommand).length;
  const lab = () => fake.stacks.get(IAC_LAB.stackName)!;
  const noWait = { ...SHORT_TIMING, stackDeadlineSeconds: 0, changeSetDeadlineSeconds: 0 };

  // Answers of CloudFormation the stand-in never gives, each for a stack or change set of its own name.
  const THROTTLED_STACK = `${PREFIX}throttled`;
  const ROLLED_BACK_STACK = `${PREFIX}rolled-back`;
  const PAGED_STACK = `${PREFIX}paged`;
  const PENDING_CHANGE_SET = 'iac-pending';
  const EMPTY_CHANGE_SET = 'iac-no-changes';
  const NO_CHANGES_REASON = 'The submitted information didn\'t contain changes. Submit different information to create a change set.';
  const queueSummary = (id: string, type = 'AWS::SQS::Queue') => ({ LogicalResourceId: id, PhysicalResourceId: `${PAGED_STACK}-${id}`, ResourceType: type, ResourceStatus: 'CREATE_COMPLETE' as const, LastUpdatedTimestamp: new Date(0) });
  let pendingPolls = 0;
  beforeAll(() => {
    fake.cloudformation.on(DescribeStacksCommand, { StackName: THROTTLED_STACK }).callsFake(() => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    });
    fake.cloudformation.on(DescribeStacksCommand, { StackName: ROLLED_BACK_STACK }).callsFake(() => ({
      Stacks: [{
        StackName: ROLLED_BACK_STACK, StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${ROLLED_BACK_STACK}/1`, CreationTime: new Date(0),
        StackStatus: 'ROLLBACK_COMPLETE', StackStatusReason: 'The following resource(s) failed to create: [Queue]. Rollback requested by user.',
      }],
    }));
    // Three pages, the second one empty.
    fake.cloudformation.on(ListStackResourcesCommand, { StackName: PAGED_STACK }).callsFake(({ NextToken }) => {
      if (NextToken === undefined) return { StackResourceSummaries: [queueSummary('Queue')], NextToken: 'page-2' };
      if (NextToken === 'page-2') return { NextToken: 'page-3' };
      return { StackResourceSummaries: [queueSummary('QueuePolicy', 'AWS::SQS::QueuePolicy')] };
    });
    // CREATE_PENDING first, as right after CreateChangeSet, then CREATE_IN_PROGRESS, then the change.
    fake.cloudformation.on(DescribeChangeSetCommand, { ChangeSetName: PENDING_CHANGE_SET }).callsFake(({ StackName, ChangeSetName }) => {
      const Status = (['CREATE_PENDING', 'CREATE_IN_PROGRESS', 'CREATE_COMPLETE'] as ChangeSetStatus[])[Math.min(pendingPolls++, 2)];
      if (Status !== 'CREATE_COMPLETE') return { StackName, ChangeSetName, Status, ExecutionStatus: 'UNAVAILABLE' };
      return { StackName, ChangeSetName, Status, ExecutionStatus: 'AVAILABLE', Changes: [{ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'ArchiveQueue', ResourceType: 'AWS::SQS::Queue' } }] };
    });
    fake.cloudformation.on(DescribeChangeSetCommand, { ChangeSetName: EMPTY_CHANGE_SET }).callsFake(({ StackName, ChangeSetName }) => ({
      StackName, ChangeSetName, Status: 'FAILED', ExecutionStatus: 'UNAVAILABLE', StatusReason: NO_CHANGES_REASON, Changes: [],
    }));
  });
  beforeEach(() => {
    pendingPolls = 0;
  });

  test('cloudFormationOf is the run\'s CloudFormation client, the one every step shares', async () => {
    await inRun(async (context) => expect(cloudFormationOf(context)).toBe(context.client(CloudFormationClient, 'CLOUDFORMATION')));
  });

  test('describeStack takes a stack that does not exist for undefined, and throws any other error', async () => {
    expect(await inRun((context) => describeStack(context, `${PREFIX}gone`))).toBeUndefined();
    await expect(inRun((context) => describeStack(context, THROTTLED_STACK))).rejects.toMatchObject({ name: 'Throttling', message: 'Rate exceeded' });
  });

  test('waitForStack polls every pollSeconds until the stack leaves *_IN_PROGRESS', async () => {
    jest.useFakeTimers();
    try {
      lab().pending = ['UPDATE_IN_PROGRESS'];
      lab().status = 'UPDATE_COMPLETE';
      const waiting = inRun((context) => waitForStack(context, IAC_LAB.stackName), { ...SHORT_TIMING, pollSeconds: 30, stackDeadlineSeconds: 60 });
      await jest.advanceTimersByTimeAsync(29_999);
      expect(describeStacksCalls()).toBe(1);
      await jest.advanceTimersByTimeAsync(1);
      expect(await waiting).toBe('UPDATE_COMPLETE');
      expect(describeStacksCalls()).toBe(2);
    } finally {
      jest.useRealTimers();
    }
  });

  test('waitForStack fails at the deadline with the status the stack is still in', async () => {
    lab().pending = ['UPDATE_IN_PROGRESS', 'UPDATE_IN_PROGRESS'];
    expect(await failureIn((context) => waitForStack(context, IAC_LAB.stackName), noWait)).toBe('stack IacLab is still UPDATE_IN_PROGRESS after 0 s');
    expect(describeStacksCalls()).toBe(1);
  });

  test('expectStackStatus asks for no reason when the stack ends in the expected status', async () => {
    lab().pending = ['UPDATE_IN_PROGRESS'];
    lab().status = 'UPDATE_COMPLETE';
    await inRun((context) => expectStackStatus(context, IAC_LAB.stackName, 'UPDATE_COMPLETE'));
    expect(describeStacksCalls()).toBe(2);
  });

  test('expectStackStatus fails with the status the stack ended in and CloudFormation\'s reason', async () => {
    expect(await failureIn((context) => expectStackStatus(context, ROLLED_BACK_STACK, 'CREATE_COMPLETE'))).toBe(
      `stack ${ROLLED_BACK_STACK} ended in ROLLBACK_COMPLETE, expected CREATE_COMPLETE (The following resource(s) failed to create: [Queue]. Rollback requested by user.)`,
    );
    expect(await failureIn((context) => expectStackStatus(context, `${PREFIX}gone`, 'CREATE_COMPLETE'))).toBe(
      `stack ${PREFIX}gone ended in DELETED, expected CREATE_COMPLETE (no reason given)`,
    );
  });

  test('outputsOf and parametersOf are empty for a stack that has none, or no stack', () => {
    const bare = { StackName: 'Bare', CreationTime: new Date(0), StackStatus: 'CREATE_COMPLETE' as const };
    expect([outputsOf(undefined), parametersOf(undefined), outputsOf(bare), parametersOf(bare)]).toEqual([{}, {}, {}, {}]);
  });

  test('resourcesOf reads every page of ListStackResources', async () => {
    expect(await inRun((context) => resourcesOf(context, PAGED_STACK))).toEqual({ Queue: queueSummary('Queue'), QueuePolicy: queueSummary('QueuePolicy', 'AWS::SQS::QueuePolicy') });
    expect(fake.cloudformation.commandCalls(ListStackResourcesCommand)).toHaveLength(3);
  });

  test('describeChangeSet waits while the change set is CREATE_PENDING, then CREATE_IN_PROGRESS', async () => {
    const described = await inRun((context) => describeChangeSet(context, IAC_LAB.stackName, PENDING_CHANGE_SET));
    expect([described.Status, described.Changes.map((c) => c.ResourceChange?.LogicalResourceId)]).toEqual(['CREATE_COMPLETE', ['ArchiveQueue']]);
    expect(describeChangeSetCalls()).toBe(3);
  });

  test('describeChangeSet fails at the deadline with the status the change set is still in', async () => {
    const message = await failureIn(async (context) => {
      await cloudFormationOf(context).send(new CreateChangeSetCommand({ StackName: IAC_LAB.stackName, ChangeSetName: 'iac-slow', UsePreviousTemplate: true }));
      return describeChangeSet(context, IAC_LAB.stackName, 'iac-slow');
    }, noWait);
    expect(message).toBe('change set iac-slow is still CREATE_IN_PROGRESS after 0 s');
    expect(describeChangeSetCalls()).toBe(1);
  });

  test('describeChangeSet fails on a change set CloudFormation could not create, with its reason', async () => {
    expect(await failureIn((context) => describeChangeSet(context, IAC_LAB.stackName, EMPTY_CHANGE_SET))).toBe(`change set ${EMPTY_CHANGE_SET} is FAILED: ${NO_CHANGES_REASON}`);
  });

  test('summarizeChanges lists a Dynamic change under no action, with its causes', () => {
    const summary = summarizeChanges([
      { Type: 'Resource', ResourceChange: { Action: 'Dynamic', LogicalResourceId: 'Nested', ResourceType: 'AWS::CloudFormation::Stack', Details: [{ Target: { Attribute: 'Properties', Name: 'Parameters', RequiresRecreation: 'Never' }, Evaluation: 'Dynamic', ChangeSource: 'Automatic' }] } },
    ]);
    expect(summary).toEqual({ added: [], removed: [], replaced: [], mayBeReplaced: [], modifiedInPlace: [], causes: { Nested: ['Parameters (recreation: Never) ← Automatic'] } });
  });
});
