import { Match } from 'aws-cdk-lib/assertions';
import { kmsLab } from '../../../labs/kms/lab';
import { KMS_LAB } from '../../../labs/kms/constants';
import { KEY_ADMIN_ACTIONS, KEY_USER_CRYPTO_ACTIONS } from '../../../lib/customer-managed-key';
import { authorize, Caller, LOCAL_ACCOUNT, PolicyDocument } from '../../support/local-iam';
import { LocalAws } from '../../support/local-aws';
import { deployStackLocally } from '../../support/local-deploy';
import { labTemplate } from '../../support/lab-template';

const lab = kmsLab;
const template = labTemplate(lab);
const aws = new LocalAws();
const deployed = deployStackLocally(template, aws, { stackName: lab.stackName });
const keyPolicy = deployed.resolve<PolicyDocument>(Object.values(template.findResources('AWS::KMS::Key'))[0].Properties.KeyPolicy);
const session = (roleOutput: string): Caller => aws.roleSession(deployed.outputs[roleOutput], 'test');
const admin = () => session('KeyAdminRoleArn');
const user = () => session('KeyUserRoleArn');
const accountAdmin: Caller = { arn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/admin`, account: LOCAL_ACCOUNT, identityPolicies: 'allow-all' };
const labContext = { 'kms:EncryptionContext:app': 'kms-lab', 'kms:EncryptionContextKeys': ['app'] };
const can = (caller: Caller, action: string, keys: Record<string, string | string[]> = labContext) =>
  authorize(caller, { action, resource: deployed.outputs.KeyArn, keys }, keyPolicy, { keyPolicyOnly: true }) === 'Allow';

const CRYPTO = [...KEY_USER_CRYPTO_ACTIONS, 'kms:CreateGrant'];
const MANAGEMENT = [...KEY_ADMIN_ACTIONS, 'kms:PutKeyPolicy', 'kms:CreateGrant'];

test('the key rotates every 180 days and is destroyed 7 days after the stack is deleted', () => {
  template.hasResourceProperties('AWS::KMS::Key', {
    EnableKeyRotation: true,
    RotationPeriodInDays: KMS_LAB.rotationPeriod.toDays(),
    PendingWindowInDays: KMS_LAB.pendingWindow.toDays(),
  });
  expect([KMS_LAB.rotationPeriod.toDays(), KMS_LAB.pendingWindow.toDays()]).toEqual([180, 7]);
  template.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
});

test('the key administrator role may manage the key and may not use it', () => {
  for (const action of KEY_ADMIN_ACTIONS) expect([action, can(admin(), action)]).toEqual([action, true]);
  for (const action of CRYPTO) expect([action, can(admin(), action)]).toEqual([action, false]);
  expect(can(admin(), 'kms:PutKeyPolicy')).toBe(false);
});

test('the key user role may use the key with app=kms-lab and may not manage it', () => {
  for (const action of KEY_USER_CRYPTO_ACTIONS) expect([action, can(user(), action)]).toEqual([action, true]);
  for (const action of KEY_USER_CRYPTO_ACTIONS) expect([action, can(user(), action, { 'kms:EncryptionContext:app': 'other' })]).toEqual([action, false]);
  for (const action of KEY_USER_CRYPTO_ACTIONS) expect([action, can(user(), action, {})]).toEqual([action, false]);
  for (const action of MANAGEMENT.filter((a) => a !== 'kms:DescribeKey')) expect([action, can(user(), action)]).toEqual([action, false]);
  expect(can(user(), 'kms:DescribeKey')).toBe(true);
});

test('an administrator of the account (IAM allows everything) may administer the key but not use it', () => {
  expect(can(accountAdmin, 'kms:PutKeyPolicy')).toBe(true);
  expect(can(accountAdmin, 'kms:ScheduleKeyDeletion')).toBe(true);
  for (const action of CRYPTO) expect([action, can(accountAdmin, action)]).toEqual([action, false]);
});

test('the envelope function\'s role is a key user, and its IAM policy allows the data-key actions only', () => {
  const fn = aws.roleSession(deployed.env.resources[Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('EnvelopeFunctionRole'))!].attributes.Arn, 'fn');
  expect(can(fn, 'kms:GenerateDataKey')).toBe(true);
  expect(can(fn, 'kms:ScheduleKeyDeletion')).toBe(false);
});

test('both lab roles trust this account only, with no condition', () => {
  template.resourcePropertiesCountIs(
    'AWS::IAM::Role',
    {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } } }],
      },
      ManagedPolicyArns: Match.absent(),
    },
    2,
  );
});

test('outputs what the exercise needs', () => {
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['EnvelopeFunctionName', 'KeyAdminRoleArn', 'KeyAlias', 'KeyArn', 'KeyUserRoleArn']);
  expect(deployed.outputs.KeyAlias).toBe('alias/KmsLab/LabKey');
});
