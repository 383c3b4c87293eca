import {
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';
import { OBSERVABILITY_LAB as LAB } from '../constants';
import { cloudwatchOf, findLogLine, invocationMinute, metricQuery, metricValues, poll, sum, timing, workerRun } from './fixtures';

export async function embeddedMetrics(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { result, invokedAt } = await context.use(workerRun);
  const { runId } = context;
  check(
    JSON.stringify(result.processed) === JSON.stringify([`${runId}-web`, `${runId}-store`]) && JSON.stringify(result.rejected) === JSON.stringify([`${runId}-bad`]),
    `the worker processed ${JSON.stringify(result.processed)} and rejected ${JSON.stringify(result.rejected)}: expected the web and store orders processed, the quantity-0 order rejected`,
  );
  check(result.totalValue === 45, `the worker priced the orders at ${result.totalValue}, expected 2 × 10 + 1 × 25 = 45`);
  log(`invoked the worker: processed 2 orders worth 45, rejected 1; summary written to s3://…/${result.summaryKey}`);
  log('it published EMF: one JSON log line per metric set ("_aws": {CloudWatchMetrics: [...]}), no PutMetricData call');

  const { metricDeadlineSeconds } = await context.use(timing);
  const queries = [
    metricQuery('processed', 'OrdersProcessed', 'Sum', 60, { service: LAB.serviceName }),
    metricQuery('web', 'OrderValue', 'Sum', 60, { service: LAB.serviceName, channel: 'web' }),
    metricQuery('store', 'OrderValue', 'Sum', 60, { service: LAB.serviceName, channel: 'store' }),
  ];
  const seen = await poll(context, metricDeadlineSeconds, async () => {
    const values = await metricValues(context, queries, invocationMinute(invokedAt));
    return sum(values.processed) >= 2 && sum(values.web) >= 20 && sum(values.store) >= 25 ? values : undefined;
  });
  check(seen !== undefined, `GetMetricData shows no OrdersProcessed ≥ 2 and OrderValue (web ≥ 20, store ≥ 25) in ${LAB.namespace} within ${metricDeadlineSeconds} s of the invocation`);
  log(`GetMetricData: OrdersProcessed ${sum(seen.processed)}, OrderValue web ${sum(seen.web)}, store ${sum(seen.store)} (Sum, 60 s periods, from the invocation's minute on)`);
  log('each channel value is its own metric: a dimension is part of the metric\'s identity (and of its $0.30/month price)');
}

export async function customMetrics(context: ExerciseContext): Promise<void> {
  const { log } = context;
  // Whole seconds, so the high-resolution datapoint is found at exactly this timestamp.
  const at = new Date(Math.floor(Date.now() / 1000) * 1000);
  await cloudwatchOf(context).send(
    new PutMetricDataCommand({
      Namespace: LAB.namespace,
      MetricData: [
        { MetricName: LAB.queueDepthMetric, Value: 7, Unit: 'Count', Timestamp: at },
        {
          MetricName: LAB.checkoutLatencyMetric,
          StatisticValues: { SampleCount: 4, Sum: 2000, Minimum: 200, Maximum: 900 },
          Unit: 'Milliseconds',
          StorageResolution: 1,
          Timestamp: at,
        },
      ],
    }),
  );
  log(`PutMetricData at ${at.toISOString()}: QueueDepth = 7 (a single value, standard resolution: 1 datapoint per minute)`);
  log('  and CheckoutLatency as a statistic set {SampleCount 4, Sum 2000, Min 200, Max 900} with StorageResolution 1 (high resolution)');

  const { metricDeadlineSeconds } = await context.use(timing);
  const queries = [
    metricQuery('latencyMax', LAB.checkoutLatencyMetric, 'Maximum', 1),
    metricQuery('latencyCount', LAB.checkoutLatencyMetric, 'SampleCount', 1),
    metricQuery('depth', LAB.queueDepthMetric, 'Maximum', 60),
  ];
  const seen = await poll(context, metricDeadlineSeconds, async () => {
    const { MetricDataResults = [] } = await cloudwatchOf(context).send(
      new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: at, EndTime: new Date(at.getTime() + 1000) }),
    );
    const values = Object.fromEntries(MetricDataResults.map((r) => [r.Id ?? '', r.Values ?? []]));
    return values.latencyMax?.length && values.latencyCount?.length ? values : undefined;
  });
  check(seen !== undefined, `GetMetricData at 1 s period shows no CheckoutLatency datapoint at ${at.toISOString()} within ${metricDeadlineSeconds} s`);
  check(seen.latencyMax[0] === 900 && seen.latencyCount[0] === 4, `the statistic set came back as Maximum ${seen.latencyMax[0]}, SampleCount ${seen.latencyCount[0]}: expected 900 and 4`);
  log(`GetMetricData, Period 1: CheckoutLatency Maximum 900, SampleCount 4 at that very second (kept at 1 s for 3 hours)`);
  log(`QueueDepth, Period 60: ${JSON.stringify(seen.depth)} (a standard metric has no finer datapoints than its minute)`);
  log('GetMetricData reads up to 500 metrics and math expressions per call; GetMetricStatistics, the older call, one metric');
}

export async function alarms(context: ExerciseContext): Promise<void> {
  const { outputs, log, runId } = context;
  const errorsName = requireOutput(outputs, 'ErrorsAlarmName');
  const rateName = requireOutput(outputs, 'ErrorRateAlarmName');
  const topicArn = requireOutput(outputs, 'AlarmTopicArn');
  const { MetricAlarms = [] } = await cloudwatchOf(context).send(new DescribeAlarmsCommand({ AlarmNames: [errorsName, rateName] }));
  const errors = MetricAlarms.find((a) => a.AlarmName === errorsName);
  const rate = MetricAlarms.find((a) => a.AlarmName === rateName);
  check(errors !== undefined && rate !== undefined, `DescribeAlarms did not return both ${errorsName} and ${rateName}`);
  check(
    errors.Period === 60 && errors.EvaluationPeriods === 3 && errors.DatapointsToAlarm === 2 && errors.TreatMissingData === 'notBreaching',
    `the errors alarm evaluates ${errors.DatapointsToAlarm} of ${errors.EvaluationPeriods} periods of ${errors.Period} s, missing data ${errors.TreatMissingData}: expected 2 of 3 of 60 s, notBreaching`,
  );
  check(
    (errors.AlarmActions ?? []).includes(topicArn) && (errors.OKActions ?? []).includes(topicArn),
    'the errors alarm does not notify the topic on both ALARM and OK',
  );
  log(`errors alarm: Sum(Errors) ≥ ${errors.Threshold} in 2 of 3 one-minute datapoints, missing data not breaching; ALARM and OK go to the topic`);
  const expression = (rate.Metrics ?? []).find((m) => m.Expression)?.Expression;
  check(
    expression !== undefined && /errors/.test(expression) && /invocations/.test(expression),
    `the error-rate alarm has no metric-math expression over errors and invocations: ${JSON.stringify(rate.Metrics)}`,
  );
  log(`error-rate alarm: metric math "${expression}" ≥ ${rate.Threshold} %`);

  const reason = `exercise ${runId}: testing the alarm's actions`;
  await cloudwatchOf(context).send(new SetAlarmStateCommand({ AlarmName: errorsName, StateValue: 'ALARM', StateReason: reason }));
  const { AlarmHistoryItems = [] } = await cloudwatchOf(context).send(
    new DescribeAlarmHistoryCommand({ AlarmName: errorsName, HistoryItemType: 'StateUpdate', MaxRecords: 10 }),
  );
  const update = AlarmHistoryItems.find((item) => item.HistorySummary?.includes('to ALARM') && (item.HistoryData ?? '').includes(runId));
  check(update !== undefined, 'SetAlarmState(ALARM) left no state update with this run\'s reason in the alarm history');
  log('SetAlarmState(ALARM): the history shows the change and the topic was told; the next evaluation (no errors) sets it back to OK');

  if (!outputs.LatencyAlarmName) {
    log('the high-resolution and composite alarms are not deployed: npx cdk deploy ObservabilityLab -c observability:alarms=true');
    return;
  }
  const latencyName = outputs.LatencyAlarmName;
  const compositeName = requireOutput(outputs, 'CompositeAlarmName');
  const since = Date.now();
  await cloudwatchOf(context).send(new SetAlarmStateCommand({ AlarmName: latencyName, StateValue: 'ALARM', StateReason: reason }));
  log('SetAlarmState(ALARM) on the high-resolution latency alarm: its Lambda action invokes the sink, the composite follows');
  const { logDeadlineSeconds } = await context.use(timing);
  // Its history, not its state: the 10 s alarm is evaluated again within seconds, finds no datapoint and leaves ALARM
  // for INSUFFICIENT_DATA, and the composite follows it back before a poll could see it in ALARM.
  const fired = await poll(context, logDeadlineSeconds, async () => {
    const { AlarmHistoryItems = [] } = await cloudwatchOf(context).send(
      new DescribeAlarmHistoryCommand({ AlarmName: compositeName, AlarmTypes: ['CompositeAlarm'], HistoryItemType: 'StateUpdate', StartDate: new Date(since) }),
    );
    return AlarmHistoryItems.find((item) => (item.Timestamp?.getTime() ?? 0) >= since && newStateOf(item.HistoryData) === 'ALARM');
  });
  check(fired !== undefined, `the composite alarm's history shows no change to ALARM within ${logDeadlineSeconds} s of its child's`);
  log(`composite alarm ${compositeName}: "${fired.HistorySummary}" at ${fired.Timestamp?.toISOString()}, read from its history (the 10 s child may already be back)`);
  const received = await poll(context, logDeadlineSeconds, () =>
    findLogLine(context, requireOutput(outputs, 'SinkLogGroupName'), `{ $.event = "alarm_state_change" && $.alarmName = "${latencyName}" }`, since),
  );
  check(received !== undefined, `the sink function logged no alarm_state_change of ${latencyName} within ${logDeadlineSeconds} s: the Lambda action did not run`);
  log(`the sink received the alarm through its Lambda action: ${received}`);
}

/** The state an alarm history item of type StateUpdate moved to (its HistoryData is JSON with `newState`). */
function newStateOf(historyData: string | undefined): string | undefined {
  try {
    return (JSON.parse(historyData ?? '{}') as { newState?: { stateValue?: string } }).newState?.stateValue;
  } catch {
    return undefined;
  }
}

export async function dashboard(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const name = requireOutput(outputs, 'DashboardName');
  const { DashboardBody } = await cloudwatchOf(context).send(new GetDashboardCommand({ DashboardName: name }));
  const widgets = (JSON.parse(DashboardBody ?? '{}') as { widgets?: { type: string; properties: { metrics?: unknown[][]; alarms?: string[]; title?: string } }[] }).widgets ?? [];
  const metrics = widgets.flatMap((w) => w.properties.metrics ?? []).map((m) => m.filter((part) => typeof part === 'string').join(' '));
  const alarmArns = widgets.flatMap((w) => w.properties.alarms ?? []);
  const { MetricAlarms = [] } = await cloudwatchOf(context).send(new DescribeAlarmsCommand({ AlarmNames: [requireOutput(outputs, 'ErrorsAlarmName')] }));
  const errorsArn = MetricAlarms[0]?.AlarmArn ?? '';
  const wanted = ['AWS/Lambda Invocations', 'AWS/Lambda Errors', `${LAB.namespace} ${LAB.rejectedMetricName}`, `${LAB.namespace} OrderValue`, `${LAB.namespace} ${LAB.checkoutLatencyMetric}`];
  const missing = wanted.filter((w) => !metrics.some((m) => m.startsWith(w)));
  check(missing.length === 0, `the dashboard graphs no ${missing.join(', ')}`);
  check(errorsArn !== '' && alarmArns.includes(errorsArn), 'the dashboard has no alarm-status widget with the errors alarm');
  log(`dashboard ${name}: ${widgets.length} widgets graphing ${metrics.length} metrics (AWS/Lambda, EMF, metric filter, PutMetricData) and ${alarmArns.length} alarms`);
  log(`graphs: ${widgets.map((w) => w.properties.title).filter(Boolean).join(' | ')}`);
  log('open it: CloudWatch console → Dashboards; a dashboard is global, its widgets name the Region of each metric');
}
