import * as path from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { iacLab } from '../../../labs/iac/lab';
import { CONSUMER_TEMPLATE_FILE, IAC_LAB } from '../../../labs/iac/constants';
import { ConsumerStack } from '../../../labs/iac/consumer-stack';
import { QueuesDeclareEncryption } from '../../../labs/iac/construct-levels';
import { SamApp } from '../../../labs/iac/sam-app';
import { IacLabStack, NEIGHBOUR_REGIONS } from '../../../labs/iac/stack';
import { INSTANCE_PARAMETER_ACTIONS, INSTANCE_STACK_ACTIONS } from '../../../labs/iac/stack-set';
import { withStack } from '../../../labs/support/app';
import { LabConfigError } from '../../../labs/support/lab-stack';
import { expectToMatchFileSnapshot } from '../../support/file-snapshot';
import { REPO_ROOT, testApp } from '../../support/synth';

const lab = withStack(iacLab, IacLabStack);
const build = (context: Record<string, unknown> = {}) => new IacLabStack(testApp(context, { builtinCloudFormationValidation: false }), { lab });
const stack = build();
const template = Template.fromStack(stack);
/** Every context key of the lab at once, the optional part on: one more synth for all the tests that need one. */
const variant = Template.fromStack(build({ 'iac:stage': 'prod', 'iac:archive': 'true', 'iac:owner': 'team-a', 'iac:stackset-regions': '1', 'iac:cfn-init': true }));
const json = template.toJSON() as { Parameters: Record<string, Record<string, unknown>>; Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown>; DependsOn?: string[] }>; Outputs: Record<string, Record<string, unknown>>; Conditions: Record<string, unknown>; Mappings: Record<string, unknown>; Metadata: Record<string, unknown> };
const idOf = (type: string, pathPart: string) =>
  Object.keys(template.findResources(type)).find((id) => id.includes(pathPart)) ?? `no ${type} with ${pathPart}`;

describe('template anatomy', () => {
  test('parameters: allowed values, a pattern with its message, and a NoEcho secret with a minimum length', () => {
    expect(json.Parameters.Stage).toMatchObject({ Type: 'String', AllowedValues: ['dev', 'prod'], Default: 'dev' });
    expect(json.Parameters.ArchiveEnabled).toMatchObject({ AllowedValues: ['true', 'false'], Default: 'false' });
    expect(json.Parameters.StackSetRegionCount).toMatchObject({ AllowedValues: ['1', '2'], Default: '2' });
    expect(json.Parameters.Owner).toMatchObject({ AllowedPattern: '^[a-z][a-z0-9-]{1,30}$', ConstraintDescription: expect.stringContaining('lowercase') });
    expect(json.Parameters.SigningSecret).toMatchObject({ NoEcho: true, MinLength: 16, AllowedPattern: IAC_LAB.parameters.signingSecret.allowedPattern });
    expect(new RegExp(IAC_LAB.parameters.signingSecret.allowedPattern).test(IAC_LAB.parameters.signingSecret.defaultValue)).toBe(true);
  });

  test('-c iac:<name> sets a parameter\'s default', () => {
    const parameters = variant.toJSON().Parameters;
    expect([parameters.Stage.Default, parameters.ArchiveEnabled.Default, parameters.Owner.Default, parameters.StackSetRegionCount.Default]).toEqual(['prod', 'true', 'team-a', '1']);
  });

  test.each([
    ['iac:stage', 'staging', 'context iac:stage must be dev or prod, got "staging"'],
    ['iac:archive', 'yes', 'context iac:archive must be true or false, got "yes"'],
    ['iac:owner', 'Team_A', 'context iac:owner must be 2 to 31 lowercase letters, digits or hyphens, starting with a letter, got "Team_A"'],
    ['iac:stackset-regions', '3', 'context iac:stackset-regions must be 1 or 2, got "3"'],
  ])('-c %s=%s outside the allowed values is refused at synth', (key, value, message) => {
    expect(() => build({ [key]: value })).toThrow(new LabConfigError(message));
  });

  test('the archive queue, its policy and its output exist only under CreateArchive, and nothing else needs them', () => {
    expect(json.Conditions.CreateArchive).toEqual({ 'Fn::Equals': [{ Ref: 'ArchiveEnabled' }, 'true'] });
    expect(json.Resources.ArchiveQueue.Condition).toBe('CreateArchive');
    const archivePolicy = Object.values(json.Resources).find((r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties.Queues).includes('"ArchiveQueue"'));
    expect(archivePolicy?.Condition).toBe('CreateArchive');
    expect(json.Outputs.ArchiveQueueUrl.Condition).toBe('CreateArchive');
    // With the condition false the queue is not created: an unconditional Ref to it would fail the deploy.
    const unconditionalUsers = [...Object.entries(json.Resources), ...Object.entries(json.Outputs)]
      .filter(([id, item]) => id !== 'ArchiveQueue' && (item as { Condition?: string }).Condition !== 'CreateArchive')
      .filter(([, item]) => JSON.stringify(item).includes('"ArchiveQueue"'))
      .map(([id]) => id);
    expect(unconditionalUsers).toEqual([]);
    expect(json.Outputs.ArchiveState.Value).toEqual({ 'Fn::If': ['CreateArchive', 'archive queue created', 'no archive queue'] });
  });

  test('the orders queue: a name from Fn::Sub (so Stage replaces it), retention by Fn::If, tags from parameters', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: { 'Fn::Sub': '${AWS::StackName}-orders-${Stage}' },
      MessageRetentionPeriod: { 'Fn::If': ['IsProd', 1_209_600, 345_600] },
      Tags: [{ Key: 'owner', Value: { Ref: 'Owner' } }, { Key: 'stage', Value: { Ref: 'Stage' } }],
    });
    expect(json.Outputs.OrdersQueueName.Value).toEqual({ 'Fn::Select': [4, { 'Fn::Split': ['/', { Ref: 'OrdersQueue' }] }] });
  });

  test('a Region map covering the Regions, used by Fn::FindInMap for the StackSet\'s second Region', () => {
    expect(Object.keys(json.Mappings.RegionMap as object)).toEqual(Object.keys(NEIGHBOUR_REGIONS));
    for (const [region, neighbour] of Object.entries(NEIGHBOUR_REGIONS)) {
      expect(neighbour).not.toBe(region);
      expect(Object.keys(NEIGHBOUR_REGIONS)).toContain(neighbour);
    }
    expect(JSON.stringify(json.Outputs.StackSetRegions)).toContain('{"Fn::FindInMap":["RegionMap",{"Ref":"AWS::Region"},"Neighbour"]}');
  });

  test('metadata groups every parameter of the lab for the console', () => {
    const groups = (json.Metadata['AWS::CloudFormation::Interface'] as { ParameterGroups: { Parameters: string[] }[] }).ParameterGroups;
    expect(groups.flatMap((g) => g.Parameters).sort()).toEqual(Object.keys(json.Parameters).filter((p) => p !== 'BootstrapVersion').sort());
  });
});

describe('export and import', () => {
  const consumer = Template.fromStack(new ConsumerStack(new App(), 'Consumer')).toJSON();

  test('the lab exports the shared DLQ as <stack>-SharedDlqArn; the consumer imports that name', () => {
    expect(json.Outputs.SharedDlqArn).toMatchObject({
      Value: { 'Fn::GetAtt': [idOf('AWS::SQS::Queue', 'LevelTwoQueue'), 'Arn'] },
      Export: { Name: { 'Fn::Sub': `\${AWS::StackName}${IAC_LAB.exportSuffix}` } },
    });
    const imported = { 'Fn::ImportValue': { 'Fn::Sub': `\${LabStackName}${IAC_LAB.exportSuffix}` } };
    expect(consumer.Parameters.LabStackName.Default).toBe(IAC_LAB.stackName);
    expect(consumer.Resources.Queue.Properties.RedrivePolicy.deadLetterTargetArn).toEqual(imported);
    expect(consumer.Outputs.ImportedDlqArn.Value).toEqual(imported);
  });

  test(`labs/iac/${CONSUMER_TEMPLATE_FILE}, which the exercise deploys, is what ConsumerStack synthesizes`, () => {
    expectToMatchFileSnapshot(consumer, path.join(REPO_ROOT, 'labs', 'iac', CONSUMER_TEMPLATE_FILE));
  });
});

describe('nested SAM stack', () => {
  const samApp = stack.node.findChild('SamApp') as SamApp;
  const nestedId = idOf('AWS::CloudFormation::Stack', 'SamApp');

  test('parameters pass in: the NoEcho secret by Ref, the exercise prefix from the custom resource', () => {
    expect(json.Resources[nestedId].Properties).toMatchObject({
      Parameters: { SigningSecret: { Ref: 'SigningSecret' }, ExerciseStackPrefix: { 'Fn::GetAtt': [idOf('Custom::ExerciseStackSweeper', 'ExerciseStacks'), 'StackNamePrefix'] } },
    });
    // TemplateURL: the nested template is an asset, uploaded by `cdk deploy` to the bootstrap bucket.
    expect(JSON.stringify(json.Resources[nestedId].Properties.TemplateURL)).toMatch(/"https:\/\/s3\.".*cdk-hnb659fds-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}.*\.json"/);
    const nested = Template.fromStack(samApp).toJSON();
    expect(nested.Parameters.SigningSecret).toMatchObject({ NoEcho: true });
  });

  test('outputs come out: the parent reads the function name with Fn::GetAtt <nested>.Outputs.<name>', () => {
    const nested = Template.fromStack(samApp).toJSON();
    const attribute = (json.Outputs.SamFunctionName.Value as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'];
    expect(attribute[0]).toBe(nestedId);
    expect(nested.Outputs[attribute[1].replace(/^Outputs\./, '')].Value).toEqual({ Ref: 'StackEventsFunction' });
  });
});

describe('construct levels', () => {
  test('L1 with every property written out, L2 with its defaults plus encryption, L3 with its own DLQ', () => {
    const levelOne = json.Resources[idOf('AWS::SQS::Queue', 'LevelOneQueue')].Properties;
    expect(Object.keys(levelOne).sort()).toEqual([
      'DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds', 'RedriveAllowPolicy',
      'RedrivePolicy', 'SqsManagedSseEnabled', 'Tags', 'VisibilityTimeout',
    ]);
    const levelTwo = json.Resources[idOf('AWS::SQS::Queue', 'LevelTwoQueue')].Properties;
    expect(levelTwo).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    expect(Object.keys(template.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('LevelsLevelThree'))).toHaveLength(2);
  });

  test('the escape hatch sets MaximumMessageSize on the L3\'s queue, which its props do not offer', () => {
    expect(json.Resources[idOf('AWS::SQS::Queue', 'LevelThreeQueue')].Properties.MaximumMessageSize).toBe(65_536);
  });

  test('the aspect fails synth for a queue that does not declare its encryption, and passes an encrypted one', () => {
    const app = new App();
    const probe = new Stack(app, 'Probe');
    new sqs.Queue(probe, 'Plain');
    new sqs.Queue(probe, 'Encrypted', { encryption: sqs.QueueEncryption.SQS_MANAGED });
    new sqs.CfnQueue(probe, 'Kms', { kmsMasterKeyId: 'alias/aws/sqs' });
    Aspects.of(probe).add(new QueuesDeclareEncryption());
    const errors = Annotations.fromStack(probe).findError('*', Match.stringLikeRegexp('QueuesDeclareEncryption'));
    expect(errors.map((e) => e.id)).toEqual(['/Probe/Plain/Resource']);
  });
});

describe('StackSet', () => {
  const admin = idOf('AWS::IAM::Role', 'AdministrationRole');
  const execution = idOf('AWS::IAM::Role', 'ExecutionRole');

  test('self-managed, with the lab\'s roles, a cautious rollout, to this account in the Regions of the condition', () => {
    const [set] = Object.values(template.findResources('AWS::CloudFormation::StackSet'));
    expect(set.Properties).toMatchObject({
      PermissionModel: 'SELF_MANAGED',
      AdministrationRoleARN: { 'Fn::GetAtt': [admin, 'Arn'] },
      ExecutionRoleName: { Ref: execution },
      OperationPreferences: { RegionConcurrencyType: 'SEQUENTIAL', MaxConcurrentCount: 1, FailureToleranceCount: 0 },
      StackInstancesGroup: [{ DeploymentTargets: { Accounts: [{ Ref: 'AWS::AccountId' }] }, Regions: { 'Fn::If': ['TwoRegions', [{ Ref: 'AWS::Region' }, { 'Fn::FindInMap': ['RegionMap', { Ref: 'AWS::Region' }, 'Neighbour'] }], [{ Ref: 'AWS::Region' }]] } }],
    });
    // Deleted before the policies that let StackSets remove its instances.
    expect(set.DependsOn).toEqual(expect.arrayContaining([idOf('AWS::IAM::Policy', 'AssumeExecutionRole'), idOf('AWS::IAM::Policy', 'ManageInstances')]));
    expect(JSON.parse(set.Properties.TemplateBody).Resources.RegionMarker.Type).toBe('AWS::SSM::Parameter');
  });

  test('the roles are scoped to each other: CloudFormation → administration role → execution role only', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'cloudformation.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] },
    });
    expect(json.Resources[execution].Properties.AssumeRolePolicyDocument).toMatchObject({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::GetAtt': [admin, 'Arn'] } } }],
    });
    const adminPolicy = json.Resources[idOf('AWS::IAM::Policy', 'AssumeExecutionRole')].Properties;
    expect(adminPolicy.Roles).toEqual([{ Ref: admin }]);
    expect((adminPolicy.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Resource: { 'Fn::GetAtt': [execution, 'Arn'] } }]);
    const executionPolicy = json.Resources[idOf('AWS::IAM::Policy', 'ManageInstances')].Properties;
    expect(executionPolicy.Roles).toEqual([{ Ref: execution }]);
    const resources = JSON.stringify((executionPolicy.PolicyDocument as { Statement: { Resource: unknown }[] }).Statement.map((s) => s.Resource));
    expect(resources.match(/StackSet-/g)).toHaveLength(2);
    expect(JSON.stringify(executionPolicy)).not.toMatch(/"(cloudformation|ssm):\*"/);
  });

  test('the execution role may run the instance stacks\' lifecycle and manage what the instance template creates, by name', () => {
    const [set] = Object.values(template.findResources('AWS::CloudFormation::StackSet'));
    const instanceTypes = Object.values(JSON.parse(set.Properties.TemplateBody).Resources as Record<string, { Type: string }>).map((r) => r.Type);
    // What the AWS::SSM::Parameter reference requires of the caller: create (with CloudFormation's tags), retag, delete.
    const documented: Record<string, string[]> = { 'AWS::SSM::Parameter': ['ssm:PutParameter', 'ssm:AddTagsToResource', 'ssm:RemoveTagsFromResource', 'ssm:DeleteParameter'] };
    expect(instanceTypes.filter((type) => !(type in documented))).toEqual([]);

    const statements = (json.Resources[idOf('AWS::IAM::Policy', 'ManageInstances')].Properties.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement;
    const actionsOn = (service: string) => statements.filter((st) => st.Action.every((a) => a.startsWith(`${service}:`)));
    const [stacks, parameters] = [actionsOn('cloudformation'), actionsOn('ssm')];
    expect([stacks.length, parameters.length, statements.length]).toEqual([1, 1, 2]);
    expect(parameters[0].Action).toEqual([...INSTANCE_PARAMETER_ACTIONS].sort());
    expect(parameters[0].Action).toEqual(expect.arrayContaining(instanceTypes.flatMap((type) => documented[type])));
    expect(JSON.stringify(parameters[0].Resource)).toContain(':parameter/StackSet-');
    expect(stacks[0].Action).toEqual([...INSTANCE_STACK_ACTIONS].sort());
    expect(stacks[0].Action).toEqual(expect.arrayContaining(['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DeleteStack', 'cloudformation:DescribeStacks']));
    expect(JSON.stringify(stacks[0].Resource)).toContain(':stack/StackSet-');
  });
});

describe('custom resource', () => {
  test('hands out the exercise prefix, waits 600 s at most, and may delete only stacks and queues with that prefix', () => {
    template.hasResourceProperties('Custom::ExerciseStackSweeper', {
      StackNamePrefix: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, IAC_LAB.exerciseStackInfix]] },
      ServiceTimeout: String(IAC_LAB.sweeperTimeoutSeconds),
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p).includes('cloudformation:DeleteStack'))!;
    const statements = policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const stackAndQueueStatements = statements.filter((s) => [s.Action].flat().some((a) => /^(cloudformation|sqs):/.test(a)));
    expect(stackAndQueueStatements).toHaveLength(3);
    for (const statement of stackAndQueueStatements) {
      const actions = [statement.Action].flat();
      if (actions.includes('cloudformation:ListStacks')) expect([actions, statement.Resource]).toEqual([['cloudformation:ListStacks'], '*']);
      else expect(JSON.stringify(statement.Resource)).toContain(`${IAC_LAB.exerciseStackInfix}*`);
    }
  });
});

describe('cfn-init (-c iac:cfn-init=true)', () => {
  test('off by default: no instance, no VPC, nothing billed', () => {
    template.resourceCountIs('AWS::EC2::Instance', 0);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    expect(json.Outputs.CfnInitInstanceId).toBeUndefined();
  });

  const withInstance = variant;
  const [instanceId, instance] = Object.entries(withInstance.findResources('AWS::EC2::Instance'))[0];

  test('the instance waits for one cfn-signal, after cfn-init applied its metadata, files then commands', () => {
    expect(instance.CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: `PT${IAC_LAB.cfnInit.signalTimeoutMinutes}M` } });
    const init = instance.Metadata['AWS::CloudFormation::Init'];
    expect(init.configSets).toEqual({ default: ['files', 'commands'] });
    expect(Object.keys(init.files.files)).toEqual([IAC_LAB.cfnInit.configuredFile]);
    expect(Object.values(init.commands.commands as Record<string, { command: string }>)[0].command).toContain(`cat ${IAC_LAB.cfnInit.configuredFile}`);
    const userData = JSON.stringify(instance.Properties.UserData);
    expect(userData.indexOf('/opt/aws/bin/cfn-init')).toBeLessThan(userData.indexOf('/opt/aws/bin/cfn-signal -e $?'));
    expect(userData).toContain(`--resource ${instanceId}`);
  });

  test('the instance signals with a role allowed nothing but reading its metadata and signalling this stack', () => {
    withInstance.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: ['cloudformation:DescribeStackResource', 'cloudformation:SignalResource'], Effect: 'Allow', Resource: { Ref: 'AWS::StackId' } }] },
    });
  });

  test('t4g.nano with IMDSv2, an encrypted 8 GB gp3 root volume, a public IPv4 address and no inbound rule', () => {
    expect(instance.Properties).toMatchObject({
      InstanceType: 't4g.nano',
      MetadataOptions: { HttpTokens: 'required' },
      BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 8, VolumeType: 'gp3' } }],
      NetworkInterfaces: [expect.objectContaining({ AssociatePublicIpAddress: true })],
    });
    const [group] = Object.values(withInstance.findResources('AWS::EC2::SecurityGroup'));
    expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    withInstance.resourceCountIs('AWS::EC2::NatGateway', 0);
  });
});
