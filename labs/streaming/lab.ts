import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The streaming lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const streamingLab = defineLab({
  id: 'streaming',
  title: 'Kinesis Data Streams and Firehose: shards, ordering, throttling, a Lambda consumer, a transform to S3',
  stackName: 'StreamingLab',
  seedTopics: ['002: Kinesis', '000: Amazon OpenSearch service', '000: Amazon MSK'],
  // One provisioned shard: $0.015 per shard-hour × 730 hours (Kinesis Data Streams pricing, us-east-1).
  idleCostUsdPerMonth: 10.95,
  features: {
    enhancedFanOut: {
      description: 'an enhanced fan-out consumer (its own 2 MiB/s per shard) that the Lambda mapping reads through',
      // $0.015 per consumer-shard-hour × 1 shard × 730 hours.
      idleCostUsdPerMonth: 10.95,
    },
    opensearch: {
      description:
        'an OpenSearch domain (one t3.small.search node, 10 GiB gp3, fine-grained access control, encrypted at rest and in transit) fed by a second Firehose stream',
      // $0.036 per t3.small.search-hour × 730 hours + 10 GiB gp3 × $0.122 per GB-month; a serverless collection is $175.20 (1 OCU × $0.24 × 730).
      idleCostUsdPerMonth: 27.5,
    },
    msk: {
      description:
        'an MSK Serverless cluster (IAM authentication) in two isolated subnets with STS and Lambda interface endpoints, no NAT gateway, a Lambda producer in those subnets and a Lambda consumer of its clicks topic',
      // $0.75 per cluster-hour × 730 + 2 interface endpoints × 2 AZs × $0.01 per hour × 730; plus $0.0015 per partition-hour for the topic the exercise creates.
      idleCostUsdPerMonth: 576.7,
    },
    flink: {
      description:
        'a Managed Service for Apache Flink Studio notebook (Flink SQL, Glue database) over the clicks stream, created in READY state: $0.33 per hour while started (3 KPUs), nothing while stopped',
      // KPUs bill only while the application runs; CloudFormation creates it READY (not started) and the exercise stops it again.
      idleCostUsdPerMonth: 0,
    },
  },
  parameters: {
    capacityMode: {
      description: 'the stream\'s capacity mode: provisioned (1 shard, $10.95/month) or on-demand ($0.04 per stream-hour: $29.20/month)',
      pattern: /^(provisioned|on-demand)$/,
      expected: 'provisioned or on-demand',
    },
    shardCount: {
      description: 'shards of the provisioned stream, $10.95/month each (2 shows records spread by partition key)',
      pattern: /^([1-9]|10)$/,
      expected: 'a whole number from 1 to 10',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).StreamingLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
