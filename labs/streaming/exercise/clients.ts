/** What the exercise's steps share: the run's clients, the record encoding and the run's partition keys. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisClient, _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { createClient, defineFixture, ExerciseContext } from '../../support/exercise';

/**
 * The run's Kinesis client, over HTTP/1.1: the SDK's Kinesis client defaults to HTTP/2 (for SubscribeToShard), which
 * the data-plane calls here do not need and local engines do not speak.
 */
const kinesisClient = defineFixture(
  'Kinesis client',
  () => createClient(KinesisClient, 'KINESIS', { requestHandler: new NodeHttpHandler() }),
  async (client) => client.destroy(),
);
export const kinesisOf = (context: ExerciseContext) => context.use(kinesisClient);
export const documentClient = defineFixture('DynamoDB document client', (context) =>
  DynamoDBDocumentClient.from(context.client(DynamoDBClient, 'DYNAMODB')),
);

export const encode = (value: object) => Buffer.from(JSON.stringify(value));
export const decode = (record: KinesisRecord) => JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as Record<string, unknown>;
/** A partition key of this run, so leftovers of earlier runs never confuse a check. */
export const runKey = (context: ExerciseContext, name: string) => `${context.runId}-${name}`;
