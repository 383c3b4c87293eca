/**
 * The streaming exercise. Steps live in ./exercise/, one file per theme; what several share is in ./exercise/reading.ts
 * (reading a shard, numbered puts, the timing) and ./exercise/clients.ts (the run's clients and keys).
 */
import type { ExerciseStep } from '../support/exercise';
import { lambdaConsumer, poisonRecord } from './exercise/consumers';
import { firehoseToS3 } from './exercise/delivery';
import { flinkNotebook } from './exercise/flink-notebook';
import { mskTopic } from './exercise/msk-producer';
import { openSearch } from './exercise/opensearch';
import { throttling } from './exercise/producers';
import { iteratorTypes, ordering, shardAssignment, theStream } from './exercise/shards';
import { windowedTotals } from './exercise/windows';

export { hashKeyOf, shardFor, timing } from './exercise/reading';
export { searchTiming } from './exercise/opensearch';

export const steps: readonly ExerciseStep[] = [
  { id: 'stream', title: 'the stream: mode, shards, retention, encryption at rest', run: theStream },
  { id: 'shards', title: 'a partition key goes to the shard whose hash key range holds its MD5', run: shardAssignment },
  { id: 'ordering', title: 'records of one partition key come back in the order they were written', run: ordering },
  { id: 'iterators', title: 'LATEST, AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER and TRIM_HORIZON', run: iteratorTypes },
  { id: 'throttling', title: 'writing faster than a shard takes: ProvisionedThroughputExceededException, retries with backoff', run: throttling },
  { id: 'consumer', title: 'the Lambda consumer applies every record once, in order per partition key', run: lambdaConsumer },
  { id: 'poison', title: 'a poison record is isolated by bisect and described in the on-failure queue', run: poisonRecord },
  { id: 'windows', title: 'a tumbling window: clicks counted per shard and 30 s window, totals written when each window closes', run: windowedTotals },
  { id: 'firehose', title: 'Firehose: transformed clicks in S3 under a date prefix, a bad record under the error prefix', run: firehoseToS3 },
  { id: 'msk', title: 'MSK Serverless: a topic created, messages produced with IAM authentication, consumed by Lambda (with -c streaming:msk=true)', run: mskTopic },
  { id: 'flink', title: 'Flink Studio: READY (free) as deployed, started, its URL and Flink SQL, stopped again (with -c streaming:flink=true)', run: flinkNotebook },
  { id: 'opensearch', title: 'OpenSearch: no anonymous access, the Firehose role mapped, clicks indexed, a partial match (with -c streaming:opensearch=true)', run: openSearch },
];
