import { Duration, Stack } from 'aws-cdk-lib';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigRollout, RolloutGrowth } from '../../../lib/config-rollout';

/** An environment whose deployments grow by 20 % every 2 minutes, bake 10 minutes, and roll back on an error alarm. */
export function build(stack: Stack): void {
  const application = new appconfig.Application(stack, 'Shop');
  const errors = new cloudwatch.Alarm(stack, 'Errors', {
    metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Errors', period: Duration.minutes(1) }),
    threshold: 5,
    evaluationPeriods: 1,
  });
  const rollout = new ConfigRollout(stack, 'Production', {
    application,
    growth: RolloutGrowth.linear(20),
    deploymentDuration: Duration.minutes(10),
    finalBakeTime: Duration.minutes(10),
    rollbackAlarms: [errors],
  });
  new appconfig.HostedConfiguration(stack, 'Settings', {
    application,
    content: appconfig.ConfigurationContent.fromInlineJson(JSON.stringify({ pageSize: 20 })),
    deploymentStrategy: rollout.deploymentStrategy,
    deployTo: [rollout.environment],
  });
}
