import type { FirehoseTransformationEvent } from 'aws-lambda';
import { decodeClick, handler } from '../../lambda/firehose-transform';

// The handler logs each failed record: what CloudWatch Logs shows, noise here.
beforeAll(() => jest.spyOn(console, 'warn').mockImplementation(() => undefined));

const b64 = (text: string) => Buffer.from(text).toString('base64');
const ARRIVAL = Date.parse('2026-12-03T10:15:30.123Z');

/** A Firehose transformation event as a delivery stream with a Kinesis source sends it. */
function event(...data: string[]): FirehoseTransformationEvent {
  return {
    invocationId: 'invoked123',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/StreamingLab-ToS3',
    sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/StreamingLab-Clicks',
    region: 'us-east-1',
    records: data.map((d, i) => ({
      recordId: `49546986683135544286507457936321625675700192471156785154-${i}`,
      approximateArrivalTimestamp: ARRIVAL,
      data: d,
      kinesisRecordMetadata: {
        shardId: 'shardId-000000000000',
        partitionKey: 'alice',
        approximateArrivalTimestamp: ARRIVAL,
        sequenceNumber: '49546986683135544286507457936321625675700192471156785154',
        subsequenceNumber: '',
      },
    })),
  };
}

test('answers every recordId once, in order: Ok, Dropped, ProcessingFailed (not JSON, bad base64, missing fields)', async () => {
  const input = event(
    b64(JSON.stringify({ key: 'alice', seq: 1, page: '/Basket' })),
    b64(JSON.stringify({ key: 'alice', seq: 2, page: '/Home', type: 'heartbeat' })),
    b64('not json'),
    'not*base64!',
    b64(JSON.stringify({ key: 'alice', seq: 3 })),
  );
  const { records } = await handler(input);
  expect(records.map((r) => r.recordId)).toEqual(input.records.map((r) => r.recordId));
  expect(records.map((r) => r.result)).toEqual(['Ok', 'Dropped', 'ProcessingFailed', 'ProcessingFailed', 'ProcessingFailed']);
});

test('an Ok record is one JSON line: the click, its page lower-cased, when Kinesis received it and its partition key', async () => {
  const { records } = await handler(event(b64(JSON.stringify({ key: 'alice', seq: 1, page: '/Basket', runId: 'r1' }))));
  const line = Buffer.from(records[0].data ?? '', 'base64').toString('utf8');
  expect(line.endsWith('\n')).toBe(true);
  expect(JSON.parse(line)).toEqual({ key: 'alice', seq: 1, page: '/basket', runId: 'r1', arrivedAt: '2026-12-03T10:15:30.123Z', partitionKey: 'alice' });
});

test('a failed record keeps its data as received, for the error output, and its log line says why', async () => {
  const { records } = await handler(event('not*base64!'));
  expect(records[0]).toEqual({ recordId: expect.any(String), result: 'ProcessingFailed', data: 'not*base64!' });
  expect(console.warn).toHaveBeenLastCalledWith(JSON.stringify({ message: 'record failed', recordId: records[0].recordId, reason: 'data is not base64' }));
});

test('a record put directly (no Kinesis source) is delivered without a partition key', async () => {
  const direct = event(b64(JSON.stringify({ key: 'bob', page: '/Home' })));
  delete direct.records[0].kinesisRecordMetadata;
  const { records } = await handler(direct);
  expect(JSON.parse(Buffer.from(records[0].data ?? '', 'base64').toString('utf8'))).toEqual({ key: 'bob', page: '/home', arrivedAt: '2026-12-03T10:15:30.123Z' });
});

test('decodeClick says why a record is refused', () => {
  expect(decodeClick('abc')).toBe('data is not base64');
  expect(decodeClick(b64('{"key":'))).toBe('data is not JSON');
  expect(decodeClick(b64('null'))).toBe('a click needs key (string) and page (string)');
  expect(decodeClick(b64(JSON.stringify({ key: 'k', page: 7 })))).toBe('a click needs key (string) and page (string)');
  expect(decodeClick(b64(JSON.stringify({ key: 'k', page: '/' })))).toEqual({ key: 'k', page: '/' });
});
