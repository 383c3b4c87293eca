/**
 * CloudFormation has no local engine, so the exercise's steps run against this stand-in, installed on
 * aws-sdk-client-mock's CloudFormationClient and SQSClient mocks: stacks with statuses that go through *_IN_PROGRESS
 * once, resources, events, termination protection, drift of the playground queue, imports, a change set, and the
 * lab's StackSet. Each `behaviour` switch makes the stand-in misbehave the way a broken lab or account would, so a
 * test can show that the step's check notices.
 */
import {
  Change,
  CloudFormationClient,
  CreateChangeSetCommand,
  CreateChangeSetCommandInput,
  CreateStackCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  DescribeStackSetCommand,
  DetectStackResourceDriftCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListExportsCommand,
  ListImportsCommand,
  ListStackInstancesCommand,
  ListStackResourcesCommand,
  Parameter,
  RollbackStackCommand,
  StackEvent,
  UpdateStackCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { EC2Client, GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import { SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { IAC_LAB } from '../../../labs/iac/constants';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const stackId = (name: string) => `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/0000-${name.length}`;
const queueUrl = (name: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;

export const PREFIX = `${IAC_LAB.stackName}${IAC_LAB.exerciseStackInfix}`;
const SAM_STACK = `${IAC_LAB.stackName}-SamAppNestedStack-1ABC`;
/** The instance of the cfn-init feature, in the outputs of a lab deployed with -c iac:cfn-init=true. */
export const CFN_INIT_INSTANCE = 'i-0123456789abcdef0';

/** The outputs of the deployed lab, as `npm run lab -- outputs iac` would print them. */
export const LAB_OUTPUTS: Record<string, string> = {
  SharedDlqArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:IacLab-LevelsLevelTwoQueue-1AB`,
  OrdersQueueUrl: queueUrl('IacLab-orders-dev'),
  OrdersQueueName: 'IacLab-orders-dev',
  ArchiveState: 'no archive queue',
  SamStackId: stackId(SAM_STACK),
  SamFunctionName: 'IacLab-SamAppNestedStack-StackEventsFunction-1XYZ',
  StackSetName: 'IacLab-regional',
  StackSetRegions: 'us-east-1,us-west-2',
  StackSetAdministrationRoleArn: `arn:aws:iam::${ACCOUNT}:role/IacLab-RegionalAdministrationRole-1AB`,
  StackSetExecutionRoleName: 'IacLab-RegionalExecutionRole-1CD',
  ExerciseStackPrefix: PREFIX,
};

interface FakeResource {
  type: string;
  status: string;
  physicalId: string;
}

interface FakeStack {
  name: string;
  id: string;
  parentId?: string;
  status: string;
  /** Shown by the next DescribeStacks calls before `status`. */
  pending: string[];
  parameters: Record<string, string>;
  outputs: Record<string, string>;
  resources: Record<string, FakeResource>;
  events: StackEvent[];
  terminationProtection: boolean;
}

/** What the stand-in does wrong when told to (all false: it behaves as CloudFormation does). */
export interface Misbehaviour {
  /** Shows the NoEcho parameter in clear. */
  noEchoInClear: boolean;
  /** Rolls a failed update back even with DisableRollback. */
  ignoresDisableRollback: boolean;
  /** Deletes a stack although termination protection is on. */
  ignoresTerminationProtection: boolean;
  /** Reports every resource IN_SYNC. */
  blindToDrift: boolean;
  /** Keeps reporting the first value set by hand, also once it is restored. */
  remembersDrift: boolean;
  /** ListImports never names an importer. */
  forgetsImports: boolean;
  /** The processed SAM template is the original one: no transform ran. */
  noTransform: boolean;
  /** The change set modifies OrdersQueue in place instead of replacing it. */
  ordersModifiedInPlace: boolean;
  /** The StackSet's instance in the second Region is OUTDATED. */
  outdatedInstance: boolean;
  /** The cfn-init instance never signalled, and its console shows no line from cfn-init. */
  cfnInitSilent: boolean;
  /** The cfn-init instance signalled, but its console shows no line from cfn-init. */
  cfnInitLineMissing: boolean;
  /** ListExports does not list the lab's export. */
  noExport: boolean;
  /** The template's metadata has no AWS::CloudFormation::Interface. */
  noParameterGroups: boolean;
  /** GetTemplateSummary flags Stage and Owner NoEcho, not SigningSecret. */
  noEchoOnOtherParameters: boolean;
  /** ListImports fails as a throttled call does. */
  throttlesImports: boolean;
  /** The change set replaces OrdersQueue, but names QueueName's recreation only Conditionally (Tags Always). */
  replacementCauseUnclear: boolean;
  /** The change set also replaces a construct-level queue. */
  levelsReplaced: boolean;
  /** The change set neither adds nor removes the archive queue. */
  archiveUnchanged: boolean;
  /** The failed update records no CREATE_FAILED event. */
  failureUnreported: boolean;
  /** The rollback of the failed update leaves ExtraQueue in the stack. */
  rollbackKeepsExtraQueue: boolean;
  /** With DisableRollback, the update fails but ExtraQueue is gone all the same. */
  disableRollbackLosesExtraQueue: boolean;
  /** RollbackStack leaves ExtraQueue in the stack. */
  rollbackStackKeepsExtraQueue: boolean;
  /** Drift detection reports a difference on another property than the one changed by hand. */
  driftOnOtherProperty: boolean;
  /** The StackSet is SERVICE_MANAGED. */
  serviceManagedStackSet: boolean;
}

const SAM_ORIGINAL = {
  Transform: 'AWS::Serverless-2016-10-31',
  Resources: { StackEventsLogGroup: { Type: 'AWS::Logs::LogGroup' }, StackEventsFunction: { Type: 'AWS::Serverless::Function' } },
};
const SAM_PROCESSED = {
  Resources: {
    StackEventsLogGroup: { Type: 'AWS::Logs::LogGroup' },
    StackEventsFunction: { Type: 'AWS::Lambda::Function' },
    StackEventsFunctionRole: { Type: 'AWS::IAM::Role' },
    StackEventsFunctionExerciseStackChanges: { Type: 'AWS::Events::Rule' },
    StackEventsFunctionExerciseStackChangesPermission: { Type: 'AWS::Lambda::Permission' },
  },
};

/** The nested SAM stack's templates, before and after the transform; a test may change them. */
export interface SamTemplates {
  original: { Transform?: string; Resources: Record<string, { Type: string }> };
  processed: { Resources: Record<string, { Type: string }> };
}

/** The changes CloudFormation computes when Stage and ArchiveEnabled flip (false → true, or true → false), over two pages. */
function flipChanges(archiveOn: boolean, misbehaviour: Misbehaviour): Change[][] {
  const ordersReplaced = !misbehaviour.ordersModifiedInPlace;
  const queueNameRecreation = misbehaviour.replacementCauseUnclear ? 'Conditionally' : ordersReplaced ? 'Always' : 'Never';
  const modify = (id: string, replacement: 'True' | 'False', details: NonNullable<Change['ResourceChange']>['Details']): Change => ({
    Type: 'Resource',
    ResourceChange: { Action: 'Modify', LogicalResourceId: id, ResourceType: 'AWS::SQS::Queue', Replacement: replacement, Details: details },
  });
  // Flipping ArchiveEnabled from true removes the archive queue, from false adds it.
  const archive = (id: string, type: string): Change => ({ Type: 'Resource', ResourceChange: { Action: archiveOn ? 'Remove' : 'Add', LogicalResourceId: id, ResourceType: type } });
  return [
    [
      modify('OrdersQueue', ordersReplaced ? 'True' : 'False', [
        {
          Target: { Attribute: 'Properties', Name: 'QueueName', RequiresRecreation: queueNameRecreation },
          Evaluation: 'Static',
          ChangeSource: 'ParameterReference',
          CausingEntity: 'Stage',
        },
        { Target: { Attribute: 'Tags', RequiresRecreation: misbehaviour.replacementCauseUnclear ? 'Always' : 'Never' }, Evaluation: 'Static', ChangeSource: 'ParameterReference', CausingEntity: 'Stage' },
      ]),
      modify('OrdersQueuePolicy', 'False', [
        { Target: { Attribute: 'Properties', Name: 'Queues', RequiresRecreation: 'Never' }, Evaluation: 'Dynamic', ChangeSource: 'ResourceReference', CausingEntity: 'OrdersQueue' },
      ]),
      ...(misbehaviour.levelsReplaced
        ? [modify('LevelsLevelOneQueue', 'True', [{ Target: { Attribute: 'Properties', Name: 'QueueName', RequiresRecreation: 'Always' }, Evaluation: 'Static', ChangeSource: 'DirectModification' }])]
        : []),
    ],
    misbehaviour.archiveUnchanged ? [] : [archive('ArchiveQueue', 'AWS::SQS::Queue'), archive('ArchiveQueuePolicy', 'AWS::SQS::QueuePolicy')],
  ];
}

const validationError = (message: string) => Object.assign(new Error(message), { name: 'ValidationError' });
const LAB_EXPORT = `${IAC_LAB.stackName}${IAC_LAB.exportSuffix}`;
const exportOf = (stack: string, name: string, value: string) => ({ Name: name, Value: value, ExportingStackId: stackId(stack) });

export class FakeCloudFormation {
  readonly cloudformation = mockClient(CloudFormationClient);
  readonly sqs = mockClient(SQSClient);
  readonly ec2 = mockClient(EC2Client);
  readonly stacks = new Map<string, FakeStack>();
  /** VisibilityTimeout of each queue as SQS has it (by URL), when changed by hand. */
  readonly visibility = new Map<string, number>();
  /**
   * How many DetectStackResourceDrift calls after a SetQueueAttributes still see the queue's previous value, as SQS
   * takes up to 60 s to apply a change: 0 in a fresh fake.
   */
  staleDetections = 0;
  /** Per queue URL: the value drift detection still sees, and for how many more detections. */
  private readonly stale = new Map<string, { value: number; remaining: number }>();
  readonly changeSets = new Map<string, { input: CreateChangeSetCommandInput; polls: number }>();
  /** What each CreateChangeSet asked for, and the change sets deleted since. */
  readonly createdChangeSets: CreateChangeSetCommandInput[] = [];
  readonly deletedChangeSets: string[] = [];
  samTemplates: SamTemplates = { original: SAM_ORIGINAL, processed: SAM_PROCESSED };
  misbehaviour: Misbehaviour = {
    noEchoInClear: false,
    ignoresDisableRollback: false,
    ignoresTerminationProtection: false,
    blindToDrift: false,
    remembersDrift: false,
    forgetsImports: false,
    noTransform: false,
    ordersModifiedInPlace: false,
    outdatedInstance: false,
    cfnInitSilent: false,
    cfnInitLineMissing: false,
    noExport: false,
    noParameterGroups: false,
    noEchoOnOtherParameters: false,
    throttlesImports: false,
    replacementCauseUnclear: false,
    levelsReplaced: false,
    archiveUnchanged: false,
    failureUnreported: false,
    rollbackKeepsExtraQueue: false,
    disableRollbackLosesExtraQueue: false,
    rollbackStackKeepsExtraQueue: false,
    driftOnOtherProperty: false,
    serviceManagedStackSet: false,
  };

  constructor() {
    this.reset();
    this.install();
  }

  /** The deployed lab and its nested SAM stack; no exercise stack; no call recorded. */
  reset(): void {
    for (const mock of [this.cloudformation, this.sqs, this.ec2]) mock.resetHistory();
    this.stacks.clear();
    this.visibility.clear();
    this.stale.clear();
    this.staleDetections = 0;
    this.changeSets.clear();
    this.createdChangeSets.length = 0;
    this.deletedChangeSets.length = 0;
    this.samTemplates = { original: SAM_ORIGINAL, processed: SAM_PROCESSED };
    const lab = this.addStack(IAC_LAB.stackName, {
      parameters: { Stage: 'dev', ArchiveEnabled: 'false', Owner: 'learner', SigningSecret: '****', StackSetRegionCount: '2', BootstrapVersion: '/cdk-bootstrap/hnb659fds/version' },
      outputs: LAB_OUTPUTS,
    });
    this.addStack(SAM_STACK, { parentId: lab.id, parameters: { SigningSecret: '****', ExerciseStackPrefix: PREFIX }, outputs: { FunctionName: LAB_OUTPUTS.SamFunctionName } });
    for (const key of Object.keys(this.misbehaviour) as (keyof Misbehaviour)[]) this.misbehaviour[key] = false;
  }

  private addStack(name: string, settings: Partial<FakeStack>): FakeStack {
    const stack: FakeStack = {
      name, id: stackId(name), status: 'CREATE_COMPLETE', pending: [], parameters: {}, outputs: {}, resources: {}, events: [], terminationProtection: false,
      ...settings,
    };
    this.stacks.set(name, stack);
    return stack;
  }

  private find(nameOrId: string | undefined): FakeStack {
    const stack = [...this.stacks.values()].find((s) => s.name === nameOrId || s.id === nameOrId);
    if (!stack) throw validationError(`Stack with id ${nameOrId} does not exist`);
    return stack;
  }

  private event(stack: FakeStack, token: string | undefined, logicalId: string, status: string, reason?: string): void {
    stack.events.unshift({ StackId: stack.id, StackName: stack.name, EventId: String(stack.events.length), Timestamp: new Date(), LogicalResourceId: logicalId, ResourceStatus: status as never, ResourceStatusReason: reason, ClientRequestToken: token });
  }

  private install(): void {
    const cfn = this.cloudformation;
    cfn.on(DescribeStacksCommand).callsFake(({ StackName }) => {
      const stack = this.find(StackName);
      const status = stack.pending.shift() ?? stack.status;
      if (status === 'DELETED') {
        this.stacks.delete(stack.name);
        throw validationError(`Stack with id ${StackName} does not exist`);
      }
      const parameters = Object.entries(stack.parameters).map(([ParameterKey, value]) => ({
        ParameterKey,
        ParameterValue: ParameterKey === 'SigningSecret' && this.misbehaviour.noEchoInClear ? IAC_LAB.parameters.signingSecret.defaultValue : value,
      }));
      return {
        Stacks: [{
          StackName: stack.name, StackId: stack.id, ParentId: stack.parentId, RootId: stack.parentId, StackStatus: status as never, CreationTime: new Date(),
          Parameters: parameters, Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
          EnableTerminationProtection: stack.terminationProtection,
        }],
      };
    });
    cfn.on(CreateStackCommand).callsFake(({ StackName, TemplateBody, Parameters }) => {
      if (this.stacks.has(StackName ?? '')) throw Object.assign(new Error(`Stack [${StackName}] already exists`), { name: 'AlreadyExistsException' });
      const template = JSON.parse(TemplateBody ?? '{}') as { Parameters?: Record<string, unknown>; Resources: Record<string, { Type: string }>; Outputs?: Record<string, unknown> };
      const unknown = ((Parameters ?? []) as Parameter[]).map((p) => p.ParameterKey).filter((key) => !(key !== undefined && key in (template.Parameters ?? {})));
      if (unknown.length > 0) throw validationError(`Parameters: [${unknown.join(', ')}] do not exist in the template`);
      const resources = Object.fromEntries(Object.entries(template.Resources).map(([id, r]) => [
        id, { type: r.Type, status: 'CREATE_COMPLETE', physicalId: r.Type === 'AWS::SQS::Queue' ? queueUrl(`${StackName}-${id}-1AB`) : `${StackName}-${id}` },
      ]));
      const outputs: Record<string, string> = {};
      if (template.Outputs?.ImportedDlqArn) outputs.ImportedDlqArn = LAB_OUTPUTS.SharedDlqArn;
      this.addStack(StackName ?? '', { status: 'CREATE_COMPLETE', pending: ['CREATE_IN_PROGRESS'], resources, outputs });
      return { StackId: stackId(StackName ?? '') };
    });
    cfn.on(UpdateStackCommand).callsFake(({ StackName, DisableRollback, ClientRequestToken }) => {
      const stack = this.find(StackName);
      this.event(stack, ClientRequestToken, 'ExtraQueue', 'CREATE_COMPLETE');
      if (!this.misbehaviour.failureUnreported) {
        this.event(stack, ClientRequestToken, 'DeliberateFailure', 'CREATE_FAILED', 'WaitCondition timed out. Received 0 conditions when expecting 1');
      }
      const extraQueue = { type: 'AWS::SQS::Queue', status: 'CREATE_COMPLETE', physicalId: queueUrl(`${stack.name}-ExtraQueue-1CD`) };
      if (DisableRollback && !this.misbehaviour.ignoresDisableRollback) {
        if (!this.misbehaviour.disableRollbackLosesExtraQueue) stack.resources.ExtraQueue = extraQueue;
        stack.resources.DeliberateFailure = { type: 'AWS::CloudFormation::WaitCondition', status: 'CREATE_FAILED', physicalId: '' };
        stack.pending = ['UPDATE_IN_PROGRESS'];
        stack.status = 'UPDATE_FAILED';
      } else {
        if (this.misbehaviour.rollbackKeepsExtraQueue) stack.resources.ExtraQueue = extraQueue;
        stack.pending = ['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'];
        stack.status = 'UPDATE_ROLLBACK_COMPLETE';
      }
      return { StackId: stack.id };
    });
    cfn.on(RollbackStackCommand).callsFake(({ StackName }) => {
      const stack = this.find(StackName);
      if (!this.misbehaviour.rollbackStackKeepsExtraQueue) delete stack.resources.ExtraQueue;
      delete stack.resources.DeliberateFailure;
      stack.pending = ['UPDATE_ROLLBACK_IN_PROGRESS'];
      stack.status = 'UPDATE_ROLLBACK_COMPLETE';
      return { StackId: stack.id };
    });
    cfn.on(UpdateTerminationProtectionCommand).callsFake(({ StackName, EnableTerminationProtection }) => {
      const stack = this.find(StackName);
      stack.terminationProtection = EnableTerminationProtection ?? false;
      return { StackId: stack.id };
    });
    cfn.on(DeleteStackCommand).callsFake(({ StackName }) => {
      const stack = this.find(StackName);
      if (stack.terminationProtection && !this.misbehaviour.ignoresTerminationProtection) {
        throw validationError(`Stack [${StackName}] cannot be deleted while TerminationProtection is enabled`);
      }
      stack.pending = ['DELETE_IN_PROGRESS'];
      stack.status = 'DELETED';
      return {};
    });
    cfn.on(DescribeStackEventsCommand).callsFake(({ StackName, NextToken }) => {
      const stack = this.find(StackName);
      if (stack.name !== IAC_LAB.stackName) return { StackEvents: stack.events };
      // The lab's history: the instance's signal is on the second page.
      if (!NextToken) return { StackEvents: [{ StackId: stack.id, StackName: stack.name, EventId: 'e1', Timestamp: new Date(), LogicalResourceId: IAC_LAB.stackName, ResourceStatus: 'CREATE_COMPLETE' }], NextToken: 'page-2' };
      const signal = this.misbehaviour.cfnInitSilent ? [] : [{
        StackId: stack.id, StackName: stack.name, EventId: 'e2', Timestamp: new Date(), LogicalResourceId: 'CfnInitInstanceCFE49773', PhysicalResourceId: CFN_INIT_INSTANCE,
        ResourceStatus: 'CREATE_IN_PROGRESS' as const, ResourceStatusReason: `Received SUCCESS signal with UniqueId ${CFN_INIT_INSTANCE}`,
      }];
      return { StackEvents: signal };
    });
    cfn.on(ListStackResourcesCommand).callsFake(({ StackName }) => ({
      StackResourceSummaries: Object.entries(this.find(StackName).resources).map(([id, r]) => ({
        LogicalResourceId: id, ResourceType: r.type, ResourceStatus: r.status as never, PhysicalResourceId: r.physicalId, LastUpdatedTimestamp: new Date(),
      })),
    }));
    cfn.on(DetectStackResourceDriftCommand).callsFake(({ StackName, LogicalResourceId }) => {
      const resource = this.find(StackName).resources[LogicalResourceId ?? ''];
      const expected = IAC_LAB.playground.visibilityTimeoutSeconds;
      const stale = this.stale.get(resource.physicalId);
      const applied = this.visibility.get(resource.physicalId) ?? expected;
      const actual = stale && stale.remaining-- > 0 ? stale.value : applied;
      const drifted = actual !== expected && !this.misbehaviour.blindToDrift;
      return {
        StackResourceDrift: {
          StackId: stackId(StackName ?? ''), LogicalResourceId, ResourceType: resource.type, Timestamp: new Date(),
          StackResourceDriftStatus: drifted ? 'MODIFIED' : 'IN_SYNC',
          PropertyDifferences: !drifted
            ? []
            : this.misbehaviour.driftOnOtherProperty
              ? [{ PropertyPath: '/MessageRetentionPeriod', ExpectedValue: '345600', ActualValue: '1209600', DifferenceType: 'NOT_EQUAL' }]
              : [{ PropertyPath: '/VisibilityTimeout', ExpectedValue: String(expected), ActualValue: String(actual), DifferenceType: 'NOT_EQUAL' }],
        },
      };
    });
    // The account's exports over three pages, the lab's last, behind other stacks' exports (and a page with none).
    cfn.on(ListExportsCommand).callsFake(({ NextToken }) => {
      if (NextToken === undefined) return { NextToken: 'page-2' };
      if (NextToken === 'page-2') return { Exports: [exportOf('Billing', 'Billing-TableName', 'billing')], NextToken: 'page-3' };
      const lab = this.misbehaviour.noExport ? [] : [exportOf(IAC_LAB.stackName, LAB_EXPORT, LAB_OUTPUTS.SharedDlqArn)];
      return { Exports: [exportOf('Network', 'Network-VpcId', 'vpc-0abc'), ...lab] };
    });
    cfn.on(ListImportsCommand).callsFake(({ ExportName }) => {
      if (this.misbehaviour.throttlesImports) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      const importers = this.misbehaviour.forgetsImports || ExportName !== LAB_EXPORT
        ? []
        : [...this.stacks.values()].filter((s) => s.outputs.ImportedDlqArn && s.status !== 'DELETED');
      if (importers.length === 0) throw validationError(`Export '${ExportName}' is not imported by any stack.`);
      return { Imports: importers.map((s) => s.name) };
    });
    cfn.on(GetTemplateSummaryCommand).callsFake(({ StackName }) => {
      this.find(StackName);
      const otherNoEcho = this.misbehaviour.noEchoOnOtherParameters;
      return {
        Metadata: JSON.stringify(this.misbehaviour.noParameterGroups ? {} : { 'AWS::CloudFormation::Interface': { ParameterGroups: [] } }),
        Parameters: [
          { ParameterKey: 'Stage', NoEcho: otherNoEcho },
          { ParameterKey: 'Owner', NoEcho: otherNoEcho },
          { ParameterKey: 'SigningSecret', NoEcho: !otherNoEcho },
        ],
      };
    });
    cfn.on(GetTemplateCommand).callsFake(({ StackName, TemplateStage }) => {
      this.find(StackName);
      if (TemplateStage !== undefined && TemplateStage !== 'Original' && TemplateStage !== 'Processed') {
        throw validationError(`1 validation error detected: Value '${TemplateStage}' at 'templateStage' failed to satisfy constraint`);
      }
      const processed = TemplateStage === 'Processed' && !this.misbehaviour.noTransform;
      return { TemplateBody: JSON.stringify(processed ? this.samTemplates.processed : this.samTemplates.original) };
    });
    cfn.on(CreateChangeSetCommand).callsFake((input) => {
      this.changeSets.set(input.ChangeSetName ?? '', { input, polls: 0 });
      this.createdChangeSets.push(input);
      return { Id: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/${input.ChangeSetName}/1` };
    });
    cfn.on(DescribeChangeSetCommand).callsFake(({ ChangeSetName, NextToken }) => {
      const changeSet = this.changeSets.get(ChangeSetName ?? '');
      if (!changeSet) throw validationError(`ChangeSet [${ChangeSetName}] does not exist`);
      if (changeSet.polls++ === 0) return { ChangeSetName, Status: 'CREATE_IN_PROGRESS' };
      const pages = flipChanges(this.find(IAC_LAB.stackName).parameters.ArchiveEnabled === 'true', this.misbehaviour);
      const page = NextToken ? 1 : 0;
      return { ChangeSetName, Status: 'CREATE_COMPLETE', Changes: pages[page], NextToken: page === 0 ? 'page-2' : undefined };
    });
    cfn.on(DeleteChangeSetCommand).callsFake(({ ChangeSetName }) => {
      this.deletedChangeSets.push(ChangeSetName ?? '');
      this.changeSets.delete(ChangeSetName ?? '');
      return {};
    });
    const findStackSet = (name: string | undefined) => {
      if (name !== LAB_OUTPUTS.StackSetName) throw Object.assign(new Error(`StackSet ${name} not found`), { name: 'StackSetNotFoundException' });
    };
    cfn.on(DescribeStackSetCommand).callsFake(({ StackSetName }) => {
      findStackSet(StackSetName);
      return {
        StackSet: {
          StackSetName, Status: 'ACTIVE', PermissionModel: this.misbehaviour.serviceManagedStackSet ? 'SERVICE_MANAGED' : 'SELF_MANAGED',
          AdministrationRoleARN: LAB_OUTPUTS.StackSetAdministrationRoleArn, ExecutionRoleName: LAB_OUTPUTS.StackSetExecutionRoleName,
        },
      };
    });
    // The instances in no particular order: here the lab's second Region first.
    cfn.on(ListStackInstancesCommand).callsFake(({ StackSetName }) => (findStackSet(StackSetName), {
      Summaries: LAB_OUTPUTS.StackSetRegions.split(',').reverse().map((Region, index) => {
        const outdated = index === 0 && this.misbehaviour.outdatedInstance;
        return {
          Account: ACCOUNT, Region, StackSetId: 'IacLab-regional:1',
          Status: outdated ? 'OUTDATED' : 'CURRENT',
          StatusReason: outdated ? 'User: ... is not authorized to perform: ssm:PutParameter' : undefined,
          StackInstanceStatus: { DetailedStatus: outdated ? 'FAILED' : 'SUCCEEDED' },
        } as never;
      }),
    }));
    // The serial console's lines end in \r\n.
    this.ec2.on(GetConsoleOutputCommand).callsFake(({ InstanceId }) => {
      if (InstanceId !== CFN_INIT_INSTANCE) throw Object.assign(new Error(`The instance ID '${InstanceId}' does not exist`), { name: 'InvalidInstanceID.NotFound' });
      const silent = this.misbehaviour.cfnInitSilent || this.misbehaviour.cfnInitLineMissing;
      return {
        InstanceId,
        Output: Buffer.from(`[   12.3] cloud-init: running user data\r\n${silent ? '' : 'iac-lab: configured by cfn-init from the AWS::CloudFormation::Init metadata of IacLab\r\n'}`).toString('base64'),
      };
    });
    this.sqs.on(SetQueueAttributesCommand).callsFake(({ QueueUrl, Attributes }) => {
      const url = QueueUrl ?? '';
      const previous = this.visibility.get(url) ?? IAC_LAB.playground.visibilityTimeoutSeconds;
      this.stale.set(url, { value: previous, remaining: this.staleDetections });
      if (this.misbehaviour.remembersDrift && this.visibility.has(url)) return {};
      this.visibility.set(url, Number(Attributes?.VisibilityTimeout));
      return {};
    });
  }
}
