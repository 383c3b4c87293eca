/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const OBSERVABILITY_LAB = {
  /** Namespace of every custom metric of the lab: EMF, PutMetricData and the metric filter. */
  namespace: 'ObservabilityLab',
  /** Service name of the worker: Powertools adds it as the `service` dimension of its EMF metrics. */
  serviceName: 'orders',
  workerTimeout: LabDuration.seconds(10),
  /** The metric filter: log lines of rejected orders become this metric. */
  rejectedMetricName: 'OrdersRejected',
  rejectedFilterPattern: '{ $.event = "order_rejected" }',
  /** The subscription filter: warnings and errors go to the sink function. */
  subscriptionFilterPattern: '{ ($.level = "WARN") || ($.level = "ERROR") }',
  /** The custom metrics the exercise puts with PutMetricData. */
  checkoutLatencyMetric: 'CheckoutLatency',
  queueDepthMetric: 'QueueDepth',
  /** The high-resolution alarm: CheckoutLatency (Maximum) ≥ 800 ms in 2 of 3 ten-second periods. */
  latencyAlarm: { periodSeconds: 10, evaluationPeriods: 3, datapointsToAlarm: 2, thresholdMs: 800 },
  /** X-Ray: the sampling rule and the group's filter expression. */
  sampling: { priority: 1000, fixedRate: 0.1, reservoirSize: 1, serviceName: 'checkout' },
  slowTraceSeconds: 1,
  /** AWS Config: what the recorder records, nothing else. */
  recordedResourceTypes: ['AWS::Lambda::Function', 'AWS::S3::Bucket'],
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pause between two polls of a metric, a log search, a query, a trace or an evaluation. */
    pollSeconds: 10,
    /** EMF metrics and metric-filter metrics appear in GetMetricData within a few minutes. */
    metricDeadlineSeconds: 300,
    /** Log events reach FilterLogEvents and the subscription's sink within a minute or two. */
    logDeadlineSeconds: 180,
    /** A trace is searchable in X-Ray about 30 s after the invocation. */
    traceDeadlineSeconds: 120,
    /** CloudTrail event history shows an API call within about 5 minutes (AWS says typically 5, up to 15). */
    cloudTrailDeadlineSeconds: 900,
    /** A change-triggered Config rule evaluates within minutes of the configuration change being recorded. */
    configDeadlineSeconds: 600,
  },
} as const;
