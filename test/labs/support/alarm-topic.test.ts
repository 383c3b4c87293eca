import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { labAlarmTopic } from '../../../labs/support/alarm-topic';
import { testApp } from '../../support/synth';

const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Alarms');
const defaultTopic = labAlarmTopic(stack);
const namedTopic = labAlarmTopic(stack, 'OpsTopic');
const template = Template.fromStack(stack);

test('the topic is AlarmTopic unless named, and refuses requests without TLS', () => {
  expect([defaultTopic.node.id, namedTopic.node.id]).toEqual(['AlarmTopic', 'OpsTopic']);
  template.resourceCountIs('AWS::SNS::Topic', 2);
  template.resourcePropertiesCountIs(
    'AWS::SNS::TopicPolicy',
    { PolicyDocument: { Statement: [{ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }] } },
    2,
  );
});

test('acknowledges cdk-nag\'s SNS2 (no customer managed key), saying why', () => {
  const acknowledged = defaultTopic.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
  expect(acknowledged).toEqual([
    {
      'Annotation::AwsSolutions-SNS2':
        'CloudWatch alarm actions cannot publish to a topic encrypted with the AWS managed SNS key, and a customer ' +
        'managed key would add $1/month; the topic carries alarm state changes only, no message data.',
    },
  ]);
});
