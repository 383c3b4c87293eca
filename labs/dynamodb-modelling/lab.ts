import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The dynamodb-modelling lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const dynamodbModellingLab = defineLab({
  id: 'dynamodb-modelling',
  title: 'DynamoDB data modelling: keys, LSI and GSI, Query and Scan, capacity, transactions, fine-grained access',
  stackName: 'DynamodbModellingLab',
  seedTopics: [
    '002: DynamoDB',
    '002: Query or Scan',
    '002: Provisioned Throughput',
    '002: Creating DynamoDB',
  ],
  // The provisioned table: 1 RCU + 1 WCU ($0.57) and the 8 alarms auto scaling creates ($0.80); free-tier eligible.
  idleCostUsdPerMonth: 1.37,
  features: {
    replica: {
      description: 'a global table replica of the Orders table in a second Region (us-west-2 unless replicaRegion is given)',
      idleCostUsdPerMonth: 0,
    },
    cmk: {
      description: 'a customer managed KMS key for the Products table instead of the AWS managed key',
      idleCostUsdPerMonth: 1,
    },
  },
  parameters: {
    replicaRegion: {
      description: 'the Region of the Orders replica, with -c dynamodb-modelling:replica=true (default us-west-2)',
      pattern: /^[a-z]{2}(-gov)?-[a-z]+-\d$/,
      expected: 'a Region name such as eu-west-1',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).DynamodbModellingLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
