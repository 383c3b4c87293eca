import { gunzipSync } from 'node:zlib';
import { PutRecordCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { check, ExerciseContext, requireOutput } from '../../support/exercise';
import { STREAMING_LAB } from '../constants';
import { encode, kinesisOf, runKey } from './clients';
import { timing } from './reading';

/** The objects of the delivery bucket under `prefix`, as text. */
async function deliveredObjects(context: ExerciseContext, bucket: string, prefix: string): Promise<{ key: string; text: string }[]> {
  const s3 = context.client(S3Client, 'S3');
  const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return Promise.all(
    Contents.map(async ({ Key = '' }) => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
      const bytes = Buffer.from((await Body?.transformToByteArray()) ?? []);
      // Deliveries are gzip (the stream's CompressionFormat); read what is not gzip as it is rather than fail on it.
      const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
      return { key: Key, text: (gzip ? gunzipSync(bytes) : bytes).toString('utf8') };
    }),
  );
}

/** The S3 key prefix Firehose gives a record that arrived at `date`, from the lab's prefix with `!{timestamp:...}`. */
function datedPrefix(template: string, date: Date): string {
  const parts: Record<string, string> = {
    yyyy: String(date.getUTCFullYear()),
    MM: String(date.getUTCMonth() + 1).padStart(2, '0'),
    dd: String(date.getUTCDate()).padStart(2, '0'),
  };
  return template.replace(/!\{timestamp:(\w+)\}/g, (_, format: string) => parts[format]).replace('!{firehose:error-output-type}', 'processing-failed');
}

export async function firehoseToS3(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const bucket = requireOutput(outputs, 'DeliveryBucketName');
  const key = runKey(context, 'firehose');
  const kinesis = await kinesisOf(context);
  const put = (data: Buffer) => kinesis.send(new PutRecordCommand({ StreamName: streamName, PartitionKey: key, Data: data }));
  const started = new Date();
  await put(encode({ key, seq: 1, page: '/Home', runId: context.runId }));
  await put(encode({ key, seq: 2, page: '/Basket', runId: context.runId }));
  await put(encode({ key, seq: 3, page: '/Home', type: 'heartbeat', runId: context.runId }));
  // Valid for the Lambda consumer (it needs key and seq), not for the transform (a click needs a page).
  const bad = JSON.stringify({ key, seq: 4, runId: context.runId });
  await put(Buffer.from(bad));
  log('put 2 clicks, a heartbeat and a record without a page; Firehose reads them from the stream and calls the transform');

  const { deliveryDeadlineSeconds, deliveryPollSeconds } = await context.use(timing);
  const clicksPrefix = datedPrefix(STREAMING_LAB.deliveryPrefix, started);
  const errorsPrefix = datedPrefix(STREAMING_LAB.errorPrefix, started);
  let lines: Record<string, unknown>[] = [];
  let failed: Record<string, unknown>[] = [];
  while (Date.now() - started.getTime() < deliveryDeadlineSeconds * 1000) {
    const delivered = await deliveredObjects(context, bucket, clicksPrefix);
    // This step's partition key, not the run: Firehose delivers every click of the stream, the consumer step's too.
    lines = delivered.flatMap(({ text }) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)).filter((l) => l.key === key);
    const errors = await deliveredObjects(context, bucket, errorsPrefix);
    failed = errors
      .flatMap(({ text }) => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>))
      .filter((e) => Buffer.from(String(e.rawData ?? ''), 'base64').toString('utf8') === bad);
    if (lines.length >= 2 && failed.length >= 1) break;
    await new Promise((resolve) => setTimeout(resolve, deliveryPollSeconds * 1000));
  }
  log(`s3://${bucket}/${clicksPrefix} (gzip, one JSON line per click): ${JSON.stringify(lines.map((l) => [l.seq, l.page]))}`);
  check(lines.every((l) => l.type !== 'heartbeat'), 'the heartbeat reached S3: the transform should have dropped it');
  check(lines.length === 2, `expected the 2 clicks of ${key} under ${clicksPrefix} within ${deliveryDeadlineSeconds} s, found ${lines.length}`);
  check(lines.some((l) => l.page === '/basket') && lines.every((l) => typeof l.arrivedAt === 'string'), `the clicks were not transformed: ${JSON.stringify(lines)}`);
  check(failed.length === 1, `the record without a page is not under ${errorsPrefix}`);
  log(`s3://${bucket}/${errorsPrefix}: the bad record as received (rawData), errorCode ${failed[0].errorCode}: ProcessingFailed keeps it for a fix and a replay`);
}
