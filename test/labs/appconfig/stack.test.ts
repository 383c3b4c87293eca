import { Match } from 'aws-cdk-lib/assertions';
import { appconfigLab } from '../../../labs/appconfig/lab';
import { APPCONFIG_LAB, CHECKOUT_SCHEMA } from '../../../labs/appconfig/constants';
import { featureTemplate, labTemplate } from '../../support/lab-template';

// cdk-nag and CloudFormation validation of both variants run in the catalogue checks; these tests read the templates.
const lab = appconfigLab;
const withAlarm = featureTemplate(lab, 'rollback-alarm');
const resources = withAlarm.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

test('the lab strategy grows linearly by 50 % over 2 minutes and bakes 2 minutes; the stack\'s own deployments go at once', () => {
  withAlarm.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
    GrowthType: 'LINEAR',
    GrowthFactor: APPCONFIG_LAB.rollout.growthFactor,
    DeploymentDurationInMinutes: 2,
    FinalBakeTimeInMinutes: 2,
  });
  const immediate = ofType('AWS::AppConfig::DeploymentStrategy').find((s) => s.Properties.GrowthFactor === 100);
  expect(immediate?.Properties).toMatchObject({ DeploymentDurationInMinutes: 0, FinalBakeTimeInMinutes: 0 });
  const deployments = withAlarm.findResources('AWS::AppConfig::Deployment');
  expect(Object.keys(deployments).sort()).toEqual(['CheckoutVersionOne', 'DevCheckoutVersionOne', 'DevFlagsVersionOne', 'FlagsVersionOne']);
  for (const d of Object.values(deployments)) expect(JSON.stringify(d.Properties.DeploymentStrategyId)).toContain('Immediately');
  // One deployment at a time per environment: the checkout waits for the flags.
  expect(deployments.CheckoutVersionOne.DependsOn).toEqual(['FlagsVersionOne']);
  expect(deployments.DevCheckoutVersionOne.DependsOn).toEqual(['DevFlagsVersionOne']);
  withAlarm.resourceCountIs('AWS::AppConfig::DeploymentStrategy', 2);
});

test('two environments: dev, without a monitor, where the exercise deploys at once, and live; version 1 goes to both', () => {
  const environments = withAlarm.findResources('AWS::AppConfig::Environment');
  const dev = Object.entries(environments).find(([id]) => id.startsWith('DevEnvironment'));
  expect(Object.keys(environments)).toHaveLength(2);
  expect(dev?.[1].Properties).toEqual({
    ApplicationId: { Ref: expect.stringMatching(/^Application/) },
    Name: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-dev']] },
    Description: 'Where a configuration version is tried first, deployed at once, before live takes it gradually',
    DeletionProtectionCheck: 'BYPASS',
  });
  const deployments = withAlarm.findResources('AWS::AppConfig::Deployment');
  expect(deployments.DevFlagsVersionOne.Properties.EnvironmentId).toEqual({ Ref: dev?.[0] });
  expect(deployments.DevCheckoutVersionOne.Properties.EnvironmentId).toEqual({ Ref: dev?.[0] });
  expect(JSON.stringify(deployments.FlagsVersionOne.Properties.EnvironmentId)).toContain('RolloutEnvironment');
  const outputs = withAlarm.toJSON().Outputs;
  expect(outputs.DevEnvironmentId.Value).toEqual({ Ref: dev?.[0] });
  expect(JSON.stringify(outputs.ImmediateStrategyId.Value)).toContain('Immediately');
});

test('a feature-flag profile and a freeform profile guarded by a draft-04 JSON Schema and a Lambda validator', () => {
  withAlarm.hasResourceProperties('AWS::AppConfig::ConfigurationProfile', { Type: 'AWS.AppConfig.FeatureFlags', LocationUri: 'hosted' });
  const freeform = ofType('AWS::AppConfig::ConfigurationProfile').find((p) => p.Properties.Type === 'AWS.Freeform');
  const validators = freeform?.Properties.Validators as { Type: string; Content: unknown }[];
  expect(validators.map((v) => v.Type)).toEqual(['JSON_SCHEMA', 'LAMBDA']);
  expect(JSON.parse(validators[0].Content as string)).toEqual(CHECKOUT_SCHEMA);
  expect(CHECKOUT_SCHEMA.$schema).toBe('http://json-schema.org/draft-04/schema#');
});

test('only AppConfig acting for this account may invoke the Lambda validator', () => {
  const permissions = ofType('AWS::Lambda::Permission').filter((p) => p.Properties.Principal === 'appconfig.amazonaws.com');
  expect(permissions).toHaveLength(1);
  expect(permissions[0].Properties).toMatchObject({ Action: 'lambda:InvokeFunction', SourceAccount: { Ref: 'AWS::AccountId' } });
});

test('a custom resource deletes the exercise\'s hosted versions before CloudFormation deletes the profiles', () => {
  const idOf = (type: string, propertiesContaining = '') =>
    Object.entries(resources).find(([, r]) => r.Type === type && JSON.stringify(r.Properties).includes(propertiesContaining))?.[0];
  const flagsProfile = idOf('AWS::AppConfig::ConfigurationProfile', 'FeatureFlags');
  const checkoutProfile = idOf('AWS::AppConfig::ConfigurationProfile', 'Freeform');
  const versionOf = (profile?: string) => idOf('AWS::AppConfig::HostedConfigurationVersion', `"${profile}"`);
  const sweepers = ofType('Custom::HostedVersionSweeper');
  expect(sweepers).toHaveLength(1);
  // Referencing each profile and its stack-owned version makes CloudFormation delete the sweeper first.
  expect(sweepers[0].Properties.Profiles).toEqual([
    { ProfileId: { Ref: flagsProfile }, StackVersion: { Ref: versionOf(flagsProfile) } },
    { ProfileId: { Ref: checkoutProfile }, StackVersion: { Ref: versionOf(checkoutProfile) } },
  ]);
  // Its handler may list and delete the hosted versions of these two profiles, and nothing else.
  const statements = ofType('AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
  const resourcesOf = (action: string) => statements.filter((s) => s.Action === action).flatMap((s) => s.Resource as unknown[]);
  const application = idOf('AWS::AppConfig::Application');
  const profileArn = (profile?: string, ...suffix: string[]) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':appconfig:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':application/', { Ref: application }, '/configurationprofile/', { Ref: profile }, ...suffix]],
  });
  const profiles = [flagsProfile, checkoutProfile];
  expect(resourcesOf('appconfig:ListHostedConfigurationVersions')).toEqual(expect.arrayContaining(profiles.map((p) => profileArn(p))));
  expect(resourcesOf('appconfig:DeleteHostedConfigurationVersion')).toEqual(expect.arrayContaining(profiles.map((p) => profileArn(p, '/hostedconfigurationversion/*'))));
  expect(statements.filter((s) => JSON.stringify(s.Action).includes('HostedConfigurationVersion'))).toHaveLength(2);
  expect([...resourcesOf('appconfig:ListHostedConfigurationVersions'), ...resourcesOf('appconfig:DeleteHostedConfigurationVersion')]).toHaveLength(4);
});

test('the flag reader runs the AppConfig agent layer for arm64 of its Region, polling every 15 s', () => {
  const reader = ofType('AWS::Lambda::Function').find((f) => JSON.stringify(f.Properties.Environment).includes('FLAG_NAME'));
  expect(reader?.Properties.Architectures).toEqual(['arm64']);
  expect(reader?.Properties.Layers).toEqual([{ 'Fn::FindInMap': ['AppConfigAgentLayer', { Ref: 'AWS::Region' }, 'arm64'] }]);
  expect((reader?.Properties.Environment as { Variables: Record<string, string> }).Variables.AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS).toBe('15');
  const mapping = withAlarm.toJSON().Mappings.AppConfigAgentLayer as Record<string, { arm64: string }>;
  expect(mapping['us-east-1'].arm64).toMatch(/^arn:aws:lambda:us-east-1:\d{12}:layer:AWS-AppConfig-Extension-Arm64:\d+$/);
  expect(Object.keys(mapping).length).toBeGreaterThan(20);
});

test('the readers may open sessions on the flags profile of the environment only', () => {
  const statements = ofType('AWS::IAM::Policy').flatMap((p) => (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement);
  const reads = statements.filter((s) => JSON.stringify(s.Action).includes('appconfig:StartConfigurationSession'));
  expect(reads).toHaveLength(2);
  for (const s of reads) {
    expect([...(s.Action as string[])].sort()).toEqual(['appconfig:GetLatestConfiguration', 'appconfig:StartConfigurationSession']);
    const resource = JSON.stringify(s.Resource);
    expect(resource).toContain('/configuration/');
    expect(resource).not.toContain('*');
  }
});

test('the environment rolls back on the alarm, read through a role allowed DescribeAlarms on that alarm only', () => {
  withAlarm.hasResourceProperties('AWS::AppConfig::Environment', {
    Monitors: [{ AlarmArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RollbackAlarm'), 'Arn'] }, AlarmRoleArn: Match.anyValue() }],
  });
  withAlarm.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Statement: [Match.objectLike({ Principal: { Service: 'appconfig.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })],
    },
    Policies: [{ PolicyName: 'ReadRollbackAlarms', PolicyDocument: { Statement: [Match.objectLike({ Action: 'cloudwatch:DescribeAlarms', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('RollbackAlarm'), 'Arn'] } })] } }],
  });
  withAlarm.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda', Threshold: 1, TreatMissingData: 'notBreaching' });
  expect(withAlarm.toJSON().Outputs.RollbackAlarmName).toBeDefined();
});

test('without the feature: no alarm, no monitor, no monitor role, nothing billed while idle', () => {
  const template = labTemplate(lab);
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  expect(JSON.stringify(template.findResources('AWS::AppConfig::Environment'))).not.toContain('Monitors":[{');
  expect(JSON.stringify(template.toJSON())).not.toContain('cloudwatch:DescribeAlarms');
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'ApplicationId',
    'CheckoutProfileId',
    'DeploymentStrategyId',
    'DevEnvironmentId',
    'EnvironmentId',
    'FlagReaderFunctionName',
    'FlagsProfileId',
    'ImmediateStrategyId',
    'SessionReaderFunctionName',
  ]);
});
