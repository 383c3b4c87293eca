import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CLOUDWATCH_ALARM_LIMITS, ObservedFunction, ObservedFunctionProps } from '../../lib/observed-function';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

function setup() {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    timeout: Duration.seconds(10),
    logGroup: new logs.LogGroup(stack, 'HandlerLogs'),
  });
  return { stack, handler };
}
const alarmsOf = (template: Template) => Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);
/** The widgets as the dashboard body lists them (a row gives its graphs), tokens resolved. */
const widgetsJson = (stack: Stack, widgets: readonly cloudwatch.IWidget[]) => stack.resolve(widgets.flatMap((w) => w.toJson()));
/** A graph's metrics as [name, statistic]. */
const graphed = (widget: { properties: { metrics: unknown[][] } }) => widget.properties.metrics.map((m) => [m[1], (m[m.length - 1] as { stat: string }).stat]);

describe('defaults', () => {
  const { stack, handler } = setup();
  const topic = new sns.Topic(stack, 'Ops');
  const observed = new ObservedFunction(stack, 'Watch', { handler, alarms: { alarmTopic: topic } });
  const template = Template.fromStack(stack);

  test('errors: Sum ≥ 1 in 2 of 3 one-minute periods, missing data not breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Period: 60,
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  test('throttles: ≥ 1 in 3 of 5; duration: p99 ≥ 80% of the 10 s timeout in 3 of 5', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Throttles', Statistic: 'Sum', Period: 60, Threshold: 1, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p99', Threshold: 8000, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
  });

  test('three alarms, each notifying the topic on ALARM and OK; no error-rate alarm, metric filter or dashboard unless asked', () => {
    expect(observed.alarms).toHaveLength(3);
    for (const alarm of alarmsOf(template)) {
      expect(alarm.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Ops/) }]);
      expect(alarm.OKActions).toEqual(alarm.AlarmActions);
    }
    expect(observed.errorRateAlarm).toBeUndefined();
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  test('each alarm describes what breaches, in M of N periods of its period', () => {
    expect(alarmsOf(template).map((a) => a.AlarmDescription)).toEqual([
      'Test/Handler: 1+ errors (2 of 3 periods of 60 s)',
      'Test/Handler: 1+ throttles (3 of 5 periods of 60 s)',
      'Test/Handler: p99 duration ≥ 8000 ms (3 of 5 periods of 60 s)',
    ]);
  });

  test('widgets are ready for a dashboard of your own: a heading, the graphs, the alarm states', () => {
    expect(observed.widgets.map((w) => w.constructor.name)).toEqual(['TextWidget', 'Row', 'AlarmStatusWidget']);
    const [heading, counts, duration, states] = widgetsJson(stack, observed.widgets);
    expect(heading.properties.markdown).toBe('## Test/Handler');
    expect(counts.properties.title).toBe('Invocations, errors, throttles (Sum per minute)');
    expect(graphed(counts)).toEqual([['Invocations', 'Sum'], ['Errors', 'Sum'], ['Throttles', 'Sum']]);
    expect(counts.properties.metrics.map((m: unknown[]) => (m[m.length - 1] as { period: number }).period)).toEqual([60, 60, 60]);
    expect(duration.properties.title).toBe('Duration (ms)');
    expect(graphed(duration)).toEqual([['Duration', 'p50'], ['Duration', 'p99']]);
    expect(duration.properties.annotations.horizontal).toEqual([{ value: 8000, label: 'alarm threshold', yAxis: 'left' }]);
    expect(states.properties.title).toBe('Alarms');
    expect(states.properties.alarms).toEqual(observed.alarms.map((a) => stack.resolve(a.alarmArn)));
  });
});

describe('every part tuned', () => {
  const { stack, handler } = setup();
  const dashboard = new cloudwatch.Dashboard(stack, 'Board');
  const observed = new ObservedFunction(stack, 'Watch', {
    handler,
    alarms: {
      errors: { threshold: 5, period: Duration.minutes(5), evaluationPeriods: 4, datapointsToAlarm: 3, treatMissingData: cloudwatch.TreatMissingData.BREACHING },
      throttles: false,
      duration: { threshold: Duration.seconds(2), statistic: 'p90' },
      errorRate: { thresholdPercent: 10 },
    },
    metricFilter: {
      filterPattern: logs.FilterPattern.stringValue('$.event', '=', 'order_rejected'),
      metricNamespace: 'Shop/Orders',
      metricName: 'Rejected',
      alarm: { threshold: 3 },
    },
    dashboard: { dashboard, title: 'Orders' },
  });
  const template = Template.fromStack(stack);

  test('tuned alarms take the given threshold, period, M of N and missing-data treatment; throttles: false is off', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Threshold: 5,
      Period: 300,
      EvaluationPeriods: 4,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', ExtendedStatistic: 'p90', Threshold: 2000 });
    expect(alarmsOf(template).map((a) => a.AlarmDescription)).toEqual([
      'Test/Handler: 5+ errors (3 of 4 periods of 300 s)',
      'Test/Handler: p90 duration ≥ 2000 ms (3 of 5 periods of 60 s)',
      'Test/Handler: error rate ≥ 10% (2 of 3 periods of 60 s)',
      'Test/Handler: 3+ log lines matching the filter (1 of 1 periods of 60 s)',
    ]);
    expect(observed.throttlesAlarm).toBeUndefined();
    expect(alarmsOf(template).some((a) => a.MetricName === 'Throttles')).toBe(false);
  });

  test('the error rate is a metric-math alarm over Errors and Invocations', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 10,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: '100 * errors / MAX([errors, invocations])', Label: 'Error rate (%)', ReturnData: true }),
        Match.objectLike({ Id: 'errors', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Errors' }), Stat: 'Sum' }), ReturnData: false }),
        Match.objectLike({ Id: 'invocations', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }), Stat: 'Sum' }), ReturnData: false }),
      ]),
    });
  });

  test('the metric filter turns matching lines of the function\'s log group into a custom metric, with its alarm', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: { Ref: Match.stringLikeRegexp('HandlerLogs') },
      FilterPattern: '{ $.event = "order_rejected" }',
      MetricTransformations: [{ MetricNamespace: 'Shop/Orders', MetricName: 'Rejected', MetricValue: '1' }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Shop/Orders', MetricName: 'Rejected', Statistic: 'Sum', Threshold: 3, Period: 60 });
    expect(observed.filterMetric?.metricName).toBe('Rejected');
  });

  test('the dashboard section: heading, invocations/errors/throttles, duration with the threshold, the filter metric, alarm states', () => {
    const body = JSON.stringify(Stack.of(dashboard).resolve((dashboard.node.defaultChild as cloudwatch.CfnDashboard).dashboardBody));
    expect(body).toContain('## Orders');
    expect(body).toContain('\\"Shop/Orders\\",\\"Rejected\\"');
    expect(body).toContain('Log lines matching the metric filter: Rejected (Sum)');
    expect(body).toContain('\\"value\\":2000');
    expect(body).toContain('\\"type\\":\\"alarm\\"');
  });
});

test('a lambda.Function without a log group of its own and no metric filter gets no Custom::LogRetention', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Plain');
  const handler = new lambda.Function(stack, 'Handler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
    timeout: Duration.seconds(10),
  });
  new ObservedFunction(stack, 'Watch', { handler, alarms: {}, dashboard: { dashboard: new cloudwatch.Dashboard(stack, 'Board') } });
  const template = Template.fromStack(stack);
  template.resourceCountIs('Custom::LogRetention', 0);
  template.resourceCountIs('AWS::Lambda::Function', 1);
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('logs:PutRetentionPolicy');
});

test('errors: false and duration: false are off (an imported function then needs no threshold); a tuned throttle threshold; a metric value read from the line', () => {
  const { stack } = setup();
  const observed = new ObservedFunction(stack, 'Watch', {
    handler: lambda.Function.fromFunctionName(stack, 'Imported', 'legacy'),
    logGroup: logs.LogGroup.fromLogGroupName(stack, 'LegacyLogs', '/aws/lambda/legacy'),
    alarms: { errors: false, duration: false, throttles: { threshold: 4 } },
    metricFilter: { filterPattern: logs.FilterPattern.allEvents(), metricNamespace: 'Legacy/Orders', metricName: 'Amount', metricValue: '$.amount' },
  });
  const template = Template.fromStack(stack);
  expect(alarmsOf(template).map((a) => [a.MetricName, a.Threshold])).toEqual([['Throttles', 4]]);
  template.hasResourceProperties('AWS::Logs::MetricFilter', { MetricTransformations: [{ MetricNamespace: 'Legacy/Orders', MetricName: 'Amount', MetricValue: '$.amount' }] });
  // No duration alarm, so no threshold line on the duration graph.
  const [, , duration] = widgetsJson(stack, observed.widgets);
  expect(duration.properties.title).toBe('Duration (ms)');
  expect(duration.properties.annotations).toBeUndefined();
});

test('alarms: false creates no alarm; the widgets have no alarm-status row', () => {
  const { stack, handler } = setup();
  const observed = new ObservedFunction(stack, 'Watch', { handler, alarms: false });
  Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Alarm', 0);
  expect(observed.widgets.map((w) => w.constructor.name)).toEqual(['TextWidget', 'Row']);
});

describe('bad input is refused with coded errors, every problem at once', () => {
  const build = (props: Partial<ObservedFunctionProps>, handler?: lambda.IFunction) => {
    const { stack, handler: own } = setup();
    return validationErrorOf(() => new ObservedFunction(stack, 'Watch', { handler: handler ?? own, ...props }));
  };

  test('a period that is not a multiple of 60 s, M above N and a high-resolution period: three problems together', () => {
    const error = build({
      alarms: {
        errors: { period: Duration.seconds(90) },
        throttles: { evaluationPeriods: 2, datapointsToAlarm: 3 },
        duration: { period: Duration.seconds(10) },
      },
    });
    expect(error.message).toBe(
      'Test/Watch: 3 problems in props:\n' +
        '  - [ObservedFunction.PeriodNotMultipleOfMinute] alarms.errors.period must be a multiple of 60 s for a standard-resolution metric, got 90 s\n' +
        '  - [ObservedFunction.DatapointsAboveEvaluationPeriods] alarms.throttles.datapointsToAlarm (M) must be a whole number from 1 to evaluationPeriods (N = 2), got 3\n' +
        '  - [ObservedFunction.HighResolutionPeriodOnStandardMetric] alarms.duration.period is 10 s, a high-resolution alarm period, but this metric is standard resolution (one datapoint per minute): use a multiple of 60 s',
    );
  });

  const cases: [string, Partial<ObservedFunctionProps>, string][] = [
    ['EvaluationPeriodsRange', { alarms: { errors: { evaluationPeriods: 1.5, datapointsToAlarm: 1 } } }, 'alarms.errors.evaluationPeriods must be a whole number of at least 1, got 1.5'],
    ['EvaluationWindowTooLong', { alarms: { errors: { period: Duration.minutes(30), evaluationPeriods: 49 } } }, 'alarms.errors: period × evaluationPeriods is 88200 s, above CloudWatch\'s 86400 s for a 1800 s period'],
    ['NotWholeSeconds', { alarms: { errors: { period: Duration.millis(60_500) } } }, 'alarms.errors.period must be a whole number of seconds, got 60.5 s'],
    ['DurationThresholdNotBelowTimeout', { alarms: { duration: { threshold: Duration.seconds(10) } } }, 'alarms.duration.threshold (10000 ms) must be below the function\'s timeout (10000 ms): an invocation stops at the timeout, so the alarm could never fire'],
    ['ErrorRatePercentRange', { alarms: { errorRate: { thresholdPercent: 120 } } }, 'alarms.errorRate.thresholdPercent must be above 0 and at most 100, got 120'],
    ['ErrorRatePercentRange', { alarms: { errorRate: { thresholdPercent: 0 } } }, 'alarms.errorRate.thresholdPercent must be above 0 and at most 100, got 0'],
    ['PeriodNotMultipleOfMinute', { alarms: { errors: { period: Duration.seconds(0) } } }, 'alarms.errors.period must be a multiple of 60 s for a standard-resolution metric, got 0 s'],
    ['HighResolutionPeriodOnStandardMetric', { alarms: { errors: { period: Duration.seconds(20) } } }, 'alarms.errors.period is 20 s, a high-resolution alarm period, but this metric is standard resolution (one datapoint per minute): use a multiple of 60 s'],
    ['PeriodNotMultipleOfMinute', { alarms: { errorRate: { period: Duration.seconds(90) } } }, 'alarms.errorRate.period must be a multiple of 60 s for a standard-resolution metric, got 90 s'],
    [
      'PeriodNotMultipleOfMinute',
      { metricFilter: { filterPattern: logs.FilterPattern.allEvents(), metricNamespace: 'Shop/Orders', metricName: 'Lines', alarm: { period: Duration.seconds(90) } } },
      'metricFilter.alarm.period must be a multiple of 60 s for a standard-resolution metric, got 90 s',
    ],
    ['DatapointsAboveEvaluationPeriods', { alarms: { errors: { datapointsToAlarm: 0 } } }, 'alarms.errors.datapointsToAlarm (M) must be a whole number from 1 to evaluationPeriods (N = 3), got 0'],
    ['DatapointsAboveEvaluationPeriods', { alarms: { errors: { datapointsToAlarm: 1.5 } } }, 'alarms.errors.datapointsToAlarm (M) must be a whole number from 1 to evaluationPeriods (N = 3), got 1.5'],
    ['EvaluationWindowTooLong', { alarms: { errors: { period: Duration.hours(1), evaluationPeriods: 169 } } }, 'alarms.errors: period × evaluationPeriods is 608400 s, above CloudWatch\'s 604800 s for a 3600 s period'],
    [
      'ReservedNamespace',
      { metricFilter: { filterPattern: logs.FilterPattern.allEvents(), metricNamespace: 'AWS/Lambda', metricName: 'Lines' } },
      'metricFilter.metricNamespace AWS/Lambda starts with AWS/, which AWS services reserve: use your own (e.g. MyApp/Orders)',
    ],
  ];
  test.each(cases)('%s', (code, props, message) => {
    const problems = build(props).problems.filter((p) => p.code !== 'ObservedFunction.PeriodNotMultipleOfMinute' || code === 'PeriodNotMultipleOfMinute');
    expect(problems).toEqual([{ code: `ObservedFunction.${code}`, message }]);
  });

  test('no evaluation period at all: N and M are both refused', () => {
    expect(build({ alarms: { errors: { evaluationPeriods: 0 } } }).problems.map((p) => p.message)).toEqual([
      'alarms.errors.evaluationPeriods must be a whole number of at least 1, got 0',
      'alarms.errors.datapointsToAlarm (M) must be a whole number from 1 to evaluationPeriods (N = 0), got 0',
    ]);
  });

  test('accepted at the limits: an error rate of 100 %, a day of one-minute periods, a week of hourly ones, a day and an hour of hourly ones', () => {
    const { stack, handler } = setup();
    const observed = new ObservedFunction(stack, 'Watch', {
      handler,
      alarms: {
        errors: { period: Duration.minutes(1), evaluationPeriods: 1440 },
        throttles: { period: Duration.hours(1), evaluationPeriods: 168 },
        duration: { period: Duration.hours(1), evaluationPeriods: 25 },
        errorRate: { thresholdPercent: 100 },
      },
    });
    expect(observed.alarms).toHaveLength(4);
  });

  test('an imported function: a duration alarm needs a threshold, a metric filter needs the log group', () => {
    const { stack } = setup();
    const imported = lambda.Function.fromFunctionName(stack, 'Imported', 'legacy');
    const error = validationErrorOf(
      () =>
        new ObservedFunction(stack, 'Watch', {
          handler: imported,
          metricFilter: { filterPattern: logs.FilterPattern.allEvents(), metricNamespace: 'Legacy', metricName: 'Lines' },
        }),
    );
    expect(error.problems).toEqual([
      { code: 'ObservedFunction.DurationThresholdUnknown', message: 'alarms.duration needs a threshold: the function\'s timeout is not known here (an imported function)' },
      { code: 'ObservedFunction.LogGroupUnknown', message: 'metricFilter needs the function\'s log group: give logGroup (the handler is imported and does not know its own)' },
    ]);
    const accepted = new ObservedFunction(stack, 'Given', {
      handler: imported,
      logGroup: logs.LogGroup.fromLogGroupName(stack, 'LegacyLogs', '/aws/lambda/legacy'),
      alarms: { duration: { threshold: Duration.seconds(3) } },
      metricFilter: { filterPattern: logs.FilterPattern.allEvents(), metricNamespace: 'Legacy', metricName: 'Lines' },
    });
    expect(accepted.durationAlarm).toBeDefined();
    expect(accepted.metricFilter).toBeDefined();
  });

  test('a period from a token, in any unit, is PeriodToken: a CDK metric needs its period at synth', () => {
    const { stack, handler } = setup();
    const seconds = new CfnParameter(stack, 'PeriodSeconds', { type: 'Number' }).valueAsNumber;
    const error = validationErrorOf(
      () => new ObservedFunction(stack, 'Watch', { handler, alarms: { errors: { period: Duration.seconds(seconds) }, throttles: { period: Duration.minutes(seconds) } } }),
    );
    expect(error.problems).toEqual([
      { code: 'ObservedFunction.PeriodToken', message: 'alarms.errors.period is a token: an alarm\'s period must be known at synth (a CDK metric checks it)' },
      { code: 'ObservedFunction.PeriodToken', message: 'alarms.throttles.period is a token: an alarm\'s period must be known at synth (a CDK metric checks it)' },
    ]);
  });

  test('a duration threshold from a token is refused, not replaced by the default', () => {
    const { stack, handler } = setup();
    const seconds = new CfnParameter(stack, 'ThresholdSeconds', { type: 'Number' }).valueAsNumber;
    const error = validationErrorOf(() => new ObservedFunction(stack, 'Watch', { handler, alarms: { duration: { threshold: Duration.seconds(seconds) } } }));
    expect(error.problems).toEqual([
      {
        code: 'ObservedFunction.DurationThresholdToken',
        message: "alarms.duration.threshold is a token: it must be known at synth, where it is checked against the function's timeout and drawn on the dashboard",
      },
    ]);
  });

  test('the limits the checks use are exported', () => {
    expect(CLOUDWATCH_ALARM_LIMITS.highResolutionPeriodsSeconds).toEqual([10, 20, 30]);
    expect(CLOUDWATCH_ALARM_LIMITS.maxEvaluationWindowSeconds).toBe(86_400);
  });
});
