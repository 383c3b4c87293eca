/**
 * What the caching strategies need from a cache, whatever the engine: Valkey/Redis OSS (valkey-cache.ts) or Memcached
 * (memcached-cache.ts). Values are strings (the strategies store JSON); every TTL is in whole seconds, as both engines
 * take it.
 */
export interface Cache {
  /** The engine, for what the function reports: `valkey` or `memcached`. */
  readonly engine: string;
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlSeconds`, replacing what was there. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Stores `value` only if `key` is absent (Valkey `SET NX`, Memcached `add`); true when it was stored. */
  add(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Deletes `key` only if it holds `expected`, atomically (Valkey: a Lua script of GET and DEL; Memcached: `gets`, then
   * `cas` with an expired time); true when it was deleted.
   */
  deleteIfEquals(key: string, expected: string): Promise<boolean>;
  /** Closes the connection; the next call opens a new one. */
  close(): void;
}

/** How long a cache call may take before the strategies give up on the cache and answer from the database. */
export interface CacheTimeouts {
  /** Opening the connection (TCP, then TLS), in milliseconds. */
  readonly connectTimeoutMs: number;
  /**
   * The handshake after it (Valkey's AUTH), in milliseconds: longer than a command, since computing an IAM token and the
   * server checking it take more than a GET.
   */
  readonly handshakeTimeoutMs: number;
  /** One command, in milliseconds. */
  readonly commandTimeoutMs: number;
}

/** Short enough that a cache that is down costs a read a fraction of a DynamoDB call's latency budget, not seconds. */
export const DEFAULT_CACHE_TIMEOUTS: CacheTimeouts = { connectTimeoutMs: 500, handshakeTimeoutMs: 1000, commandTimeoutMs: 200 };

/** The cache did not answer (refused, timed out, closed) or answered with an error. */
export class CacheUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheUnavailable';
  }
}
