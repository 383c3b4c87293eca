import { Cache } from './cache';
import { cacheKey } from './lazy-loading';

/** What a write did to the cache: `updated`, or `skipped` with why (no cache, or the cache failed). */
export interface CachedWrite {
  readonly cache: 'updated' | 'invalidated' | 'skipped';
  readonly cacheError?: string;
}

/**
 * Write-through: a write goes to the database first, then its new value to the cache with a TTL, so a reader finds
 * the new value at once. The TTL still matters: it evicts values nobody reads (write-through caches everything
 * written) and bounds how long an entry can be wrong if the cache write fails after the database write. On that
 * failure the entry is deleted when the cache still answers; when it does not, the TTL is the bound.
 */
export class WriteThrough<T> {
  constructor(
    private readonly cache: Cache | undefined,
    private readonly write: (id: string, value: T) => Promise<void>,
    private readonly options: { readonly ttlSeconds: number },
  ) {}

  async put(id: string, value: T): Promise<CachedWrite> {
    await this.write(id, value);
    if (!this.cache) return { cache: 'skipped' };
    const key = cacheKey(id);
    try {
      await this.cache.set(key, JSON.stringify(value), this.options.ttlSeconds);
      return { cache: 'updated' };
    } catch (error) {
      const cacheError = (error as Error).message;
      try {
        await this.cache.delete(key);
        return { cache: 'invalidated', cacheError };
      } catch {
        return { cache: 'skipped', cacheError };
      }
    }
  }
}
