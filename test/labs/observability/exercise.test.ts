import './verbose-logs';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { ConfigServiceClient } from '@aws-sdk/client-config-service';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { XRayClient } from '@aws-sdk/client-xray';
import { steps, timing } from '../../../labs/observability/exercise';
import { observabilityLab } from '../../../labs/observability/lab';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { labTemplate } from '../../support/lab-template';
import { FakeObservabilityAws, Tampering } from './fake-aws';

// CloudWatch, X-Ray, CloudTrail and Config have no local engine: the SDK calls go to fakes built from the lab's own
// template (every feature on), with the real handlers and filter patterns behind them (./fake-aws.ts).
const lab = observabilityLab;
const template = labTemplate(lab, { allFeatures: true });
const FAST = { pollSeconds: 0, metricDeadlineSeconds: 0.2, logDeadlineSeconds: 0.2, traceDeadlineSeconds: 0.2, cloudTrailDeadlineSeconds: 0.2, configDeadlineSeconds: 0.2 };

let aws: FakeObservabilityAws;
const lines: string[] = [];
const run = (ids: string[], outputs: Record<string, string> = aws.outputs) =>
  runExercise(
    steps.filter((s) => ids.includes(s.id)),
    { outputs, log: (line) => lines.push(line), provide: [provide(timing, FAST)], runId: 'run-t' } satisfies ExerciseRunOptions,
  );
const failureOf = async (ids: string[], tamper: Tampering) => {
  aws.tamper = tamper;
  const error = await run(ids).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  return (error as Error).message;
};

beforeEach(() => {
  aws = new FakeObservabilityAws(template);
  aws.install();
  lines.length = 0;
});
afterEach(() => aws.restore());

// What each step prints against the fakes, line by line (its title first; printedShape says what varies: times, and
// the request id that names the summary): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  emf: [
    '\n== 1/1 emf: EMF metrics from the worker, read back with GetMetricData',
    'invoked the worker: processed 2 orders worth 45, rejected 1; summary written to s3://…/orders/req-N.json',
    'it published EMF: one JSON log line per metric set ("_aws": {CloudWatchMetrics: [...]}), no PutMetricData call',
    'GetMetricData: OrdersProcessed 2, OrderValue web 20, store 25 (Sum, 60 s periods, from the invocation\'s minute on)',
    'each channel value is its own metric: a dimension is part of the metric\'s identity (and of its $0.30/month price)',
  ],
  'custom-metrics': [
    '\n== 1/1 custom-metrics: PutMetricData: a single value, a high-resolution statistic set',
    'PutMetricData at TIME: QueueDepth = 7 (a single value, standard resolution: 1 datapoint per minute)',
    '  and CheckoutLatency as a statistic set {SampleCount 4, Sum 2000, Min 200, Max 900} with StorageResolution 1 (high resolution)',
    'GetMetricData, Period 1: CheckoutLatency Maximum 900, SampleCount 4 at that very second (kept at 1 s for 3 hours)',
    'QueueDepth, Period 60: [7] (a standard metric has no finer datapoints than its minute)',
    'GetMetricData reads up to 500 metrics and math expressions per call; GetMetricStatistics, the older call, one metric',
  ],
  alarms: [
    '\n== 1/1 alarms: M of N, missing data, metric math, SetAlarmState, composite alarm and Lambda action',
    'errors alarm: Sum(Errors) ≥ 1 in 2 of 3 one-minute datapoints, missing data not breaching; ALARM and OK go to the topic',
    'error-rate alarm: metric math "100 * errors / MAX([errors, invocations])" ≥ 10 %',
    'SetAlarmState(ALARM): the history shows the change and the topic was told; the next evaluation (no errors) sets it back to OK',
    'SetAlarmState(ALARM) on the high-resolution latency alarm: its Lambda action invokes the sink, the composite follows',
    'composite alarm ObservabilityLab-checkout-degraded: "Alarm updated from OK to ALARM" at TIME, read from its history (the 10 s child may already be back)',
    'the sink received the alarm through its Lambda action: {"event":"alarm_state_change","alarmName":"CheckoutLatencyAlarmA7181F01","state":"ALARM","previousState":"OK","reason":"exercise run-t: testing the alarm\'s actions"}',
  ],
  logs: [
    '\n== 1/1 logs: metric filter, subscription filter, saved Logs Insights query, Infrequent Access',
    'metric filter: { $.event = "order_rejected" } → ObservabilityLab/OrdersRejected',
    'TestMetricFilter on two real lines of this run: the rejected order matches, the processed one does not',
    'GetMetricData: OrdersRejected Sum 1 since the invocation',
    'the subscription filter delivered the warning (gzip, base64) to the sink function, and not the INFO lines',
    'Logs Insights, saved query "ObservabilityLab/rejected-orders-by-reason": [{"reason":"quantity must be positive","rejected":"1"}]',
    'Infrequent Access log group: the line written is found by Logs Insights ([{"event":"archived","runId":"run-t"}])',
    'PutMetricFilter on it is refused (InvalidParameterException): metric filters need the Standard class',
  ],
  dashboard: [
    '\n== 1/1 dashboard: the dashboard graphs the lab\'s metrics and alarms',
    'dashboard Dashboard9E4231ED: 8 widgets graphing 11 metrics (AWS/Lambda, EMF, metric filter, PutMetricData) and 4 alarms',
    'graphs: Invocations, errors, throttles (Sum per minute) | Duration (ms) | Log lines matching the metric filter: OrdersRejected (Sum) | Alarms | EMF: orders processed, order value by channel | PutMetricData: checkout latency (1 s resolution), queue depth (1 min)',
    'open it: CloudWatch console → Dashboards; a dashboard is global, its widgets name the Region of each metric',
  ],
  xray: [
    '\n== 1/1 xray: the X-Ray environment variables, the trace, the sampling rule and the group',
    '_X_AMZN_TRACE_ID = Root=1-67890abc-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1',
    'AWS_XRAY_CONTEXT_MISSING = LOG_ERROR; AWS_XRAY_DAEMON_ADDRESS = 169.254.79.129:2000',
    'trace 1-67890abc-0123456789abcdef01234567: AWS::Lambda::Function Worker11F36D0F, AWS::Lambda Worker11F36D0F (0.2 s)',
    'sampling rule ObservabilityLab-checkout: the first 1 request each second, then 10 % of service "checkout"',
    'group ObservabilityLab-slow: service("Worker11F36D0F") AND responsetime > 1',
  ],
  cloudtrail: [
    '\n== 1/1 cloudtrail: find this run\'s API call in CloudTrail event history; the trail\'s settings',
    'called SetAlarmState; looking it up in CloudTrail event history (90 days of management events, no trail needed)',
    'found it: SetAlarmState by arn:aws:iam::123456789012:user/learner from 203.0.113.7 (monitoring.amazonaws.com) at TIME',
    'trail: logging, log-file validation on (hourly digest files), S3 data events of arn:aws:fake:us-east-1:123456789012:Data666C94C7/orders/',
  ],
  config: [
    '\n== 1/1 config: make the worker non-compliant and read the Config rule\'s evaluation',
    'recorder default (created by this stack) records AWS::Lambda::Function, AWS::S3::Bucket',
    'turned the worker\'s X-Ray tracing to PassThrough: a configuration change Config records',
    'rule TracingActiveC422939B: Worker11F36D0F is NON_COMPLIANT (X-Ray tracing is PassThrough, expected Active)',
    'turned tracing back to Active',
    'rule TracingActiveC422939B: Worker11F36D0F is COMPLIANT (X-Ray tracing is Active)',
    'rule BucketsEncrypted3A0EE384: Data666C94C7 is COMPLIANT',
  ],
  events: [
    '\n== 1/1 events: the EventBridge rule matches failed CodeBuild builds only',
    'rule pattern: {"source":["aws.codebuild"],"detail-type":["CodeBuild Build State Change"],"detail":{"build-status":["FAILED","FAULT","TIMED_OUT"]}}',
    'TestEventPattern on sample CodeBuild events: {"FAILED":true,"TIMED_OUT":true,"SUCCEEDED":false,"IN_PROGRESS":false}; a match publishes to the alarm topic',
  ],
};
const printedShape = (line: string) => line.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, 'TIME').replace(/req-\d+/, 'req-N');

test.each(steps.map((s) => [s.id]))('step %s passes its own checks against the lab as deployed', async (id) => {
  await run([id]);
  expect(lines.map(printedShape)).toEqual(PRINTED[id]);
});

test('emf: the metrics the worker published in EMF are read back per channel', async () => {
  await run(['emf']);
  expect(lines).toContain('GetMetricData: OrdersProcessed 2, OrderValue web 20, store 25 (Sum, 60 s periods, from the invocation\'s minute on)');
});

test('emf fails when the worker publishes no EMF metrics', async () => {
  const emf = aws.datapoints;
  jest.spyOn(emf, 'push').mockImplementation(() => emf.length);
  expect(await failureOf(['emf'], {})).toMatch(/^GetMetricData shows no OrdersProcessed ≥ 2/);
});

test('alarms: SetAlarmState fires the Lambda action and the composite alarm, found in its history once the 10 s alarm is back', async () => {
  await run(['alarms']);
  const composite = aws.alarmStates.get('ObservabilityLab-checkout-degraded');
  expect(composite?.value).toBe('OK');
  expect(composite?.history.map((h) => h.summary)).toEqual(['Alarm updated from ALARM to OK', 'Alarm updated from OK to ALARM']);
  expect(lines).toContainEqual(expect.stringMatching(/^composite alarm ObservabilityLab-checkout-degraded: "Alarm updated from OK to ALARM" at /));
  expect(aws.logs.get(aws.outputs.SinkLogGroupName)?.map((l) => JSON.parse(l.message).event)).toEqual(['alarm_state_change']);
});

test('alarms fails when the composite does not follow its child, an earlier run\'s ALARM in its history notwithstanding', async () => {
  const earlier = { timestamp: new Date(Date.now() - 10 * 60_000), summary: 'Alarm updated from OK to ALARM', data: JSON.stringify({ newState: { stateValue: 'ALARM' } }) };
  aws.alarmStates.set('ObservabilityLab-checkout-degraded', { value: 'OK', history: [earlier] });
  expect(await failureOf(['alarms'], { compositeIgnoresLatency: true })).toBe("the composite alarm's history shows no change to ALARM within 0.2 s of its child's");
});

test('alarms fails when the latency alarm has no Lambda action', async () => {
  expect(await failureOf(['alarms'], { noLambdaAction: true })).toMatch(/logged no alarm_state_change .* the Lambda action did not run$/);
});

/** A datapoint an earlier run left, three minutes before this one: enough to satisfy a search that starts too early. */
const staleDatapoint = (name: string, dimensions: Record<string, string>, value: number) =>
  aws.datapoints.push({ namespace: 'ObservabilityLab', name, dimensions, timestamp: Date.now() - 3 * 60_000, sampleCount: 1, sum: value, max: value });

test('emf fails when only an earlier run\'s datapoints exist', async () => {
  staleDatapoint('OrdersProcessed', { service: 'orders' }, 2);
  staleDatapoint('OrderValue', { service: 'orders', channel: 'web' }, 20);
  staleDatapoint('OrderValue', { service: 'orders', channel: 'store' }, 25);
  const emf = aws.datapoints;
  jest.spyOn(emf, 'push').mockImplementation(() => emf.length);
  expect(await failureOf(['emf'], {})).toMatch(/^GetMetricData shows no OrdersProcessed ≥ 2/);
});

test('logs fails when only an earlier run\'s OrdersRejected datapoint exists', async () => {
  staleDatapoint('OrdersRejected', {}, 1);
  expect(await failureOf(['logs'], { metricFilterSilent: true })).toBe('the metric filter published no OrdersRejected datapoint within 0.2 s');
});

test('logs fails when the metric filter publishes nothing', async () => {
  expect(await failureOf(['logs'], { metricFilterSilent: true })).toBe('the metric filter published no OrdersRejected datapoint within 0.2 s');
});

test('logs fails when the subscription filter forwards INFO lines too', async () => {
  expect(await failureOf(['logs'], { subscriptionPassesEverything: true })).toBe(
    'the subscription filter delivered an INFO line: its pattern must pass WARN and ERROR only',
  );
});

test('logs fails when the Infrequent Access group takes a metric filter', async () => {
  expect(await failureOf(['logs'], { archiveAcceptsMetricFilter: true })).toBe(
    'PutMetricFilter on the Infrequent Access log group succeeded, but it should have been refused',
  );
});

test('config: the worker goes NON_COMPLIANT with tracing off, back to COMPLIANT, and tracing is restored', async () => {
  await run(['config']);
  expect(lines.filter((l) => l.startsWith('rule '))).toEqual([
    expect.stringMatching(/ is NON_COMPLIANT \(X-Ray tracing is PassThrough, expected Active\)$/),
    expect.stringMatching(/ is COMPLIANT \(X-Ray tracing is Active\)$/),
    expect.stringMatching(/^rule BucketsEncrypted\w+: Data\w+ is COMPLIANT$/),
  ]);
  expect(aws.tracingMode).toBe('Active');
});

test('config fails when the rule never re-evaluates, and still restores tracing', async () => {
  expect(await failureOf(['config'], { configStuck: true })).toMatch(/did not evaluate .* as NON_COMPLIANT within 0.2 s$/);
  expect(aws.tracingMode).toBe('Active');
});

test('cloudtrail: finds its own SetAlarmState call, then checks the lab\'s trail', async () => {
  await run(['cloudtrail']);
  expect(lines.some((l) => l.startsWith('found it: SetAlarmState by arn:aws:iam::123456789012:user/learner'))).toBe(true);
  expect(lines.at(-1)).toMatch(/^trail: logging, log-file validation on/);
});

test('the optional parts\' steps say how to deploy them when they are not', async () => {
  const { LatencyAlarmName, CompositeAlarmName, TrailArn, TracingRuleName, ...withoutFeatures } = aws.outputs;
  expect([LatencyAlarmName, CompositeAlarmName, TrailArn, TracingRuleName].every(Boolean)).toBe(true);
  await run(['alarms', 'cloudtrail', 'config'], withoutFeatures);
  expect(lines.filter((l) => l.includes('npx cdk deploy ObservabilityLab -c observability:'))).toHaveLength(3);
});

test('events: the rule matches failed and timed-out builds, not successful ones', async () => {
  await run(['events']);
  expect(lines.at(-1)).toContain('{"FAILED":true,"TIMED_OUT":true,"SUCCEEDED":false,"IN_PROGRESS":false}');
});

test.each([
  ['custom-metrics', { statisticSetAsOneValue: true }, /^the statistic set came back as Maximum 2000, SampleCount 1: expected 900 and 4$/],
  ['dashboard', { dashboardWithoutAlarms: true }, /^the dashboard has no alarm-status widget with the errors alarm$/],
  ['dashboard', { dashboardWithoutCustomMetrics: true }, /^the dashboard graphs no ObservabilityLab OrdersRejected, ObservabilityLab OrderValue, ObservabilityLab CheckoutLatency$/],
  ['alarms', { errorsAlarmOneOfOne: true }, /^the errors alarm evaluates 1 of 1 periods of 60 s, missing data notBreaching: expected 2 of 3 of 60 s, notBreaching$/],
  ['alarms', { errorRateWithoutMath: true }, /^the error-rate alarm has no metric-math expression over errors and invocations: /],
  ['xray', { samplingEverything: true }, /^sampling rule ObservabilityLab-checkout: .*"FixedRate":1.*, expected reservoir 1\/s then 10 %$/],
  ['xray', { groupWithoutResponseTime: true }, /^the X-Ray group's filter expression is service\("Worker\w+"\)$/],
  ['cloudtrail', { trailNotLogging: true }, /^the lab's trail is not logging$/],
  ['cloudtrail', { trailWithoutDataEvents: true }, /^the trail logs no data events of the lab bucket Data\w+: \[\]$/],
  ['config', { recorderWithoutLambda: true }, /^recorder default does not record AWS::Lambda::Function: the tracing rule cannot see the worker$/],
  ['xray', { untraced: true }, /^X-Ray has no trace 1-67890abc-0123456789abcdef01234567 within 0.2 s: is active tracing on\?$/],
  ['cloudtrail', { trailWithoutValidation: true }, /^the lab's trail has log-file validation off$/],
  ['events', { buildRuleWithoutStatus: true }, /expected FAILED and TIMED_OUT to match, SUCCEEDED and IN_PROGRESS not$/],
] as [string, Tampering, RegExp][])('step %s fails when the lab is broken that way: %j', async (id, tamper, message) => {
  expect(await failureOf([id], tamper)).toMatch(message);
});

describe('each remaining check fails when the one answer it reads is changed', () => {
  type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
  type Answer = Record<string, unknown>;
  type Send = () => Promise<Answer>;
  /** The fakes' answers to `name` calls of `client` that `when` picks, passed through `answer` (installed over the fakes). */
  function answers<C extends { send: (...args: never[]) => unknown }>(
    client: { prototype: C },
    name: string,
    answer: (send: Send, command: AnyCommand) => Promise<Answer>,
    when: (command: AnyCommand) => boolean = () => true,
    /** Other calls answered by name: what the function returns, or undefined for the fakes' answer. */
    others: Record<string, (command: AnyCommand) => Answer | undefined> = {},
  ) {
    const send = client.prototype.send as unknown as (...args: unknown[]) => Promise<Answer>;
    jest.spyOn(client.prototype, 'send' as never).mockImplementation(function (this: C, command: AnyCommand, ...rest: unknown[]) {
      const original = () => send.call(this, command, ...rest);
      const other = others[command.constructor.name.replace(/Command$/, '')]?.(command);
      if (other) return Promise.resolve(other);
      return command.constructor.name === `${name}Command` && when(command) ? answer(original, command) : original();
    } as never);
  }
  const edited = (edit: (answer: Answer) => Answer) => async (send: Send) => edit(await send());
  /** The worker's answer to the exercise's invocation, with its result passed through `edit`. */
  const workerResult = (edit: (result: Answer) => Answer) =>
    answers(LambdaClient, 'Invoke', edited((a) => ({ ...a, Payload: Buffer.from(JSON.stringify(edit(JSON.parse(Buffer.from(a.Payload as Uint8Array).toString('utf8'))))) })));
  const xrayOf = (result: Answer) => result.xray as Answer;
  /** GetMetricData's results with the values of the queries named in `values` replaced. */
  const metricResults = (answer: Answer, values: Record<string, number[]>) =>
    (answer.MetricDataResults as Answer[]).map((r) => (String(r.Id) in values ? { ...r, Values: values[String(r.Id)] } : r));
  const onGroup = (output: string) => (command: AnyCommand) => command.input.logGroupName === aws.outputs[output];
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, string, () => void, string | RegExp]>([
    ['emf', 'a worker that fails', () => answers(LambdaClient, 'Invoke', async () => ({ StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"boom"}') })), 'the worker failed (Unhandled): {"errorMessage":"boom"}'],
    ['emf', 'a worker that processes the bad order', () => workerResult((r) => ({ ...r, rejected: [] })), /^the worker processed \[.*\] and rejected \[\]: expected/],
    ['emf', 'a worker that prices the orders otherwise', () => workerResult((r) => ({ ...r, totalValue: 40 })), 'the worker priced the orders at 40, expected 2 × 10 + 1 × 25 = 45'],
    ['custom-metrics', 'no high-resolution datapoint', () => answers(CloudWatchClient, 'GetMetricData', async () => ({ MetricDataResults: [] })), /^GetMetricData at 1 s period shows no CheckoutLatency datapoint at .* within 0.2 s$/],
    ['alarms', 'a missing error-rate alarm', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).slice(0, 1) }))), /^DescribeAlarms did not return both /],
    ['alarms', 'an errors alarm without OK actions', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, OKActions: [] })) }))), 'the errors alarm does not notify the topic on both ALARM and OK'],
    ['alarms', 'SetAlarmState leaving no history', () => answers(CloudWatchClient, 'DescribeAlarmHistory', async () => ({ AlarmHistoryItems: [] }), (c) => c.input.AlarmTypes === undefined), 'SetAlarmState(ALARM) left no state update with this run\'s reason in the alarm history'],
    ['logs', 'no metric filter', () => answers(CloudWatchLogsClient, 'DescribeMetricFilters', async () => ({ metricFilters: [] })), 'the worker\'s log group has no metric filter publishing OrdersRejected'],
    ['logs', 'no line matching the filter\'s pattern', () => answers(CloudWatchLogsClient, 'FilterLogEvents', async () => ({ events: [] }), (c) => onGroup('WorkerLogGroupName')(c) && !String(c.input.filterPattern).includes('order_processed')), /^FilterLogEvents with the filter's pattern found no line of the rejected order .*-bad within 0.2 s$/],
    ['logs', 'no order_processed line', () => answers(CloudWatchLogsClient, 'FilterLogEvents', async () => ({ events: [] }), (c) => String(c.input.filterPattern).includes('order_processed')), /^the worker logged no order_processed line for .*-web$/],
    ['logs', 'a metric filter that matches every line', () => answers(CloudWatchLogsClient, 'TestMetricFilter', async (_s, c) => ({ matches: (c.input.logEventMessages as string[]).map((eventMessage, i) => ({ eventNumber: i + 1, eventMessage })) })), 'TestMetricFilter matched 2 of the 2 real lines (rejected, processed): the pattern must match the rejected one only'],
    ['logs', 'a subscription that delivers nothing', () => answers(CloudWatchLogsClient, 'FilterLogEvents', async () => ({ events: [] }), onGroup('SinkLogGroupName')), /^the sink logged no batch with .*-bad within 0.2 s: the subscription filter did not deliver$/],
    ['logs', 'no saved query', () => answers(CloudWatchLogsClient, 'DescribeQueryDefinitions', async () => ({ queryDefinitions: [] })), 'the saved query rejected-orders-by-reason is not among the query definitions'],
    ['logs', 'a saved query that finds no rejection', () => answers(CloudWatchLogsClient, 'GetQueryResults', edited((a) => ({ ...a, results: [] }))), /^the saved query ".*" returned no row for "quantity must be positive": \[\]$/],
    ['logs', 'an archive log group of the Standard class', () => answers(CloudWatchLogsClient, 'DescribeLogGroups', edited((a) => ({ ...a, logGroups: (a.logGroups as Answer[]).map((g) => ({ ...g, logGroupClass: 'STANDARD' })) }))), 'the archive log group\'s class is STANDARD, expected INFREQUENT_ACCESS'],
    ['logs', 'an archive that Logs Insights cannot read', () =>
      // Queries of the archive never complete (one spy answers both calls: a second spyOn would wrap the first).
      answers(CloudWatchLogsClient, 'StartQuery', async () => ({ queryId: 'never-completes' }), onGroup('ArchiveLogGroupName'), { GetQueryResults: (c) => (c.input.queryId === 'never-completes' ? { status: 'Running' } : undefined) }),
    /^Logs Insights found no line of .* in the Infrequent Access log group$/],
    ['xray', 'a worker without a trace header', () => workerResult((r) => ({ ...r, xray: { ...xrayOf(r), traceHeader: undefined } })), '_X_AMZN_TRACE_ID in the worker was undefined, not a trace header with a Root id'],
    ['xray', 'a worker without a daemon address', () => workerResult((r) => ({ ...r, xray: { ...xrayOf(r), daemonAddress: 'localhost' } })), 'AWS_XRAY_DAEMON_ADDRESS in the worker was "localhost", not host:port'],
    ['xray', 'a worker without AWS_XRAY_CONTEXT_MISSING', () => workerResult((r) => ({ ...r, xray: { ...xrayOf(r), contextMissing: undefined } })), 'AWS_XRAY_CONTEXT_MISSING is not set in the worker'],
    ['xray', 'a trace without the function\'s segment', () => answers(XRayClient, 'BatchGetTraces', edited((a) => ({ ...a, Traces: (a.Traces as Answer[]).map((t) => ({ ...t, Segments: [{ Id: 's', Document: '{"name":"other","origin":"AWS::Lambda"}' }] })) }))), /^trace 1-67890abc-0123456789abcdef01234567 has no AWS::Lambda::Function segment of /],
    ['cloudtrail', 'a call missing from event history', () => answers(CloudTrailClient, 'LookupEvents', async () => ({ Events: [] })), 'event history shows no SetAlarmState of this run within 0.2 s'],
    ['config', 'no recorder recording', () => answers(ConfigServiceClient, 'DescribeConfigurationRecorderStatus', edited((a) => ({ ...a, ConfigurationRecordersStatus: (a.ConfigurationRecordersStatus as Answer[]).map((s) => ({ ...s, recording: false })) }))), 'no configuration recorder of this Region is recording: rules have nothing to evaluate'],
    ['config', 'a tracing change that does not apply', () => answers(LambdaClient, 'GetFunctionConfiguration', edited((a) => ({ ...a, TracingConfig: { Mode: 'Active' } }))), 'the worker\'s tracing mode is Active after setting PassThrough'],
    ['emf', 'a worker that rejects a good order too', () => workerResult((r) => ({ ...r, processed: (r.processed as string[]).slice(0, 1) })), /^the worker processed \["run-t-web"\] and rejected \["run-t-bad"\]: expected/],
    ['custom-metrics', 'no Maximum datapoint', () => answers(CloudWatchClient, 'GetMetricData', edited((a) => ({ MetricDataResults: metricResults(a, { latencyMax: [] }) }))), /^GetMetricData at 1 s period shows no CheckoutLatency datapoint at .* within 0.2 s$/],
    ['custom-metrics', 'no SampleCount result', () => answers(CloudWatchClient, 'GetMetricData', edited((a) => ({ MetricDataResults: (a.MetricDataResults as Answer[]).filter((r) => r.Id !== 'latencyCount') }))), /^GetMetricData at 1 s period shows no CheckoutLatency datapoint at .* within 0.2 s$/],
    ['custom-metrics', 'a statistic set with another Maximum', () => answers(CloudWatchClient, 'GetMetricData', edited((a) => ({ MetricDataResults: metricResults(a, { latencyMax: [2000] }) }))), 'the statistic set came back as Maximum 2000, SampleCount 4: expected 900 and 4'],
    ['custom-metrics', 'a statistic set with another SampleCount', () => answers(CloudWatchClient, 'GetMetricData', edited((a) => ({ MetricDataResults: metricResults(a, { latencyCount: [1] }) }))), 'the statistic set came back as Maximum 900, SampleCount 1: expected 900 and 4'],
    ['alarms', 'a missing errors alarm', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).slice(1) }))), /^DescribeAlarms did not return both /],
    ['alarms', 'an errors alarm over 5-minute periods', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, Period: 300 })) }))), 'the errors alarm evaluates 2 of 3 periods of 300 s, missing data notBreaching: expected 2 of 3 of 60 s, notBreaching'],
    ['alarms', 'an errors alarm over 2 of 5 periods', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, EvaluationPeriods: 5 })) }))), 'the errors alarm evaluates 2 of 5 periods of 60 s, missing data notBreaching: expected 2 of 3 of 60 s, notBreaching'],
    ['alarms', 'an errors alarm over 3 of 3 periods', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, DatapointsToAlarm: 3 })) }))), 'the errors alarm evaluates 3 of 3 periods of 60 s, missing data notBreaching: expected 2 of 3 of 60 s, notBreaching'],
    ['alarms', 'an errors alarm that treats missing data as breaching', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, TreatMissingData: 'breaching' })) }))), 'the errors alarm evaluates 2 of 3 periods of 60 s, missing data breaching: expected 2 of 3 of 60 s, notBreaching'],
    ['alarms', 'an errors alarm without ALARM actions', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, AlarmActions: [] })) }))), 'the errors alarm does not notify the topic on both ALARM and OK'],
    ['alarms', 'an error rate over the errors only', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, Metrics: ((m.Metrics ?? []) as Answer[]).map((q) => (q.Expression ? { ...q, Expression: '100 * errors' } : q)) })) }))), /^the error-rate alarm has no metric-math expression over errors and invocations: /],
    ['alarms', 'an error rate over the invocations only', () => answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: (a.MetricAlarms as Answer[]).map((m) => ({ ...m, Metrics: ((m.Metrics ?? []) as Answer[]).map((q) => (q.Expression ? { ...q, Expression: '100 / invocations' } : q)) })) }))), /^the error-rate alarm has no metric-math expression over errors and invocations: /],
    ['alarms', 'a history whose update of this run went to OK', () => answers(CloudWatchClient, 'DescribeAlarmHistory', edited((a) => ({ AlarmHistoryItems: (a.AlarmHistoryItems as Answer[]).map((h) => ({ ...h, HistorySummary: 'Alarm updated from ALARM to OK' })) })), (c) => c.input.AlarmTypes === undefined), 'SetAlarmState(ALARM) left no state update with this run\'s reason in the alarm history'],
    ['alarms', 'a history whose updates have no summary', () => answers(CloudWatchClient, 'DescribeAlarmHistory', edited((a) => ({ AlarmHistoryItems: (a.AlarmHistoryItems as Answer[]).map((h) => ({ ...h, HistorySummary: undefined })) })), (c) => c.input.AlarmTypes === undefined), 'SetAlarmState(ALARM) left no state update with this run\'s reason in the alarm history'],
    ['alarms', 'a history with another run\'s change to ALARM only', () => answers(CloudWatchClient, 'DescribeAlarmHistory', edited((a) => ({ AlarmHistoryItems: (a.AlarmHistoryItems as Answer[]).map((h) => ({ ...h, HistoryData: '{"newState":{"stateValue":"ALARM","stateReason":"exercise run-u: testing"}}' })) })), (c) => c.input.AlarmTypes === undefined), 'SetAlarmState(ALARM) left no state update with this run\'s reason in the alarm history'],
    ['alarms', 'a composite whose history moved to OK only', () => answers(CloudWatchClient, 'DescribeAlarmHistory', edited((a) => ({ AlarmHistoryItems: (a.AlarmHistoryItems as Answer[]).map((h) => ({ ...h, HistoryData: '{"newState":{"stateValue":"OK"}}' })) })), (c) => c.input.AlarmTypes !== undefined), 'the composite alarm\'s history shows no change to ALARM within 0.2 s of its child\'s'],
    ['alarms', 'a composite whose only ALARM came before its child\'s (a history not cut at StartDate)', () => answers(CloudWatchClient, 'DescribeAlarmHistory', async () => ({ AlarmHistoryItems: [{ Timestamp: new Date(Date.now() - 10 * 60_000), HistorySummary: 'Alarm updated from OK to ALARM', HistoryData: '{"newState":{"stateValue":"ALARM"}}' }, { HistorySummary: 'Alarm updated from OK to ALARM', HistoryData: '{"newState":{"stateValue":"ALARM"}}' }] }), (c) => c.input.AlarmTypes !== undefined), 'the composite alarm\'s history shows no change to ALARM within 0.2 s of its child\'s'],
    ['dashboard', 'a dashboard without the AWS/Lambda metrics', () => answers(CloudWatchClient, 'GetDashboard', edited((a) => {
      const body = JSON.parse(a.DashboardBody as string) as { widgets: unknown[] };
      return { DashboardBody: JSON.stringify({ ...body, widgets: body.widgets.filter((w) => !JSON.stringify(w).includes('"AWS/Lambda"')) }) };
    })), 'the dashboard graphs no AWS/Lambda Invocations, AWS/Lambda Errors'],
    ['xray', 'a trace that has not recorded its segments yet', () => answers(XRayClient, 'BatchGetTraces', edited((a) => ({ ...a, Traces: (a.Traces as Answer[]).map((t) => ({ ...t, Segments: undefined })) }))), 'X-Ray has no trace 1-67890abc-0123456789abcdef01234567 within 0.2 s: is active tracing on?'],
    ['xray', 'a trace with the service segment only', () => answers(XRayClient, 'BatchGetTraces', edited((a) => ({ ...a, Traces: (a.Traces as Answer[]).map((t) => ({ ...t, Segments: (t.Segments as Answer[]).filter((s) => !String(s.Document).includes('"AWS::Lambda::Function"')) })) }))), /^trace 1-67890abc-0123456789abcdef01234567 has no AWS::Lambda::Function segment of Worker\w+: \[\{"name":"Worker\w+","origin":"AWS::Lambda"\}\]$/],
    ['xray', 'a trace with another function\'s segment', () => answers(XRayClient, 'BatchGetTraces', edited((a) => ({ ...a, Traces: (a.Traces as Answer[]).map((t) => ({ ...t, Segments: [{ Id: 's', Document: '{"name":"other","origin":"AWS::Lambda::Function"}' }] })) }))), /^trace 1-67890abc-0123456789abcdef01234567 has no AWS::Lambda::Function segment of /],
    ['xray', 'a sampling rule with another reservoir', () => answers(XRayClient, 'GetSamplingRules', edited((a) => ({ ...a, SamplingRuleRecords: (a.SamplingRuleRecords as Answer[]).map((r) => ({ SamplingRule: { ...(r.SamplingRule as Answer), ReservoirSize: 5 } })) }))), /^sampling rule ObservabilityLab-checkout: .*"ReservoirSize":5.*, expected reservoir 1\/s then 10 %$/],
    ['config', 'an evaluation of another resource', () => answers(ConfigServiceClient, 'GetComplianceDetailsByConfigRule', edited((a) => ({ EvaluationResults: (a.EvaluationResults as Answer[]).flatMap((r) => [{ ...r, EvaluationResultIdentifier: undefined }, { ...r, EvaluationResultIdentifier: {} }, { ...r, EvaluationResultIdentifier: { EvaluationResultQualifier: { ResourceId: 'other' } } }]) }))), /^rule TracingActive\w+ did not evaluate Worker\w+ as NON_COMPLIANT within 0.2 s$/],
    ['alarms', 'a sink that logged nothing of the latency alarm', () => answers(CloudWatchLogsClient, 'FilterLogEvents', async () => ({ events: [] }), onGroup('SinkLogGroupName')), /^the sink function logged no alarm_state_change of .* within 0.2 s: the Lambda action did not run$/],
    ['logs', 'only another run\'s rejected line', () => answers(CloudWatchLogsClient, 'FilterLogEvents', edited((a) => ({ events: (a.events as Answer[]).map((e) => ({ message: String(e.message).replaceAll('run-t-bad', 'run-u-bad') })) })), (c) => onGroup('WorkerLogGroupName')(c) && !String(c.input.filterPattern).includes('order_processed')), 'FilterLogEvents with the filter\'s pattern found no line of the rejected order run-t-bad within 0.2 s'],
    ['logs', 'a metric filter that matches the processed line instead', () => answers(CloudWatchLogsClient, 'TestMetricFilter', async (_s, c) => ({ matches: [{ eventNumber: 2, eventMessage: (c.input.logEventMessages as string[])[1] }] })), 'TestMetricFilter matched 1 of the 2 real lines (rejected, processed): the pattern must match the rejected one only'],
    ['logs', 'a sink that received another run\'s batch only', () => answers(CloudWatchLogsClient, 'FilterLogEvents', edited((a) => ({ events: (a.events as Answer[]).map((e) => ({ message: String(e.message).replaceAll('run-t-bad', 'run-u-bad') })) })), onGroup('SinkLogGroupName')), 'the sink logged no batch with run-t-bad within 0.2 s: the subscription filter did not deliver'],
    ['logs', 'a saved query that counts another reason', () => answers(CloudWatchLogsClient, 'GetQueryResults', edited((a) => ({ ...a, results: ((a.results ?? []) as Answer[][]).map((row) => row.map((cell) => (cell.field === 'reason' ? { ...cell, value: 'unknown product' } : cell))) }))), /^the saved query ".*" returned no row for "quantity must be positive": \[\{"reason":"unknown product","rejected":"1"\}\]$/],
    ['logs', 'a saved query that counts no rejection', () => answers(CloudWatchLogsClient, 'GetQueryResults', edited((a) => ({ ...a, results: ((a.results ?? []) as Answer[][]).map((row) => row.map((cell) => (cell.field === 'rejected' ? { ...cell, value: '0' } : cell))) }))), /^the saved query ".*" returned no row for "quantity must be positive": \[\{"reason":"quantity must be positive","rejected":"0"\}\]$/],
    ['logs', 'no archive log group', () => answers(CloudWatchLogsClient, 'DescribeLogGroups', async () => ({ logGroups: [] })), 'the archive log group\'s class is undefined, expected INFREQUENT_ACCESS'],
    ['dashboard', 'no errors alarm to look for', () => answers(CloudWatchClient, 'DescribeAlarms', async () => ({ MetricAlarms: [] })), 'the dashboard has no alarm-status widget with the errors alarm'],
    ['xray', 'no sampling rule', () => answers(XRayClient, 'GetSamplingRules', async () => ({ SamplingRuleRecords: [] })), 'sampling rule ObservabilityLab-checkout: undefined, expected reservoir 1/s then 10 %'],
    ['xray', 'no group', () => answers(XRayClient, 'GetGroup', async () => ({})), 'the X-Ray group\'s filter expression is undefined'],
    ['cloudtrail', 'no trail described', () => answers(CloudTrailClient, 'DescribeTrails', async () => ({ trailList: [] })), 'the lab\'s trail has log-file validation off'],
    ['config', 'no recorder described', () => answers(ConfigServiceClient, 'DescribeConfigurationRecorders', async () => ({ ConfigurationRecorders: [] })), 'recorder default does not record AWS::Lambda::Function: the tracing rule cannot see the worker'],
    ['config', 'a function without a tracing configuration', () => answers(LambdaClient, 'GetFunctionConfiguration', async () => ({ LastUpdateStatus: 'Successful' })), 'the worker\'s tracing mode is undefined after setting Active'],
  ])('%s fails on %s', async (id, _name, breakIt, message) => {
    breakIt();
    expect(await failureOf([id], {})).toMatch(message);
  });

  test.each([
    ['FAILED', false],
    ['TIMED_OUT', false],
    ['SUCCEEDED', true],
    ['IN_PROGRESS', true],
  ] as const)('events fails when the rule answers %s the other way', async (status, matched) => {
    answers(EventBridgeClient, 'TestEventPattern', async (send, command) =>
      (JSON.parse(command.input.Event as string) as { detail: Record<string, string> }).detail['build-status'] === status ? { Result: matched } : send(),
    );
    const verdicts = { FAILED: true, TIMED_OUT: true, SUCCEEDED: false, IN_PROGRESS: false, [status]: matched };
    expect(await failureOf(['events'], {})).toBe(`TestEventPattern: ${JSON.stringify(verdicts)}; expected FAILED and TIMED_OUT to match, SUCCEEDED and IN_PROGRESS not`);
  });

  test.each(['Failed', 'Cancelled', 'Timeout'])('logs reports a saved query that ended %s at once, without waiting for it', async (status) => {
    let reads = 0;
    answers(CloudWatchLogsClient, 'GetQueryResults', async (send) => ((reads += 1) === 1 ? { status } : send()));
    expect(await failureOf(['logs'], {})).toMatch(/^the saved query ".*" returned no row for "quantity must be positive": undefined$/);
  });

  test('logs waits for the Infrequent Access line until Logs Insights finds it', async () => {
    let reads = 0;
    // The second query is the archive's first: it finds nothing yet.
    answers(CloudWatchLogsClient, 'GetQueryResults', async (send) => ((reads += 1) === 2 ? { status: 'Complete', results: [] } : send()));
    await run(['logs']);
    expect(lines.map(printedShape)).toEqual(PRINTED.logs);
  });

  test('logs reads the lab\'s own metric filter, saved query and archive among others, and only this run\'s archived line', async () => {
    const [savedQueryId, saved] = Object.entries(template.findResources('AWS::Logs::QueryDefinition'))[0];
    const savedQuery = { queryDefinitionId: savedQueryId, name: 'ObservabilityLab/rejected-orders-by-reason', queryString: saved.Properties.QueryString as string };
    const decoys = [{ filterPattern: '{ $.level = "DEBUG" }' }, { filterPattern: '{ $.level = "INFO" }', metricTransformations: [{ metricName: 'Other' }] }];
    answers(CloudWatchLogsClient, 'DescribeMetricFilters', edited((a) => ({
      metricFilters: [...decoys, ...(a.metricFilters as Answer[]).map((f) => ({ ...f, metricTransformations: [...(f.metricTransformations as Answer[]), { metricName: 'OrdersRejectedBytes' }] }))],
    })), undefined, {
      DescribeQueryDefinitions: () => ({ queryDefinitions: [{ queryDefinitionId: 'other', name: 'ObservabilityLab/other', queryString: 'fields @message' }, savedQuery] }),
      DescribeLogGroups: () => ({ logGroups: [{ logGroupName: `${aws.outputs.ArchiveLogGroupName}-old`, logGroupClass: 'STANDARD' }, { logGroupName: aws.outputs.ArchiveLogGroupName, logGroupClass: 'INFREQUENT_ACCESS' }] }),
    });
    aws.writeLog(aws.outputs.ArchiveLogGroupName, [JSON.stringify({ event: 'archived', runId: 'run-u' })]);
    await run(['logs']);
    expect(lines.map(printedShape)).toEqual(PRINTED.logs);
  });

  test('alarms reads the sink\'s alarm line among its other lines', async () => {
    aws.writeLog(aws.outputs.SinkLogGroupName, [JSON.stringify({ event: 'log_batch_received', count: 1 })]);
    await run(['alarms']);
    expect(lines.map(printedShape)).toEqual(PRINTED.alarms);
  });

  test('alarms tells the errors alarm from the error-rate alarm whatever their order', async () => {
    answers(CloudWatchClient, 'DescribeAlarms', edited((a) => ({ ...a, MetricAlarms: [...(a.MetricAlarms as Answer[])].reverse() })));
    await run(['alarms']);
    expect(lines.map(printedShape)).toEqual(PRINTED.alarms);
  });

  test('xray reads the lab\'s sampling rule among others', async () => {
    answers(XRayClient, 'GetSamplingRules', edited((a) => ({
      SamplingRuleRecords: [{}, { SamplingRule: { RuleName: 'Default', FixedRate: 0.05, ReservoirSize: 1, ServiceName: '*' } }, ...(a.SamplingRuleRecords as Answer[])],
    })));
    await run(['xray']);
    expect(lines.map(printedShape)).toEqual(PRINTED.xray);
  });

  test('cloudtrail prints what an event of this run leaves out as undefined', async () => {
    answers(CloudTrailClient, 'LookupEvents', async () => ({ Events: [{ EventName: 'SetAlarmState', CloudTrailEvent: JSON.stringify({ requestParameters: { stateReason: 'exercise run-t: a call to find in CloudTrail' } }) }] }));
    await run(['cloudtrail']);
    expect(lines[2]).toBe('found it: SetAlarmState by undefined from undefined (undefined) at undefined');
  });

  test('emf reads the metrics once per poll interval until its deadline', async () => {
    let reads = 0;
    answers(CloudWatchClient, 'GetMetricData', async () => ((reads += 1), { MetricDataResults: [] }));
    const error = await runExercise(steps.filter((s) => s.id === 'emf'), { outputs: aws.outputs, log: () => undefined, provide: [provide(timing, { ...FAST, pollSeconds: 0.1, metricDeadlineSeconds: 0.25 })], runId: 'run-t' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExerciseCheckFailed);
    // 0.25 s at one read every 0.1 s: 3 or 4 reads (2 on a loaded machine), not one and not hundreds.
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(reads).toBeLessThanOrEqual(4);
  });

  test('every call names what it acts on and asks for what the step reads', async () => {
    const calls: [string, Record<string, unknown>][] = [];
    // No answer changed: every call, whatever its name, is recorded on its way to the fakes.
    const record = (command: AnyCommand) => void calls.push([command.constructor.name.replace(/Command$/, ''), command.input]);
    const clients: { prototype: { send: (...args: never[]) => unknown } }[] = [CloudWatchClient, CloudWatchLogsClient, CloudTrailClient, ConfigServiceClient, LambdaClient];
    for (const client of clients) answers(client, '', async (send) => send(), () => false, new Proxy<Record<string, typeof record>>({}, { get: () => record }));
    aws.tamper = { archiveAcceptsMetricFilter: true };
    await run(['custom-metrics', 'alarms', 'dashboard', 'cloudtrail', 'config']);
    await run(['logs']).catch(() => undefined);
    const inputsOf = (name: string) => calls.filter(([n]) => n === name).map(([, input]) => input);
    const { outputs } = aws;
    expect(inputsOf('PutMetricData')[0].MetricData).toEqual([
      { MetricName: 'QueueDepth', Value: 7, Unit: 'Count', Timestamp: expect.any(Date) },
      { MetricName: 'CheckoutLatency', StatisticValues: { SampleCount: 4, Sum: 2000, Minimum: 200, Maximum: 900 }, Unit: 'Milliseconds', StorageResolution: 1, Timestamp: expect.any(Date) },
    ]);
    expect(inputsOf('DescribeAlarmHistory').length).toBeGreaterThan(1);
    expect(inputsOf('DescribeAlarmHistory').filter((input) => input.HistoryItemType !== 'StateUpdate')).toEqual([]);
    expect(inputsOf('GetDashboard')).toEqual([{ DashboardName: outputs.DashboardName }]);
    expect(inputsOf('SetAlarmState').at(-1)).toMatchObject({ AlarmName: outputs.ErrorsAlarmName, StateValue: 'OK' });
    expect(inputsOf('LookupEvents')[0].LookupAttributes).toEqual([{ AttributeKey: 'EventName', AttributeValue: 'SetAlarmState' }]);
    expect(inputsOf('DescribeTrails')).toEqual([{ trailNameList: [outputs.TrailArn] }]);
    expect(inputsOf('GetTrailStatus')).toEqual([{ Name: outputs.TrailArn }]);
    expect(inputsOf('GetEventSelectors')).toEqual([{ TrailName: outputs.TrailArn }]);
    expect(inputsOf('StartConfigRulesEvaluation')).toEqual([{ ConfigRuleNames: [outputs.BucketsEncryptedRuleName] }]);
    expect(new Set(inputsOf('GetFunctionConfiguration').map((input) => input.FunctionName))).toEqual(new Set([outputs.WorkerFunctionName]));
    expect(inputsOf('DescribeQueryDefinitions')).toEqual([{ queryDefinitionNamePrefix: 'ObservabilityLab' }]);
    expect(inputsOf('CreateLogStream')).toEqual([{ logGroupName: outputs.ArchiveLogGroupName, logStreamName: 'run-t' }]);
    expect(inputsOf('PutMetricFilter')).toEqual([
      { logGroupName: outputs.ArchiveLogGroupName, filterName: 'exercise-run-t', filterPattern: '{ $.event = "archived" }', metricTransformations: [{ metricNamespace: 'ObservabilityLab', metricName: 'Archived', metricValue: '1' }] },
    ]);
    expect(inputsOf('DeleteMetricFilter')).toEqual([{ logGroupName: outputs.ArchiveLogGroupName, filterName: 'exercise-run-t' }]);
  });

  test.each(['localhost', 'host-169.254.79.129:2000', '169.254.79.129:2000/path', '169.254.79.129:port', ':2000', '169.254.79.129:'])(
    'xray fails on a daemon address %j, not host:port',
    async (daemonAddress) => {
      workerResult((r) => ({ ...r, xray: { ...xrayOf(r), daemonAddress } }));
      expect(await failureOf(['xray'], {})).toBe(`AWS_XRAY_DAEMON_ADDRESS in the worker was ${JSON.stringify(daemonAddress)}, not host:port`);
    },
  );

  test('emf waits until every metric it reads has shown up', async () => {
    // The first reads miss one metric each in turn, as CloudWatch shows them one by one.
    const missing = ['processed', 'web', 'store'];
    let reads = 0;
    answers(CloudWatchClient, 'GetMetricData', edited((a) => {
      reads += 1;
      return { MetricDataResults: (a.MetricDataResults as Answer[]).filter((r) => r.Id !== missing[reads - 1]) };
    }));
    await run(['emf']);
    expect(reads).toBe(4);
    expect(lines).toContain('GetMetricData: OrdersProcessed 2, OrderValue web 20, store 25 (Sum, 60 s periods, from the invocation\'s minute on)');
  });

  test('custom-metrics puts its datapoints at the current whole second', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    await run(['custom-metrics']);
    const at = Date.parse(/^PutMetricData at (\S+):/.exec(lines[1])?.[1] ?? '');
    expect(at % 1000).toBe(0);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  test('logs: the Logs Insights queries cover the last hour, to a minute ahead', async () => {
    const windows: number[][] = [];
    answers(CloudWatchLogsClient, 'StartQuery', async (send, command) => {
      windows.push([command.input.startTime as number, command.input.endTime as number]);
      return send();
    });
    const before = Math.floor(Date.now() / 1000);
    await run(['logs']);
    const after = Math.floor(Date.now() / 1000);
    expect(windows.length).toBeGreaterThan(0);
    for (const [start, end] of windows) {
      expect(end - start).toBe(3660);
      expect(start).toBeGreaterThanOrEqual(before - 3600);
      expect(start).toBeLessThanOrEqual(after - 3600);
    }
  });

  test('cloudtrail finds this run\'s call among other runs\' calls', async () => {
    const otherRun = { EventName: 'SetAlarmState', EventTime: new Date(), CloudTrailEvent: JSON.stringify({ eventSource: 'monitoring.amazonaws.com', userIdentity: { arn: 'arn:aws:iam::123456789012:user/someone-else' }, sourceIPAddress: '198.51.100.1', requestParameters: { stateReason: 'exercise run-u: a call to find in CloudTrail' } }) };
    answers(CloudTrailClient, 'LookupEvents', edited((a) => ({ ...a, Events: [otherRun, ...(a.Events as Answer[])] })));
    await run(['cloudtrail']);
    expect(lines.map(printedShape)).toEqual(PRINTED.cloudtrail);
  });

  test('cloudtrail reads the data events of a trail with advanced event selectors', async () => {
    const advanced = [{ Name: 'data', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }, { Field: 'resources.ARN', StartsWith: ['arn:aws:s3:::Data666C94C7/orders/', 'arn:aws:s3:::Data666C94C7/returns/'] }] }];
    answers(CloudTrailClient, 'GetEventSelectors', async () => ({ AdvancedEventSelectors: advanced }));
    await run(['cloudtrail']);
    expect(lines.at(-1)).toBe('trail: logging, log-file validation on (hourly digest files), S3 data events of arn:aws:s3:::Data666C94C7/orders/, arn:aws:s3:::Data666C94C7/returns/');
  });

  test('config accepts a recorder of every supported type', async () => {
    answers(ConfigServiceClient, 'DescribeConfigurationRecorders', async () => ({ ConfigurationRecorders: [{ name: 'default', recordingGroup: { allSupported: true, resourceTypes: [] } }] }));
    await run(['config']);
    expect(lines[1]).toBe('recorder default (created by this stack) records every supported type');
  });

  test('config reads the recorder that is recording, not the first listed', async () => {
    const idle = { name: 'idle', recordingGroup: { allSupported: false, resourceTypes: ['AWS::S3::Bucket'] } };
    answers(ConfigServiceClient, 'DescribeConfigurationRecorders', edited((a) => ({ ConfigurationRecorders: [idle, ...(a.ConfigurationRecorders as Answer[])] })));
    await run(['config']);
    expect(lines.map(printedShape)).toEqual(PRINTED.config);
  });

  test('config waits for the tracing update to finish before reading the mode', async () => {
    let reads = 0;
    answers(LambdaClient, 'GetFunctionConfiguration', async (send) => ((reads += 1) === 1 ? { LastUpdateStatus: 'InProgress', TracingConfig: { Mode: 'Active' } } : send()));
    await run(['config']);
    expect(lines.map(printedShape)).toEqual(PRINTED.config);
  });

  test('events: the sample events carry every field TestEventPattern requires, as CodeBuild sends them', async () => {
    const sent: Answer[] = [];
    answers(EventBridgeClient, 'TestEventPattern', async (send, command) => {
      sent.push(JSON.parse(command.input.Event as string) as Answer);
      return send();
    });
    await run(['events']);
    const build = 'arn:aws:codebuild:us-east-1:123456789012:build/app:4fa6d0ad';
    expect(sent).toEqual(
      ['FAILED', 'TIMED_OUT', 'SUCCEEDED', 'IN_PROGRESS'].map((status) => ({
        version: '0',
        id: '2f9c6a31-0000-4000-8000-000000000000',
        'detail-type': 'CodeBuild Build State Change',
        source: 'aws.codebuild',
        account: '123456789012',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        region: 'us-east-1',
        resources: [build],
        detail: { 'build-status': status, 'project-name': 'app', 'build-id': build },
      })),
    );
  });
});
