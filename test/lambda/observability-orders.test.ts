import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { OBSERVABILITY_LAB } from '../../labs/observability/constants';
import { runOrders } from '../../labs/observability/exercise';
import type * as Orders from '../../lambda/observability-orders';
import { matchesFilterPattern } from '../labs/observability/filter-pattern';

// The handler is run for real; only S3 is mocked. Its stdout and stderr are what Lambda sends to CloudWatch Logs: every line is
// read back as CloudWatch would, EMF documents as metrics, the others through the lab's filter patterns.
const s3 = mockClient(S3Client);
const context = { awsRequestId: 'req-1', functionName: 'worker' } as Context;
const TRACE = 'Root=1-67890abc-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1';
let orders: typeof Orders;
let lines: string[];

const quiet = process.env.POWERTOOLS_LOG_LEVEL;
beforeAll(async () => {
  // The log lines are the subject here: INFO while this file runs, then the quiet default returns.
  Object.assign(process.env, {
    POWERTOOLS_LOG_LEVEL: 'INFO',
    POWERTOOLS_METRICS_NAMESPACE: OBSERVABILITY_LAB.namespace,
    POWERTOOLS_SERVICE_NAME: OBSERVABILITY_LAB.serviceName,
    BUCKET_NAME: 'lab-bucket',
    _X_AMZN_TRACE_ID: TRACE,
    AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
    AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
  });
  orders = await import('../../lambda/observability-orders');
});
afterAll(() => (process.env.POWERTOOLS_LOG_LEVEL = quiet));
beforeEach(() => {
  s3.reset();
  s3.on(PutObjectCommand).resolves({});
  lines = [];
  const capture = (chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
    return true;
  };
  // Lambda sends both streams to the log group; the logger writes warnings and errors to stderr.
  jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  jest.spyOn(process.stderr, 'write').mockImplementation(capture);
});
afterEach(() => jest.restoreAllMocks());

interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string; StorageResolution?: number }[] }[] };
  [key: string]: unknown;
}
const emfDocuments = () => lines.map((l) => JSON.parse(l) as EmfDocument).filter((d) => d._aws?.CloudWatchMetrics);
/** What CloudWatch extracts from EMF documents: metric name + dimension values → values. */
function extractedMetrics(): Record<string, number[]> {
  const metrics: Record<string, number[]> = {};
  for (const document of emfDocuments()) {
    for (const directive of document._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe(OBSERVABILITY_LAB.namespace);
      for (const metric of directive.Metrics) {
        const dimensions = directive.Dimensions[0].map((d) => `${d}=${String(document[d])}`).join(',');
        const key = `${metric.Name}{${dimensions}}`;
        metrics[key] = [...(metrics[key] ?? []), ...([document[metric.Name]].flat() as number[])];
      }
    }
  }
  return metrics;
}

test('EMF: orders processed per invocation, order value per channel, in the lab namespace; rejections are left to the metric filter', async () => {
  const result = await orders.handler(runOrders('run-1'), context);
  expect(result).toMatchObject({ processed: ['run-1-web', 'run-1-store'], rejected: ['run-1-bad'], totalValue: 45, summaryKey: 'orders/req-1.json' });
  expect(extractedMetrics()).toEqual({
    'OrderValue{service=orders,channel=web}': [20],
    'OrderValue{service=orders,channel=store}': [25],
    'OrdersProcessed{service=orders}': [2],
  });
  for (const document of emfDocuments()) expect(Math.abs(document._aws.Timestamp - Date.now())).toBeLessThan(60_000);
  const units = emfDocuments().flatMap((d) => d._aws.CloudWatchMetrics.flatMap((c) => c.Metrics.map((m) => `${m.Name}:${m.Unit}`)));
  expect(new Set(units)).toEqual(new Set(['OrderValue:None', 'OrdersProcessed:Count']));
});

test('the metric filter pattern matches the real line of a rejected order, and no other line', async () => {
  await orders.handler(runOrders('run-2'), context);
  const matched = lines.filter((l) => matchesFilterPattern(OBSERVABILITY_LAB.rejectedFilterPattern, l));
  expect(matched).toHaveLength(1);
  expect(JSON.parse(matched[0])).toMatchObject({ level: 'WARN', event: 'order_rejected', orderId: 'run-2-bad', reason: 'quantity must be positive' });
  expect(lines.length).toBeGreaterThan(3);
});

test('the subscription filter passes WARN and ERROR lines only', async () => {
  await expect(orders.handler({ ...runOrders('run-3'), fail: true }, context)).rejects.toThrow('order batch failed on request');
  const passed = lines.filter((l) => matchesFilterPattern(OBSERVABILITY_LAB.subscriptionFilterPattern, l)).map((l) => JSON.parse(l).event);
  expect(passed).toEqual(['order_rejected', 'order_batch_failed']);
  expect(lines.some((l) => l.includes('"event":"order_processed"'))).toBe(true);
});

test('it writes the summary under orders/ of the bucket, and returns the three X-Ray variables', async () => {
  const result = await orders.handler(runOrders('run-4'), context);
  expect(s3.commandCalls(PutObjectCommand).map((c) => [c.args[0].input.Bucket, c.args[0].input.Key])).toEqual([['lab-bucket', 'orders/req-1.json']]);
  expect(result.xray).toEqual({ traceHeader: TRACE, contextMissing: 'LOG_ERROR', daemonAddress: '169.254.79.129:2000' });
  // Powertools Logger adds the trace id to every line: the saved query "errors-with-trace-ids" reads it.
  expect(lines.filter((l) => !l.includes('"_aws"')).every((l) => JSON.parse(l).xray_trace_id === '1-67890abc-0123456789abcdef01234567')).toBe(true);
});

test.each([
  [{ orderId: 'a', quantity: 0, unitPrice: 1 }, 'quantity must be positive'],
  [{ orderId: 'b', quantity: 1, unitPrice: -1 }, 'unitPrice must not be negative'],
  [{ orderId: 'c', quantity: 1, unitPrice: 0 }, undefined],
])('rejectionReason(%j) is %s', (order, reason) => {
  expect(orders.rejectionReason(order)).toBe(reason);
});

test('the log lines name what happened, and the summary in S3 is JSON of the outcome', async () => {
  await expect(orders.handler({ ...runOrders('run-5'), fail: true }, context)).rejects.toThrow('order batch failed on request (fail: true)');
  const logged = lines.map((l) => JSON.parse(l)).filter((l) => l.event);
  expect(logged.map((l) => [l.level, l.message, l.event])).toEqual([
    ['INFO', 'order processed', 'order_processed'],
    ['INFO', 'order processed', 'order_processed'],
    ['WARN', 'order rejected', 'order_rejected'],
    ['ERROR', 'order batch failed on request', 'order_batch_failed'],
  ]);
  expect(logged.at(-1)).toMatchObject({ orders: 3 });
  const put = s3.commandCalls(PutObjectCommand)[0].args[0].input;
  expect(put.ContentType).toBe('application/json');
  expect(JSON.parse(String(put.Body))).toEqual({ processed: ['run-5-web', 'run-5-store'], rejected: ['run-5-bad'], totalValue: 45 });
});

test('an order without a channel counts as web; an event without orders processes none', async () => {
  await orders.handler({ orders: [{ orderId: 'plain', quantity: 1, unitPrice: 3 }] }, context);
  expect(extractedMetrics()).toMatchObject({ 'OrderValue{service=orders,channel=web}': [3] });
  const { processed, rejected, totalValue } = await orders.handler({} as Orders.OrdersEvent, context);
  // toStrictEqual: toEqual would take [undefined] for [].
  expect({ processed, rejected, totalValue }).toStrictEqual({ processed: [], rejected: [], totalValue: 0 });
});
