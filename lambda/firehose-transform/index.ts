import type {
  FirehoseTransformationEvent,
  FirehoseTransformationEventRecord,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';

/**
 * What producers put on the stream: a click of a user on a page. `type: "heartbeat"` records are keep-alives of the
 * producer, not clicks: the transform drops them.
 */
export interface ClickEvent {
  readonly key: string;
  readonly page: string;
  /** The producer's numbering per partition key, when it numbers them. */
  readonly seq?: number;
  readonly type?: string;
}

/** What lands in S3: one JSON line per click, with when Kinesis received it and the shard's partition key. */
export interface DeliveredClick extends ClickEvent {
  readonly arrivedAt: string;
  readonly partitionKey?: string;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why a record cannot be delivered, or the click it holds. */
export function decodeClick(data: string): ClickEvent | string {
  // Buffer.from(..., 'base64') never fails: it skips what is not base64, so a corrupt record would decode to garbage.
  if (!BASE64.test(data)) return 'data is not base64';
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  } catch {
    return 'data is not JSON';
  }
  const click = parsed as Partial<ClickEvent> | null;
  if (typeof click?.key !== 'string' || typeof click.page !== 'string') return 'a click needs key (string) and page (string)';
  return click as ClickEvent;
}

/**
 * The Firehose record contract: every `recordId` comes back exactly once with a `result`. `Ok` with the new base64
 * `data`, `Dropped` for a record filtered out on purpose (not an error), `ProcessingFailed` for one that cannot be
 * transformed: Firehose writes those, as received, under the error output prefix (`processing-failed/`).
 */
export function transformRecord(record: FirehoseTransformationEventRecord): FirehoseTransformationResultRecord {
  const click = decodeClick(record.data);
  if (typeof click === 'string') {
    console.warn(JSON.stringify({ message: 'record failed', recordId: record.recordId, reason: click }));
    return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
  }
  if (click.type === 'heartbeat') return { recordId: record.recordId, result: 'Dropped', data: record.data };
  const delivered: DeliveredClick = {
    ...click,
    page: click.page.toLowerCase(),
    arrivedAt: new Date(record.approximateArrivalTimestamp).toISOString(),
    partitionKey: record.kinesisRecordMetadata?.partitionKey,
  };
  // One JSON object per line: what Athena and Glue read from S3; without the newline the objects run together.
  return { recordId: record.recordId, result: 'Ok', data: Buffer.from(`${JSON.stringify(delivered)}\n`).toString('base64') };
}

export const handler = async (event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> => ({
  records: event.records.map(transformRecord),
});
