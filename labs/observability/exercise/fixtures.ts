import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { OrdersEvent, OrdersResult } from '../../../lambda/observability-orders';
import { check, defineFixture, defineTiming, ExerciseContext, requireOutput } from '../../support/exercise';
import { OBSERVABILITY_LAB as LAB } from '../constants';

export const timing = defineTiming(LAB.exerciseTiming);

export const cloudwatchOf = (context: ExerciseContext) => context.client(CloudWatchClient, 'CLOUDWATCH');
export const logsOf = (context: ExerciseContext) => context.client(CloudWatchLogsClient, 'CLOUDWATCH_LOGS');
export const lambdaOf = (context: ExerciseContext) => context.client(LambdaClient, 'LAMBDA');

/** Calls `attempt` every pollSeconds until it returns a value or `deadlineSeconds` have passed. */
export async function poll<T>(context: ExerciseContext, deadlineSeconds: number, attempt: () => Promise<T | undefined>): Promise<T | undefined> {
  const { pollSeconds } = await context.use(timing);
  const deadline = Date.now() + deadlineSeconds * 1000;
  for (;;) {
    const value = await attempt();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(pollSeconds * 1000);
  }
}

/** The run's orders: two priced (web and store), one rejected (quantity 0), ids prefixed by the run id. */
export const runOrders = (runId: string): OrdersEvent => ({
  orders: [
    { orderId: `${runId}-web`, quantity: 2, unitPrice: 10, channel: 'web' },
    { orderId: `${runId}-store`, quantity: 1, unitPrice: 25, channel: 'store' },
    { orderId: `${runId}-bad`, quantity: 0, unitPrice: 10, channel: 'web' },
  ],
});

interface WorkerRun {
  readonly result: OrdersResult;
  /** When the invocation started (ms): where metric, log and trace searches start. */
  readonly invokedAt: number;
}

/** One invocation of the worker per run, shared by the steps that read what it published. */
export const workerRun = defineFixture<WorkerRun>('an invocation of the worker', async (context) => {
  const invokedAt = Date.now();
  const response = await lambdaOf(context).send(
    new InvokeCommand({
      FunctionName: requireOutput(context.outputs, 'WorkerFunctionName'),
      Payload: Buffer.from(JSON.stringify(runOrders(context.runId))),
    }),
  );
  const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
  check(!response.FunctionError, `the worker failed (${response.FunctionError}): ${text}`);
  return { result: JSON.parse(text) as OrdersResult, invokedAt };
});

export const metricQuery = (id: string, metricName: string, stat: string, period: number, dimensions: Record<string, string> = {}): MetricDataQuery => ({
  Id: id,
  MetricStat: {
    Metric: { Namespace: LAB.namespace, MetricName: metricName, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) },
    Stat: stat,
    Period: period,
  },
});

/** GetMetricData over [from, now + 1 min]: each query's values, by id. */
export async function metricValues(context: ExerciseContext, queries: MetricDataQuery[], from: number): Promise<Record<string, number[]>> {
  const { MetricDataResults = [] } = await cloudwatchOf(context).send(
    new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(from), EndTime: new Date(Date.now() + 60_000) }),
  );
  return Object.fromEntries(MetricDataResults.map((r) => [r.Id ?? '', r.Values ?? []]));
}
export const sum = (values: number[] = []) => values.reduce((a, b) => a + b, 0);
/**
 * Where a metric search for the run starts: the start of the invocation's minute, where its datapoints are stamped
 * (60 s periods). An earlier run's datapoints, a minute or more before, are left out.
 */
export const invocationMinute = (invokedAt: number) => Math.floor(invokedAt / 60_000) * 60_000;

/** The first log line of `logGroupName` since `since` that matches `filterPattern`. */
export async function findLogLine(context: ExerciseContext, logGroupName: string, filterPattern: string, since: number, including?: string): Promise<string | undefined> {
  const { events = [] } = await logsOf(context).send(new FilterLogEventsCommand({ logGroupName, filterPattern, startTime: since - 60_000 }));
  return events.map((e) => e.message ?? '').find((message) => !including || message.includes(including));
}
