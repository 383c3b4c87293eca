import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appconfig from 'aws-cdk-lib/aws-appconfig';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ConfigRollout, ConfigRolloutProps, CONFIG_ROLLOUT_LIMITS, RolloutGrowth } from '../../lib/config-rollout';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

function build(props: Partial<ConfigRolloutProps> = {}, stack = newStack()) {
  const application = new appconfig.Application(stack, 'App');
  const rollout = new ConfigRollout(stack, 'Rollout', {
    application,
    growth: RolloutGrowth.linear(20),
    deploymentDuration: Duration.minutes(10),
    ...props,
  });
  return { stack, rollout, template: Template.fromStack(stack) };
}

const alarmIn = (stack: Stack, id: string) =>
  new cloudwatch.Alarm(stack, id, {
    metric: new cloudwatch.Metric({ namespace: 'Shop', metricName: 'Errors' }),
    threshold: 1,
    evaluationPeriods: 1,
  });

test('a linear strategy with the growth, duration and bake time given, and an environment without monitors', () => {
  const { template, rollout } = build({ finalBakeTime: Duration.minutes(5) });
  template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
    GrowthType: 'LINEAR',
    GrowthFactor: 20,
    DeploymentDurationInMinutes: 10,
    FinalBakeTimeInMinutes: 5,
    ReplicateTo: 'NONE',
  });
  template.hasResourceProperties('AWS::AppConfig::Environment', { Monitors: Match.absent() });
  template.resourceCountIs('AWS::IAM::Role', 0);
  expect(rollout.monitorRole).toBeUndefined();
});

test('an exponential strategy; no bake time unless given', () => {
  build({ growth: RolloutGrowth.exponential(2) }).template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
    GrowthType: 'EXPONENTIAL',
    GrowthFactor: 2,
    FinalBakeTimeInMinutes: 0,
  });
});

test('rollback alarms become monitors read through one role allowed DescribeAlarms on those alarms only', () => {
  const stack = newStack();
  const errors = alarmIn(stack, 'Errors');
  const latency = alarmIn(stack, 'Latency');
  const { template, rollout } = build({ rollbackAlarms: [errors, latency] }, stack);
  const roleRef = { 'Fn::GetAtt': [Match.stringLikeRegexp('RolloutMonitorRole'), 'Arn'] };
  template.hasResourceProperties('AWS::AppConfig::Environment', {
    Monitors: [
      { AlarmArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Errors'), 'Arn'] }, AlarmRoleArn: roleRef },
      { AlarmArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Latency'), 'Arn'] }, AlarmRoleArn: roleRef },
    ],
  });
  template.resourceCountIs('AWS::IAM::Role', 1);
  template.hasResourceProperties('AWS::IAM::Role', {
    Description: 'Lets AppConfig read the state of the alarms that roll a deployment back',
    AssumeRolePolicyDocument: {
      Statement: [Match.objectLike({ Principal: { Service: 'appconfig.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } })],
    },
    Policies: [
      {
        PolicyName: 'ReadRollbackAlarms',
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'cloudwatch:DescribeAlarms',
              Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Errors'), 'Arn'] }, { 'Fn::GetAtt': [Match.stringLikeRegexp('^Latency'), 'Arn'] }],
            },
          ],
        },
      },
    ],
  });
  expect(rollout.monitorRole).toBeDefined();
});

test('the limits accepted at their edges', () => {
  const { template } = build({
    growth: RolloutGrowth.linear(CONFIG_ROLLOUT_LIMITS.maxGrowthFactor),
    deploymentDuration: Duration.hours(24),
    finalBakeTime: Duration.minutes(0),
  });
  template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', { GrowthFactor: 100, DeploymentDurationInMinutes: 1440 });
  expect(() => build({ growth: RolloutGrowth.exponential(1), deploymentDuration: Duration.minutes(0), finalBakeTime: Duration.hours(24) })).not.toThrow();
});

describe('bad input: every problem listed at once, by code', () => {
  test('a growth factor out of range and a bake time over 24 h', () => {
    const build2 = () => build({ growth: RolloutGrowth.exponential(0.5), finalBakeTime: Duration.minutes(1441) });
    expect(problemCodesOf(build2)).toEqual(['ConfigRollout.GrowthFactorRange', 'ConfigRollout.FinalBakeTimeRange']);
    expect(problemMessagesOf(build2)).toEqual([
      'ConfigRollout.GrowthFactorRange: growth factor must be a percentage from 1 to 100, got 0.5',
      'ConfigRollout.FinalBakeTimeRange: finalBakeTime must be 0 to 1440 minutes (24 hours), got 1441 min',
    ]);
  });

  test('a growth factor above 100 and a deployment over 24 h', () => {
    expect(problemCodesOf(() => build({ growth: RolloutGrowth.linear(101), deploymentDuration: Duration.hours(25) }))).toEqual([
      'ConfigRollout.GrowthFactorRange',
      'ConfigRollout.DeploymentDurationRange',
    ]);
  });

  test('durations that are not whole minutes or whole seconds', () => {
    expect(problemMessagesOf(() => build({ deploymentDuration: Duration.seconds(90) }))).toEqual([
      'ConfigRollout.NotWholeMinutes: deploymentDuration must be a whole number of minutes, got 90 s',
    ]);
    expect(problemCodesOf(() => build({ finalBakeTime: Duration.millis(1500) }))).toEqual(['ConfigRollout.NotWholeSeconds', 'ConfigRollout.NotWholeMinutes']);
  });

  test('a token duration in minutes renders; one in another unit cannot be converted at synth', () => {
    const minutes = Lazy.number({ produce: () => 30 });
    build({ deploymentDuration: Duration.minutes(minutes) }).template.hasResourceProperties('AWS::AppConfig::DeploymentStrategy', {
      DeploymentDurationInMinutes: 30,
    });
    expect(problemCodesOf(() => build({ finalBakeTime: Duration.seconds(Lazy.number({ produce: () => 60 })) }))).toEqual([
      'ConfigRollout.TokenNotInMinutes',
    ]);
  });
});
