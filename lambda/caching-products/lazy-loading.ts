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
 * stores, and load it themselves only if it has not come within `lockWaitMs`. A cache that fails at any point is left
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
    let loaded: { value: T | undefined } | undefined;
    try {
      const cached = await cache.get(key);
      if (cached !== undefined) return { value: JSON.parse(cached) as T, source: 'cache', loaded: false };
      const lockKey = `${key}:lock`;
      if (!(await cache.add(lockKey, '1', this.options.lockTtlSeconds))) {
        const waited = await this.waitForValue(cache, key);
        if (waited !== undefined) return { value: JSON.parse(waited) as T, source: 'cache', loaded: false };
      }
      loaded = { value: await this.load(id) };
      // A missing item is not cached: the next read looks again, and the lock keeps that to one load at a time.
      if (loaded.value !== undefined) await cache.set(key, JSON.stringify(loaded.value), this.options.ttlSeconds);
      await cache.delete(lockKey);
      return { value: loaded.value, source: 'database', loaded: true };
    } catch (error) {
      // A load that already happened is not repeated because the cache failed after it.
      const value = loaded ? loaded.value : await this.load(id);
      return { value, source: 'database', loaded: true, cacheError: (error as Error).message };
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

/** The cache key of an item id: printable, without spaces, as Memcached requires. */
export const cacheKey = (id: string) => `product:${encodeURIComponent(id)}`;
