import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { ConstructValidationError } from '../../lib/core/validation';
import { CustomerManagedKey } from '../../lib/customer-managed-key';
import { ENVELOPE_KMS_ACTIONS, EnvelopeEncryption } from '../../lib/envelope-encryption';
import { testApp } from '../support/synth';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

describe('EnvelopeEncryption with a CustomerManagedKey', () => {
  const stack = newStack();
  const cmk = new CustomerManagedKey(stack, 'Key');
  const envelope = new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: cmk });
  const template = Template.fromStack(stack);

  test('the function knows its key and runs on Node 24 arm64', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Envelope encryption: KMS data keys, AES-256-GCM locally, only the encrypted data key stored',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ KEY_ID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }) },
    });
  });

  test('its role may call exactly the data-key actions on this key: no kms:Encrypt, no wildcard', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: [...ENVELOPE_KMS_ACTIONS], Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }]),
      },
    });
    expect(ENVELOPE_KMS_ACTIONS).not.toContain('kms:Encrypt');
  });

  test('its role is named in the key policy as a user, since the key policy does not delegate use to IAM', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'KeyUsersUseButCannotManage', Principal: { AWS: { 'Fn::GetAtt': [Match.stringLikeRegexp('EnvelopeFunctionRole'), 'Arn'] } } }),
        ]),
      },
    });
    expect(envelope.handler.role).toBeDefined();
    expect(envelope.encryptionKey).toBe(cmk.key);
  });

  test('grantInvoke lets a caller invoke the function', () => {
    const other = newStack();
    const fn = new EnvelopeEncryption(other, 'Envelope', { encryptionKey: new kms.Key(other, 'Key') });
    fn.grantInvoke(new iam.Role(other, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    Template.fromStack(other).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction' })]) },
      Roles: [{ Ref: Match.stringLikeRegexp('Caller') }],
    });
  });
});

test('with a key that trusts IAM, the grant alone is enough and nothing is added to its policy', () => {
  const stack = newStack();
  const key = kms.Key.fromKeyArn(stack, 'Imported', 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
  new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: key });
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::KMS::Key', 0);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab' })]) },
  });
});

test('timeout and memory are validated together', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  try {
    new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: key, timeout: Duration.minutes(16), memorySize: 64 });
    throw new Error('expected a validation error');
  } catch (error) {
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect((error as ConstructValidationError).problems).toEqual([
      { code: 'EnvelopeEncryption.TimeoutRange', message: 'timeout must be between 1 and 900 seconds, got 960' },
      { code: 'EnvelopeEncryption.MemorySizeRange', message: 'memorySize must be a whole number of MB between 128 and 10240, got 64' },
    ]);
  }
});

test('a timeout that is not whole seconds is listed with the other problems, not thrown by CDK', () => {
  const stack = newStack();
  try {
    new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: new kms.Key(stack, 'Key'), timeout: Duration.millis(1500), memorySize: 100.5 });
    throw new Error('expected a validation error');
  } catch (error) {
    expect(error).toBeInstanceOf(ConstructValidationError);
    expect((error as ConstructValidationError).problems).toEqual([
      { code: 'EnvelopeEncryption.NotWholeSeconds', message: 'timeout must be a whole number of seconds, got 1.5 s' },
      { code: 'EnvelopeEncryption.MemorySizeRange', message: 'memorySize must be a whole number of MB between 128 and 10240, got 100.5' },
    ]);
  }
});

test('a memory size that is not a whole number of MB is rejected even within the range', () => {
  const stack = newStack();
  expect(() => new EnvelopeEncryption(stack, 'Envelope', { encryptionKey: new kms.Key(stack, 'Key'), memorySize: 1024.5 })).toThrow(
    expect.objectContaining({
      problems: [{ code: 'EnvelopeEncryption.MemorySizeRange', message: 'memorySize must be a whole number of MB between 128 and 10240, got 1024.5' }],
    }),
  );
});
