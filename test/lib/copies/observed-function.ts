import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ObservedFunction } from '../../../lib/observed-function';

/** A function with its default alarms, an error-rate alarm, a metric filter and a dashboard section. */
export function build(stack: Stack): void {
  const handler = new lambda.Function(stack, 'Orders', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
    timeout: Duration.seconds(10),
    // A log group of its own: without one, the metric filter's lookup of the function's log group creates CDK's
    // log-retention custom resource.
    logGroup: new logs.LogGroup(stack, 'OrdersLogs', { retention: logs.RetentionDays.ONE_WEEK }),
  });
  new ObservedFunction(stack, 'OrdersWatch', {
    handler,
    alarms: { alarmTopic: new sns.Topic(stack, 'OpsTopic', { enforceSSL: true }), errorRate: { thresholdPercent: 5 } },
    metricFilter: { filterPattern: logs.FilterPattern.literal('{ $.event = "order_rejected" }'), metricNamespace: 'Shop', metricName: 'OrdersRejected' },
    dashboard: { dashboard: new cloudwatch.Dashboard(stack, 'OpsDashboard') },
  });
}
