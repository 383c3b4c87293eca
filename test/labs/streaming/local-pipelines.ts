import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, _Record as KinesisRecord } from '@aws-sdk/client-kinesis';
import type {
  FirehoseTransformationEvent,
  FirehoseTransformationResult,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
  KinesisStreamStateResponse,
  KinesisStreamTumblingWindowEvent,
} from 'aws-lambda';
import type { Template } from 'aws-cdk-lib/assertions';

/** One shard of a stream, polled from TRIM_HORIZON until stopped; each non-empty page goes to `onPage`. */
function pollShards(
  client: KinesisClient,
  streamName: string,
  limit: number,
  onPage: (shardId: string, records: KinesisRecord[]) => Promise<void>,
  idleMs = 20,
): { stop: () => Promise<void> } {
  let running = true;
  const loop = async () => {
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
    const iterators = new Map<string, string | undefined>();
    for (const shard of Shards) {
      const { ShardIterator } = await client.send(
        new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
      );
      iterators.set(shard.ShardId ?? '', ShardIterator);
    }
    while (running) {
      let found = false;
      for (const [shardId, iterator] of iterators) {
        if (!iterator) continue;
        const { Records = [], NextShardIterator } = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        iterators.set(shardId, NextShardIterator);
        if (Records.length > 0) {
          found = true;
          await onPage(shardId, Records);
        }
      }
      if (!found) await new Promise((resolve) => setTimeout(resolve, idleMs));
    }
  };
  const done = loop();
  return {
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** A record of a Kinesis event as Lambda delivers it. */
function toLambdaRecord(shardId: string, record: KinesisRecord, streamArn: string): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? []).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::123456789012:role/local',
    awsRegion: 'us-east-1',
    eventSourceARN: streamArn,
  };
}

/** What Lambda sends to an on-failure destination for a discarded batch of a Kinesis stream. */
export interface KinesisFailureRecord {
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface KinesisMappingSettings {
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly bisectBatchOnError: boolean;
}

const mappingsOf = (template: Template) =>
  Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as { Properties: Record<string, unknown> }[];

/** The settings of the template's one Kinesis event source mapping without a tumbling window (the consumer's). */
export function kinesisMappingSettings(template: Template): KinesisMappingSettings {
  const mappings = mappingsOf(template).filter((m) => m.Properties.TumblingWindowInSeconds === undefined);
  if (mappings.length !== 1) throw new Error(`expected one event source mapping without a tumbling window, found ${mappings.length}`);
  const p = mappings[0].Properties;
  return {
    batchSize: (p.BatchSize as number | undefined) ?? 100,
    retryAttempts: (p.MaximumRetryAttempts as number | undefined) ?? -1,
    bisectBatchOnError: p.BisectBatchOnFunctionError === true,
  };
}

export interface LocalKinesisEventSource {
  /** The sequence numbers of every invocation, with its outcome. */
  readonly invocations: { sequenceNumbers: string[]; outcome: 'success' | 'partial' | 'error' }[];
  readonly failures: KinesisFailureRecord[];
  stop(): Promise<void>;
}

/**
 * Does locally what Lambda's Kinesis event source mapping does with ReportBatchItemFailures: polls every shard from
 * TRIM_HORIZON and invokes the handler with batches; a partial batch response keeps the records before the reported
 * one and retries from it (one retry used); a thrown error, with bisect on, splits the batch in two and delivers each
 * half (no retry used); a batch that used its retries goes to `onFailure` and the shard moves on.
 * Not emulated: batching window, parallelization factor, maximum record age, retry back-off.
 */
export function startLocalKinesisEventSource(props: KinesisMappingSettings & {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly handler: (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;
  readonly onFailure: (failure: KinesisFailureRecord) => Promise<void>;
  /** Pause after a poll of every shard found nothing: longer makes records written close together one batch. @default 20 */
  readonly idleMs?: number;
}): LocalKinesisEventSource {
  const invocations: LocalKinesisEventSource['invocations'] = [];
  const failures: KinesisFailureRecord[] = [];
  const toLambda = (shardId: string, record: KinesisRecord) => toLambdaRecord(shardId, record, props.streamArn);
  const sequenceOf = (record: KinesisStreamRecord) => record.kinesis.sequenceNumber;
  const arrival = (record: KinesisStreamRecord) => new Date(record.kinesis.approximateArrivalTimestamp * 1000).toISOString();

  async function invoke(batch: KinesisStreamRecord[]): Promise<string | 'success' | 'error'> {
    const sequenceNumbers = batch.map(sequenceOf);
    try {
      const response = await props.handler({ Records: batch });
      const failed = response?.batchItemFailures ?? [];
      if (failed.length === 0) {
        invocations.push({ sequenceNumbers, outcome: 'success' });
        return 'success';
      }
      invocations.push({ sequenceNumbers, outcome: 'partial' });
      return failed.map((f) => f.itemIdentifier).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))[0];
    } catch {
      invocations.push({ sequenceNumbers, outcome: 'error' });
      return 'error';
    }
  }

  async function deliver(shardId: string, batch: KinesisStreamRecord[]): Promise<void> {
    let pending = batch;
    let attempts = 0;
    while (pending.length > 0) {
      attempts += 1;
      const outcome = await invoke(pending);
      if (outcome === 'success') return;
      if (outcome === 'error' && props.bisectBatchOnError && pending.length > 1) {
        const half = Math.ceil(pending.length / 2);
        await deliver(shardId, pending.slice(0, half));
        await deliver(shardId, pending.slice(half));
        return;
      }
      if (outcome !== 'error') pending = pending.slice(Math.max(0, pending.findIndex((r) => sequenceOf(r) === outcome)));
      if (attempts > props.retryAttempts) {
        const failure: KinesisFailureRecord = {
          requestContext: { requestId: randomUUID(), functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:local', condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: new Date().toISOString(),
          KinesisBatchInfo: {
            shardId,
            startSequenceNumber: sequenceOf(pending[0]),
            endSequenceNumber: sequenceOf(pending[pending.length - 1]),
            approximateArrivalOfFirstRecord: arrival(pending[0]),
            approximateArrivalOfLastRecord: arrival(pending[pending.length - 1]),
            batchSize: pending.length,
            streamArn: props.streamArn,
          },
        };
        failures.push(failure);
        await props.onFailure(failure);
        return;
      }
    }
  }

  const poller = pollShards(props.client, props.streamName, props.batchSize, (shardId, records) =>
    deliver(shardId, records.map((r) => toLambda(shardId, r))),
    props.idleMs,
  );
  return { invocations, failures, stop: poller.stop };
}

/** The tumbling window of the template's one mapping that has one, in seconds. */
export function tumblingWindowSeconds(template: Template): number {
  const windows = mappingsOf(template).flatMap((m) => (m.Properties.TumblingWindowInSeconds === undefined ? [] : [m.Properties.TumblingWindowInSeconds as number]));
  if (windows.length !== 1) throw new Error(`expected one event source mapping with a tumbling window, found ${windows.length}`);
  return windows[0];
}

export interface LocalTumblingWindow {
  /** Every invocation: its window, whether it was the final one, the records it carried. */
  readonly invocations: { shardId: string; start: string; final: boolean; records: number }[];
  /** Responses Lambda would count as failed invocations (no `state`). */
  readonly contractViolations: string[];
  stop(): Promise<void>;
}

/**
 * Does locally what Lambda's mapping with TumblingWindowInSeconds does: per shard, windows aligned on multiples of
 * the window length, records assigned by their arrival time, the `state` of each response passed to the next
 * invocation of the same shard and window, then a final invocation (no records, `isFinalInvokeForWindow`) whose
 * returned state is dropped. A window closes when a record of a later window arrives on its shard, or when the shard
 * has had no record for `closeAfterIdleMs`: Lambda invokes it after the window's end, when the mapping next polls the
 * shard, which a test cannot wait for. Not emulated: retries, the 1 MB state limit, batching window.
 */
export function startLocalTumblingWindow(props: {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly windowSeconds: number;
  readonly handler: (event: KinesisStreamTumblingWindowEvent) => Promise<KinesisStreamStateResponse>;
  readonly closeAfterIdleMs: number;
}): LocalTumblingWindow {
  const invocations: LocalTumblingWindow['invocations'] = [];
  const contractViolations: string[] = [];
  const windowMs = props.windowSeconds * 1000;
  const open = new Map<string, { start: number; state: Record<string, unknown>; lastRecordAt: number }>();
  let queue: Promise<void> = Promise.resolve();
  const serially = (work: () => Promise<void>) => (queue = queue.then(work));

  async function invoke(shardId: string, start: number, records: KinesisStreamRecord[], final: boolean): Promise<Record<string, unknown>> {
    const window = { start: new Date(start).toISOString(), end: new Date(start + windowMs).toISOString() };
    const event = {
      Records: records,
      window,
      state: open.get(shardId)?.state ?? {},
      shardId,
      eventSourceARN: props.streamArn,
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: false,
    };
    invocations.push({ shardId, start: window.start, final, records: records.length });
    const response = await props.handler(event);
    if (response?.state === undefined) contractViolations.push(`the ${final ? 'final ' : ''}invocation of ${shardId} ${window.start} returned no state`);
    return response?.state ?? {};
  }
  const close = async (shardId: string) => {
    const window = open.get(shardId);
    if (!window) return;
    await invoke(shardId, window.start, [], true);
    open.delete(shardId);
  };

  const poller = pollShards(props.client, props.streamName, 100, (shardId, page) =>
    serially(async () => {
      const startOf = (record: KinesisStreamRecord) => Math.floor((record.kinesis.approximateArrivalTimestamp * 1000) / windowMs) * windowMs;
      let records = page.map((r) => toLambdaRecord(shardId, r, props.streamArn));
      while (records.length > 0) {
        const start = startOf(records[0]);
        const later = records.findIndex((record) => startOf(record) !== start);
        const batch = later === -1 ? records : records.slice(0, later);
        records = records.slice(batch.length);
        if (open.get(shardId)?.start !== start) await close(shardId);
        const state = await invoke(shardId, start, batch, false);
        open.set(shardId, { start, state, lastRecordAt: Date.now() });
      }
    }),
  );
  const idle = setInterval(() => {
    void serially(async () => {
      for (const [shardId, window] of open) if (Date.now() - window.lastRecordAt >= props.closeAfterIdleMs) await close(shardId);
    });
  }, Math.max(10, props.closeAfterIdleMs / 2));
  return {
    invocations,
    contractViolations,
    stop: async () => {
      clearInterval(idle);
      await poller.stop();
      await queue;
    },
  };
}

/** An S3 object the local Firehose wrote. */
export interface DeliveredObject {
  readonly key: string;
  readonly body: Buffer;
}

/** Resolves the `!{timestamp:...}` and `!{firehose:error-output-type}` of a Firehose prefix, as Firehose does (UTC). */
function resolvePrefix(prefix: string, at: Date, errorOutputType?: string): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const formats: Record<string, string> = { yyyy: String(at.getUTCFullYear()), MM: pad(at.getUTCMonth() + 1), dd: pad(at.getUTCDate()), HH: pad(at.getUTCHours()) };
  return prefix
    .replace(/!\{timestamp:(\w+)\}/g, (_, format: string) => formats[format] ?? `?${format}`)
    .replace('!{firehose:error-output-type}', errorOutputType ?? '');
}

/** The S3 destination of the template's delivery stream, as the local Firehose uses it. */
export interface FirehoseS3Settings {
  readonly prefix: string;
  readonly errorOutputPrefix: string;
  readonly compression: string;
}

export function firehoseS3Settings(template: Template): FirehoseS3Settings {
  const [stream] = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream')) as { Properties: Record<string, unknown> }[];
  const destination = stream.Properties.ExtendedS3DestinationConfiguration as Record<string, unknown>;
  return {
    prefix: destination.Prefix as string,
    errorOutputPrefix: destination.ErrorOutputPrefix as string,
    compression: destination.CompressionFormat as string,
  };
}

/**
 * Does locally what Firehose does with a Kinesis source, a Lambda processor and an S3 destination: reads the stream,
 * invokes `transform` with each page of records, holds it to the record contract (every recordId answered once, a
 * known result, base64 data for Ok), and writes one object per page: the Ok data concatenated (gzip when the template
 * says GZIP) under the resolved prefix, the ProcessingFailed records as JSON lines (with `rawData`) under the error
 * prefix with `processing-failed`. Dropped records go nowhere. Not emulated: buffering hints, retries of the transform.
 */
export function startLocalFirehose(props: FirehoseS3Settings & {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly streamArn: string;
  readonly transform: (event: FirehoseTransformationEvent) => Promise<FirehoseTransformationResult>;
}): { objects: DeliveredObject[]; contractViolations: string[]; stop: () => Promise<void> } {
  const objects: DeliveredObject[] = [];
  const contractViolations: string[] = [];
  let written = 0;
  const poller = pollShards(props.client, props.streamName, 500, async (shardId, records) => {
    const now = new Date();
    const event: FirehoseTransformationEvent = {
      invocationId: randomUUID(),
      deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/local',
      sourceKinesisStreamArn: props.streamArn,
      region: 'us-east-1',
      records: records.map((r, i) => ({
        recordId: `${r.SequenceNumber}-${i}`,
        approximateArrivalTimestamp: r.ApproximateArrivalTimestamp?.getTime() ?? now.getTime(),
        data: Buffer.from(r.Data ?? []).toString('base64'),
        kinesisRecordMetadata: {
          shardId,
          partitionKey: r.PartitionKey ?? '',
          approximateArrivalTimestamp: r.ApproximateArrivalTimestamp?.getTime() ?? now.getTime(),
          sequenceNumber: r.SequenceNumber ?? '',
          subsequenceNumber: '',
        },
      })),
    };
    const result = await props.transform(event);
    const byId = new Map(result.records.map((r) => [r.recordId, r]));
    if (byId.size !== result.records.length) contractViolations.push('a recordId was answered twice');
    const ok: Buffer[] = [];
    const failed: string[] = [];
    for (const record of event.records) {
      const answer = byId.get(record.recordId);
      if (!answer) contractViolations.push(`recordId ${record.recordId} was not answered`);
      else if (answer.result === 'Ok') ok.push(Buffer.from(answer.data ?? '', 'base64'));
      else if (answer.result === 'ProcessingFailed') {
        failed.push(JSON.stringify({
          attemptsMade: 1,
          arrivalTimestamp: record.approximateArrivalTimestamp,
          errorCode: 'Lambda.ProcessingFailedStatus',
          errorMessage: 'ProcessingFailed status set for record',
          attemptEndingTimestamp: now.getTime(),
          rawData: record.data,
          lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:local',
        }));
      } else if (answer.result !== 'Dropped') contractViolations.push(`recordId ${record.recordId} has result ${String(answer.result)}`);
    }
    const compress = (body: Buffer) => (props.compression === 'GZIP' ? gzipSync(body) : body);
    const name = () => `local-firehose-1-${now.toISOString().replace(/[:.]/g, '-')}-${++written}${props.compression === 'GZIP' ? '.gz' : ''}`;
    if (ok.length > 0) objects.push({ key: `${resolvePrefix(props.prefix, now)}${name()}`, body: compress(Buffer.concat(ok)) });
    if (failed.length > 0) {
      objects.push({ key: `${resolvePrefix(props.errorOutputPrefix, now, 'processing-failed')}${name()}`, body: compress(Buffer.from(`${failed.join('\n')}\n`)) });
    }
  });
  return { objects, contractViolations, stop: poller.stop };
}
