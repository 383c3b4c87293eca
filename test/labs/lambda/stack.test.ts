import { Match, Template } from 'aws-cdk-lib/assertions';
import { lambdaLab } from '../../../labs/lambda/lab';
import { withStack } from '../../../labs/support/app';
import { LambdaLabStack } from '../../../labs/lambda/stack';
import { LAMBDA_LAB, RELEASE_CONTEXT, RESERVED_CONCURRENCY_CONTEXT } from '../../../labs/lambda/constants';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(lambdaLab, LambdaLabStack);
const template = labTemplate(lab);

function templateWith(context: Record<string, unknown>): Template {
  const app = testApp(context, { builtinCloudFormationValidation: false });
  return Template.fromStack(new lab.stack(app, { lab }));
}

const queueArn = (idPrefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${idPrefix}`), 'Arn'] });

test('the function runs Node.js 24 on arm64 with a 5 s timeout (not the 3 s default), 256 MB and X-Ray active tracing', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs24.x',
    Architectures: ['arm64'],
    Timeout: LAMBDA_LAB.timeout.toSeconds(),
    MemorySize: 256,
    TracingConfig: { Mode: 'Active' },
  });
  expect(LAMBDA_LAB.timeout.toSeconds()).not.toBe(3);
});

test('reserved concurrency caps the function at 5; the dead-letter queue and environment are set on the function', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    ReservedConcurrentExecutions: 5,
    DeadLetterConfig: { TargetArn: queueArn('DeadLetterQueue') },
    Environment: {
      Variables: Match.objectLike({
        RELEASE: '1',
        GREETING: 'Hello from release 1',
        POWERTOOLS_SERVICE_NAME: 'greeter',
        POWERTOOLS_METRICS_NAMESPACE: 'LambdaLab',
      }),
    },
  });
});

test('release 1 publishes one version; the alias sends it everything, with no provisioned concurrency', () => {
  template.resourceCountIs('AWS::Lambda::Version', 1);
  template.hasResourceProperties('AWS::Lambda::Version', { Description: 'release 1' });
  template.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'live',
    FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Release1'), 'Version'] },
    RoutingConfig: Match.absent(),
    ProvisionedConcurrencyConfig: Match.absent(),
  });
});

test('the alias retries a failed asynchronous event twice, keeps events 1 hour, and has both destinations', () => {
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    // The alias's name, read from its ARN, so the configuration is created after the alias.
    Qualifier: { 'Fn::Select': [7, { 'Fn::Split': [':', { Ref: Match.stringLikeRegexp('^LiveAlias') }] }] },
    MaximumRetryAttempts: 2,
    MaximumEventAgeInSeconds: 3600,
    DestinationConfig: {
      OnSuccess: { Destination: queueArn('OnSuccessQueue') },
      OnFailure: { Destination: queueArn('OnFailureQueue') },
    },
  });
});

test('the execution role may send to the three record queues and nothing else on SQS', () => {
  const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement,
  );
  const sqsStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));
  expect(sqsStatements.map((s) => [s.Action].flat()).flat().every((a) => a === 'sqs:SendMessage' || a.startsWith('sqs:GetQueue'))).toBe(true);
  const targets = JSON.stringify(sqsStatements.map((s) => s.Resource));
  for (const queue of ['DeadLetterQueue', 'OnSuccessQueue', 'OnFailureQueue']) expect(targets).toContain(queue);
  expect(targets).not.toContain('"*"');
});

test('the record queues are encrypted and TLS-only', () => {
  template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 }, 3);
  template.resourcePropertiesCountIs(
    'AWS::SQS::QueuePolicy',
    { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) } },
    3,
  );
});

test('outputs what the exercise needs', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual([
    'AliasArn',
    'AliasName',
    'CurrentVersion',
    'DeadLetterQueueUrl',
    'FunctionName',
    'OnFailureQueueUrl',
    'OnSuccessQueueUrl',
    'Release',
  ]);
});

describe(`-c ${RELEASE_CONTEXT}=2`, () => {
  const release2 = templateWith({ [RELEASE_CONTEXT]: '2' });

  test('keeps release 1\'s version and publishes release 2 with the new configuration', () => {
    release2.resourceCountIs('AWS::Lambda::Version', 2);
    release2.hasResourceProperties('AWS::Lambda::Version', { Description: 'release 1' });
    release2.hasResourceProperties('AWS::Lambda::Version', { Description: 'release 2' });
    release2.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ RELEASE: '2' }) } });
    // Same logical id as in release 1, so CloudFormation keeps version 1 instead of publishing it again.
    const ids = (t: Template) => Object.keys(t.findResources('AWS::Lambda::Version', { Properties: { Description: 'release 1' } }));
    expect(ids(release2)).toEqual(ids(template));
  });

  test('splits the alias: 80 % on release 1, 20 % on release 2 (AdditionalVersionWeights)', () => {
    release2.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Release1'), 'Version'] },
      RoutingConfig: {
        AdditionalVersionWeights: [
          { FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Release2'), 'Version'] }, FunctionWeight: 0.2 },
        ],
      },
    });
    expect(release2.toJSON().Outputs.PreviousVersion).toBeDefined();
  });

  test('release 3 drops release 1 and routes between releases 2 and 3', () => {
    const release3 = templateWith({ [RELEASE_CONTEXT]: 3 });
    expect(
      Object.values(release3.findResources('AWS::Lambda::Version')).map((v) => (v as { Properties: { Description: string } }).Properties.Description).sort(),
    ).toEqual(['release 2', 'release 3']);
  });
});

test('-c lambda:provisioned-concurrency=true keeps 1 environment initialised on the alias', () => {
  templateWith({ 'lambda:provisioned-concurrency': true }).hasResourceProperties('AWS::Lambda::Alias', {
    ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 1 },
  });
});

test('provisioned concurrency and release 2\'s weighted routing cannot share the alias: synth says so', () => {
  expect(() => templateWith({ 'lambda:provisioned-concurrency': true, [RELEASE_CONTEXT]: 2 })).toThrow(
    '[FunctionAlias.ProvisionedConcurrencyWithCanary]',
  );
});

test(`-c ${RESERVED_CONCURRENCY_CONTEXT}=none drops the reservation for accounts with a small concurrency quota`, () => {
  templateWith({ [RESERVED_CONCURRENCY_CONTEXT]: 'none' }).hasResourceProperties('AWS::Lambda::Function', {
    ReservedConcurrentExecutions: Match.absent(),
  });
});

test.each([
  [RELEASE_CONTEXT, '0', `context ${RELEASE_CONTEXT} must be a whole number of at least 1, got "0"`],
  [RELEASE_CONTEXT, 'two', `context ${RELEASE_CONTEXT} must be a whole number of at least 1, got "two"`],
  [RESERVED_CONCURRENCY_CONTEXT, '0', `context ${RESERVED_CONCURRENCY_CONTEXT} must be a whole number of at least 1 or "none", got "0"`],
])('refuses -c %s=%s', (key, value, message) => {
  expect(() => templateWith({ [key]: value })).toThrow(message);
});
