import { randomUUID } from 'node:crypto';
import { Cache } from './cache';

/** Where a read's answer came from. `database` after a cache failure carries the failure in `cacheError`. */
export interface CachedRead<T> {
  readonly value: T | undefined;
  readonly source: 'cache' | 'database';
  /** True when this call loaded the value from the database (a miss it was first to, or a cache failure). */
  readonly loaded: boolean;
  readonly cacheError?: string;
}

export interface LazyLoadingOptions {
  /** How long a loaded value stays in the cache: the longest a reader may see it after the database changed. */
  readonly ttlSeconds: number;
  /** How long the lock key of a miss lives: longer than a load takes, short enough that a crashed loader frees it. */
  readonly lockTtlSeconds: number;
  /** How long a reader that lost the lock waits for the winner's value before loading it itself, in milliseconds. */
  readonly lockWaitMs: number;
  /** How often it looks for that value meanwhile, in milliseconds. */
  readonly lockPollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lazy loading (cache-aside): a read looks in the cache first, and on a miss loads from the database and stores the
 * value for `ttlSeconds`. Writes do not touch the cache here, so a reader may see the old value until its TTL ends:
 * the stale read window the TTL bounds.
 *
 * The stampede guard is in two layers. Concurrent misses of one key in this process share one load (single flight).
 * Across processes (Lambda runs one request per execution environment, so concurrent misses are in different ones), the
 * first miss takes a short lock key in the cache (`SET NX` / `add`); the others poll the cache for the value it
 * stores, and load it themselves only if it has not come within `lockWaitMs`. A missing item is cached as a tombstone
 * for the lock's TTL, so that readers of a missing id do not bypass the guard. A cache that fails at any point is left
 * out: the read answers from the database.
 */
export class LazyLoader<T> {
  private readonly inFlight = new Map<string, Promise<CachedRead<T>>>();

  constructor(
    private readonly cache: Cache | undefined,
    private readonly load: (id: string) => Promise<T | undefined>,
    private readonly options: LazyLoadingOptions,
  ) {}

  async read(id: string): Promise<CachedRead<T>> {
    const running = this.inFlight.get(id);
    if (running) return { ...(await running), loaded: false };
    const read = this.readOnce(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, read);
    return read;
  }

  private async readOnce(id: string): Promise<CachedRead<T>> {
    const cache = this.cache;
    if (!cache) return { value: await this.load(id), source: 'database', loaded: true };
    const key = cacheKey(id);
    const lockKey = `${key}:lock`;
    // Only cache calls are guarded: the first failure is kept and leaves the cache out for the rest of the read, while a
    // database error propagates (it is not a cache error, and loading again would not help).
    let cacheError: string | undefined;
    const guarded = async <R>(call: () => Promise<R>): Promise<R | undefined> => {
      if (cacheError !== undefined) return undefined;
      try {
        return await call();
      } catch (error) {
        cacheError = (error as Error).message;
        return undefined;
      }
    };
    const cached = await guarded(() => cache.get(key));
    if (cached !== undefined) return { value: fromCache<T>(cached), source: 'cache', loaded: false };
    // A random token: the lock is released only by its owner, not by a slow loader whose lock expired and was retaken.
    const token = randomUUID();
    const locked = await guarded(() => cache.add(lockKey, token, this.options.lockTtlSeconds));
    if (locked === false) {
      const waited = await guarded(() => this.waitForValue(cache, key));
      if (waited !== undefined) return { value: fromCache<T>(waited), source: 'cache', loaded: false };
    }
    try {
      // Checked again under the lock: another reader may have loaded the value and released the lock between the miss
      // above and this lock, which would otherwise be a second load.
      const loadedMeanwhile = locked ? await guarded(() => cache.get(key)) : undefined;
      if (loadedMeanwhile !== undefined) return { value: fromCache<T>(loadedMeanwhile), source: 'cache', loaded: false };
      const value = await this.load(id);
      // A missing item is cached too, as a short-lived tombstone: readers of an id that does not exist are served by one
      // load per lock TTL rather than each going to the database.
      if (value === undefined) await guarded(() => cache.set(key, MISSING, this.options.lockTtlSeconds));
      else await guarded(() => cache.set(key, JSON.stringify(value), this.options.ttlSeconds));
      return { value, source: 'database', loaded: true, cacheError };
    } finally {
      if (locked) await guarded(() => cache.deleteIfEquals(lockKey, token));
    }
  }

  private async waitForValue(cache: Cache, key: string): Promise<string | undefined> {
    const deadline = Date.now() + this.options.lockWaitMs;
    while (Date.now() < deadline) {
      await sleep(this.options.lockPollMs);
      const value = await cache.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }
}

/** What the cache holds for an id the database does not have: JSON `null`, which no stored item serializes to. */
const MISSING = 'null';

const fromCache = <T>(cached: string): T | undefined => (cached === MISSING ? undefined : (JSON.parse(cached) as T));

/** The cache key of an item id: printable, without spaces, as Memcached requires. */
export const cacheKey = (id: string) => `product:${encodeURIComponent(id)}`;
