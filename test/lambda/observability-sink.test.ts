import { gzipSync } from 'node:zlib';
import type { CloudWatchAlarmEvent, CloudWatchLogsDecodedData } from 'aws-lambda';
import { handler } from '../../lambda/observability-sink';

const logsEvent = (data: Partial<CloudWatchLogsDecodedData>) => ({
  awslogs: { data: gzipSync(Buffer.from(JSON.stringify(data))).toString('base64') },
});
let printed: string[];
beforeEach(() => {
  printed = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
});
afterEach(() => jest.restoreAllMocks());

test('a subscription batch (base64 of gzip of JSON) is decoded and summarized, one line per delivery', async () => {
  const summary = await handler(
    logsEvent({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/lambda/worker',
      logStream: '2026/12/03/[$LATEST]abc',
      subscriptionFilters: ['WarningsToSink'],
      logEvents: [
        { id: '1', timestamp: 1, message: '{"level":"WARN","event":"order_rejected","orderId":"run-bad"}\n' },
        { id: '2', timestamp: 2, message: '{"level":"ERROR","event":"order_batch_failed"}' },
      ],
    }),
  );
  expect(summary).toEqual({
    event: 'log_batch_received',
    logGroup: '/aws/lambda/worker',
    subscriptionFilters: ['WarningsToSink'],
    count: 2,
    messages: ['{"level":"WARN","event":"order_rejected","orderId":"run-bad"}', '{"level":"ERROR","event":"order_batch_failed"}'],
  });
  expect(printed.map((line) => JSON.parse(line))).toEqual([summary]);
});

test('the control message CloudWatch Logs sends when the filter is created is ignored', async () => {
  await expect(handler(logsEvent({ messageType: 'CONTROL_MESSAGE', logEvents: [] }))).resolves.toBeUndefined();
  expect(printed).toEqual([]);
});

test('an alarm\'s Lambda action: the state change is summarized with its reason', async () => {
  const event = {
    source: 'aws.cloudwatch',
    alarmArn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:latency',
    accountId: '123456789012',
    time: '2026-12-03T06:00:00.000+0000',
    region: 'us-east-1',
    alarmData: {
      alarmName: 'latency',
      state: { value: 'ALARM', reason: 'exercise run-1', timestamp: '2026-12-03T06:00:00.000+0000' },
      previousState: { value: 'INSUFFICIENT_DATA', reason: 'no data', timestamp: '2026-12-03T05:00:00.000+0000' },
      configuration: { metrics: [] },
    },
  } as unknown as CloudWatchAlarmEvent;
  const summary = await handler(event);
  expect(summary).toEqual({ event: 'alarm_state_change', alarmName: 'latency', state: 'ALARM', previousState: 'INSUFFICIENT_DATA', reason: 'exercise run-1' });
  expect(JSON.parse(printed[0])).toEqual(summary);
});
