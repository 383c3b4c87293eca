import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The observability lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const observabilityLab = defineLab({
  id: 'observability',
  title: 'Observability: CloudWatch metrics, alarms, logs and dashboards; X-Ray; CloudTrail; AWS Config; build events',
  stackName: 'ObservabilityLab',
  seedTopics: ['002: Monitoring', '002: Cloudwatch', '000: CodeBuild / CodeGuru monitoring'],
  // The function's errors, throttles and duration alarms ($0.10 each), its error-rate alarm on a metric-math
  // expression of 2 metrics ($0.20), and the dashboard ($3 list price; free as one of the account's first 3: README, "Cost").
  idleCostUsdPerMonth: 3.5,
  features: {
    alarms: {
      description:
        'a high-resolution (10 s) alarm on a custom metric, 2 of 3 datapoints, whose Lambda action reaches the sink ' +
        'function, and a composite alarm over it and the error-rate alarm',
      // $0.30 for the high-resolution alarm, $0.50 for the composite.
      idleCostUsdPerMonth: 0.8,
    },
    anomalyDetection: {
      description: 'an anomaly-detection alarm on the function\'s invocations (a band learnt from 2 weeks of data)',
      // Three metrics: the function's and the band's two bounds.
      idleCostUsdPerMonth: 0.3,
    },
    trail: {
      description:
        'a CloudTrail trail of management events to an encrypted bucket with log-file validation, and S3 data events ' +
        'of the lab\'s bucket; a second trail bills $2.00 per 100,000 management events it delivers',
      idleCostUsdPerMonth: 0,
    },
    config: {
      description:
        'AWS Config: a recorder of Lambda functions and S3 buckets only, a managed rule, a custom Lambda rule and an ' +
        'EventBridge rule on compliance changes; $0.003 per configuration item recorded',
      idleCostUsdPerMonth: 0,
    },
  },
  parameters: {
    configRecorder: {
      description:
        'with -c observability:config=true: "create" a recorder and delivery channel (the default), or "existing" to ' +
        'use the one the account already has in this Region (only one per Region is allowed)',
      pattern: /^(create|existing)$/,
      expected: '"create" or "existing"',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).ObservabilityLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
