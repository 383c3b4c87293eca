import { Validations } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** The SNS topic a lab's optional alarms notify: TLS-only, free while idle. */
export function labAlarmTopic(scope: Construct, id = 'AlarmTopic'): sns.Topic {
  const topic = new sns.Topic(scope, id, { enforceSSL: true });
  Validations.of(topic).acknowledge({
    id: 'AwsSolutions-SNS2',
    reason:
      'CloudWatch alarm actions cannot publish to a topic encrypted with the AWS managed SNS key, and a customer ' +
      'managed key would add $1/month; the topic carries alarm state changes only, no message data.',
  });
  return topic;
}
