import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Cache, CacheTimeouts, DEFAULT_CACHE_TIMEOUTS } from './cache';
import { elastiCacheIamToken } from './iam-auth-token';
import { CachedRead, LazyLoader } from './lazy-loading';
import { MemcachedCache } from './memcached-cache';
import { ValkeyCache } from './valkey-cache';
import { CachedWrite, WriteThrough } from './write-through';

/** An item of the products table. */
export interface Product {
  readonly id: string;
  readonly name: string;
  readonly priceCents: number;
}

/** How a write treats the cache: `lazy-loading` leaves it alone (readers see the old value until its TTL ends). */
export type WriteStrategy = 'lazy-loading' | 'write-through';

export type ProductRequest =
  | { readonly action: 'read'; readonly id: string; readonly engine?: string }
  | { readonly action: 'write'; readonly product: Product; readonly strategy: WriteStrategy; readonly engine?: string };

export interface ProductResponse {
  readonly id: string;
  /** The engine that served the call, or `none` when the function has no cache. */
  readonly engine: string;
  readonly product?: Product;
  readonly source?: CachedRead<Product>['source'];
  readonly loaded?: boolean;
  readonly cache?: CachedWrite['cache'];
  readonly cacheError?: string;
  /** How long the read or write took inside the function, in milliseconds. */
  readonly elapsedMs: number;
  /** The cache TTL the function uses, in seconds: the longest stale read window of lazy loading. */
  readonly ttlSeconds: number;
}

/** Settings from the function's environment (see the lab's stack). */
function environment(name: string): string | undefined {
  return process.env[name] || undefined;
}

function required(name: string): string {
  const value = environment(name);
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** The cache's timeouts: the defaults, or CACHE_*_TIMEOUT_MS where set (a test machine busy with other tests). */
function timeoutsFromEnvironment(): CacheTimeouts {
  const orDefault = (name: string, fallback: number) => Number(environment(name) ?? fallback);
  return {
    connectTimeoutMs: orDefault('CACHE_CONNECT_TIMEOUT_MS', DEFAULT_CACHE_TIMEOUTS.connectTimeoutMs),
    handshakeTimeoutMs: orDefault('CACHE_HANDSHAKE_TIMEOUT_MS', DEFAULT_CACHE_TIMEOUTS.handshakeTimeoutMs),
    commandTimeoutMs: orDefault('CACHE_COMMAND_TIMEOUT_MS', DEFAULT_CACHE_TIMEOUTS.commandTimeoutMs),
  };
}

/** The caches this function is configured for, by engine; none when the lab runs without ElastiCache. */
function cachesFromEnvironment(): Map<string, Cache> {
  const caches = new Map<string, Cache>();
  const tls = environment('CACHE_TLS') !== 'false';
  const timeouts = timeoutsFromEnvironment();
  const valkeyHost = environment('VALKEY_HOST');
  if (valkeyHost) {
    const user = environment('VALKEY_USER');
    const cacheName = environment('VALKEY_CACHE_NAME');
    caches.set(
      'valkey',
      new ValkeyCache(
        { host: valkeyHost, port: Number(environment('VALKEY_PORT') ?? 6379), tls },
        {
          timeouts,
          auth:
            user && cacheName
              ? {
                  user,
                  password: () =>
                    elastiCacheIamToken({
                      cacheName,
                      userId: user,
                      region: required('AWS_REGION'),
                      credentials: {
                        accessKeyId: required('AWS_ACCESS_KEY_ID'),
                        secretAccessKey: required('AWS_SECRET_ACCESS_KEY'),
                        sessionToken: environment('AWS_SESSION_TOKEN'),
                      },
                    }),
                }
              : undefined,
        },
      ),
    );
  }
  const memcachedHost = environment('MEMCACHED_HOST');
  if (memcachedHost) caches.set('memcached', new MemcachedCache({ host: memcachedHost, port: Number(environment('MEMCACHED_PORT') ?? 11211), tls }, { timeouts }));
  return caches;
}

interface Strategies {
  readonly engine: string;
  readonly loader: LazyLoader<Product>;
  readonly writer: WriteThrough<Product>;
}

/** Everything the handler keeps between invocations of one execution environment: clients and connections. */
function setUp() {
  const tableName = required('TABLE_NAME');
  const ttlSeconds = Number(environment('CACHE_TTL_SECONDS') ?? 60);
  const client = new DynamoDBClient({});
  const documents = DynamoDBDocumentClient.from(client);
  // Strongly consistent: the stale window the exercise measures is the cache's alone, not DynamoDB's as well.
  const load = async (id: string) =>
    (await documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }))).Item as Product | undefined;
  const write = async (_id: string, product: Product) => {
    await documents.send(new PutCommand({ TableName: tableName, Item: product }));
  };
  const options = {
    ttlSeconds,
    lockTtlSeconds: Number(environment('CACHE_LOCK_TTL_SECONDS') ?? 2),
    lockWaitMs: Number(environment('CACHE_LOCK_WAIT_MS') ?? 2000),
    lockPollMs: Number(environment('CACHE_LOCK_POLL_MS') ?? 20),
  };
  const strategies = new Map<string, Strategies>();
  const caches = cachesFromEnvironment();
  for (const [engine, cache] of caches) {
    strategies.set(engine, { engine, loader: new LazyLoader(cache, load, options), writer: new WriteThrough(cache, write, options) });
  }
  const none: Strategies = { engine: 'none', loader: new LazyLoader(undefined, load, options), writer: new WriteThrough(undefined, write, options) };
  return {
    write,
    ttlSeconds,
    strategiesFor(engine: string | undefined): Strategies {
      if (engine === undefined) return strategies.values().next().value ?? none;
      const chosen = strategies.get(engine);
      if (!chosen) throw new Error(`this function has no ${engine} cache (configured: ${[...strategies.keys()].join(', ') || 'none'})`);
      return chosen;
    },
    close(): void {
      for (const cache of caches.values()) cache.close();
      client.destroy();
    },
  };
}

/** The handler of one execution environment; `close` ends its connections (a test or script that is done with it). */
export interface ProductsHandler {
  (request: ProductRequest): Promise<ProductResponse>;
  close(): void;
}

/**
 * A handler with state of its own: what one Lambda execution environment has. Reads a product through lazy loading,
 * or writes one with the strategy asked for, through the cache of the engine asked for (the first configured one by
 * default). A cache that is down or slow is left out within its short timeouts: the function still answers from
 * DynamoDB and says why in `cacheError`. The environment is read on the first call.
 */
export function createHandler(): ProductsHandler {
  let state: ReturnType<typeof setUp> | undefined;
  const handle = async (request: ProductRequest): Promise<ProductResponse> => {
    state ??= setUp();
    const { engine, loader, writer } = state.strategiesFor(request.engine);
    const ttlSeconds = state.ttlSeconds;
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
    if (request.action === 'read') {
      const read = await loader.read(request.id);
      return { id: request.id, engine, product: read.value, source: read.source, loaded: read.loaded, cacheError: read.cacheError, elapsedMs: elapsed(), ttlSeconds };
    }
    const { product, strategy } = request;
    if (strategy === 'write-through') {
      const written = await writer.put(product.id, product);
      return { id: product.id, engine, cache: written.cache, cacheError: written.cacheError, elapsedMs: elapsed(), ttlSeconds };
    }
    await state.write(product.id, product);
    return { id: product.id, engine, cache: 'skipped', elapsedMs: elapsed(), ttlSeconds };
  };
  return Object.assign(handle, {
    close: () => {
      state?.close();
      state = undefined;
    },
  });
}

export const handler = createHandler();
