import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The dynamodb-streams lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const dynamodbStreamsLab = defineLab({
  id: 'dynamodb-streams',
  title: 'DynamoDB Streams to Lambda: a materialized view, TTL deletes, poison records, exactly-once updates',
  stackName: 'DynamodbStreamsLab',
  seedTopics: ['002: Dynamo DB Streams', '002: DynamoDB (TTL, transactions)'],
  idleCostUsdPerMonth: 0,
  features: {
    alarms: {
      description: 'an iterator-age alarm on the stream consumer, notifying an SNS topic',
      idleCostUsdPerMonth: 0.1,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).DynamodbStreamsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
