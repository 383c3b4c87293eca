import './verbose-logs';
import { Template } from 'aws-cdk-lib/assertions';
import { steps, timing } from '../../../labs/observability/exercise';
import { observabilityLab } from '../../../labs/observability/lab';
import { ObservabilityLabStack } from '../../../labs/observability/stack';
import { withStack } from '../../../labs/support/app';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { ALL_FEATURES_CONTEXT } from '../../../labs/support/lab-stack';
import { testApp } from '../../support/synth';
import { FakeObservabilityAws, Tampering } from './fake-aws';

// CloudWatch, X-Ray, CloudTrail and Config have no local engine: the SDK calls go to fakes built from the lab's own
// template (every feature on), with the real handlers and filter patterns behind them (./fake-aws.ts).
const lab = withStack(observabilityLab, ObservabilityLabStack);
const template = Template.fromStack(new lab.stack(testApp({ [ALL_FEATURES_CONTEXT]: true }, { builtinCloudFormationValidation: false }), { lab }));
const FAST = { pollSeconds: 0, metricDeadlineSeconds: 0.2, logDeadlineSeconds: 0.2, traceDeadlineSeconds: 0.2, cloudTrailDeadlineSeconds: 0.2, configDeadlineSeconds: 0.2 };

let aws: FakeObservabilityAws;
const lines: string[] = [];
const run = (ids: string[], outputs: Record<string, string> = aws.outputs) =>
  runExercise(
    steps.filter((s) => ids.includes(s.id)),
    { outputs, log: (line) => lines.push(line), provide: [provide(timing, FAST)] } satisfies ExerciseRunOptions,
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

test.each(steps.map((s) => [s.id]))('step %s passes its own checks against the lab as deployed', async (id) => {
  await run([id]);
  expect(lines.length).toBeGreaterThan(2);
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
