/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** Figures of the caching lab: short TTLs, so the stale read window shows within a minute. */
export const CACHING_LAB = {
  /** How long the function keeps a product in the cache (lazy loading and write-through alike). */
  cacheTtlSeconds: 10,
  /** The lock key of a miss (stampede guard): longer than a DynamoDB read, short enough to free a crashed loader. */
  lockTtlSeconds: 2,
  /**
   * How long a reader that lost the lock waits for the winner's value, and how often it looks, in milliseconds. As long
   * as the lock lives: a first load in a cold VPC function (DynamoDB client set-up, TLS) can take over 500 ms, and the
   * wait ends as soon as the value arrives, so a long one costs nothing when the winner is quick.
   */
  lockWaitMs: 2000,
  lockPollMs: 20,
  /** The smallest current node types, and the DAX one; their idle prices are in labs/support/cost.ts. */
  cacheNodeType: 'cache.t4g.micro',
  daxNodeType: 'dax.t3.small',
  /** DAX's port for TLS-encrypted cluster endpoints (8111 is the unencrypted one). */
  daxTlsPort: 9111,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Products the hit-ratio steps read, and how many times each. */
    products: 5,
    readsPerProduct: 4,
    /** Concurrent invocations of the stampede step. */
    stampedeReaders: 8,
    /** How often the stale-window step reads while it waits for the new value, in milliseconds. */
    stalePollMs: 500,
    /** How long past the TTL the stale-window step waits for the new value before failing, in seconds. */
    staleSlackSeconds: 5,
  },
} as const;
