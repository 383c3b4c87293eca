import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

// Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
// No Powertools Tracer: it bundles the X-Ray SDK (about 120 KB minified, more than the whole function may weigh).
// Active tracing on the function is enough for X-Ray to record every invocation, and Logger writes the trace id
// (`xray_trace_id`) on every line, so a log line leads to its trace.
const logger = new Logger();
const metrics = new Metrics();

/** What the lab sends. `fail: true` makes every attempt throw, to watch asynchronous retries end in the DLQ. */
export interface GreetingEvent {
  name?: string;
  fail?: boolean;
  /** Marks the exercise's invocations, so a check never mistakes an earlier run's record for its own. */
  runId?: string;
}

export interface Greeting {
  message: string;
  /** The version that ran: `$LATEST` or a number. Through an alias, it shows which version the alias routed to. */
  version: string;
  /** The release baked into this version's configuration (environment variable RELEASE). */
  release: string;
  runId?: string;
}

/** The event is not what the function understands: a caller error, reported as a function error. */
export class InvalidGreetingEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGreetingEvent';
  }
}

/** Thrown on purpose when the event asks for it (`fail: true`). */
export class DeliberateFailure extends Error {
  constructor(runId: string | undefined) {
    super(`failing on purpose (runId ${runId ?? 'none'})`);
    this.name = 'DeliberateFailure';
  }
}

export function parseEvent(event: unknown): GreetingEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidGreetingEvent('the event must be a JSON object');
  }
  const { name, fail, runId } = event as Record<string, unknown>;
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 100)) {
    throw new InvalidGreetingEvent('name must be a string of 1–100 characters');
  }
  if (fail !== undefined && typeof fail !== 'boolean') throw new InvalidGreetingEvent('fail must be true or false');
  if (runId !== undefined && typeof runId !== 'string') throw new InvalidGreetingEvent('runId must be a string');
  return { name, fail, runId } as GreetingEvent;
}

export function greet(event: GreetingEvent, version: string, env: NodeJS.ProcessEnv = process.env): Greeting {
  if (event.fail) throw new DeliberateFailure(event.runId);
  const greeting = env.GREETING ?? 'Hello';
  return { message: `${greeting}, ${event.name ?? 'world'}!`, version, release: env.RELEASE ?? 'unknown', runId: event.runId };
}

/**
 * Greets, reporting the version that ran. Logs as JSON with the X-Ray trace id (Powertools Logger) and emits a
 * `Greetings` or `DeliberateFailures` metric in the embedded metric format (Powertools Metrics: no PutMetricData call
 * needed). X-Ray traces the invocation through the function's active tracing, without an SDK in the bundle.
 */
export async function handler(event: unknown, context: Context): Promise<Greeting> {
  logger.addContext(context);
  logger.appendKeys({ version: context.functionVersion, release: process.env.RELEASE });
  metrics.addDimension('version', context.functionVersion);
  try {
    const greeting = greet(parseEvent(event), context.functionVersion);
    metrics.addMetric('Greetings', MetricUnit.Count, 1);
    logger.info('greeted', { runId: greeting.runId });
    return greeting;
  } catch (error) {
    metrics.addMetric(error instanceof DeliberateFailure ? 'DeliberateFailures' : 'InvalidEvents', MetricUnit.Count, 1);
    logger.error('invocation failed', error as Error);
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
