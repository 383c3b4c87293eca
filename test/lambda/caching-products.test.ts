import { createServer, Server, Socket } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Cache } from '../../lambda/caching-products/cache';
import { elastiCacheIamToken, IAM_TOKEN_EXPIRES_SECONDS } from '../../lambda/caching-products/iam-auth-token';
import type { Product } from '../../lambda/caching-products';
import { cacheKey, LazyLoader, LazyLoadingOptions } from '../../lambda/caching-products/lazy-loading';
import { MemcachedCache } from '../../lambda/caching-products/memcached-cache';
import { ValkeyCache } from '../../lambda/caching-products/valkey-cache';
import { WriteThrough } from '../../lambda/caching-products/write-through';
import { closedPort, LocalCacheServer, startLocalMemcached, startLocalRedis } from '../labs/caching/local-cache-servers';
import { LocalDynamoDb, startLocalDynamoDb } from '../support/local-dynamodb';

// DynamoDB Local's JVM may take most of its 30 s start deadline on a loaded machine.
const SERVERS_START_TIMEOUT_MS = 60_000;
jest.setTimeout(20_000);

let redis: LocalCacheServer;
let memcached: LocalCacheServer;
let dynamo: LocalDynamoDb;
let documents: DynamoDBDocumentClient;
const tableName = `caching-products-${Date.now().toString(36)}`;
const opened: Cache[] = [];

beforeAll(async () => {
  [redis, memcached, dynamo] = await Promise.all([startLocalRedis(), startLocalMemcached(), startLocalDynamoDb()]);
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    }),
  );
  documents = DynamoDBDocumentClient.from(dynamo.client);
}, SERVERS_START_TIMEOUT_MS);
afterAll(async () => {
  for (const cache of opened) cache.close();
  await dynamo?.stop();
});

const valkey = (port = redis.port, timeouts?: { connectTimeoutMs: number; commandTimeoutMs: number }) => {
  const cache = new ValkeyCache({ host: '127.0.0.1', port, tls: false }, { timeouts });
  opened.push(cache);
  return cache;
};
const memcache = (port = memcached.port, timeouts?: { connectTimeoutMs: number; commandTimeoutMs: number }) => {
  const cache = new MemcachedCache({ host: '127.0.0.1', port, tls: false }, { timeouts });
  opened.push(cache);
  return cache;
};
const ENGINES = [
  ['valkey (redis-server)', () => valkey()],
  ['memcached', () => memcache()],
] as const;

// A long lock wait costs nothing (it ends when the value arrives) and keeps a loaded machine's slow loads guarded.
const OPTIONS: LazyLoadingOptions = { ttlSeconds: 60, lockTtlSeconds: 5, lockWaitMs: 5000, lockPollMs: 5 };
let ids = 0;
const newId = (what: string) => `${what} ${Date.now().toString(36)}-${++ids}`;

/** The products table on DynamoDB Local, counting the loads that reach it. */
function productsTable(delayMs = 0) {
  const counts = { loads: 0 };
  const load = async (id: string) => {
    counts.loads += 1;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return (await documents.send(new GetCommand({ TableName: tableName, Key: { id }, ConsistentRead: true }))).Item as Product | undefined;
  };
  const write = async (_id: string, product: Product) => {
    await documents.send(new PutCommand({ TableName: tableName, Item: product }));
  };
  return { counts, load, write };
}
const seed = (product: Product) => documents.send(new PutCommand({ TableName: tableName, Item: product }));

/** Ends a key's TTL on the server now (PEXPIRE 1 ms), rather than sleeping through it. */
async function expireNow(cache: ValkeyCache, key: string): Promise<void> {
  expect(await cache.command('PEXPIRE', key, '1')).toBe(1);
  await new Promise((resolve) => setTimeout(resolve, 5));
}

/** One raw command line to memcached, for what the strategies' client does not expose (meta get of a TTL). */
function memcachedLine(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.connect(memcached.port, '127.0.0.1', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk;
      if (reply.endsWith('\r\n')) {
        socket.destroy();
        resolve(reply.trim());
      }
    });
    socket.once('error', reject);
  });
}

describe.each(ENGINES)('%s client', (_name, open) => {
  test('get, set, add (only when absent) and delete', async () => {
    const cache = open();
    const key = cacheKey(newId('basic'));
    expect(await cache.get(key)).toBeUndefined();
    await cache.set(key, '{"a":"é"}', 60);
    expect(await cache.get(key)).toBe('{"a":"é"}');
    expect(await cache.add(key, 'other', 60)).toBe(false);
    expect(await cache.get(key)).toBe('{"a":"é"}');
    await cache.delete(key);
    expect(await cache.add(key, 'new', 60)).toBe(true);
    expect(await cache.get(key)).toBe('new');
  });

  test('pipelined commands get their own replies, in order', async () => {
    const cache = open();
    const keys = Array.from({ length: 20 }, (_, i) => cacheKey(newId(`pipe${i}`)));
    await Promise.all(keys.map((key, i) => cache.set(key, `value-${i}`, 60)));
    expect(await Promise.all(keys.map((key) => cache.get(key)))).toEqual(keys.map((_, i) => `value-${i}`));
  });

  test('a concurrent stampede of misses from 8 processes is served by one load; the others read its value', async () => {
    const id = newId('stampede');
    await seed({ id, name: 'hot product', priceCents: 100 });
    const table = productsTable(100);
    // Eight execution environments: a loader and a connection each, as concurrent Lambda invocations have.
    const loaders = Array.from({ length: 8 }, () => new LazyLoader(open(), table.load, OPTIONS));
    const reads = await Promise.all(loaders.map((loader) => loader.read(id)));
    expect(table.counts.loads).toBe(1);
    expect(reads.filter((r) => r.loaded)).toHaveLength(1);
    expect(reads.map((r) => r.value?.name)).toEqual(Array(8).fill('hot product'));
    expect(reads.filter((r) => r.source === 'cache')).toHaveLength(7);
  });

  test('without the lock key, the same stampede loads once per process', async () => {
    const id = newId('unguarded');
    await seed({ id, name: 'hot product', priceCents: 100 });
    const table = productsTable(100);
    // A lock that is never won stands for the guard removed: every loader waits 0 ms, then loads itself.
    const loaders = Array.from({ length: 8 }, () => new LazyLoader(open(), table.load, { ...OPTIONS, lockWaitMs: 0 }));
    const lockHeld = open();
    await lockHeld.set(`${cacheKey(id)}:lock`, '1', 5);
    await Promise.all(loaders.map((loader) => loader.read(id)));
    expect(table.counts.loads).toBe(8);
  });

  test('in one process, concurrent reads of a key share one load (single flight)', async () => {
    const id = newId('single-flight');
    await seed({ id, name: 'shared', priceCents: 5 });
    const table = productsTable(50);
    const loader = new LazyLoader(open(), table.load, OPTIONS);
    const reads = await Promise.all(Array.from({ length: 5 }, () => loader.read(id)));
    expect(table.counts.loads).toBe(1);
    expect(reads.map((r) => r.value?.priceCents)).toEqual([5, 5, 5, 5, 5]);
  });

  test('write-through: the read after an update returns the new value from the cache', async () => {
    const id = newId('write-through');
    await seed({ id, name: 'v1', priceCents: 1 });
    const table = productsTable();
    const cache = open();
    const loader = new LazyLoader(cache, table.load, OPTIONS);
    expect((await loader.read(id)).source).toBe('database');
    expect((await loader.read(id)).source).toBe('cache');
    expect(await new WriteThrough(cache, table.write, OPTIONS).put(id, { id, name: 'v2', priceCents: 2 })).toEqual({ cache: 'updated' });
    const after = await loader.read(id);
    expect(after).toMatchObject({ source: 'cache', value: { name: 'v2', priceCents: 2 } });
    expect(table.counts.loads).toBe(1);
    expect((await documents.send(new GetCommand({ TableName: tableName, Key: { id } }))).Item?.name).toBe('v2');
  });

  test('a missing item is not cached: each read looks in the database again', async () => {
    const table = productsTable();
    const loader = new LazyLoader(open(), table.load, OPTIONS);
    const id = newId('missing');
    expect(await loader.read(id)).toMatchObject({ value: undefined, source: 'database' });
    expect(await loader.read(id)).toMatchObject({ value: undefined, source: 'database' });
    expect(table.counts.loads).toBe(2);
  });
});

describe('TTL', () => {
  test('valkey: a value is stored with the TTL asked for and is gone once it expires on the server', async () => {
    const cache = valkey();
    const key = cacheKey(newId('ttl'));
    await cache.set(key, 'x', 30);
    const ttl = (await cache.command('TTL', key)) as number;
    expect(ttl).toBeGreaterThan(28);
    expect(ttl).toBeLessThanOrEqual(30);
    await expireNow(cache, key);
    expect(await cache.get(key)).toBeUndefined();
  });

  test('memcached: a value is stored with the TTL asked for, and a 1 s TTL expires', async () => {
    const cache = memcache();
    const key = cacheKey(newId('ttl'));
    await cache.set(key, 'x', 30);
    const meta = await memcachedLine(`mg ${key} t`);
    const remaining = Number(/t(\d+)/.exec(meta)?.[1]);
    expect(remaining).toBeGreaterThan(28);
    expect(remaining).toBeLessThanOrEqual(30);
    await cache.set(key, 'short', 1);
    expect(await cache.get(key)).toBe('short');
    // Memcached's clock ticks in whole seconds: a 1 s TTL ends within 2 s.
    const deadline = Date.now() + 2500;
    while ((await cache.get(key)) !== undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await cache.get(key)).toBeUndefined();
  });

  test('lazy loading: after an update the old value is served until its TTL ends, then the new one', async () => {
    const id = newId('stale');
    await seed({ id, name: 'old', priceCents: 1 });
    const table = productsTable();
    const cache = valkey();
    const loader = new LazyLoader(cache, table.load, OPTIONS);
    await loader.read(id);
    await table.write(id, { id, name: 'new', priceCents: 2 });
    expect(await loader.read(id)).toMatchObject({ source: 'cache', value: { name: 'old' } });
    await expireNow(cache, cacheKey(id));
    expect(await loader.read(id)).toMatchObject({ source: 'database', value: { name: 'new' } });
  });
});

describe('the cache down', () => {
  let silent: Server;
  const held: Socket[] = [];
  beforeAll(async () => {
    // A server that accepts connections and never answers: a cache that hangs rather than refuses.
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });
  const silentPort = () => (silent.address() as { port: number }).port;
  const SHORT = { connectTimeoutMs: 200, commandTimeoutMs: 100 };

  test.each([
    ['valkey, refused', async () => valkey(await closedPort(), SHORT)],
    ['memcached, refused', async () => memcache(await closedPort(), SHORT)],
    ['valkey, no reply', async () => valkey(silentPort(), SHORT)],
    ['memcached, no reply', async () => memcache(silentPort(), SHORT)],
  ])('%s: reads answer from DynamoDB within the timeouts, saying why', async (_name, open) => {
    const id = newId('down');
    await seed({ id, name: 'from the table', priceCents: 3 });
    const table = productsTable();
    const loader = new LazyLoader(await open(), table.load, OPTIONS);
    const started = Date.now();
    const read = await loader.read(id);
    expect(read).toMatchObject({ source: 'database', loaded: true, value: { name: 'from the table' } });
    expect(read.cacheError).toMatch(/connect|reply|closed/);
    expect(Date.now() - started).toBeLessThan(SHORT.connectTimeoutMs + SHORT.commandTimeoutMs + 1000);
    expect(table.counts.loads).toBe(1);
  });

  test('write-through still writes the database, and reports the cache it could not update', async () => {
    const id = newId('down-write');
    const table = productsTable();
    const written = await new WriteThrough(valkey(await closedPort(), SHORT), table.write, OPTIONS).put(id, { id, name: 'saved', priceCents: 4 });
    expect(written.cache).toBe('skipped');
    expect(written.cacheError).toMatch(/connect/);
    expect((await documents.send(new GetCommand({ TableName: tableName, Key: { id } }))).Item?.name).toBe('saved');
  });

  test('a cache that comes back is used again: the next command reconnects', async () => {
    const cache = valkey();
    const key = cacheKey(newId('reconnect'));
    await cache.set(key, 'kept', 60);
    cache.close();
    expect(await cache.get(key)).toBe('kept');
  });
});

test('an ElastiCache IAM token is a presigned connect request for the cache and user, valid 15 minutes', async () => {
  const token = await elastiCacheIamToken(
    { cacheName: 'cachinglab-products', userId: 'products-fn', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' } },
    new Date('2026-12-03T08:00:00Z'),
  );
  const [host, query] = token.split('/?');
  expect(host).toBe('cachinglab-products');
  const params = new URLSearchParams(query);
  expect(params.get('Action')).toBe('connect');
  expect(params.get('User')).toBe('products-fn');
  expect(params.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
  expect(params.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261203/us-east-1/elasticache/aws4_request');
  expect(params.get('X-Amz-Expires')).toBe(String(IAM_TOKEN_EXPIRES_SECONDS));
  expect(params.get('X-Amz-Security-Token')).toBe('session');
  expect(params.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  expect(token).not.toMatch(/^https?:/);
});
