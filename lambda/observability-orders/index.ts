import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';

/**
 * The observability lab's worker. It prices orders and publishes what it did three ways, each one a lesson:
 * custom metrics in Embedded Metric Format (one JSON log line CloudWatch turns into metrics, no PutMetricData call),
 * structured log lines a metric filter counts (`"event":"order_rejected"`), and an active X-Ray trace whose
 * environment variables it returns. It writes a summary to S3; the S3 client is not instrumented (no X-Ray SDK or
 * tracer in a handler kept under 100 KB), so the trace shows the invocation's segments and not that call.
 */
const logger = new Logger({ serviceName: 'orders' });
// Namespace and service come from POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME (the stack sets them).
const metrics = new Metrics();
const s3 = new S3Client({});

export interface Order {
  orderId: string;
  quantity: number;
  unitPrice: number;
  /** Becomes the `channel` dimension of the metrics: one metric per channel value. */
  channel?: 'web' | 'store';
}

export interface OrdersEvent {
  orders: Order[];
  /** Fail the invocation after pricing, to drive the Errors metric and its alarms. */
  fail?: boolean;
}

/** The three X-Ray variables the notes name, as Lambda sets them in the function's environment. */
export interface XRayEnvironment {
  /** `Root=1-...;Parent=...;Sampled=1`: this invocation's trace header, set per invocation. */
  traceHeader?: string;
  /** What the X-Ray SDK does when it has no segment to attach a subsegment to (Lambda sets LOG_ERROR). */
  contextMissing?: string;
  /** Where the X-Ray daemon listens (UDP segments, TCP sampling): Lambda runs it for you at 169.254.79.129:2000. */
  daemonAddress?: string;
}

export interface OrdersResult {
  processed: string[];
  rejected: string[];
  totalValue: number;
  summaryKey: string;
  xray: XRayEnvironment;
}

export function rejectionReason(order: Order): string | undefined {
  if (!(order.quantity > 0)) return 'quantity must be positive';
  if (!(order.unitPrice >= 0)) return 'unitPrice must not be negative';
  return undefined;
}

export function xrayEnvironment(env: NodeJS.ProcessEnv = process.env): XRayEnvironment {
  return {
    traceHeader: env._X_AMZN_TRACE_ID,
    contextMissing: env.AWS_XRAY_CONTEXT_MISSING,
    daemonAddress: env.AWS_XRAY_DAEMON_ADDRESS,
  };
}

export async function handler(event: OrdersEvent, context: Context): Promise<OrdersResult> {
  const processed: string[] = [];
  const rejected: string[] = [];
  let totalValue = 0;
  for (const order of event.orders ?? []) {
    const reason = rejectionReason(order);
    if (reason) {
      // No metric here: the metric filter on this log group counts these lines (lesson: log line → metric).
      logger.warn('order rejected', { event: 'order_rejected', orderId: order.orderId, reason });
      rejected.push(order.orderId);
      continue;
    }
    const value = order.quantity * order.unitPrice;
    totalValue += value;
    processed.push(order.orderId);
    // One EMF document per order: the channel dimension differs between orders.
    const single = metrics.singleMetric();
    single.addDimension('channel', order.channel ?? 'web');
    single.addMetric('OrderValue', MetricUnit.NoUnit, value);
    logger.info('order processed', { event: 'order_processed', orderId: order.orderId, value });
  }
  metrics.addMetric('OrdersProcessed', MetricUnit.Count, processed.length);
  metrics.publishStoredMetrics();

  const summaryKey = `orders/${context.awsRequestId}.json`;
  await s3.send(
    new PutObjectCommand({
      Bucket: process.env.BUCKET_NAME,
      Key: summaryKey,
      Body: JSON.stringify({ processed, rejected, totalValue }),
      ContentType: 'application/json',
    }),
  );
  if (event.fail) {
    logger.error('order batch failed on request', { event: 'order_batch_failed', orders: processed.length + rejected.length });
    throw new Error('order batch failed on request (fail: true)');
  }
  return { processed, rejected, totalValue, summaryKey, xray: xrayEnvironment() };
}
