import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AlarmNotificationOptions, notifyOnAlarmAndOk } from '../core/alarms';
import { PropsValidator } from '../core/validation';

/** The counts the dashboard graphs: a metric's default period is 5 minutes. */
const PER_MINUTE: cloudwatch.MetricOptions = { statistic: 'Sum', period: Duration.minutes(1) };

/** CloudWatch's limits on metric alarms (CloudWatch User Guide, "Using Amazon CloudWatch alarms" and its quotas). */
export const CLOUDWATCH_ALARM_LIMITS = {
  /** A standard-resolution metric has one datapoint per minute: an alarm period is a multiple of this. */
  standardPeriodSeconds: 60,
  /**
   * Periods below a minute an alarm accepts, on high-resolution metrics only (billed as high-resolution alarms):
   * PutMetricAlarm's Period, "Valid values are 10, 20, 30, and any multiple of 60".
   */
  highResolutionPeriodsSeconds: [10, 20, 30],
  /** Period × evaluation periods may not exceed one day, or 7 days when the period is at least an hour. */
  maxEvaluationWindowSeconds: 86_400,
  maxEvaluationWindowSecondsHourly: 604_800,
  minEvaluationPeriods: 1,
  /** The namespace prefix AWS services publish under; custom metrics may not use it. */
  reservedNamespacePrefix: 'AWS/',
} as const;

/** How one alarm evaluates its metric: "M out of N datapoints", each `period` long. */
export interface AlarmEvaluationOptions {
  /** Length of one datapoint: a multiple of 60 s (Lambda's metrics are standard resolution). @default Duration.minutes(1) */
  readonly period?: Duration;
  /** N: how many of the latest datapoints the alarm looks at (at least 1). @default per alarm, see each */
  readonly evaluationPeriods?: number;
  /** M: how many of those N must breach (1 to N). @default per alarm, see each */
  readonly datapointsToAlarm?: number;
  /** What a period without data counts as. @default NOT_BREACHING: an idle function is a healthy one */
  readonly treatMissingData?: cloudwatch.TreatMissingData;
}

/** An alarm on a count (errors, throttles, log lines matched): fires at `threshold` or more per period. */
export interface CountAlarmOptions extends AlarmEvaluationOptions {
  /** Sum per period at or above which a datapoint breaches. @default 1 */
  readonly threshold?: number;
}

/** An alarm on the function's Duration percentile. */
export interface DurationAlarmOptions extends AlarmEvaluationOptions {
  /** Duration at or above which a datapoint breaches. @default 80% of the function's timeout */
  readonly threshold?: Duration;
  /** Statistic of Duration: a percentile shows the slow tail an average hides. @default 'p99' */
  readonly statistic?: string;
}

/** An alarm on a metric-math expression: 100 × Errors / Invocations, in percent. */
export interface ErrorRateAlarmOptions extends AlarmEvaluationOptions {
  /** Error rate (0–100 %) at or above which a datapoint breaches. @default 5 */
  readonly thresholdPercent?: number;
}

/**
 * The function's alarms, each $0.10 per month per metric (the error-rate alarm reads 2 metrics: $0.20); every alarm
 * created notifies `alarmTopic` on ALARM and OK.
 */
export interface ObservedFunctionAlarmsOptions extends AlarmNotificationOptions {
  /** Errors (Sum) ≥ threshold in M of N periods. @default on: ≥ 1 error in 2 of 3 one-minute periods */
  readonly errors?: false | CountAlarmOptions;
  /** Throttles (Sum) ≥ threshold. @default on: ≥ 1 throttle in 3 of 5 one-minute periods */
  readonly throttles?: false | CountAlarmOptions;
  /** Duration percentile ≥ threshold. @default on: p99 ≥ 80% of the timeout in 3 of 5 one-minute periods */
  readonly duration?: false | DurationAlarmOptions;
  /** 100 × Errors / Invocations ≥ thresholdPercent: a metric-math alarm. @default - none */
  readonly errorRate?: ErrorRateAlarmOptions;
}

/** A metric filter on the function's log group: log lines that match become datapoints of a custom metric. */
export interface ObservedFunctionMetricFilterOptions {
  /** Which log lines count, e.g. `logs.FilterPattern.stringValue('$.event', '=', 'order_rejected')`. */
  readonly filterPattern: logs.IFilterPattern;
  /** Custom namespace of the metric; `AWS/` is reserved for AWS services. */
  readonly metricNamespace: string;
  readonly metricName: string;
  /** What a matching line adds: a number or a JSON field (`$.amount`). @default '1' */
  readonly metricValue?: string;
  /** An alarm on the metric's Sum, $0.10 per month. @default - none */
  readonly alarm?: CountAlarmOptions;
}

/** Widgets of the function on an existing dashboard. */
export interface ObservedFunctionDashboardOptions {
  readonly dashboard: cloudwatch.Dashboard;
  /** Heading of the section. @default the function's construct path */
  readonly title?: string;
}

export interface ObservedFunctionProps {
  /** The function to watch: its AWS/Lambda metrics and its log group. */
  readonly handler: lambda.IFunction;
  /**
   * The log group the function writes to, for the metric filter; read only with `metricFilter`.
   * @default the handler's own (`logGroup` of a `lambda.Function`); required with `metricFilter` for an imported function
   */
  readonly logGroup?: logs.ILogGroup;
  /** Error, throttle and duration alarms, an error-rate alarm. @default on, with the defaults of each */
  readonly alarms?: false | ObservedFunctionAlarmsOptions;
  /** A metric filter on the function's log group. @default - none */
  readonly metricFilter?: ObservedFunctionMetricFilterOptions;
  /** A section on a dashboard with the function's metrics and alarms. @default - none; see `widgets` */
  readonly dashboard?: ObservedFunctionDashboardOptions;
}

const DEFAULTS = {
  errors: { threshold: 1, evaluationPeriods: 3, datapointsToAlarm: 2 },
  throttles: { threshold: 1, evaluationPeriods: 5, datapointsToAlarm: 3 },
  duration: { evaluationPeriods: 5, datapointsToAlarm: 3, timeoutShare: 0.8, statistic: 'p99' },
  errorRate: { thresholdPercent: 5, evaluationPeriods: 3, datapointsToAlarm: 2 },
  metricFilter: { evaluationPeriods: 1, datapointsToAlarm: 1, threshold: 1 },
} as const;

/**
 * A Lambda function (or any metric source with a log group) watched the way a team on call wants it: alarms on
 * errors, throttles and slow invocations (M out of N datapoints, missing data not breaching), an optional
 * error-rate alarm on a metric-math expression, an optional metric filter that turns log lines into a metric, and
 * dashboard widgets of all of them.
 */
export class ObservedFunction extends Construct {
  public readonly errorsAlarm?: cloudwatch.Alarm;
  public readonly throttlesAlarm?: cloudwatch.Alarm;
  public readonly durationAlarm?: cloudwatch.Alarm;
  public readonly errorRateAlarm?: cloudwatch.Alarm;
  public readonly metricFilter?: logs.MetricFilter;
  /** The metric the filter publishes (Sum per minute); undefined without `metricFilter`. */
  public readonly filterMetric?: cloudwatch.Metric;
  public readonly filterAlarm?: cloudwatch.Alarm;
  /** Every alarm created, for a composite alarm or a deployment's rollback alarms. */
  public readonly alarms: readonly cloudwatch.Alarm[];
  /** The function's graphs and alarm states, to place on a dashboard of your own. */
  public readonly widgets: readonly cloudwatch.IWidget[];
  private readonly durationThresholdMs?: number;

  constructor(scope: Construct, id: string, props: ObservedFunctionProps) {
    super(scope, id);
    const fn = props.handler;
    const alarms = props.alarms === false ? undefined : (props.alarms ?? {});
    // A lambda.Function knows its timeout and log group; an imported IFunction does not. Its logGroup getter is read
    // only for a metric filter: on a function without a log group of its own it creates a Custom::LogRetention
    // (a second function, and a role allowed to change the retention of any log group).
    const timeout = (fn as { timeout?: Duration }).timeout;
    const logGroup = props.metricFilter ? (props.logGroup ?? (fn as { logGroup?: logs.ILogGroup }).logGroup) : undefined;

    const check = new PropsValidator(this, 'ObservedFunction');
    const evaluation = (options: AlarmEvaluationOptions | undefined, defaults: { evaluationPeriods: number; datapointsToAlarm: number }, name: string) => {
      // CDK's cloudwatch.Metric refuses a period it cannot check at synth: a token, in any unit, is refused here first.
      const periodIsToken = options?.period?.isUnresolved() ?? false;
      check.require(!periodIsToken, 'PeriodToken', `${name}.period is a token: an alarm's period must be known at synth (a CDK metric checks it)`);
      return checkEvaluation(check, name, {
        periodSeconds: (periodIsToken ? undefined : check.seconds(options?.period, `${name}.period`)) ?? CLOUDWATCH_ALARM_LIMITS.standardPeriodSeconds,
        evaluationPeriods: options?.evaluationPeriods ?? defaults.evaluationPeriods,
        datapointsToAlarm: options?.datapointsToAlarm ?? Math.min(defaults.datapointsToAlarm, options?.evaluationPeriods ?? defaults.evaluationPeriods),
        treatMissingData: options?.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    };
    const errorsEval = alarms && alarms.errors !== false ? evaluation(alarms.errors, DEFAULTS.errors, 'alarms.errors') : undefined;
    const throttlesEval = alarms && alarms.throttles !== false ? evaluation(alarms.throttles, DEFAULTS.throttles, 'alarms.throttles') : undefined;
    const durationEval = alarms && alarms.duration !== false ? evaluation(alarms.duration, DEFAULTS.duration, 'alarms.duration') : undefined;
    const errorRateEval = alarms?.errorRate ? evaluation(alarms.errorRate, DEFAULTS.errorRate, 'alarms.errorRate') : undefined;
    const filterEval = props.metricFilter?.alarm ? evaluation(props.metricFilter.alarm, DEFAULTS.metricFilter, 'metricFilter.alarm') : undefined;

    let durationThresholdMs: number | undefined;
    if (durationEval) {
      const given = (alarms?.duration || undefined)?.threshold;
      const timeoutMs = timeout && !timeout.isUnresolved() ? timeout.toMilliseconds() : undefined;
      check.require(
        given !== undefined || timeoutMs !== undefined,
        'DurationThresholdUnknown',
        'alarms.duration needs a threshold: the function\'s timeout is not known here (an imported function)',
      );
      // A token would be dropped for the default, silently: refused instead.
      check.require(
        !given?.isUnresolved(),
        'DurationThresholdToken',
        'alarms.duration.threshold is a token: it must be known at synth, where it is checked against the function\'s timeout and drawn on the dashboard',
      );
      durationThresholdMs = given && !given.isUnresolved() ? given.toMilliseconds() : timeoutMs !== undefined ? Math.round(timeoutMs * DEFAULTS.duration.timeoutShare) : undefined;
      if (given && timeoutMs !== undefined && durationThresholdMs !== undefined) {
        check.require(
          durationThresholdMs < timeoutMs,
          'DurationThresholdNotBelowTimeout',
          `alarms.duration.threshold (${durationThresholdMs} ms) must be below the function's timeout (${timeoutMs} ms): an invocation stops at the timeout, so the alarm could never fire`,
        );
      }
    }
    check.require(
      props.metricFilter === undefined || logGroup !== undefined,
      'LogGroupUnknown',
      'metricFilter needs the function\'s log group: give logGroup (the handler is imported and does not know its own)',
    );
    const percent = alarms?.errorRate?.thresholdPercent;
    check.require(percent === undefined || (percent > 0 && percent <= 100), 'ErrorRatePercentRange', `alarms.errorRate.thresholdPercent must be above 0 and at most 100, got ${percent}`);
    const namespace = props.metricFilter?.metricNamespace;
    check.require(
      namespace === undefined || !namespace.startsWith(CLOUDWATCH_ALARM_LIMITS.reservedNamespacePrefix),
      'ReservedNamespace',
      `metricFilter.metricNamespace ${namespace} starts with ${CLOUDWATCH_ALARM_LIMITS.reservedNamespacePrefix}, which AWS services reserve: use your own (e.g. MyApp/Orders)`,
    );
    check.throwIfInvalid();

    const created: cloudwatch.Alarm[] = [];
    const alarmOn = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, e: Evaluation, description: string) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: e.evaluationPeriods,
        datapointsToAlarm: e.datapointsToAlarm,
        treatMissingData: e.treatMissingData,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        alarmDescription: `${description} (${e.datapointsToAlarm} of ${e.evaluationPeriods} periods of ${e.periodSeconds} s)`,
      });
      created.push(alarm);
      return alarm;
    };
    const period = (e: Evaluation) => Duration.seconds(e.periodSeconds);
    const fnName = fn.node.path;

    if (errorsEval) {
      const threshold = (alarms?.errors || undefined)?.threshold ?? DEFAULTS.errors.threshold;
      this.errorsAlarm = alarmOn('ErrorsAlarm', fn.metricErrors({ period: period(errorsEval), statistic: 'Sum' }), threshold, errorsEval, `${fnName}: ${threshold}+ errors`);
    }
    if (throttlesEval) {
      const threshold = (alarms?.throttles || undefined)?.threshold ?? DEFAULTS.throttles.threshold;
      this.throttlesAlarm = alarmOn('ThrottlesAlarm', fn.metricThrottles({ period: period(throttlesEval), statistic: 'Sum' }), threshold, throttlesEval, `${fnName}: ${threshold}+ throttles`);
    }
    if (durationEval && durationThresholdMs !== undefined) {
      const statistic = (alarms?.duration || undefined)?.statistic ?? DEFAULTS.duration.statistic;
      this.durationThresholdMs = durationThresholdMs;
      this.durationAlarm = alarmOn('DurationAlarm', fn.metricDuration({ period: period(durationEval), statistic }), durationThresholdMs, durationEval, `${fnName}: ${statistic} duration ≥ ${durationThresholdMs} ms`);
    }
    if (errorRateEval && alarms?.errorRate) {
      const threshold = alarms.errorRate.thresholdPercent ?? DEFAULTS.errorRate.thresholdPercent;
      // MAX caps the rate at 100 % when an error and its invocation are counted in different periods.
      const rate = new cloudwatch.MathExpression({
        expression: '100 * errors / MAX([errors, invocations])',
        usingMetrics: {
          errors: fn.metricErrors({ statistic: 'Sum' }),
          invocations: fn.metricInvocations({ statistic: 'Sum' }),
        },
        period: period(errorRateEval),
        label: 'Error rate (%)',
      });
      this.errorRateAlarm = alarmOn('ErrorRateAlarm', rate, threshold, errorRateEval, `${fnName}: error rate ≥ ${threshold}%`);
    }
    if (props.metricFilter && logGroup) {
      const options = props.metricFilter;
      this.metricFilter = new logs.MetricFilter(this, 'MetricFilter', {
        logGroup,
        filterPattern: options.filterPattern,
        metricNamespace: options.metricNamespace,
        metricName: options.metricName,
        metricValue: options.metricValue ?? '1',
        // No datapoint (rather than 0) when nothing matched: the alarm's missing-data treatment decides.
      });
      this.filterMetric = this.metricFilter.metric({ statistic: 'Sum', period: filterEval ? period(filterEval) : Duration.minutes(1) });
      if (filterEval && options.alarm) {
        const threshold = options.alarm.threshold ?? DEFAULTS.metricFilter.threshold;
        this.filterAlarm = alarmOn('MetricFilterAlarm', this.filterMetric, threshold, filterEval, `${fnName}: ${threshold}+ log lines matching the filter`);
      }
    }

    this.alarms = created;
    notifyOnAlarmAndOk(alarms ? alarms.alarmTopic : undefined, created);
    this.widgets = this.buildWidgets(fn, props.dashboard?.title ?? fnName);
    if (props.dashboard) props.dashboard.dashboard.addWidgets(...this.widgets);
  }

  private buildWidgets(fn: lambda.IFunction, title: string): cloudwatch.IWidget[] {
    const graphs: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: 'Invocations, errors, throttles (Sum per minute)',
        left: [fn.metricInvocations(PER_MINUTE), fn.metricErrors(PER_MINUTE), fn.metricThrottles(PER_MINUTE)],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Duration (ms)',
        left: [fn.metricDuration({ statistic: 'p50' }), fn.metricDuration({ statistic: 'p99' })],
        leftAnnotations: this.durationAlarm && this.durationThresholdMs !== undefined ? [{ value: this.durationThresholdMs, label: 'alarm threshold' }] : undefined,
        width: 8,
      }),
    ];
    if (this.filterMetric) graphs.push(new cloudwatch.GraphWidget({ title: `Log lines matching the metric filter: ${this.filterMetric.metricName} (Sum)`, left: [this.filterMetric], width: 8 }));
    const rows: cloudwatch.IWidget[] = [new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }), new cloudwatch.Row(...graphs)];
    if (this.alarms.length > 0) rows.push(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...this.alarms], width: 24, height: 2 }));
    return rows;
  }
}

interface Evaluation {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
}

/** Every problem of one alarm's evaluation settings, recorded on `check` with the option's name. */
function checkEvaluation(check: PropsValidator, name: string, e: Evaluation): Evaluation {
  const limits = CLOUDWATCH_ALARM_LIMITS;
  const highResolution = (limits.highResolutionPeriodsSeconds as readonly number[]).includes(e.periodSeconds);
  check.require(
    !highResolution,
    'HighResolutionPeriodOnStandardMetric',
    `${name}.period is ${e.periodSeconds} s, a high-resolution alarm period, but this metric is standard resolution (one datapoint per minute): use a multiple of 60 s`,
  );
  check.require(
    highResolution || (e.periodSeconds > 0 && e.periodSeconds % limits.standardPeriodSeconds === 0),
    'PeriodNotMultipleOfMinute',
    `${name}.period must be a multiple of 60 s for a standard-resolution metric, got ${e.periodSeconds} s`,
  );
  check.require(
    Number.isInteger(e.evaluationPeriods) && e.evaluationPeriods >= limits.minEvaluationPeriods,
    'EvaluationPeriodsRange',
    `${name}.evaluationPeriods must be a whole number of at least ${limits.minEvaluationPeriods}, got ${e.evaluationPeriods}`,
  );
  check.require(
    Number.isInteger(e.datapointsToAlarm) && e.datapointsToAlarm >= 1 && e.datapointsToAlarm <= e.evaluationPeriods,
    'DatapointsAboveEvaluationPeriods',
    `${name}.datapointsToAlarm (M) must be a whole number from 1 to evaluationPeriods (N = ${e.evaluationPeriods}), got ${e.datapointsToAlarm}`,
  );
  const window = e.periodSeconds * e.evaluationPeriods;
  const maxWindow = e.periodSeconds >= 3600 ? limits.maxEvaluationWindowSecondsHourly : limits.maxEvaluationWindowSeconds;
  check.require(
    window <= maxWindow,
    'EvaluationWindowTooLong',
    `${name}: period × evaluationPeriods is ${window} s, above CloudWatch's ${maxWindow} s for a ${e.periodSeconds} s period`,
  );
  return e;
}
