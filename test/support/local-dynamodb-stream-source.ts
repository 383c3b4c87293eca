import { randomUUID } from 'node:crypto';
import type { Template } from 'aws-cdk-lib/assertions';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { lambdaRecordOf, type LocalStreamsApi, type StreamApiRecord } from './local-dynamodb';

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** The settings of a DynamoDB stream event source mapping that shape what the local one does. */
export interface StreamMappingSettings {
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly bisectBatchOnError: boolean;
  readonly reportBatchItemFailures: boolean;
  /** Lambda event filter patterns (JSON), as in `FilterCriteria.Filters[].Pattern`. */
  readonly filterPatterns: readonly string[];
}

/** The settings of the one DynamoDB stream event source mapping of a synthesized template. */
export function streamMappingSettings(template: Template): StreamMappingSettings {
  const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as {
    Properties: Record<string, unknown>;
  }[];
  if (mappings.length !== 1) throw new Error(`expected one event source mapping, found ${mappings.length}`);
  const p = mappings[0].Properties;
  const filters = (p.FilterCriteria as { Filters?: { Pattern: string }[] } | undefined)?.Filters ?? [];
  return {
    batchSize: (p.BatchSize as number | undefined) ?? 100,
    retryAttempts: (p.MaximumRetryAttempts as number | undefined) ?? -1,
    bisectBatchOnError: p.BisectBatchOnFunctionError === true,
    reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    filterPatterns: filters.map((f) => f.Pattern),
  };
}

/** What Lambda sends to an on-failure destination for a discarded batch of a DynamoDB stream. */
export interface StreamFailureRecord {
  requestContext: { requestId: string; functionArn: string; condition: string; approximateInvokeCount: number };
  responseContext: { statusCode: number; executedVersion: string; functionError: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface LocalStreamSourceProps extends StreamMappingSettings {
  readonly streams: LocalStreamsApi;
  readonly streamArn: string;
  readonly handler: StreamHandler;
  /** Where descriptions of discarded batches go (the on-failure destination). */
  readonly onFailure: (record: StreamFailureRecord) => Promise<void>;
  /** Changes a record before the handler sees it, e.g. marks a REMOVE as TTL's, which DynamoDB Local cannot do. */
  readonly transform?: (record: DynamoDBRecord) => DynamoDBRecord;
}

export interface Invocation {
  readonly sequenceNumbers: string[];
  readonly outcome: 'success' | 'partial' | 'error';
}

export interface LocalStreamSource {
  /** Every handler invocation so far, in order. */
  readonly invocations: Invocation[];
  /** Every failure record sent to `onFailure` so far. */
  readonly failures: StreamFailureRecord[];
  /** Resolves once every record written before the call has been handled or discarded. */
  drain(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function matchRule(rule: unknown, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return value === rule;
  const r = rule as Record<string, unknown>;
  if ('prefix' in r) return typeof value === 'string' && value.startsWith(r.prefix as string);
  if ('exists' in r) return (value !== undefined) === r.exists;
  if ('anything-but' in r) {
    const excluded = Array.isArray(r['anything-but']) ? r['anything-but'] : [r['anything-but']];
    return value !== undefined && !excluded.includes(value);
  }
  throw new Error(`filter rule ${JSON.stringify(rule)} is not supported by the local event source`);
}

/** Lambda's event filtering for the rules the labs use: exact values, prefix, exists, anything-but. */
export function matchesPattern(pattern: unknown, value: unknown): boolean {
  if (Array.isArray(pattern)) return pattern.some((rule) => matchRule(rule, value));
  if (pattern !== null && typeof pattern === 'object') {
    const object = value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {};
    return Object.entries(pattern).every(([key, sub]) => matchesPattern(sub, object[key]));
  }
  throw new Error(`filter pattern leaves must be arrays of rules, got ${JSON.stringify(pattern)}`);
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * Does locally what Lambda's DynamoDB stream event source mapping does: polls every shard from TRIM_HORIZON, drops
 * records the filters reject, invokes the handler with batches, and on failure
 * - with a partial batch response, keeps the records before the lowest reported sequence number and retries the
 *   rest (one retry used);
 * - when the handler throws, with bisect on, splits the batch in two and retries each half (no retry used);
 *   a batch of one record is retried until `retryAttempts` are used;
 * - then sends a failure record to `onFailure` and moves on.
 * Not emulated: maximum record age, batching window, parallelization factor, retry back-off.
 */
export function startLocalStreamSource(props: LocalStreamSourceProps): LocalStreamSource {
  const invocations: Invocation[] = [];
  const failures: StreamFailureRecord[] = [];
  const patterns = props.filterPatterns.map((p) => JSON.parse(p) as unknown);
  const shardState = new Map<string, { iterator?: string; done: boolean }>();
  let running = true;
  let idlePolls = 0;

  const toLambda = (record: StreamApiRecord): DynamoDBRecord => {
    const lambdaRecord = lambdaRecordOf(record, props.streamArn);
    return props.transform ? props.transform(lambdaRecord) : lambdaRecord;
  };
  const sequenceOf = (record: DynamoDBRecord) => record.dynamodb?.SequenceNumber ?? '';

  async function discard(shardId: string, batch: DynamoDBRecord[], invokeCount: number): Promise<void> {
    const first = batch[0].dynamodb?.ApproximateCreationDateTime ?? 0;
    const last = batch[batch.length - 1].dynamodb?.ApproximateCreationDateTime ?? 0;
    const failure: StreamFailureRecord = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:local',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: invokeCount,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId,
        startSequenceNumber: sequenceOf(batch[0]),
        endSequenceNumber: sequenceOf(batch[batch.length - 1]),
        approximateArrivalOfFirstRecord: iso(first),
        approximateArrivalOfLastRecord: iso(last),
        batchSize: batch.length,
        streamArn: props.streamArn,
      },
    };
    failures.push(failure);
    await props.onFailure(failure);
  }

  async function processBatch(shardId: string, records: DynamoDBRecord[]): Promise<void> {
    const pending: { records: DynamoDBRecord[]; attempts: number }[] = [{ records, attempts: 0 }];
    while (pending.length > 0) {
      const batch = pending.shift()!;
      const sequenceNumbers = batch.records.map(sequenceOf);
      let failedFrom: number | undefined;
      try {
        const response = await props.handler({ Records: batch.records });
        const reported = props.reportBatchItemFailures ? (response?.batchItemFailures ?? []) : [];
        if (reported.length === 0) {
          invocations.push({ sequenceNumbers, outcome: 'success' });
          continue;
        }
        const indexes = reported.map((f) => sequenceNumbers.indexOf(f.itemIdentifier));
        failedFrom = indexes.some((i) => i < 0) ? 0 : Math.min(...indexes); // an unknown identifier fails it all
        invocations.push({ sequenceNumbers, outcome: 'partial' });
      } catch {
        invocations.push({ sequenceNumbers, outcome: 'error' });
        if (props.bisectBatchOnError && batch.records.length > 1) {
          const half = Math.ceil(batch.records.length / 2);
          pending.unshift(
            { records: batch.records.slice(0, half), attempts: batch.attempts },
            { records: batch.records.slice(half), attempts: batch.attempts },
          );
          continue;
        }
        failedFrom = 0;
      }
      const rest = batch.records.slice(failedFrom);
      const attempts = batch.attempts + 1;
      if (props.retryAttempts >= 0 && attempts > props.retryAttempts) await discard(shardId, rest, attempts);
      else pending.unshift({ records: rest, attempts });
    }
  }

  async function pollOnce(): Promise<boolean> {
    let sawRecords = false;
    const shards = await props.streams.shards(props.streamArn);
    for (const shard of shards) {
      const state = shardState.get(shard.ShardId) ?? { done: false };
      shardState.set(shard.ShardId, state);
      const parent = shard.ParentShardId ? shardState.get(shard.ParentShardId) : undefined;
      if (state.done || (parent && !parent.done)) continue;
      state.iterator ??= await props.streams.iterator(props.streamArn, shard.ShardId);
      const { records, next } = await props.streams.records(state.iterator, props.batchSize);
      state.iterator = next;
      if (!next) state.done = true;
      if (records.length === 0) continue;
      sawRecords = true;
      const passed = records.map(toLambda).filter((r) => patterns.length === 0 || patterns.some((p) => matchesPattern(p, r)));
      if (passed.length > 0) await processBatch(shard.ShardId, passed);
    }
    return sawRecords;
  }

  let loopError: unknown;
  const loop = (async () => {
    while (running) {
      try {
        const sawRecords = await pollOnce();
        idlePolls = sawRecords ? 0 : idlePolls + 1;
        if (!sawRecords) await new Promise((resolve) => setTimeout(resolve, 50));
      } catch (error) {
        loopError = error;
        running = false;
      }
    }
  })();

  return {
    invocations,
    failures,
    drain: async (timeoutMs = 15_000) => {
      const deadline = Date.now() + timeoutMs;
      idlePolls = 0;
      // Two empty polls in a row after the call: everything written before it has been read and handled.
      while (idlePolls < 2) {
        if (loopError) throw loopError;
        if (Date.now() > deadline) throw new Error(`the local stream source did not drain within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      running = false;
      await loop;
      if (loopError) throw loopError;
    },
  };
}
