import { setTimeout as sleep } from 'node:timers/promises';
import { CloudTrailClient, DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  GetMetricDataCommand,
  MetricDataQuery,
  PutMetricDataCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogStreamCommand,
  DeleteMetricFilterCommand,
  DescribeLogGroupsCommand,
  DescribeMetricFiltersCommand,
  DescribeQueryDefinitionsCommand,
  FilterLogEventsCommand,
  GetQueryResultsCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
  StartQueryCommand,
  TestMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  ConfigServiceClient,
  DescribeConfigurationRecordersCommand,
  DescribeConfigurationRecorderStatusCommand,
  GetComplianceDetailsByConfigRuleCommand,
  StartConfigRulesEvaluationCommand,
} from '@aws-sdk/client-config-service';
import { DescribeRuleCommand, EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { BatchGetTracesCommand, GetGroupCommand, GetSamplingRulesCommand, XRayClient } from '@aws-sdk/client-xray';
import type { OrdersEvent, OrdersResult } from '../../lambda/observability-orders';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, expectRejection, requireOutput } from '../support/exercise';
import { OBSERVABILITY_LAB as LAB } from './constants';

export const timing = defineTiming(LAB.exerciseTiming);

const cloudwatchOf = (context: ExerciseContext) => context.client(CloudWatchClient, 'CLOUDWATCH');
const logsOf = (context: ExerciseContext) => context.client(CloudWatchLogsClient, 'CLOUDWATCH_LOGS');
const lambdaOf = (context: ExerciseContext) => context.client(LambdaClient, 'LAMBDA');

/** Calls `attempt` every pollSeconds until it returns a value or `deadlineSeconds` have passed. */
async function poll<T>(context: ExerciseContext, deadlineSeconds: number, attempt: () => Promise<T | undefined>): Promise<T | undefined> {
  const { pollSeconds } = await context.use(timing);
  const deadline = Date.now() + deadlineSeconds * 1000;
  for (;;) {
    const value = await attempt();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(pollSeconds * 1000);
  }
}

/** The run's orders: two priced (web and store), one rejected (quantity 0), ids prefixed by the run id. */
export const runOrders = (runId: string): OrdersEvent => ({
  orders: [
    { orderId: `${runId}-web`, quantity: 2, unitPrice: 10, channel: 'web' },
    { orderId: `${runId}-store`, quantity: 1, unitPrice: 25, channel: 'store' },
    { orderId: `${runId}-bad`, quantity: 0, unitPrice: 10, channel: 'web' },
  ],
});

interface WorkerRun {
  readonly result: OrdersResult;
  /** When the invocation started (ms): where metric, log and trace searches start. */
  readonly invokedAt: number;
}

/** One invocation of the worker per run, shared by the steps that read what it published. */
const workerRun = defineFixture<WorkerRun>('an invocation of the worker', async (context) => {
  const invokedAt = Date.now();
  const response = await lambdaOf(context).send(
    new InvokeCommand({
      FunctionName: requireOutput(context.outputs, 'WorkerFunctionName'),
      Payload: Buffer.from(JSON.stringify(runOrders(context.runId))),
    }),
  );
  const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
  check(!response.FunctionError, `the worker failed (${response.FunctionError}): ${text}`);
  return { result: JSON.parse(text) as OrdersResult, invokedAt };
});

const metricQuery = (id: string, metricName: string, stat: string, period: number, dimensions: Record<string, string> = {}): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: { Namespace: LAB.namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) },
    Stat: stat,
    Period: period,
  },
});

/** GetMetricData over [from, now + 1 min]: each query's values, by id. */
async function metricValues(context: ExerciseContext, queries: MetricDataQuery[], from: number): Promise<Record<string, number[]>> {
  const { MetricDataResults = [] } = await cloudwatchOf(context).send(
    new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(from), EndTime: new Date(Date.now() + 60_000) }),
  );
  return Object.fromEntries(MetricDataResults.map((r) => [r.Id ?? '', r.Values ?? []]));
}
const sum = (values: number[] = []) => values.reduce((a, b) => a + b, 0);
/**
 * Where a metric search for the run starts: the start of the invocation's minute, where its datapoints are stamped
 * (60 s periods). An earlier run's datapoints, a minute or more before, are left out.
 */
const invocationMinute = (invokedAt: number) => Math.floor(invokedAt / 60_000) * 60_000;

async function embeddedMetrics(context: ExerciseContext): Promise<void> {
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

async function customMetrics(context: ExerciseContext): Promise<void> {
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

async function alarms(context: ExerciseContext): Promise<void> {
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

/** The first log line of `logGroupName` since `since` that matches `filterPattern`. */
async function findLogLine(context: ExerciseContext, logGroupName: string, filterPattern: string, since: number, including?: string): Promise<string | undefined> {
  const { events = [] } = await logsOf(context).send(new FilterLogEventsCommand({ logGroupName, filterPattern, startTime: since - 60_000 }));
  return events.map((e) => e.message ?? '').find((message) => !including || message.includes(including));
}

/** Runs a Logs Insights query over the last hour and returns its rows once complete. */
async function insightsRows(context: ExerciseContext, logGroupName: string, queryString: string): Promise<Record<string, string>[] | undefined> {
  const { queryId } = await logsOf(context).send(
    new StartQueryCommand({ logGroupName, queryString, startTime: Math.floor(Date.now() / 1000) - 3600, endTime: Math.floor(Date.now() / 1000) + 60 }),
  );
  const { logDeadlineSeconds } = await context.use(timing);
  const results = await poll(context, logDeadlineSeconds, async () => {
    const response = await logsOf(context).send(new GetQueryResultsCommand({ queryId }));
    return ['Complete', 'Failed', 'Cancelled', 'Timeout'].includes(response.status ?? '') ? response : undefined;
  });
  if (results?.status !== 'Complete') return undefined;
  return (results.results ?? []).map((row) => Object.fromEntries(row.map((cell) => [cell.field ?? '', cell.value ?? ''])));
}

async function logs(context: ExerciseContext): Promise<void> {
  const { outputs, log, runId } = context;
  const workerLogs = requireOutput(outputs, 'WorkerLogGroupName');
  const { invokedAt } = await context.use(workerRun);
  const { logDeadlineSeconds, metricDeadlineSeconds } = await context.use(timing);

  const { metricFilters = [] } = await logsOf(context).send(new DescribeMetricFiltersCommand({ logGroupName: workerLogs }));
  const filter = metricFilters.find((f) => f.metricTransformations?.some((t) => t.metricName === LAB.rejectedMetricName));
  check(filter?.filterPattern !== undefined, `the worker's log group has no metric filter publishing ${LAB.rejectedMetricName}`);
  log(`metric filter: ${filter.filterPattern} → ${LAB.namespace}/${LAB.rejectedMetricName}`);

  const rejectedLine = await poll(context, logDeadlineSeconds, () => findLogLine(context, workerLogs, filter.filterPattern!, invokedAt, `${runId}-bad`));
  check(rejectedLine !== undefined, `FilterLogEvents with the filter's pattern found no line of the rejected order ${runId}-bad within ${logDeadlineSeconds} s`);
  const processedLine = await findLogLine(context, workerLogs, '{ $.event = "order_processed" }', invokedAt, `${runId}-web`);
  check(processedLine !== undefined, `the worker logged no order_processed line for ${runId}-web`);
  const { matches = [] } = await logsOf(context).send(
    new TestMetricFilterCommand({ filterPattern: filter.filterPattern, logEventMessages: [rejectedLine, processedLine] }),
  );
  check(
    matches.length === 1 && matches[0].eventMessage === rejectedLine,
    `TestMetricFilter matched ${matches.length} of the 2 real lines (rejected, processed): the pattern must match the rejected one only`,
  );
  log('TestMetricFilter on two real lines of this run: the rejected order matches, the processed one does not');

  const rejected = await poll(context, metricDeadlineSeconds, async () => {
    const values = await metricValues(context, [metricQuery('rejected', LAB.rejectedMetricName, 'Sum', 60)], invocationMinute(invokedAt));
    return sum(values.rejected) >= 1 ? values.rejected : undefined;
  });
  check(rejected !== undefined, `the metric filter published no ${LAB.rejectedMetricName} datapoint within ${metricDeadlineSeconds} s`);
  log(`GetMetricData: ${LAB.rejectedMetricName} Sum ${sum(rejected)} since the invocation`);

  const forwarded = await poll(context, logDeadlineSeconds, () =>
    findLogLine(context, requireOutput(outputs, 'SinkLogGroupName'), '{ $.event = "log_batch_received" }', invokedAt, `${runId}-bad`),
  );
  check(forwarded !== undefined, `the sink logged no batch with ${runId}-bad within ${logDeadlineSeconds} s: the subscription filter did not deliver`);
  check(!forwarded.includes(`${runId}-web`), 'the subscription filter delivered an INFO line: its pattern must pass WARN and ERROR only');
  log('the subscription filter delivered the warning (gzip, base64) to the sink function, and not the INFO lines');

  const { queryDefinitions = [] } = await logsOf(context).send(new DescribeQueryDefinitionsCommand({ queryDefinitionNamePrefix: 'ObservabilityLab' }));
  const saved = queryDefinitions.find((q) => q.queryDefinitionId === requireOutput(outputs, 'RejectedByReasonQueryId'));
  check(saved?.queryString !== undefined, 'the saved query rejected-orders-by-reason is not among the query definitions');
  const rows = await insightsRows(context, workerLogs, saved.queryString);
  const positive = rows?.find((row) => row.reason === 'quantity must be positive');
  check(positive !== undefined && Number(positive.rejected) >= 1, `the saved query "${saved.name}" returned no row for "quantity must be positive": ${JSON.stringify(rows)}`);
  log(`Logs Insights, saved query "${saved.name}": ${JSON.stringify(rows)}`);

  await infrequentAccess(context);
}

/** The Infrequent Access log group: queried with Logs Insights, refused a metric filter. */
async function infrequentAccess(context: ExerciseContext): Promise<void> {
  const { outputs, log, runId } = context;
  const archive = requireOutput(outputs, 'ArchiveLogGroupName');
  const { logGroups = [] } = await logsOf(context).send(new DescribeLogGroupsCommand({ logGroupNamePrefix: archive }));
  const group = logGroups.find((g) => g.logGroupName === archive);
  check(group?.logGroupClass === 'INFREQUENT_ACCESS', `the archive log group's class is ${group?.logGroupClass}, expected INFREQUENT_ACCESS`);
  await logsOf(context).send(new CreateLogStreamCommand({ logGroupName: archive, logStreamName: runId }));
  await logsOf(context).send(
    new PutLogEventsCommand({ logGroupName: archive, logStreamName: runId, logEvents: [{ timestamp: Date.now(), message: JSON.stringify({ event: 'archived', runId }) }] }),
  );
  const rows = await poll(context, (await context.use(timing)).logDeadlineSeconds, async () => {
    const found = await insightsRows(context, archive, `filter runId = "${runId}" | fields event, runId`);
    return found && found.length > 0 ? found : undefined;
  });
  check(rows !== undefined, `Logs Insights found no line of ${runId} in the Infrequent Access log group`);
  log(`Infrequent Access log group: the line written is found by Logs Insights (${JSON.stringify(rows)})`);
  const filterName = `exercise-${runId}`;
  const refusal = await expectRejection(
    async () => {
      await logsOf(context).send(
        new PutMetricFilterCommand({
          logGroupName: archive,
          filterName,
          filterPattern: '{ $.event = "archived" }',
          metricTransformations: [{ metricNamespace: LAB.namespace, metricName: 'Archived', metricValue: '1' }],
        }),
      );
      // Accepted after all: remove it, and let the check report what the README says is not supported.
      await logsOf(context).send(new DeleteMetricFilterCommand({ logGroupName: archive, filterName }));
    },
    /InvalidParameter|not supported|Infrequent/i,
    'PutMetricFilter on the Infrequent Access log group',
  );
  log(`PutMetricFilter on it is refused (${refusal.name}): metric filters need the Standard class`);
}

async function dashboard(context: ExerciseContext): Promise<void> {
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

async function xray(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const { result } = await context.use(workerRun);
  const { traceHeader, contextMissing, daemonAddress } = result.xray;
  const traceId = /Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/.exec(traceHeader ?? '')?.[1];
  check(traceId !== undefined, `_X_AMZN_TRACE_ID in the worker was ${JSON.stringify(traceHeader)}, not a trace header with a Root id`);
  check(/^[\d.]+:\d+$/.test(daemonAddress ?? ''), `AWS_XRAY_DAEMON_ADDRESS in the worker was ${JSON.stringify(daemonAddress)}, not host:port`);
  check(contextMissing !== undefined, 'AWS_XRAY_CONTEXT_MISSING is not set in the worker');
  log(`_X_AMZN_TRACE_ID = ${traceHeader}`);
  log(`AWS_XRAY_CONTEXT_MISSING = ${contextMissing}; AWS_XRAY_DAEMON_ADDRESS = ${daemonAddress}`);

  const client = context.client(XRayClient, 'XRAY');
  const { traceDeadlineSeconds } = await context.use(timing);
  const trace = await poll(context, traceDeadlineSeconds, async () => {
    const { Traces = [] } = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
    return Traces[0]?.Segments?.length ? Traces[0] : undefined;
  });
  check(trace !== undefined, `X-Ray has no trace ${traceId} within ${traceDeadlineSeconds} s: is active tracing on?`);
  const segments = (trace.Segments ?? []).map((s) => JSON.parse(s.Document ?? '{}') as { name?: string; origin?: string });
  const functionName = requireOutput(outputs, 'WorkerFunctionName');
  check(
    segments.some((s) => s.origin === 'AWS::Lambda::Function' && s.name === functionName),
    `trace ${traceId} has no AWS::Lambda::Function segment of ${functionName}: ${JSON.stringify(segments)}`,
  );
  log(`trace ${traceId}: ${segments.map((s) => `${s.origin} ${s.name}`).join(', ')} (${trace.Duration} s)`);

  const { SamplingRuleRecords = [] } = await client.send(new GetSamplingRulesCommand({}));
  const rule = SamplingRuleRecords.find((r) => r.SamplingRule?.RuleName === requireOutput(outputs, 'SamplingRuleName'))?.SamplingRule;
  check(
    rule?.FixedRate === LAB.sampling.fixedRate && rule.ReservoirSize === LAB.sampling.reservoirSize,
    `sampling rule ${outputs.SamplingRuleName}: ${JSON.stringify(rule)}, expected reservoir ${LAB.sampling.reservoirSize}/s then ${LAB.sampling.fixedRate * 100} %`,
  );
  log(`sampling rule ${rule.RuleName}: the first ${rule.ReservoirSize} request each second, then ${rule.FixedRate * 100} % of service "${rule.ServiceName}"`);
  const { Group } = await client.send(new GetGroupCommand({ GroupARN: requireOutput(outputs, 'XRayGroupName') }));
  check((Group?.FilterExpression ?? '').includes('responsetime >'), `the X-Ray group's filter expression is ${Group?.FilterExpression}`);
  log(`group ${Group?.GroupName}: ${Group?.FilterExpression}`);
}

async function cloudTrail(context: ExerciseContext): Promise<void> {
  const { outputs, log, runId } = context;
  const client = context.client(CloudTrailClient, 'CLOUDTRAIL');
  const since = new Date(Date.now() - 60_000);
  const reason = `exercise ${runId}: a call to find in CloudTrail`;
  // Setting OK on an alarm that is OK changes nothing, and is a management (write) event with our reason in it.
  await cloudwatchOf(context).send(new SetAlarmStateCommand({ AlarmName: requireOutput(outputs, 'ErrorsAlarmName'), StateValue: 'OK', StateReason: reason }));
  log('called SetAlarmState; looking it up in CloudTrail event history (90 days of management events, no trail needed)');
  const { cloudTrailDeadlineSeconds } = await context.use(timing);
  const event = await poll(context, cloudTrailDeadlineSeconds, async () => {
    const { Events = [] } = await client.send(
      new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'SetAlarmState' }], StartTime: since }),
    );
    return Events.find((e) => (e.CloudTrailEvent ?? '').includes(runId));
  });
  check(event !== undefined, `event history shows no SetAlarmState of this run within ${cloudTrailDeadlineSeconds} s`);
  const record = JSON.parse(event.CloudTrailEvent ?? '{}') as { userIdentity?: { arn?: string }; sourceIPAddress?: string; eventSource?: string };
  log(`found it: ${event.EventName} by ${record.userIdentity?.arn} from ${record.sourceIPAddress} (${record.eventSource}) at ${event.EventTime?.toISOString()}`);

  if (!outputs.TrailArn) {
    log('no trail of the lab is deployed: npx cdk deploy ObservabilityLab -c observability:trail=true');
    return;
  }
  const { trailList = [] } = await client.send(new DescribeTrailsCommand({ trailNameList: [outputs.TrailArn] }));
  check(trailList[0]?.LogFileValidationEnabled === true, 'the lab\'s trail has log-file validation off');
  const status = await client.send(new GetTrailStatusCommand({ Name: outputs.TrailArn }));
  check(status.IsLogging === true, 'the lab\'s trail is not logging');
  const { AdvancedEventSelectors = [], EventSelectors = [] } = await client.send(new GetEventSelectorsCommand({ TrailName: outputs.TrailArn }));
  const dataResources = [...EventSelectors.flatMap((s) => (s.DataResources ?? []).flatMap((d) => d.Values ?? [])), ...JSON.stringify(AdvancedEventSelectors).matchAll(/arn:[^"]+/g)].map(String);
  const bucket = requireOutput(outputs, 'DataBucketName');
  check(dataResources.some((arn) => arn.includes(bucket)), `the trail logs no data events of the lab bucket ${bucket}: ${JSON.stringify(dataResources)}`);
  log(`trail: logging, log-file validation on (hourly digest files), S3 data events of ${dataResources.join(', ')}`);
}

async function configRules(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.TracingRuleName) {
    log('AWS Config is not deployed: npx cdk deploy ObservabilityLab -c observability:config=true (README: one recorder per Region)');
    return;
  }
  const client = context.client(ConfigServiceClient, 'CONFIG');
  const { ConfigurationRecordersStatus = [] } = await client.send(new DescribeConfigurationRecorderStatusCommand({}));
  const { ConfigurationRecorders = [] } = await client.send(new DescribeConfigurationRecordersCommand({}));
  const recording = ConfigurationRecordersStatus.find((s) => s.recording);
  check(recording !== undefined, 'no configuration recorder of this Region is recording: rules have nothing to evaluate');
  const recorder = ConfigurationRecorders.find((r) => r.name === recording.name);
  const group = recorder?.recordingGroup;
  check(
    group?.allSupported === true || (group?.resourceTypes ?? []).includes('AWS::Lambda::Function'),
    `recorder ${recording.name} does not record AWS::Lambda::Function: the tracing rule cannot see the worker`,
  );
  log(`recorder ${recording.name} (${outputs.ConfigRecorder} by this stack) records ${group?.allSupported ? 'every supported type' : (group?.resourceTypes ?? []).join(', ')}`);

  const rule = outputs.TracingRuleName;
  const functionName = requireOutput(outputs, 'WorkerFunctionName');
  try {
    await setTracing(context, functionName, 'PassThrough');
    log('turned the worker\'s X-Ray tracing to PassThrough: a configuration change Config records');
    await expectVerdict(context, rule, functionName, 'NON_COMPLIANT');
  } finally {
    await setTracing(context, functionName, 'Active');
  }
  log('turned tracing back to Active');
  await expectVerdict(context, rule, functionName, 'COMPLIANT');

  const bucketRule = requireOutput(outputs, 'BucketsEncryptedRuleName');
  const bucket = requireOutput(outputs, 'DataBucketName');
  await client.send(new StartConfigRulesEvaluationCommand({ ConfigRuleNames: [bucketRule] }));
  await expectVerdict(context, bucketRule, bucket, 'COMPLIANT');
}

async function setTracing(context: ExerciseContext, functionName: string, mode: 'Active' | 'PassThrough'): Promise<void> {
  await lambdaOf(context).send(new UpdateFunctionConfigurationCommand({ FunctionName: functionName, TracingConfig: { Mode: mode } }));
  const updated = await poll(context, 60, async () => {
    const configuration = await lambdaOf(context).send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
    return configuration.LastUpdateStatus === 'InProgress' ? undefined : configuration;
  });
  check(updated?.TracingConfig?.Mode === mode, `the worker's tracing mode is ${updated?.TracingConfig?.Mode} after setting ${mode}`);
}

async function expectVerdict(context: ExerciseContext, rule: string, resourceId: string, expected: 'COMPLIANT' | 'NON_COMPLIANT'): Promise<void> {
  const client = context.client(ConfigServiceClient, 'CONFIG');
  const { configDeadlineSeconds } = await context.use(timing);
  const result = await poll(context, configDeadlineSeconds, async () => {
    const { EvaluationResults = [] } = await client.send(new GetComplianceDetailsByConfigRuleCommand({ ConfigRuleName: rule, ComplianceTypes: [expected] }));
    return EvaluationResults.find((r) => r.EvaluationResultIdentifier?.EvaluationResultQualifier?.ResourceId === resourceId);
  });
  check(result !== undefined, `rule ${rule} did not evaluate ${resourceId} as ${expected} within ${configDeadlineSeconds} s`);
  context.log(`rule ${rule}: ${resourceId} is ${expected}${result.Annotation ? ` (${result.Annotation})` : ''}`);
}

/** An EventBridge event of CodeBuild, as the service sends it (the fields the rule and the message read). */
const codeBuildEvent = (status: string) => ({
  version: '0',
  id: '2f9c6a31-0000-4000-8000-000000000000',
  'detail-type': 'CodeBuild Build State Change',
  source: 'aws.codebuild',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:codebuild:us-east-1:123456789012:build/app:4fa6d0ad'],
  detail: { 'build-status': status, 'project-name': 'app', 'build-id': 'arn:aws:codebuild:us-east-1:123456789012:build/app:4fa6d0ad' },
});

async function buildEvents(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const client = context.client(EventBridgeClient, 'EVENTBRIDGE');
  const { EventPattern } = await client.send(new DescribeRuleCommand({ Name: requireOutput(outputs, 'FailedBuildsRuleName') }));
  check(EventPattern !== undefined, 'the failed-builds rule has no event pattern');
  log(`rule pattern: ${EventPattern}`);
  const verdicts: Record<string, boolean> = {};
  for (const status of ['FAILED', 'TIMED_OUT', 'SUCCEEDED', 'IN_PROGRESS']) {
    const { Result } = await client.send(new TestEventPatternCommand({ EventPattern, Event: JSON.stringify(codeBuildEvent(status)) }));
    verdicts[status] = Result === true;
  }
  check(
    verdicts.FAILED && verdicts.TIMED_OUT && !verdicts.SUCCEEDED && !verdicts.IN_PROGRESS,
    `TestEventPattern: ${JSON.stringify(verdicts)}; expected FAILED and TIMED_OUT to match, SUCCEEDED and IN_PROGRESS not`,
  );
  log(`TestEventPattern on sample CodeBuild events: ${JSON.stringify(verdicts)}; a match publishes to the alarm topic`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'emf', title: 'EMF metrics from the worker, read back with GetMetricData', run: embeddedMetrics },
  { id: 'custom-metrics', title: 'PutMetricData: a single value, a high-resolution statistic set', run: customMetrics },
  { id: 'alarms', title: 'M of N, missing data, metric math, SetAlarmState, composite alarm and Lambda action', run: alarms },
  { id: 'logs', title: 'metric filter, subscription filter, saved Logs Insights query, Infrequent Access', run: logs },
  { id: 'dashboard', title: 'the dashboard graphs the lab\'s metrics and alarms', run: dashboard },
  { id: 'xray', title: 'the X-Ray environment variables, the trace, the sampling rule and the group', run: xray },
  { id: 'cloudtrail', title: 'find this run\'s API call in CloudTrail event history; the trail\'s settings', run: cloudTrail },
  { id: 'config', title: 'make the worker non-compliant and read the Config rule\'s evaluation', run: configRules },
  { id: 'events', title: 'the EventBridge rule matches failed CodeBuild builds only', run: buildEvents },
];
