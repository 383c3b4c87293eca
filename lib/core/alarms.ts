import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';

/** What every construct's alarm options share: where their state changes go. */
export interface AlarmNotificationOptions {
  /** Topic told when an alarm goes to ALARM and when it returns to OK. @default no notification */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * Sends the ALARM and the OK transition of each alarm to `topic`: an operator who is paged also learns when it
 * is over. Does nothing without a topic.
 */
export function notifyOnAlarmAndOk(topic: sns.ITopic | undefined, alarms: readonly cloudwatch.Alarm[]): void {
  if (!topic) return;
  const action = new cwActions.SnsAction(topic);
  for (const alarm of alarms) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}
