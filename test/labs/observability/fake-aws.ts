/**
 * The AWS services the observability exercise talks to, faked from the lab's synthesized template: CloudWatch has no
 * local engine, nor X-Ray, CloudTrail or Config. The fakes hold state (log lines, datapoints, alarm states, a
 * function's tracing mode) and answer from it with the lab's real handlers, its real patterns (through
 * ./filter-pattern) and its real alarm, rule and query settings, so the exercise's checks meet what the stack
 * deploys. `tamper` lets a test break one part of the lab and watch the check that should notice fail.
 */
import { gzipSync } from 'node:zlib';
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
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchGetTracesCommand, GetGroupCommand, GetSamplingRulesCommand, XRayClient } from '@aws-sdk/client-xray';
import type { Template } from 'aws-cdk-lib/assertions';
import type { CloudWatchAlarmEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { evaluate as evaluateTracingRule } from '../../../lambda/observability-config-rule';
import * as orders from '../../../lambda/observability-orders';
import { handler as sink } from '../../../lambda/observability-sink';
import { matchesFilterPattern } from './filter-pattern';

type Resource = { Type: string; Properties: Record<string, unknown> };
interface Datapoint {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  timestamp: number;
  sampleCount: number;
  sum: number;
  max: number;
}
interface LogLine {
  timestamp: number;
  message: string;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const PSEUDO: Record<string, string> = { 'AWS::StackName': 'ObservabilityLab', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };
const TRACE_ID = '1-67890abc-0123456789abcdef01234567';

/** What a test may break, one part at a time. */
export interface Tampering {
  /** The worker's metric filter publishes nothing (a wrong namespace, say). */
  metricFilterSilent?: boolean;
  /** The subscription filter delivers every line, INFO included. */
  subscriptionPassesEverything?: boolean;
  /** The alarm's Lambda action is missing. */
  noLambdaAction?: boolean;
  /** The composite alarm's rule no longer reads the latency alarm. */
  compositeIgnoresLatency?: boolean;
  /** Config never re-evaluates the function. */
  configStuck?: boolean;
  /** The Infrequent Access group accepts a metric filter. */
  archiveAcceptsMetricFilter?: boolean;
  /** CloudWatch keeps a statistic set's Sum as if it were one value. */
  statisticSetAsOneValue?: boolean;
  /** The dashboard lost its alarm-status widget. */
  dashboardWithoutAlarms?: boolean;
  /** The dashboard graphs AWS/Lambda metrics only, none of the lab's own. */
  dashboardWithoutCustomMetrics?: boolean;
  /** The errors alarm fires on a single datapoint (1 of 1). */
  errorsAlarmOneOfOne?: boolean;
  /** The error-rate alarm reads the Errors metric itself, with no metric-math expression. */
  errorRateWithoutMath?: boolean;
  /** The sampling rule records every request (fixed rate 100 %). */
  samplingEverything?: boolean;
  /** The X-Ray group's filter expression selects every trace of the function, slow or not. */
  groupWithoutResponseTime?: boolean;
  /** The trail exists but was stopped. */
  trailNotLogging?: boolean;
  /** The trail logs management events only. */
  trailWithoutDataEvents?: boolean;
  /** The account's recorder records S3 buckets only. */
  recorderWithoutLambda?: boolean;
  /** X-Ray recorded no segment of the function (tracing PassThrough, not sampled). */
  untraced?: boolean;
  /** The trail was created without log-file validation. */
  trailWithoutValidation?: boolean;
  /** The build rule matches every state change of every build. */
  buildRuleWithoutStatus?: boolean;
}

export class FakeObservabilityAws {
  readonly outputs: Record<string, string>;
  readonly logs = new Map<string, LogLine[]>();
  readonly datapoints: Datapoint[] = [];
  readonly alarmStates = new Map<string, { value: string; history: { timestamp: Date; summary: string; data: string }[] }>();
  readonly trailEvents: { name: string; time: Date; record: Record<string, unknown> }[] = [];
  tracingMode = 'Active';
  tamper: Tampering = {};
  private readonly resources: Record<string, Resource>;
  private readonly queries = new Map<string, { logGroupName: string; queryString: string }>();
  private readonly mocks = [LambdaClient, CloudWatchClient, CloudWatchLogsClient, XRayClient, CloudTrailClient, ConfigServiceClient, EventBridgeClient, S3Client].map((c) => mockClient(c as never));

  constructor(template: Template) {
    this.resources = template.toJSON().Resources as Record<string, Resource>;
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    this.outputs = Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, String(this.resolve(output.Value))]));
    this.logs.set(this.outputs.ArchiveLogGroupName, []);
  }

  /** A CloudFormation value with the physical names this fake gives: an alarm its name, anything else its logical id. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const record = value as Record<string, unknown>;
    if ('Ref' in record) return PSEUDO[record.Ref as string] ?? this.nameOf(record.Ref as string);
    if ('Fn::Join' in record) {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => this.resolve(p)).join(separator);
    }
    if ('Fn::GetAtt' in record) {
      const [id, attribute] = record['Fn::GetAtt'] as [string, string];
      if (attribute !== 'Arn') return id;
      return this.resources[id]?.Type.startsWith('AWS::CloudWatch::') ? this.alarmArn(this.nameOf(id)) : `arn:aws:fake:${REGION}:${ACCOUNT}:${id}`;
    }
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, this.resolve(v)]));
  }

  private nameOf(id: string): string {
    const resource = this.resources[id];
    const name = resource?.Type.startsWith('AWS::CloudWatch::') ? resource.Properties.AlarmName : undefined;
    return name === undefined ? id : String(this.resolve(name));
  }

  private alarmArn = (name: string) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
  private ofType = (type: string) => Object.entries(this.resources).filter(([, r]) => r.Type === type);
  private alarmResource(name: string) {
    return Object.entries(this.resources).find(([id, r]) => r.Type.startsWith('AWS::CloudWatch::') && r.Type.endsWith('Alarm') && this.nameOf(id) === name);
  }

  /** Appends lines to a log group, then runs what the template attaches to it: metric filters, subscription filters. */
  writeLog(logGroupName: string, messages: string[]): void {
    const lines = messages.map((message) => ({ timestamp: Date.now(), message }));
    this.logs.set(logGroupName, [...(this.logs.get(logGroupName) ?? []), ...lines]);
    for (const message of messages) this.extractEmf(message);
    for (const [, filter] of this.ofType('AWS::Logs::MetricFilter')) {
      if (this.resolve(filter.Properties.LogGroupName) !== logGroupName || this.tamper.metricFilterSilent) continue;
      const [transformation] = filter.Properties.MetricTransformations as { MetricNamespace: string; MetricName: string }[];
      const matching = messages.filter((m) => matchesFilterPattern(filter.Properties.FilterPattern as string, m));
      for (let line = 0; line < matching.length; line++) {
        this.datapoints.push({ namespace: transformation.MetricNamespace, name: transformation.MetricName, dimensions: {}, timestamp: Date.now(), sampleCount: 1, sum: 1, max: 1 });
      }
    }
  }

  private extractEmf(message: string): void {
    let document: Record<string, unknown> & { _aws?: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } };
    try {
      document = JSON.parse(message);
    } catch {
      return;
    }
    const emf = document._aws;
    for (const directive of emf?.CloudWatchMetrics ?? []) {
      for (const metric of directive.Metrics) {
        const value = Number(document[metric.Name]);
        const dimensions = Object.fromEntries(directive.Dimensions[0].map((d) => [d, String(document[d])]));
        this.datapoints.push({ namespace: directive.Namespace, name: metric.Name, dimensions, timestamp: emf!.Timestamp, sampleCount: 1, sum: value, max: value });
      }
    }
  }

  /** Runs the subscription filters of the template on what was written since `from`: the sink receives matching lines. */
  private async deliverSubscriptions(logGroupName: string, messages: string[]): Promise<void> {
    for (const [id, filter] of this.ofType('AWS::Logs::SubscriptionFilter')) {
      if (this.resolve(filter.Properties.LogGroupName) !== logGroupName) continue;
      const matching = this.tamper.subscriptionPassesEverything ? messages : messages.filter((m) => matchesFilterPattern(filter.Properties.FilterPattern as string, m));
      if (matching.length === 0) continue;
      const data = { messageType: 'DATA_MESSAGE', owner: ACCOUNT, logGroup: logGroupName, logStream: 'stream', subscriptionFilters: [id], logEvents: matching.map((message, i) => ({ id: String(i), timestamp: Date.now(), message })) };
      await this.runSink({ awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') } });
    }
  }

  private async runSink(event: Parameters<typeof sink>[0]): Promise<void> {
    const printed: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      await sink(event);
    } finally {
      spy.mockRestore();
    }
    this.writeLog(this.outputs.SinkLogGroupName, printed);
  }

  /** Invokes the real worker handler (S3 mocked) and sends its stdout and stderr to its log group. */
  private async invokeWorker(payload: orders.OrdersEvent): Promise<{ result?: orders.OrdersResult; error?: string }> {
    const printed: string[] = [];
    const capture = (chunk: string | Uint8Array) => printed.push(...String(chunk).split('\n').filter((l) => l.trim() !== '')) > -1;
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    Object.assign(process.env, { _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=53995c3f42cd8ad8;Sampled=1`, AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR', AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000' });
    try {
      return { result: await orders.handler(payload, { awsRequestId: `req-${Date.now()}` } as Context) };
    } catch (error) {
      return { error: (error as Error).message };
    } finally {
      out.mockRestore();
      err.mockRestore();
      const logGroupName = this.outputs.WorkerLogGroupName;
      this.writeLog(logGroupName, printed);
      await this.deliverSubscriptions(logGroupName, printed);
    }
  }

  private metricAlarm(name: string): (Record<string, unknown> & { AlarmName: string; AlarmArn: string; StateValue: string; AlarmActions?: string[] }) | undefined {
    const [id, resource] = this.alarmResource(name) ?? [];
    if (!id || !resource || resource.Type !== 'AWS::CloudWatch::Alarm') return undefined;
    const p = this.resolve(resource.Properties) as Record<string, unknown>;
    const tampered: Record<string, unknown> = {
      ...(this.tamper.errorsAlarmOneOfOne && p.MetricName === 'Errors' ? { EvaluationPeriods: 1, DatapointsToAlarm: 1 } : {}),
      ...(this.tamper.errorRateWithoutMath && p.Metrics ? { Metrics: [{ Id: 'errors', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors' }, Period: 60, Stat: 'Sum' }, ReturnData: true }] } : {}),
    };
    return {
      ...p,
      ...tampered,
      AlarmName: name,
      AlarmArn: this.alarmArn(name),
      StateValue: this.alarmStates.get(name)?.value ?? 'OK',
      AlarmActions: (p.AlarmActions as string[] | undefined)?.filter((a) => !(this.tamper.noLambdaAction && a.includes('Sink'))),
    };
  }

  private async setAlarmState(name: string, value: string, reason: string): Promise<void> {
    const previous = this.recordState(name, value, reason);
    this.trailEvents.push({ name: 'SetAlarmState', time: new Date(), record: { eventSource: 'monitoring.amazonaws.com', userIdentity: { arn: `arn:aws:iam::${ACCOUNT}:user/learner` }, sourceIPAddress: '203.0.113.7', requestParameters: { alarmName: name, stateValue: value, stateReason: reason } } });
    const alarm = this.metricAlarm(name);
    if (value === 'ALARM' && (alarm?.AlarmActions ?? []).some((a) => a.includes('Sink'))) {
      await this.runSink({ alarmData: { alarmName: name, state: { value, reason }, previousState: { value: previous, reason: '' } } } as unknown as CloudWatchAlarmEvent);
    }
    this.evaluateComposites();
    // A 10 s alarm is evaluated again within seconds: with no datapoint it leaves ALARM for INSUFFICIENT_DATA, and the
    // composite over it follows, long before anyone polls its state.
    if (value === 'ALARM' && Number(alarm?.Period) < 60) {
      this.recordState(name, 'INSUFFICIENT_DATA', 'Insufficient Data: 3 datapoints were unknown.');
      this.evaluateComposites();
    }
  }

  /** Sets an alarm's state, adding a StateUpdate to its history when it changes; returns the previous state. */
  private recordState(name: string, value: string, reason: string): string {
    const state = this.alarmStates.get(name) ?? { value: 'OK', history: [] };
    const previous = state.value;
    state.history.unshift({ timestamp: new Date(), summary: `Alarm updated from ${previous} to ${value}`, data: JSON.stringify({ newState: { stateValue: value, stateReason: reason } }) });
    state.value = value;
    this.alarmStates.set(name, state);
    return previous;
  }

  private evaluateComposites(): void {
    for (const [id, composite] of this.ofType('AWS::CloudWatch::CompositeAlarm')) {
      const children = [...String(this.resolve(composite.Properties.AlarmRule)).matchAll(/alarm:([^"]+)"/g)].map((m) => m[1]);
      const firing = children.some((child) => this.alarmStates.get(child)?.value === 'ALARM' && !(this.tamper.compositeIgnoresLatency && child.includes('Latency')));
      const name = this.nameOf(id);
      const value = firing ? 'ALARM' : 'OK';
      if ((this.alarmStates.get(name)?.value ?? 'OK') !== value) this.recordState(name, value, `alarm rule ${firing ? 'true' : 'false'}`);
    }
  }

  private metricData(queries: MetricDataQuery[], from: number, to: number) {
    return queries.map((query) => {
      const stat = query.MetricStat!;
      const wanted = Object.fromEntries((stat.Metric?.Dimensions ?? []).map((d) => [d.Name, d.Value]));
      const points = this.datapoints.filter(
        (p) =>
          p.namespace === stat.Metric?.Namespace && p.name === stat.Metric?.MetricName && JSON.stringify(p.dimensions) === JSON.stringify(wanted) && p.timestamp >= from && p.timestamp < to,
      );
      const values = points.length === 0 ? [] : [{ Sum: sum(points.map((p) => p.sum)), Maximum: Math.max(...points.map((p) => p.max)), SampleCount: sum(points.map((p) => p.sampleCount)) }[stat.Stat ?? 'Sum'] ?? 0];
      return { Id: query.Id, Values: values };
    });
  }

  private runQuery(logGroupName: string, queryString: string) {
    const filters = [...queryString.matchAll(/filter (\w+) = "([^"]+)"/g)].map((m) => [m[1], m[2]] as const);
    const rows = (this.logs.get(logGroupName) ?? [])
      .map((line) => safeJson(line.message))
      .filter((doc): doc is Record<string, string> => doc !== undefined && filters.every(([field, value]) => String(doc[field]) === value));
    const stats = /stats count\(\*\) as (\w+) by (\w+)/.exec(queryString);
    if (!stats) return rows.map((row) => Object.entries(row).map(([field, value]) => ({ field, value: String(value) })));
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row[stats[2]], (counts.get(row[stats[2]]) ?? 0) + 1);
    return [...counts].map(([key, count]) => [
      { field: stats[2], value: key },
      { field: stats[1], value: String(count) },
    ]);
  }

  private configItem(functionName: string) {
    return { resourceType: 'AWS::Lambda::Function', resourceId: functionName, configurationItemCaptureTime: new Date().toISOString(), configurationItemStatus: 'OK', configuration: { tracingConfig: { mode: this.tracingMode } } };
  }

  install(): void {
    const [lambda, cloudwatch, logs, xray, cloudtrail, config, events, s3] = this.mocks as ReturnType<typeof mockClient>[];
    s3.on(PutObjectCommand).resolves({});
    lambda.on(InvokeCommand).callsFake(async (input: { Payload: Uint8Array }) => {
      const { result, error } = await this.invokeWorker(JSON.parse(Buffer.from(input.Payload).toString()));
      return error ? { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from(JSON.stringify({ errorMessage: error })) } : { StatusCode: 200, Payload: Buffer.from(JSON.stringify(result)) };
    });
    lambda.on(UpdateFunctionConfigurationCommand).callsFake((input: { TracingConfig: { Mode: string } }) => {
      this.tracingMode = input.TracingConfig.Mode;
      return {};
    });
    lambda.on(GetFunctionConfigurationCommand).callsFake(() => ({ LastUpdateStatus: 'Successful', TracingConfig: { Mode: this.tracingMode } }));

    cloudwatch.on(PutMetricDataCommand).callsFake((input: { Namespace: string; MetricData: { MetricName: string; Value?: number; StatisticValues?: { SampleCount: number; Sum: number; Maximum: number }; Timestamp: Date }[] }) => {
      for (const d of input.MetricData) {
        const single = d.StatisticValues && this.tamper.statisticSetAsOneValue ? { SampleCount: 1, Sum: d.StatisticValues.Sum, Maximum: d.StatisticValues.Sum } : undefined;
        const s = single ?? d.StatisticValues ?? { SampleCount: 1, Sum: d.Value ?? 0, Maximum: d.Value ?? 0 };
        this.datapoints.push({ namespace: input.Namespace, name: d.MetricName, dimensions: {}, timestamp: d.Timestamp.getTime(), sampleCount: s.SampleCount, sum: s.Sum, max: s.Maximum });
      }
      return {};
    });
    cloudwatch.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: MetricDataQuery[]; StartTime: Date; EndTime: Date }) => ({
      MetricDataResults: this.metricData(input.MetricDataQueries, input.StartTime.getTime(), input.EndTime.getTime()),
    }));
    cloudwatch.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames: string[]; AlarmTypes?: string[] }) => {
      if (input.AlarmTypes?.includes('CompositeAlarm')) {
        return {
          CompositeAlarms: input.AlarmNames.filter((n) => this.alarmResource(n)?.[1].Type === 'AWS::CloudWatch::CompositeAlarm').map((name) => ({
            AlarmName: name,
            StateValue: this.alarmStates.get(name)?.value ?? 'OK',
            AlarmRule: String(this.resolve(this.alarmResource(name)![1].Properties.AlarmRule)),
          })),
        };
      }
      return { MetricAlarms: input.AlarmNames.map((n) => this.metricAlarm(n)).filter((a) => a !== undefined) };
    });
    cloudwatch.on(SetAlarmStateCommand).callsFake(async (input: { AlarmName: string; StateValue: string; StateReason: string }) => {
      await this.setAlarmState(input.AlarmName, input.StateValue, input.StateReason);
      return {};
    });
    cloudwatch.on(DescribeAlarmHistoryCommand).callsFake((input: { AlarmName: string; AlarmTypes?: string[]; StartDate?: Date }) => {
      // Without AlarmTypes, CloudWatch returns the history of metric alarms only.
      const type = this.alarmResource(input.AlarmName)?.[1].Type === 'AWS::CloudWatch::CompositeAlarm' ? 'CompositeAlarm' : 'MetricAlarm';
      if (!(input.AlarmTypes ?? ['MetricAlarm']).includes(type)) return { AlarmHistoryItems: [] };
      return {
        AlarmHistoryItems: (this.alarmStates.get(input.AlarmName)?.history ?? [])
          .filter((h) => !input.StartDate || h.timestamp >= input.StartDate)
          .map((h) => ({ AlarmName: input.AlarmName, AlarmType: type, Timestamp: h.timestamp, HistoryItemType: 'StateUpdate', HistorySummary: h.summary, HistoryData: h.data })),
      };
    });
    cloudwatch.on(GetDashboardCommand).callsFake(() => {
      const body = JSON.parse(String(this.resolve(this.ofType('AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody))) as { widgets: { type: string }[] };
      if (this.tamper.dashboardWithoutAlarms) body.widgets = body.widgets.filter((w) => w.type !== 'alarm');
      if (this.tamper.dashboardWithoutCustomMetrics) body.widgets = body.widgets.filter((w) => !JSON.stringify(w).includes('"ObservabilityLab"'));
      return { DashboardBody: JSON.stringify(body) };
    });

    logs.on(DescribeMetricFiltersCommand).callsFake((input: { logGroupName: string }) => ({
      metricFilters: this.ofType('AWS::Logs::MetricFilter')
        .map(([, f]) => this.resolve(f.Properties) as { LogGroupName: string; FilterPattern: string; MetricTransformations: { MetricName: string }[] })
        .filter((f) => f.LogGroupName === input.logGroupName)
        .map((f) => ({ filterPattern: f.FilterPattern, metricTransformations: f.MetricTransformations.map((t) => ({ metricName: t.MetricName })) })),
    }));
    logs.on(FilterLogEventsCommand).callsFake((input: { logGroupName: string; filterPattern: string; startTime: number }) => ({
      events: (this.logs.get(input.logGroupName) ?? []).filter((l) => l.timestamp >= input.startTime && matchesFilterPattern(input.filterPattern, l.message)).map((l) => ({ message: l.message })),
    }));
    logs.on(TestMetricFilterCommand).callsFake((input: { filterPattern: string; logEventMessages: string[] }) => ({
      matches: input.logEventMessages.filter((m) => matchesFilterPattern(input.filterPattern, m)).map((eventMessage) => ({ eventMessage })),
    }));
    logs.on(DescribeQueryDefinitionsCommand).callsFake(() => ({
      queryDefinitions: this.ofType('AWS::Logs::QueryDefinition').map(([id, q]) => ({ queryDefinitionId: id, name: String(this.resolve(q.Properties.Name)), queryString: q.Properties.QueryString })),
    }));
    logs.on(StartQueryCommand).callsFake((input: { logGroupName: string; queryString: string }) => {
      const queryId = `q-${this.queries.size}`;
      this.queries.set(queryId, input);
      return { queryId };
    });
    logs.on(GetQueryResultsCommand).callsFake((input: { queryId: string }) => {
      const query = this.queries.get(input.queryId)!;
      return { status: 'Complete', results: this.runQuery(query.logGroupName, query.queryString) };
    });
    logs.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix: string }) => ({
      logGroups: this.ofType('AWS::Logs::LogGroup')
        .map(([id, g]) => ({ logGroupName: id, logGroupClass: (g.Properties.LogGroupClass as string | undefined) ?? 'STANDARD' }))
        .filter((g) => g.logGroupName.startsWith(input.logGroupNamePrefix)),
    }));
    logs.on(CreateLogStreamCommand).resolves({});
    logs.on(PutLogEventsCommand).callsFake((input: { logGroupName: string; logEvents: { message: string }[] }) => {
      this.writeLog(input.logGroupName, input.logEvents.map((e) => e.message));
      return {};
    });
    logs.on(PutMetricFilterCommand).callsFake((input: { logGroupName: string }) => {
      const group = this.resources[input.logGroupName];
      if (group?.Properties.LogGroupClass === 'INFREQUENT_ACCESS' && !this.tamper.archiveAcceptsMetricFilter) {
        throw Object.assign(new Error('The operation is not supported for log groups in the Infrequent Access class'), { name: 'InvalidParameterException' });
      }
      return {};
    });
    logs.on(DeleteMetricFilterCommand).resolves({});

    const trace = () => ({ Id: TRACE_ID, Duration: 0.2, Segments: [{ Id: 's1', Document: JSON.stringify({ name: this.outputs.WorkerFunctionName, origin: 'AWS::Lambda::Function' }) }, { Id: 's2', Document: JSON.stringify({ name: this.outputs.WorkerFunctionName, origin: 'AWS::Lambda' }) }] });
    xray.on(BatchGetTracesCommand).callsFake((input: { TraceIds: string[] }) => ({ Traces: input.TraceIds.includes(TRACE_ID) && !this.tamper.untraced ? [trace()] : [] }));
    xray.on(GetSamplingRulesCommand).callsFake(() => ({
      SamplingRuleRecords: this.ofType('AWS::XRay::SamplingRule').map(([, r]) => {
        const rule = { ...(this.resolve(r.Properties.SamplingRule) as Record<string, unknown>), ...(this.tamper.samplingEverything ? { fixedRate: 1 } : {}) };
        return { SamplingRule: Object.fromEntries(Object.entries(rule).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), v])) };
      }),
    }));
    xray.on(GetGroupCommand).callsFake((input: { GroupARN: string }) => {
      const [, group] = this.ofType('AWS::XRay::Group').find(([id]) => id === input.GroupARN) ?? [];
      const filterExpression = this.tamper.groupWithoutResponseTime ? `service("${this.outputs.WorkerFunctionName}")` : String(this.resolve(group?.Properties.FilterExpression));
      return { Group: group ? { GroupName: String(this.resolve(group.Properties.GroupName)), FilterExpression: filterExpression } : undefined };
    });

    cloudtrail.on(LookupEventsCommand).callsFake((input: { LookupAttributes: { AttributeValue: string }[]; StartTime: Date }) => ({
      Events: this.trailEvents
        .filter((e) => e.name === input.LookupAttributes[0].AttributeValue && e.time >= input.StartTime)
        .map((e) => ({ EventName: e.name, EventTime: e.time, CloudTrailEvent: JSON.stringify(e.record) })),
    }));
    const trail = () => this.resolve(this.ofType('AWS::CloudTrail::Trail')[0]?.[1].Properties) as Record<string, unknown> | undefined;
    cloudtrail.on(DescribeTrailsCommand).callsFake(() => ({ trailList: [{ LogFileValidationEnabled: trail()?.EnableLogFileValidation && !this.tamper.trailWithoutValidation }] }));
    cloudtrail.on(GetTrailStatusCommand).callsFake(() => ({ IsLogging: trail()?.IsLogging && !this.tamper.trailNotLogging }));
    cloudtrail.on(GetEventSelectorsCommand).callsFake(() => ({
      EventSelectors: ((trail()?.EventSelectors as Record<string, unknown>[] | undefined) ?? []).map((selector) => (this.tamper.trailWithoutDataEvents ? { ...selector, DataResources: [] } : selector)),
    }));

    const recorder = () => {
      const properties = this.resolve(this.ofType('AWS::Config::ConfigurationRecorder')[0]?.[1].Properties) as { RecordingGroup: { AllSupported: boolean; ResourceTypes: string[] } } | undefined;
      if (!properties || !this.tamper.recorderWithoutLambda) return properties;
      return { RecordingGroup: { AllSupported: false, ResourceTypes: properties.RecordingGroup.ResourceTypes.filter((t) => t !== 'AWS::Lambda::Function') } };
    };
    config.on(DescribeConfigurationRecorderStatusCommand).callsFake(() => ({ ConfigurationRecordersStatus: recorder() ? [{ name: 'default', recording: true }] : [] }));
    config.on(DescribeConfigurationRecordersCommand).callsFake(() => ({
      ConfigurationRecorders: recorder() ? [{ name: 'default', recordingGroup: { allSupported: recorder()!.RecordingGroup.AllSupported, resourceTypes: recorder()!.RecordingGroup.ResourceTypes } }] : [],
    }));
    config.on(StartConfigRulesEvaluationCommand).resolves({});
    let lastVerdict = evaluateTracingRule(this.configItem(this.outputs.WorkerFunctionName));
    config.on(GetComplianceDetailsByConfigRuleCommand).callsFake((input: { ConfigRuleName: string; ComplianceTypes: string[] }) => {
      const resource = this.resources[input.ConfigRuleName]?.Properties as { Source: { Owner: string } } | undefined;
      if (!resource) return { EvaluationResults: [] };
      const [resourceId, verdict] =
        resource.Source.Owner === 'AWS'
          ? [this.outputs.DataBucketName, { compliance: 'COMPLIANT', annotation: '' }]
          : [this.outputs.WorkerFunctionName, this.tamper.configStuck ? lastVerdict : (lastVerdict = evaluateTracingRule(this.configItem(this.outputs.WorkerFunctionName)))];
      return input.ComplianceTypes.includes(verdict.compliance)
        ? { EvaluationResults: [{ EvaluationResultIdentifier: { EvaluationResultQualifier: { ResourceId: resourceId } }, ComplianceType: verdict.compliance, Annotation: verdict.annotation }] }
        : { EvaluationResults: [] };
    });

    events.on(DescribeRuleCommand).callsFake((input: { Name: string }) => {
      const { detail, ...withoutDetail } = this.resources[input.Name]?.Properties.EventPattern as Record<string, unknown>;
      return { EventPattern: JSON.stringify(this.tamper.buildRuleWithoutStatus ? withoutDetail : { ...withoutDetail, detail }) };
    });
    events.on(TestEventPatternCommand).callsFake((input: { EventPattern: string; Event: string }) => ({ Result: eventMatches(JSON.parse(input.EventPattern), JSON.parse(input.Event)) }));
  }

  restore(): void {
    for (const mock of this.mocks) mock.restore();
  }
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const safeJson = (text: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** EventBridge matching for patterns of exact values: every key of the pattern, one of its values. */
function eventMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, expected]) =>
    Array.isArray(expected) ? expected.includes(event[key]) : event[key] !== null && typeof event[key] === 'object' && eventMatches(expected as Record<string, unknown>, event[key] as Record<string, unknown>),
  );
}
