import * as path from 'node:path';
import { Aws, Duration, Fn, Validations } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codeguruprofiler from 'aws-cdk-lib/aws-codeguruprofiler';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as config from 'aws-cdk-lib/aws-config';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-logs-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import { notifyOnAlarmAndOk } from '../../lib/core/alarms';
import { SafeNodejsFunction } from '../../lib/core/function';
import { ObservedFunction } from '../../lib/observed-function';
import { labBucket } from '../support/lab-bucket';
import { labAlarmTopic } from '../support/alarm-topic';
import { withCdkDurations } from '../support/cdk-duration';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { OBSERVABILITY_LAB as LAB_SPEC } from './constants';
import type { observabilityLab } from './lab';

/** The shared constants (./constants.ts) with CDK durations. */
const LAB = withCdkDurations(LAB_SPEC);
const handlerEntry = (name: string) => path.join(__dirname, '..', '..', 'lambda', name, 'index.ts');
/** A name unique to this stack, for resources whose name is required (CloudFormation adds no suffix). */
const stackScoped = (suffix: string) => Fn.join('-', [Aws.STACK_NAME, suffix]);

/**
 * Observability lab: a worker function that publishes EMF metrics, structured logs and X-Ray traces, watched by an
 * ObservedFunction (alarms, metric filter, dashboard section); a subscription filter and alarm actions feeding a sink
 * function; saved Logs Insights queries; an X-Ray sampling rule and group; an EventBridge rule on failed CodeBuild
 * builds; an empty CodeGuru Profiler profiling group; optionally high-resolution, composite and anomaly-detection
 * alarms, a CloudTrail trail and AWS Config.
 */
export class ObservabilityLabStack extends LabStack<typeof observabilityLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const topic = labAlarmTopic(this);

    const data = labBucket(this, 'Data', {
      expiration: Duration.days(7),
      withoutAccessLogs:
        'It holds only the order summaries of exercise runs, expiring after 7 days: the stack lets the worker\'s role ' +
        'write (s3:PutObject on orders/*) and no one read, except the auto-delete function that empties it at destroy, ' +
        'so access logs (and a second bucket for them) would record nothing worth auditing. With ' +
        '-c observability:trail=true the trail records those writes as S3 data events.',
    });

    const worker = new SafeNodejsFunction(this, 'Worker', {
      entry: handlerEntry('observability-orders'),
      description: 'Prices orders; publishes EMF metrics, structured logs and X-Ray traces for the observability lab',
      timeout: LAB.workerTimeout,
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
      environment: {
        BUCKET_NAME: data.bucketName,
        POWERTOOLS_METRICS_NAMESPACE: LAB.namespace,
        POWERTOOLS_SERVICE_NAME: LAB.serviceName,
      },
    });
    worker.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [data.arnForObjects('orders/*')] }));
    Validations.of(worker.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(data.node.defaultChild as s3.CfnBucket)}.Arn>/orders/*]`,
      reason: 'The worker writes one summary per invocation, keyed by its request id, under orders/ of the lab bucket only.',
    });

    const sink = new SafeNodejsFunction(this, 'Sink', {
      entry: handlerEntry('observability-sink'),
      description: 'Receives the worker\'s warnings (subscription filter) and alarm state changes (alarm Lambda action)',
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
    });
    new logs.SubscriptionFilter(this, 'WarningsToSink', {
      logGroup: worker.logGroup,
      destination: new destinations.LambdaDestination(sink),
      filterPattern: logs.FilterPattern.literal(LAB.subscriptionFilterPattern),
    });

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const observed = new ObservedFunction(this, 'WorkerWatch', {
      handler: worker,
      alarms: { alarmTopic: topic, errorRate: { thresholdPercent: 10 } },
      metricFilter: {
        filterPattern: logs.FilterPattern.literal(LAB.rejectedFilterPattern),
        metricNamespace: LAB.namespace,
        metricName: LAB.rejectedMetricName,
      },
      dashboard: { dashboard, title: 'Worker function (AWS/Lambda) and its rejected orders (metric filter)' },
    });
    dashboard.addWidgets(...customMetricWidgets());

    // Infrequent Access: half the ingestion price, queried with Logs Insights, but no metric filters or Live Tail.
    const archive = new logs.LogGroup(this, 'Archive', {
      logGroupClass: logs.LogGroupClass.INFREQUENT_ACCESS,
      retention: logs.RetentionDays.ONE_WEEK,
    });
    const queries = savedQueries(this, worker);

    // Sampling rules steer what SDK- or OpenTelemetry-instrumented services (and API Gateway) record; Lambda applies
    // its own sampling to the functions it traces. The rule is for the "checkout" service the README instruments.
    new xray.CfnSamplingRule(this, 'CheckoutSampling', {
      samplingRule: {
        ruleName: stackScoped(LAB.sampling.serviceName),
        priority: LAB.sampling.priority,
        fixedRate: LAB.sampling.fixedRate,
        reservoirSize: LAB.sampling.reservoirSize,
        serviceName: LAB.sampling.serviceName,
        serviceType: '*',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });
    const slowTraces = new xray.CfnGroup(this, 'SlowTraces', {
      groupName: stackScoped('slow'),
      filterExpression: Fn.join('', ['service("', worker.functionName, `") AND responsetime > ${LAB.slowTraceSeconds}`]),
      insightsConfiguration: { insightsEnabled: false },
    });

    // CodeGuru Profiler still creates profiling groups, but its agents profile JVM languages and Python only: this
    // Node.js worker cannot report to it. The empty group ($0 until an agent reports) is the README's starting point
    // for a Java or Python application; ComputePlatform Default is for an agent on EC2, ECS, EKS, Fargate or on premises.
    const profilingGroup = new codeguruprofiler.ProfilingGroup(this, 'Profiling', {
      profilingGroupName: stackScoped('profiling'),
      computePlatform: codeguruprofiler.ComputePlatform.DEFAULT,
    });

    const failedBuilds = new events.Rule(this, 'FailedBuilds', {
      description: 'Any CodeBuild build of this account and Region that fails, times out or faults',
      eventPattern: {
        source: ['aws.codebuild'],
        detailType: ['CodeBuild Build State Change'],
        detail: { 'build-status': ['FAILED', 'FAULT', 'TIMED_OUT'] },
      },
      targets: [
        new targets.SnsTopic(topic, {
          message: events.RuleTargetInput.fromText(
            `CodeBuild build ${events.EventField.fromPath('$.detail.build-id')} of ${events.EventField.fromPath('$.detail.project-name')}: ${events.EventField.fromPath('$.detail.build-status')}`,
          ),
        }),
      ],
    });

    const outputs: Record<string, string> = {
      WorkerFunctionName: worker.functionName,
      WorkerLogGroupName: worker.logGroup.logGroupName,
      SinkLogGroupName: sink.logGroup.logGroupName,
      ArchiveLogGroupName: archive.logGroupName,
      DataBucketName: data.bucketName,
      DashboardName: dashboard.dashboardName,
      AlarmTopicArn: topic.topicArn,
      ErrorsAlarmName: observed.errorsAlarm!.alarmName,
      ErrorRateAlarmName: observed.errorRateAlarm!.alarmName,
      RejectedByReasonQueryId: queries.rejectedByReason.queryDefinitionId,
      SlowestInvocationsQueryId: queries.slowestInvocations.queryDefinitionId,
      SamplingRuleName: stackScoped(LAB.sampling.serviceName),
      XRayGroupName: slowTraces.ref,
      FailedBuildsRuleName: failedBuilds.ruleName,
      ProfilingGroupName: profilingGroup.profilingGroupName,
    };
    if (this.feature('alarms')) Object.assign(outputs, this.advancedAlarms(topic, sink, observed));
    if (this.feature('anomalyDetection')) {
      const anomaly = new cloudwatch.AnomalyDetectionAlarm(this, 'InvocationsAnomaly', {
        metric: worker.metricInvocations({ statistic: 'Sum', period: Duration.minutes(5) }),
        stdDevs: 2,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: 'Invocations of the worker above the band learnt from its history (2 standard deviations)',
      });
      notifyOnAlarmAndOk(topic, [anomaly]);
      outputs.AnomalyAlarmName = anomaly.alarmName;
    }
    if (this.feature('trail')) Object.assign(outputs, this.trail(data));
    if (this.feature('config')) Object.assign(outputs, this.configRules(worker, topic));
    this.addOutputs(outputs);
  }

  /** High-resolution latency alarm (Lambda action to the sink) and a composite alarm over it and the error rate. */
  private advancedAlarms(topic: sns.ITopic, sink: SafeNodejsFunction, observed: ObservedFunction): Record<string, string> {
    const spec = LAB.latencyAlarm;
    const latency = new cloudwatch.Alarm(this, 'CheckoutLatencyAlarm', {
      metric: new cloudwatch.Metric({
        namespace: LAB.namespace,
        metricName: LAB.checkoutLatencyMetric,
        statistic: 'Maximum',
        period: Duration.seconds(spec.periodSeconds),
        unit: cloudwatch.Unit.MILLISECONDS,
      }),
      threshold: spec.thresholdMs,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: spec.evaluationPeriods,
      datapointsToAlarm: spec.datapointsToAlarm,
      // Missing stays missing: idle, the alarm goes to INSUFFICIENT_DATA instead of pretending all is well.
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
      alarmDescription: `Checkout latency (Maximum, high resolution) ≥ ${spec.thresholdMs} ms in ${spec.datapointsToAlarm} of ${spec.evaluationPeriods} periods of ${spec.periodSeconds} s`,
    });
    notifyOnAlarmAndOk(topic, [latency]);
    latency.addAlarmAction(new cwActions.LambdaAction(sink));

    const degraded = new cloudwatch.CompositeAlarm(this, 'CheckoutDegraded', {
      compositeAlarmName: stackScoped('checkout-degraded'),
      alarmRule: cloudwatch.AlarmRule.anyOf(
        cloudwatch.AlarmRule.fromAlarm(latency, cloudwatch.AlarmState.ALARM),
        cloudwatch.AlarmRule.fromAlarm(observed.errorRateAlarm!, cloudwatch.AlarmState.ALARM),
      ),
      alarmDescription: 'Checkout is degraded: slow (high-resolution latency alarm) or failing (error-rate alarm)',
    });
    const notify = new cwActions.SnsAction(topic);
    degraded.addAlarmAction(notify);
    degraded.addOkAction(notify);
    return { LatencyAlarmName: latency.alarmName, CompositeAlarmName: degraded.alarmName };
  }

  /** A trail of management events to an SSE-S3 bucket with log-file validation, plus S3 data events of `data`. */
  private trail(data: s3.IBucket): Record<string, string> {
    const bucket = labBucket(this, 'TrailLogs', {
      expiration: Duration.days(30),
      withoutAccessLogs:
        'It holds CloudTrail log files only; their integrity is proved by the trail\'s digest files (log-file ' +
        'validation), and access logs of a log bucket would need yet another bucket.',
    });
    const trail = new cloudtrail.Trail(this, 'Trail', {
      bucket,
      enableFileValidation: true,
      isMultiRegionTrail: false,
      includeGlobalServiceEvents: false,
      managementEvents: cloudtrail.ReadWriteType.ALL,
    });
    trail.addS3EventSelector([{ bucket: data, objectPrefix: 'orders/' }], {
      readWriteType: cloudtrail.ReadWriteType.WRITE_ONLY,
      // The trail's first selector already logs management events: this one adds the data events only.
      includeManagementEvents: false,
    });
    return { TrailArn: trail.trailArn, TrailBucketName: bucket.bucketName };
  }

  /** AWS Config: a recorder of two resource types (unless the account has one), a managed and a custom rule. */
  private configRules(worker: SafeNodejsFunction, topic: sns.ITopic): Record<string, string> {
    const useExisting = this.parameter('configRecorder') === 'existing';
    const recording = useExisting ? undefined : this.configRecorder();

    const encrypted = new config.ManagedRule(this, 'BucketsEncrypted', {
      identifier: config.ManagedRuleIdentifiers.S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED,
      ruleScope: config.RuleScope.fromResources([config.ResourceType.S3_BUCKET]),
      description: 'Managed rule: S3 buckets have default encryption',
    });
    const ruleFunction = new SafeNodejsFunction(this, 'TracingRuleFunction', {
      entry: handlerEntry('observability-config-rule'),
      description: 'Custom AWS Config rule: a Lambda function complies when its X-Ray tracing is Active',
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
    });
    const tracing = new config.CustomRule(this, 'TracingActive', {
      lambdaFunction: ruleFunction,
      configurationChanges: true,
      ruleScope: config.RuleScope.fromResource(config.ResourceType.LAMBDA_FUNCTION, worker.functionName),
      description: 'Custom rule: the lab\'s worker function has active X-Ray tracing',
    });
    Validations.of(ruleFunction.role!).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSConfigRulesExecutionRole]',
      reason:
        'CDK\'s CustomRule always attaches AWSConfigRulesExecutionRole to the rule\'s function: it grants ' +
        'config:PutEvaluations (no resource ARN exists for it) and read access to configuration items, what a rule needs.',
    });
    if (recording) {
      encrypted.node.addDependency(recording);
      tracing.node.addDependency(recording);
    }
    tracing.onComplianceChange('TracingComplianceChanged', {
      description: 'The worker function became compliant or non-compliant with the tracing rule',
      target: new targets.SnsTopic(topic),
    });
    return {
      TracingRuleName: tracing.configRuleName,
      BucketsEncryptedRuleName: encrypted.configRuleName,
      ConfigRecorder: useExisting ? 'existing' : 'created',
    };
  }

  /**
   * One recorder per account and Region: recording Lambda functions and S3 buckets only, to a bucket of its own.
   * Returns the delivery channel, the last of them: the recorder records once it exists.
   */
  private configRecorder(): config.CfnDeliveryChannel {
    const bucket = labBucket(this, 'ConfigHistory', {
      expiration: Duration.days(30),
      withoutAccessLogs: 'It holds AWS Config\'s configuration history files, written by Config alone; the lab deletes it with the stack.',
    });
    const role = new iam.Role(this, 'ConfigRecorderRole', {
      assumedBy: new iam.ServicePrincipal('config.amazonaws.com'),
      description: 'Lets AWS Config read the configuration of recorded resources and deliver it to the lab bucket',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWS_ConfigRole')],
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketAcl'], resources: [bucket.bucketArn] }));
    role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`AWSLogs/${Aws.ACCOUNT_ID}/Config/*`)] }));
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]',
      reason:
        'The recorder must read the configuration of every resource type it records; AWS keeps AWS_ConfigRole current ' +
        'as Config supports new types, which a hand-written list of Describe/Get/List actions would not be.',
    });
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>/AWSLogs/<AWS::AccountId>/Config/*]`,
      reason: 'Config writes its history and snapshot files under AWSLogs/<account>/Config/ of its own bucket, with generated names.',
    });
    const recorder = new config.CfnConfigurationRecorder(this, 'Recorder', {
      roleArn: role.roleArn,
      recordingGroup: {
        allSupported: false,
        includeGlobalResourceTypes: false,
        resourceTypes: [...LAB.recordedResourceTypes],
        recordingStrategy: { useOnly: 'INCLUSION_BY_RESOURCE_TYPES' },
      },
      recordingMode: { recordingFrequency: 'CONTINUOUS' },
    });
    const channel = new config.CfnDeliveryChannel(this, 'DeliveryChannel', { s3BucketName: bucket.bucketName });
    // Config refuses a delivery channel before there is a recorder, and before the role may write to the bucket;
    // CloudFormation starts the recorder once the channel exists.
    channel.node.addDependency(recorder, bucket, role);
    return channel;
  }
}

/** Graphs of the lab's custom metrics: EMF (by channel), PutMetricData (standard and high resolution). */
function customMetricWidgets(): cloudwatch.IWidget[] {
  const metric = (metricName: string, statistic: string, dimensionsMap?: Record<string, string>, period = Duration.minutes(1)) =>
    new cloudwatch.Metric({ namespace: LAB.namespace, metricName, statistic, dimensionsMap, period });
  return [
    new cloudwatch.TextWidget({ markdown: '## Custom metrics: EMF from the worker, PutMetricData from the exercise', width: 24, height: 1 }),
    new cloudwatch.Row(
      new cloudwatch.GraphWidget({
        title: 'EMF: orders processed, order value by channel',
        left: [metric('OrdersProcessed', 'Sum', { service: LAB.serviceName })],
        right: ['web', 'store'].map((channel) => metric('OrderValue', 'Sum', { service: LAB.serviceName, channel })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'PutMetricData: checkout latency (1 s resolution), queue depth (1 min)',
        left: [metric(LAB.checkoutLatencyMetric, 'Maximum', undefined, Duration.seconds(10))],
        right: [metric(LAB.queueDepthMetric, 'Average')],
        width: 12,
      }),
    ),
  ];
}

/** Saved Logs Insights queries on the worker's log group, listed in the console under "Saved queries". */
function savedQueries(scope: Construct, worker: SafeNodejsFunction) {
  const define = (id: string, name: string, queryString: logs.QueryString) =>
    new logs.QueryDefinition(scope, id, { queryDefinitionName: Fn.join('/', [Aws.STACK_NAME, name]), queryString, logGroups: [worker.logGroup] });
  return {
    rejectedByReason: define(
      'RejectedByReasonQuery',
      'rejected-orders-by-reason',
      new logs.QueryString({ filterStatements: ['event = "order_rejected"'], statsStatements: ['count(*) as rejected by reason'], sort: 'rejected desc' }),
    ),
    slowestInvocations: define(
      'SlowestInvocationsQuery',
      'slowest-invocations',
      new logs.QueryString({
        filterStatements: ['@type = "REPORT"'],
        fields: ['@requestId', '@duration', '@billedDuration', '@maxMemoryUsed', '@initDuration'],
        sort: '@duration desc',
        limit: 10,
      }),
    ),
    errorsWithTraces: define(
      'ErrorsWithTracesQuery',
      'errors-with-trace-ids',
      new logs.QueryString({ filterStatements: ['level = "ERROR"'], fields: ['@timestamp', 'message', 'xray_trace_id'], sort: '@timestamp desc', limit: 20 }),
    ),
  };
}
