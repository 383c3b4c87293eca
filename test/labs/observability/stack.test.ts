import { Match, Template } from 'aws-cdk-lib/assertions';
import { OBSERVABILITY_LAB } from '../../../labs/observability/constants';
import { observabilityLab } from '../../../labs/observability/lab';
import { ObservabilityLabStack } from '../../../labs/observability/stack';
import { withStack } from '../../../labs/support/app';
import { ALL_FEATURES_CONTEXT } from '../../../labs/support/lab-stack';
import { labTemplate } from '../../support/lab-template';
import { testApp } from '../../support/synth';

const lab = withStack(observabilityLab, ObservabilityLabStack);
const template = labTemplate(lab);
// cdk-nag and validation of these variants run in test/labs/catalogue-checks.ts.
const variant = (context: Record<string, unknown>) => Template.fromStack(new lab.stack(testApp(context, { builtinCloudFormationValidation: false }), { lab }));
const full = variant({ [ALL_FEATURES_CONTEXT]: true });
const alarmsOf = (t: Template) => Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties);
const ref = (id: string) => ({ Ref: Match.stringLikeRegexp(`^${id}`) });
/** The same, for plain jest assertions. */
const refTo = (id: string) => ({ Ref: expect.stringMatching(new RegExp(`^${id}`)) });

test('the worker: active tracing, EMF namespace and service, its own log group kept a week, may only put orders/ summaries', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    TracingConfig: { Mode: 'Active' },
    Timeout: 10,
    Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'ObservabilityLab', POWERTOOLS_SERVICE_NAME: 'orders', BUCKET_NAME: ref('Data') }) },
    LoggingConfig: { LogGroup: ref('WorkerLogs') },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([{ Action: 's3:PutObject', Effect: 'Allow', Resource: { 'Fn::Join': ['', [Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('^Data'), 'Arn'] }), '/orders/*']] } }]) },
  });
});

test('alarms: errors 1+ in 2 of 3 minutes, throttles in 3 of 5, p99 duration ≥ 8 s, error rate by metric math; all to the topic', () => {
  const alarms = alarmsOf(template);
  expect(alarms).toHaveLength(4);
  expect(alarms.find((a) => a.MetricName === 'Errors')).toMatchObject({ Period: 60, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 1, TreatMissingData: 'notBreaching' });
  expect(alarms.find((a) => a.MetricName === 'Throttles')).toMatchObject({ Period: 60, EvaluationPeriods: 5, DatapointsToAlarm: 3 });
  expect(alarms.find((a) => a.MetricName === 'Duration')).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 8000 });
  const rate = alarms.find((a) => a.Metrics)!;
  expect(rate.Threshold).toBe(10);
  expect(rate.Metrics[0]).toMatchObject({ Expression: '100 * errors / MAX([errors, invocations])', ReturnData: true });
  expect(rate.Metrics.slice(1).map((m: { MetricStat: { Period: number } }) => m.MetricStat.Period)).toEqual([60, 60]);
  for (const alarm of alarms) {
    expect(alarm.AlarmActions).toEqual([refTo('AlarmTopic')]);
    expect(alarm.OKActions).toEqual([refTo('AlarmTopic')]);
  }
});

test('logs: a metric filter of rejected orders, a subscription of warnings and errors to the sink, an Infrequent Access group', () => {
  template.hasResourceProperties('AWS::Logs::MetricFilter', {
    LogGroupName: ref('WorkerLogs'),
    FilterPattern: OBSERVABILITY_LAB.rejectedFilterPattern,
    MetricTransformations: [{ MetricNamespace: 'ObservabilityLab', MetricName: 'OrdersRejected', MetricValue: '1' }],
  });
  template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
    LogGroupName: ref('WorkerLogs'),
    FilterPattern: OBSERVABILITY_LAB.subscriptionFilterPattern,
    DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Sink'), 'Arn'] },
  });
  template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'logs.amazonaws.com', Action: 'lambda:InvokeFunction' });
  template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupClass: 'INFREQUENT_ACCESS', RetentionInDays: 7 });
  template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue() }, 0);
});

test('three saved Logs Insights queries on the worker\'s log group, named after the stack', () => {
  const queries = Object.values(template.findResources('AWS::Logs::QueryDefinition')).map((r) => r.Properties);
  expect(queries.map((q) => q.Name['Fn::Join'][1][1]).sort()).toEqual(['errors-with-trace-ids', 'rejected-orders-by-reason', 'slowest-invocations']);
  expect(queries.find((q) => q.Name['Fn::Join'][1][1] === 'rejected-orders-by-reason')?.QueryString).toBe(
    'filter event = "order_rejected"\n| stats count(*) as rejected by reason\n| sort rejected desc',
  );
  for (const query of queries) expect(query.LogGroupNames).toEqual([refTo('WorkerLogs')]);
});

test('X-Ray: a sampling rule (1 request/s, then 10 %) and a group of slow traces of the worker', () => {
  template.hasResourceProperties('AWS::XRay::SamplingRule', {
    SamplingRule: Match.objectLike({ FixedRate: 0.1, ReservoirSize: 1, Priority: 1000, ServiceName: 'checkout', Version: 1 }),
  });
  template.hasResourceProperties('AWS::XRay::Group', {
    FilterExpression: { 'Fn::Join': ['', ['service("', ref('Worker'), '") AND responsetime > 1']] },
    InsightsConfiguration: { InsightsEnabled: false },
  });
});

test('the dashboard graphs AWS/Lambda, EMF, metric-filter and PutMetricData metrics, and the alarm states', () => {
  const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
  for (const metric of ['\\"AWS/Lambda\\",\\"Errors\\"', '\\"ObservabilityLab\\",\\"OrdersRejected\\"', '\\"ObservabilityLab\\",\\"OrderValue\\"', '\\"ObservabilityLab\\",\\"CheckoutLatency\\"']) {
    expect(body).toContain(metric);
  }
  expect(body).toContain('\\"type\\":\\"alarm\\"');
});

test('CodeGuru Profiler: one profiling group for agents outside Lambda (compute platform Default), no role to publish to it', () => {
  template.resourceCountIs('AWS::CodeGuruProfiler::ProfilingGroup', 1);
  template.hasResourceProperties('AWS::CodeGuruProfiler::ProfilingGroup', { ComputePlatform: 'Default' });
  expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('codeguru-profiler:');
  expect(template.toJSON().Outputs.ProfilingGroupName.Value).toEqual({ Ref: expect.stringMatching(/^Profiling/) });
});

test('EventBridge: failed, faulted or timed-out CodeBuild builds are published to the topic', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['aws.codebuild'], 'detail-type': ['CodeBuild Build State Change'], detail: { 'build-status': ['FAILED', 'FAULT', 'TIMED_OUT'] } },
    Targets: [Match.objectLike({ Arn: ref('AlarmTopic'), InputTransformer: Match.anyValue() })],
  });
});

test('with features off: no trail, no Config, no high-resolution, composite or anomaly alarm', () => {
  for (const type of ['AWS::CloudTrail::Trail', 'AWS::Config::ConfigurationRecorder', 'AWS::Config::ConfigRule', 'AWS::CloudWatch::CompositeAlarm']) {
    template.resourceCountIs(type, 0);
  }
  expect(Object.keys(template.toJSON().Outputs)).not.toContain('LatencyAlarmName');
});

test('-c observability:alarms=true: a 10 s alarm, 2 of 3, missing data missing, with a Lambda action; a composite over it', () => {
  const latency = alarmsOf(full).find((a) => a.MetricName === 'CheckoutLatency');
  expect(latency).toMatchObject({ Period: 10, EvaluationPeriods: 3, DatapointsToAlarm: 2, Threshold: 800, Statistic: 'Maximum', TreatMissingData: 'missing' });
  expect(JSON.stringify(latency.AlarmActions)).toContain('Sink');
  full.hasResourceProperties('AWS::Lambda::Permission', { Principal: 'lambda.alarms.cloudwatch.amazonaws.com' });
  full.hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
    AlarmRule: {
      'Fn::Join': ['', ['(ALARM("', { 'Fn::GetAtt': [Match.stringLikeRegexp('^CheckoutLatencyAlarm'), 'Arn'] }, '") OR ALARM("', { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkerWatchErrorRateAlarm'), 'Arn'] }, '"))']],
    },
    AlarmActions: [ref('AlarmTopic')],
    OKActions: [ref('AlarmTopic')],
  });
});

test('-c observability:anomalyDetection=true: an alarm above the band of 2 standard deviations of the invocations', () => {
  full.hasResourceProperties('AWS::CloudWatch::Alarm', {
    ComparisonOperator: 'GreaterThanUpperThreshold',
    Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('ANOMALY_DETECTION_BAND\\(m0, ?2\\)') })]),
  });
});

test('-c observability:trail=true: log-file validation, an SSE-S3 bucket, S3 write data events of the lab bucket', () => {
  full.hasResourceProperties('AWS::CloudTrail::Trail', {
    EnableLogFileValidation: true,
    IsLogging: true,
    IsMultiRegionTrail: false,
    S3BucketName: ref('TrailLogs'),
    EventSelectors: [
      Match.objectLike({ ReadWriteType: 'All', IncludeManagementEvents: true }),
      Match.objectLike({ ReadWriteType: 'WriteOnly', IncludeManagementEvents: false, DataResources: [{ Type: 'AWS::S3::Object', Values: Match.anyValue() }] }),
    ],
  });
  full.hasResourceProperties('AWS::S3::Bucket', { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } });
});

test('-c observability:config=true: a recorder of 2 resource types only, a managed rule on buckets, a custom rule on the worker', () => {
  full.hasResourceProperties('AWS::Config::ConfigurationRecorder', {
    RecordingGroup: { AllSupported: false, IncludeGlobalResourceTypes: false, ResourceTypes: ['AWS::Lambda::Function', 'AWS::S3::Bucket'], RecordingStrategy: { UseOnly: 'INCLUSION_BY_RESOURCE_TYPES' } },
  });
  full.hasResourceProperties('AWS::Config::ConfigRule', {
    Source: { Owner: 'AWS', SourceIdentifier: 'S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED' },
    Scope: { ComplianceResourceTypes: ['AWS::S3::Bucket'] },
  });
  full.hasResourceProperties('AWS::Config::ConfigRule', {
    Source: Match.objectLike({ Owner: 'CUSTOM_LAMBDA', SourceDetails: Match.arrayWith([{ EventSource: 'aws.config', MessageType: 'ConfigurationItemChangeNotification' }]) }),
    Scope: { ComplianceResourceId: ref('Worker'), ComplianceResourceTypes: ['AWS::Lambda::Function'] },
  });
  const rules = full.findResources('AWS::Config::ConfigRule');
  // Config takes a delivery channel only once a recorder exists, and rules evaluate only once it records.
  for (const rule of Object.values(rules)) expect(rule.DependsOn).toEqual(expect.arrayContaining(['DeliveryChannel']));
  expect(Object.values(full.findResources('AWS::Config::DeliveryChannel'))[0].DependsOn).toEqual(expect.arrayContaining(['Recorder']));
  expect(full.toJSON().Outputs.ConfigRecorder.Value).toBe('created');
});

test('-c observability:configRecorder=existing: the rules, without a recorder or delivery channel of the lab', () => {
  const existing = variant({ 'observability:config': true, 'observability:configRecorder': 'existing' });
  existing.resourceCountIs('AWS::Config::ConfigurationRecorder', 0);
  existing.resourceCountIs('AWS::Config::DeliveryChannel', 0);
  existing.resourceCountIs('AWS::Config::ConfigRule', 2);
  expect(existing.toJSON().Outputs.ConfigRecorder.Value).toBe('existing');
  expect(() => variant({ 'observability:config': true, 'observability:configRecorder': 'reuse' })).toThrow(
    'context observability:configRecorder must be "create" or "existing", got "reuse"',
  );
});
