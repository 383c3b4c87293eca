import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { backoffCeiling, backoffDelay, backoffSchedule, fetchWithRetry, isRetryable } from '../../../labs/iam-sts/backoff';

/** A deterministic stand-in for Math.random. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

test('the ceiling doubles from the base and stops at the cap', () => {
  expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffCeiling(a, { baseMs: 100, capMs: 2_000 }))).toEqual([100, 200, 400, 800, 1_600, 2_000, 2_000, 2_000]);
  // The notes' fixed schedule is the ceiling without jitter: 1, 2, 4, 8 s.
  expect(backoffSchedule(4, { baseMs: 1_000, capMs: 60_000, jitter: 'none' })).toEqual([1_000, 2_000, 4_000, 8_000]);
});

test('full jitter stays within [0, ceiling] and uses the whole range', () => {
  expect(backoffDelay(3, { baseMs: 100, random: () => 0 })).toBe(0);
  expect(backoffDelay(3, { baseMs: 100, random: () => 0.999 })).toBeCloseTo(799.2);
  const delays = Array.from({ length: 2_000 }, (_, i) => backoffDelay(i % 8, { baseMs: 100, capMs: 5_000 }));
  delays.forEach((d, i) => {
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(backoffCeiling(i % 8, { baseMs: 100, capMs: 5_000 }));
  });
  const lastRetry = delays.filter((_, i) => i % 8 === 7);
  expect(Math.min(...lastRetry)).toBeLessThan(500);
  expect(Math.max(...lastRetry)).toBeGreaterThan(4_500);
});

test('jitter spreads clients that failed together; without it they retry in lockstep', () => {
  const clients = Array.from({ length: 50 }, () => backoffSchedule(3, { baseMs: 100 }));
  expect(new Set(clients.map((c) => c.join())).size).toBe(50);
  const lockstep = Array.from({ length: 50 }, () => backoffSchedule(3, { baseMs: 100, jitter: 'none' }));
  expect(new Set(lockstep.map((c) => c.join())).size).toBe(1);
});

test('equal jitter keeps at least half the ceiling', () => {
  expect(backoffSchedule(3, { baseMs: 100, jitter: 'equal', random: sequence(0, 0.5, 0.999) })).toEqual([50, 150, expect.closeTo(399.8, 1)]);
});

test('bad input gives a clear error', () => {
  expect(() => backoffDelay(0, { baseMs: 0 })).toThrow('baseMs must be above 0, got 0');
  expect(() => backoffDelay(0, { baseMs: 100, capMs: 50 })).toThrow('capMs must be at least baseMs (100), got 50');
  expect(() => backoffCeiling(-1)).toThrow('attempt must be a whole number from 0, got -1');
  expect(() => backoffSchedule(1.5)).toThrow('retries must be a whole number from 0, got 1.5');
  expect(() => backoffDelay(0, { jitter: 'decorrelated' as never })).toThrow('jitter must be none, full or equal, got decorrelated');
});

test('retries throttling and server errors only', () => {
  expect([200, 400, 403, 404, 429, 500, 503].map(isRetryable)).toEqual([false, false, false, false, true, true, true]);
});

describe('fetchWithRetry', () => {
  let statuses: number[] = [];
  let requests = 0;
  const server = createServer((_req, res) => {
    const status = statuses[requests] ?? 200;
    requests += 1;
    res.writeHead(status);
    res.end(String(status));
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (requests = 0));
  const noWait = { sleep: async () => undefined };

  test('retries 503 and 429 with jittered delays, then returns the success', async () => {
    statuses = [503, 429, 200];
    const outcome = await fetchWithRetry(url, { ...noWait, maxAttempts: 5, backoff: { baseMs: 100, random: sequence(0.5) } });
    expect([outcome.response.status, outcome.attempts, outcome.delays]).toEqual([200, 3, [50, 100]]);
  });

  test('gives up after maxAttempts and returns the last failure', async () => {
    statuses = [500, 500, 500, 500];
    const outcome = await fetchWithRetry(url, { ...noWait, maxAttempts: 3 });
    expect([outcome.response.status, outcome.attempts, requests]).toEqual([500, 3, 3]);
  });

  test('does not retry a client error', async () => {
    statuses = [403];
    const outcome = await fetchWithRetry(url, { ...noWait, maxAttempts: 3 });
    expect([outcome.response.status, outcome.attempts]).toEqual([403, 1]);
  });

  test('refuses maxAttempts below 1', async () => {
    await expect(fetchWithRetry(url, { maxAttempts: 0 })).rejects.toThrow('maxAttempts must be a whole number from 1, got 0');
  });
});
