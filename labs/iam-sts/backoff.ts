/**
 * Exponential backoff with jitter for calls the SDK does not retry for you (a raw HTTP call, a webhook): wait a random
 * time in [0, min(cap, base × 2^attempt)] ("full jitter") before retrying a throttled (429) or failed (5xx) request,
 * so that many clients failing together do not retry together. The SDK's standard retry mode does the same, with a
 * 100 ms base (500 ms after throttling errors), a 20 s cap and 3 attempts by default.
 */
export type JitterStrategy = 'none' | 'full' | 'equal';

export interface BackoffOptions {
  /** First delay ceiling, in ms. @default 100 */
  readonly baseMs?: number;
  /** No delay above this, in ms. @default 20_000 */
  readonly capMs?: number;
  /** @default 'full' */
  readonly jitter?: JitterStrategy;
  /** Source of randomness in [0, 1): inject one for reproducible tests. @default Math.random */
  readonly random?: () => number;
}

export class BackoffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackoffError';
  }
}

function validated(options: BackoffOptions): Required<BackoffOptions> {
  const resolved = { baseMs: 100, capMs: 20_000, jitter: 'full' as JitterStrategy, random: Math.random, ...options };
  if (!(resolved.baseMs > 0)) throw new BackoffError(`baseMs must be above 0, got ${resolved.baseMs}`);
  if (!(resolved.capMs >= resolved.baseMs)) throw new BackoffError(`capMs must be at least baseMs (${resolved.baseMs}), got ${resolved.capMs}`);
  if (!['none', 'full', 'equal'].includes(resolved.jitter)) throw new BackoffError(`jitter must be none, full or equal, got ${resolved.jitter}`);
  return resolved;
}

/** The ceiling of the delay before retry number `attempt` (0 = before the first retry): min(cap, base × 2^attempt). */
export function backoffCeiling(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs, capMs } = validated(options);
  if (!Number.isInteger(attempt) || attempt < 0) throw new BackoffError(`attempt must be a whole number from 0, got ${attempt}`);
  return Math.min(capMs, baseMs * 2 ** attempt);
}

/** The delay before retry number `attempt`, in ms. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const resolved = validated(options);
  const ceiling = backoffCeiling(attempt, resolved);
  const r = resolved.random();
  if (resolved.jitter === 'none') return ceiling;
  if (resolved.jitter === 'equal') return ceiling / 2 + r * (ceiling / 2);
  return r * ceiling;
}

/** The delays before each of `retries` retries. */
export function backoffSchedule(retries: number, options: BackoffOptions = {}): number[] {
  if (!Number.isInteger(retries) || retries < 0) throw new BackoffError(`retries must be a whole number from 0, got ${retries}`);
  return Array.from({ length: retries }, (_, attempt) => backoffDelay(attempt, options));
}

/** Status codes worth retrying: throttling and server errors. */
export const isRetryable = (status: number) => status === 429 || status >= 500;

export interface RetryOutcome {
  readonly response: Response;
  readonly attempts: number;
  /** Delays waited before each retry, in ms. */
  readonly delays: number[];
}

/** fetch with up to `maxAttempts` attempts, waiting a jittered exponential backoff after each retryable failure. */
export async function fetchWithRetry(
  url: string | URL,
  init: RequestInit & { maxAttempts?: number; backoff?: BackoffOptions; sleep?: (ms: number) => Promise<void> } = {},
): Promise<RetryOutcome> {
  const { maxAttempts = 3, backoff = {}, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), ...request } = init;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new BackoffError(`maxAttempts must be a whole number from 1, got ${maxAttempts}`);
  const delays: number[] = [];
  for (let attempt = 1; ; attempt += 1) {
    let response: Response | undefined;
    let failure: unknown;
    try {
      response = await fetch(url, request);
    } catch (error) {
      failure = error; // a network error is worth a retry too
    }
    const retryable = response === undefined || isRetryable(response.status);
    if (!retryable || attempt === maxAttempts) {
      if (response) return { response, attempts: attempt, delays };
      throw failure;
    }
    await response?.arrayBuffer();
    const delay = backoffDelay(attempt - 1, backoff);
    delays.push(delay);
    await sleep(delay);
  }
}
