import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SafeNodejsFunction } from '../../lib/core/function';
import { ConstructValidationError, PropsValidator } from '../../lib/core/validation';
import { testApp } from '../support/synth';

describe('SafeNodejsFunction', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  new SafeNodejsFunction(stack, 'Fn', { entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts') });
  const template = Template.fromStack(stack);

  test('runs on the latest Node.js runtime, arm64, with active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 10,
    });
  });

  test('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('FnLogs') } },
    });
  });

  test('has a role without AWS managed policies that may write only to its log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnLogs'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('keeps the X-Ray wildcard in a policy of its own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('XRayWrite'),
      PolicyDocument: {
        Statement: [{ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' }],
      },
    });
  });
});

describe('PropsValidator', () => {
  test('throws nothing when every requirement holds', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.require(true, 'Fine', 'never shown');
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('throws one error with every problem, its code and the construct path', () => {
    const stack = new Stack(undefined, 'Owner');
    const check = new PropsValidator(stack, 'Thing');
    check.require(false, 'First', 'first problem');
    check.require(false, 'Second', 'second problem');
    let thrown: unknown;
    try {
      check.throwIfInvalid();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConstructValidationError);
    expect((thrown as ConstructValidationError).constructPath).toBe('Owner');
    expect((thrown as Error).message).toBe(
      'Owner: 2 problems in props:\n  - [Thing.First] first problem\n  - [Thing.Second] second problem',
    );
  });
});
