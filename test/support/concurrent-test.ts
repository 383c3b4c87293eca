/**
 * `test.concurrent` for tests that mostly wait (long polls, visibility windows, TTLs) and share nothing: a file's
 * concurrent tests start together, beside its other tests. Each must make what it uses (queues, lines, alterations)
 * and not rely on beforeEach/afterEach, which jest runs around a concurrent test only after it has started.
 * Under Stryker (`npm run mutate`) they run one at a time: its per-test coverage credits the test jest started last,
 * so tests running at once would be credited with each other's coverage.
 */
export const concurrentTest: typeof test.concurrent = process.env.STRYKER_MUTATOR_WORKER ? (test as unknown as typeof test.concurrent) : test.concurrent;
