import { Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { labProvider } from '../../../labs/support/lab-provider';
import { LAB_LOG_RETENTION } from '../../../labs/support/lab-stack';
import { testApp } from '../../support/synth';

const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Providers');
const onEvent = new lambda.Function(stack, 'Sweeper', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
const provider = labProvider(stack, onEvent, 'Runs the sweeper of the lab');
const template = Template.fromStack(stack);
const onEventId = stack.getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction);
const roleId = stack.getLogicalId(provider.node.scope!.node.findChild('FrameworkRole').node.defaultChild as never);

test('the framework\'s role is ours, described, for Lambda, with no managed policy', () => {
  template.hasResourceProperties('AWS::IAM::Role', {
    Description: 'Runs the sweeper of the lab',
    AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
    ManagedPolicyArns: Match.absent(),
  });
  template.hasResourceProperties('AWS::Lambda::Function', { Role: { 'Fn::GetAtt': [roleId, 'Arn'] }, Handler: 'framework.onEvent' });
});

test('the framework logs to a log group of the lab retention, which the role may write to', () => {
  const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: LAB_LOG_RETENTION } }));
  expect(logGroupId).toMatch(/^ProviderLogs/);
  template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'framework.onEvent', LoggingConfig: { LogGroup: { Ref: logGroupId } } });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } })]) },
    Roles: [{ Ref: roleId }],
  });
});

test('acknowledges cdk-nag\'s IAM5 for invoking the handler\'s versions, naming the handler', () => {
  const role = provider.node.scope!.node.findChild('FrameworkRole');
  const acknowledged = role.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
  expect(acknowledged).toEqual([
    {
      [`Annotation::AwsSolutions-IAM5[Resource::<${onEventId}.Arn>:*]`]:
        'The provider framework grants lambda:InvokeFunction on the handler and its versions (<arn>:*): only this handler.',
    },
  ]);
});
