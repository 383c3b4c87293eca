import { Match } from 'aws-cdk-lib/assertions';
import { iamStsLab } from '../../../labs/iam-sts/lab';
import { authorize, Caller, identityDecision, LOCAL_ACCOUNT } from '../../support/local-iam';
import { LocalAws } from '../../support/local-aws';
import { deployStackLocally } from '../../support/local-deploy';
import { featureTemplate, labTemplate } from '../../support/lab-template';

const lab = iamStsLab;
const template = labTemplate(lab);
const aws = new LocalAws();
const deployed = deployStackLocally(template, aws, { stackName: lab.stackName });
const learner: Caller = { arn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/learner`, account: LOCAL_ACCOUNT, identityPolicies: 'allow-all' };
const assume = (roleOutput: string, keys: Record<string, string | undefined> = {}) => {
  const roleArn = deployed.outputs[roleOutput];
  return authorize(learner, { action: 'sts:AssumeRole', resource: roleArn, keys }, aws.role(roleArn)!.trustPolicy, { keyPolicyOnly: true });
};
const as = (roleOutput: string) => aws.roleSession(deployed.outputs[roleOutput], 'test');
const parameterArn = () => deployed.outputs.LabParameterArn;

describe('trust policies', () => {
  test('the MFA role needs an MFA session younger than an hour', () => {
    expect(assume('MfaRoleArn')).toBe('ImplicitDeny');
    expect(assume('MfaRoleArn', { 'aws:MultiFactorAuthPresent': 'false' })).toBe('ImplicitDeny');
    expect(assume('MfaRoleArn', { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '120' })).toBe('Allow');
    expect(assume('MfaRoleArn', { 'aws:MultiFactorAuthPresent': 'true', 'aws:MultiFactorAuthAge': '3600' })).toBe('ImplicitDeny');
  });

  test('the partner role needs the external id of this deployment: the GUID of the stack id', () => {
    const id = deployed.outputs.PartnerExternalId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(assume('PartnerRoleArn')).toBe('ImplicitDeny');
    expect(assume('PartnerRoleArn', { 'sts:ExternalId': 'guess' })).toBe('ImplicitDeny');
    expect(assume('PartnerRoleArn', { 'sts:ExternalId': id })).toBe('Allow');
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Condition: { StringEquals: { 'sts:ExternalId': { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] } } } })] },
    });
  });

  test('the bounded role trusts the account without conditions', () => {
    expect(assume('BoundedRoleArn')).toBe('Allow');
  });
});

describe('the bounded role: customer managed + inline policy under a permissions boundary', () => {
  test('may read the parameter (managed policy ∩ boundary) and decode authorization messages', () => {
    expect(identityDecision(as('BoundedRoleArn'), { action: 'ssm:GetParameter', resource: parameterArn() })).toBe('Allow');
    expect(identityDecision(as('BoundedRoleArn'), { action: 'sts:DecodeAuthorizationMessage', resource: '*' })).toBe('Allow');
  });

  test('may not write the parameter: the inline policy allows it, the boundary does not', () => {
    const session = as('BoundedRoleArn');
    expect(identityDecision({ ...session, boundary: undefined }, { action: 'ssm:PutParameter', resource: parameterArn() })).toBe('Allow');
    expect(identityDecision(session, { action: 'ssm:PutParameter', resource: parameterArn() })).toBe('ImplicitDeny');
    expect(identityDecision(session, { action: 'ec2:RunInstances', resource: '*' })).toBe('ImplicitDeny');
  });

  test('has one customer managed policy, one inline policy and the boundary', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^ReadLabParameterPolicy') }],
      Policies: [Match.objectLike({ PolicyName: 'WriteAndDecode' })],
      PermissionsBoundary: { Ref: Match.stringLikeRegexp('^Boundary') },
    });
  });
});

test('no policy of the lab allows a wildcard action; Resource "*" only for DecodeAuthorizationMessage and X-Ray', () => {
  const documents = [
    ...Object.values(template.findResources('AWS::IAM::ManagedPolicy')).map((r) => r.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::Policy')).map((r) => r.Properties.PolicyDocument),
    ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) => (r.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument)),
  ] as { Statement: { Action: string | string[]; Resource: unknown }[] }[];
  const statements = documents.flatMap((d) => d.Statement);
  expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  const starResources = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
  expect([...new Set(starResources)].sort()).toEqual(['sts:DecodeAuthorizationMessage', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
});

test('the reader function may read exactly the SecureString the exercise creates', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ SECURE_PARAMETER_NAME: { 'Fn::Join': ['', ['/', { Ref: 'AWS::StackName' }, '/db-password']] } }) },
  });
  const readerRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('ParameterReaderRole'))!;
  const session = aws.roleSession(deployed.env.resources[readerRole].attributes.Arn, 'fn');
  expect(identityDecision(session, { action: 'ssm:GetParameter', resource: `arn:aws:ssm:us-east-1:${LOCAL_ACCOUNT}:parameter/IamStsLab/db-password` })).toBe('Allow');
  expect(identityDecision(session, { action: 'ssm:GetParameter', resource: `arn:aws:ssm:us-east-1:${LOCAL_ACCOUNT}:parameter/IamStsLab/other` })).toBe('ImplicitDeny');
  template.resourceCountIs('AWS::SecretsManager::Secret', 0);
});

test('-c iam-sts:secret=true adds a generated secret the reader may read', () => {
  const withSecret = featureTemplate(lab, 'secret');
  withSecret.hasResourceProperties('AWS::SecretsManager::Secret', { GenerateSecretString: { PasswordLength: 32, ExcludePunctuation: true } });
  withSecret.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ SECRET_ARN: { Ref: Match.stringLikeRegexp('^DatabaseSecret') } }) } });
  expect(withSecret.toJSON().Outputs.SecretArn).toBeDefined();
});

test('outputs what the exercise needs', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'BoundaryPolicyArn', 'BoundedRoleArn', 'LabParameterArn', 'LabParameterName', 'MfaRoleArn', 'ParameterReaderFunctionName', 'PartnerExternalId', 'PartnerRoleArn', 'SecureParameterName',
  ]);
});
