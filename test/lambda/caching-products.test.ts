import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectionOptions, createServer as createTlsServer, Server as TlsServer, TLSSocket } from 'node:tls';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Cache, CacheTimeouts, CacheUnavailable, DEFAULT_CACHE_TIMEOUTS } from '../../lambda/caching-products/cache';
import { elastiCacheIamToken, IAM_TOKEN_EXPIRES_SECONDS } from '../../lambda/caching-products/iam-auth-token';
import type { Product } from '../../lambda/caching-products';
import { cacheKey, LazyLoader, LazyLoadingOptions } from '../../lambda/caching-products/lazy-loading';
import { MemcachedCache } from '../../lambda/caching-products/memcached-cache';
import { createHandler } from '../../lambda/caching-products';
import { encodeCommand, parseReply, ValkeyAuth, ValkeyCache } from '../../lambda/caching-products/valkey-cache';
import { WriteThrough } from '../../lambda/caching-products/write-through';
import {
  closedPort,
  LocalCacheServer,
  REDIS_ACL_USER,
  startLocalMemcached,
  startLocalRedis,
  startLocalRedisWithAuth,
} from '../labs/caching/local-cache-servers';
import { LocalDynamoDb, startLocalDynamoDb } from '../support/local-dynamodb';

// DynamoDB Local's JVM may take most of its 30 s start deadline on a loaded machine.
const SERVERS_START_TIMEOUT_MS = 60_000;
jest.setTimeout(20_000);

let redis: LocalCacheServer;
let redisWithAuth: LocalCacheServer;
let memcached: LocalCacheServer;
let dynamo: LocalDynamoDb;
let documents: DynamoDBDocumentClient;
const tableName = `caching-products-${Date.now().toString(36)}`;
const opened: Cache[] = [];

beforeAll(async () => {
  [redis, redisWithAuth, memcached, dynamo] = await Promise.all([startLocalRedis(), startLocalRedisWithAuth(), startLocalMemcached(), startLocalDynamoDb()]);
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

/**
 * The deployed timeouts (200 ms a command) are for a cache next to the function; on a test machine busy with other
 * files a local server can take longer. Tests of the timeouts themselves give their own.
 */
const UNHURRIED: CacheTimeouts = { connectTimeoutMs: 5_000, handshakeTimeoutMs: 5_000, commandTimeoutMs: 5_000 };
const valkey = (port = redis.port, timeouts: CacheTimeouts = UNHURRIED, auth?: ValkeyAuth) => {
  const cache = new ValkeyCache({ host: '127.0.0.1', port, tls: false }, { timeouts, auth });
  opened.push(cache);
  return cache;
};
const memcache = (port = memcached.port, timeouts: CacheTimeouts = UNHURRIED) => {
  const cache = new MemcachedCache({ host: '127.0.0.1', port, tls: false }, { timeouts });
  opened.push(cache);
  return cache;
};
const ENGINES = [
  ['valkey (redis-server)', () => valkey()],
  ['memcached', () => memcache()],
] as const;

// The lab's lock figures (constants.ts), with a quicker poll.
// The lock lives, and is waited for, longer than the deployed 2 s: on a test machine busy with other files a
// DynamoDB Local read can take that long, and a stampede test would count two loads. Waiting ends when the value arrives.
const OPTIONS: LazyLoadingOptions = { ttlSeconds: 60, lockTtlSeconds: 15, lockWaitMs: 15_000, lockPollMs: 5 };
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

  test('a reader that wins the lock after another loaded and released it reads the value instead of loading again', async () => {
    const id = newId('late');
    await seed({ id, name: 'hot product', priceCents: 100 });
    const table = productsTable();
    // The first reader has loaded, cached and released the lock; this one missed just before: its first GET is stale.
    await new LazyLoader(open(), table.load, OPTIONS).read(id);
    const cache = open();
    let gets = 0;
    const staleOnce: Cache = Object.create(cache, { get: { value: (key: string) => (gets++ === 0 ? Promise.resolve(undefined) : cache.get(key)) } });
    const read = await new LazyLoader(staleOnce, table.load, OPTIONS).read(id);
    expect(read).toMatchObject({ source: 'cache', loaded: false, value: { name: 'hot product' } });
    expect(table.counts.loads).toBe(1);
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

  test('a missing item is cached as a tombstone for the lock TTL: a stampede on a missing id loads once', async () => {
    const table = productsTable(100);
    const id = newId('missing');
    const loaders = Array.from({ length: 4 }, () => new LazyLoader(open(), table.load, OPTIONS));
    const reads = await Promise.all(loaders.map((loader) => loader.read(id)));
    expect(reads.map((r) => r.value)).toEqual([undefined, undefined, undefined, undefined]);
    expect(await loaders[0].read(id)).toMatchObject({ value: undefined, source: 'cache' });
    expect(table.counts.loads).toBe(1);
  });

  test('a database error propagates, is loaded once, is not reported as a cache error, and frees the lock', async () => {
    const id = newId('db-error');
    const cache = open();
    let loads = 0;
    const failing = async (): Promise<Product | undefined> => {
      loads += 1;
      throw new Error('ProvisionedThroughputExceededException');
    };
    await expect(new LazyLoader(cache, failing, OPTIONS).read(id)).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(loads).toBe(1);
    expect(await cache.get(`${cacheKey(id)}:lock`)).toBeUndefined();
  });

  test('the lock is released by its owner only: a loader whose lock expired leaves the next owner\'s lock alone', async () => {
    const cache = open();
    const lockKey = `${cacheKey(newId('lock'))}:lock`;
    expect(await cache.add(lockKey, 'next-owner', 60)).toBe(true);
    expect(await cache.deleteIfEquals(lockKey, 'expired-owner')).toBe(false);
    expect(await cache.get(lockKey)).toBe('next-owner');
    expect(await cache.deleteIfEquals(lockKey, 'next-owner')).toBe(true);
    expect(await cache.get(lockKey)).toBeUndefined();
    expect(await cache.deleteIfEquals(lockKey, 'next-owner')).toBe(false);
  });

  test('a loader releases its own lock after the load', async () => {
    const id = newId('own-lock');
    await seed({ id, name: 'locked', priceCents: 7 });
    const cache = open();
    await new LazyLoader(cache, productsTable().load, OPTIONS).read(id);
    expect(await cache.add(`${cacheKey(id)}:lock`, 'next', 60)).toBe(true);
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
  const SHORT = { connectTimeoutMs: 200, handshakeTimeoutMs: 200, commandTimeoutMs: 100 };

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
  expect(params.get('X-Amz-Date')).toBe('20261203T080000Z');
  expect(params.get('X-Amz-SignedHeaders')).toBe('host');
  // Computed apart from the code under test, with AWS's documented SigV4 presigning (python3's hmac and hashlib):
  // canonical request GET, /, the sorted query without the signature, "host:cachinglab-products", "host", the SHA-256 of
  // an empty payload; string to sign AWS4-HMAC-SHA256, the date, the scope, its hash; key derived from "AWS4secret".
  expect(params.get('X-Amz-Signature')).toBe('6d28c72d6c05fb7fe932f9535264520b412849ccfd1156d18ce8464e140b07fb');
  expect(token).not.toMatch(/^https?:/);
});

/**
 * A RESP server on loopback that records the commands it reads and answers each with `answer` (a raw reply), written
 * with `write`: at once, or byte by byte to split replies wherever the parsers must wait for more.
 */
async function fakeValkey(answer: (command: string[]) => string | Buffer, write: (socket: Socket, reply: Buffer) => Promise<void> = async (socket, reply) => void socket.write(reply)) {
  const commands: string[][] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    let buffer = Buffer.alloc(0);
    let writing = Promise.resolve();
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const command = readCommand(buffer);
        if (!command) return;
        buffer = buffer.subarray(command.length);
        commands.push(command.args);
        const reply = Buffer.from(answer(command.args));
        writing = writing.then(() => write(socket, reply));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    commands,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** One RESP command (an array of bulk strings) from the start of `buffer`, or undefined until it is complete. */
function readCommand(buffer: Buffer): { args: string[]; length: number } | undefined {
  let offset = 0;
  const line = () => {
    const end = buffer.indexOf('\r\n', offset);
    if (end < 0) return undefined;
    const text = buffer.toString('utf8', offset, end);
    offset = end + 2;
    return text;
  };
  const header = line();
  if (header === undefined) return undefined;
  const args: string[] = [];
  for (let i = 0; i < Number(header.slice(1)); i++) {
    const size = line();
    if (size === undefined || buffer.length < offset + Number(size.slice(1)) + 2) return undefined;
    args.push(buffer.toString('utf8', offset, offset + Number(size.slice(1))));
    offset += Number(size.slice(1)) + 2;
  }
  return { args, length: offset };
}

const byteByByte = async (socket: Socket, reply: Buffer) => {
  for (const byte of reply) await new Promise<void>((resolve) => socket.write(Buffer.from([byte]), () => resolve()));
};

describe('authentication (redis-server whose default user is off, as ElastiCache RBAC)', () => {
  const auth = (password: string): ValkeyAuth => ({ user: REDIS_ACL_USER.user, password: async () => password });

  test('the right password: AUTH before the first command, then commands work', async () => {
    const cache = valkey(redisWithAuth.port, undefined, auth(REDIS_ACL_USER.password));
    const key = cacheKey(newId('auth'));
    await cache.set(key, 'authenticated', 60);
    expect(await cache.get(key)).toBe('authenticated');
    expect(await cache.command('ACL', 'WHOAMI')).toBe(REDIS_ACL_USER.user);
  });

  test('without AUTH the server refuses every command, so the success above needed it', async () => {
    await expect(valkey(redisWithAuth.port).get(cacheKey(newId('no-auth')))).rejects.toThrow(/NOAUTH/);
  });

  test('a wrong password fails with CacheUnavailable and the read answers from DynamoDB', async () => {
    const id = newId('wrong-password');
    await seed({ id, name: 'from the table', priceCents: 8 });
    const table = productsTable();
    const read = await new LazyLoader(valkey(redisWithAuth.port, undefined, auth('wrong')), table.load, OPTIONS).read(id);
    expect(read).toMatchObject({ source: 'database', loaded: true, value: { name: 'from the table' } });
    expect(read.cacheError).toMatch(/WRONGPASS/);
    expect(table.counts.loads).toBe(1);
  });

  test('AUTH has the handshake timeout, longer than a command\'s: a slow AUTH (an IAM token being checked) succeeds', async () => {
    const server = await fakeValkey((command) => (command[0] === 'AUTH' ? '+OK\r\n' : '$-1\r\n'), async (socket, reply) => {
      if (reply.toString() === '+OK\r\n') await new Promise((resolve) => setTimeout(resolve, 150));
      socket.write(reply);
    });
    try {
      const cache = valkey(server.port, { connectTimeoutMs: 500, handshakeTimeoutMs: 1000, commandTimeoutMs: 50 }, auth('pw'));
      expect(await cache.get('k')).toBeUndefined();
      expect(server.commands.map((command) => command[0])).toEqual(['AUTH', 'GET']);
    } finally {
      await server.stop();
    }
  });

  test('the handler signs an IAM token as the password of AUTH when VALKEY_USER and VALKEY_CACHE_NAME are set', async () => {
    const server = await fakeValkey((command) => (command[0] === 'GET' ? `$${'{"id":"x","name":"cached","priceCents":9}'.length}\r\n{"id":"x","name":"cached","priceCents":9}\r\n` : '+OK\r\n'));
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        TABLE_NAME: tableName,
        CACHE_TLS: 'false',
        VALKEY_HOST: '127.0.0.1',
        VALKEY_PORT: String(server.port),
        VALKEY_USER: 'products-fn',
        VALKEY_CACHE_NAME: 'cachinglab-products',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'session',
      });
      const handle = createHandler();
      const answer = await handle({ action: 'read', id: 'x' });
      handle.close();
      expect(answer).toMatchObject({ engine: 'valkey', source: 'cache', product: { name: 'cached' } });
      const [authCommand, user, token] = server.commands[0];
      expect([authCommand, user]).toEqual(['AUTH', 'products-fn']);
      expect(token).toMatch(/^cachinglab-products\/\?Action=connect&User=products-fn&.*X-Amz-Credential=AKIDEXAMPLE%2F\d{8}%2Fus-east-1%2Felasticache%2Faws4_request/);
      expect(token).toMatch(/X-Amz-Security-Token=session&.*X-Amz-Signature=[0-9a-f]{64}$/);
    } finally {
      process.env = saved;
      await server.stop();
    }
  });
});

describe('replies that arrive in pieces', () => {
  // Multi-byte UTF-8 characters and a CRLF inside the value: a split may fall in either.
  const large = `{"name":"${'é€😀\r\n'.repeat(300)}"}`;

  test('parseReply waits for every prefix of a bulk string and reads the whole', () => {
    const value = 'é€😀\r\n'.repeat(20);
    const reply = Buffer.from(`$${Buffer.byteLength(value)}\r\n${value}\r\n`);
    for (let end = 0; end < reply.length; end++) expect(parseReply(reply.subarray(0, end))).toBeUndefined();
    expect(parseReply(reply)).toEqual({ value, length: reply.length });
  });

  test('valkey: a large bulk string written byte by byte is read whole', async () => {
    const server = await fakeValkey(() => `$${Buffer.byteLength(large)}\r\n${large}\r\n`, byteByByte);
    try {
      expect(await valkey(server.port, { ...DEFAULT_CACHE_TIMEOUTS, commandTimeoutMs: 10_000 }).get('k')).toBe(large);
    } finally {
      await server.stop();
    }
  });

  test('memcached: a VALUE block written byte by byte is read whole', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.setNoDelay(true);
      socket.once('data', () => void byteByByte(socket, Buffer.from(`VALUE k 0 ${Buffer.byteLength(large)}\r\n${large}\r\nEND\r\n`)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      expect(await memcache(port, { ...DEFAULT_CACHE_TIMEOUTS, commandTimeoutMs: 10_000 }).get('k')).toBe(large);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

test('encodeCommand counts bytes, not characters', () => {
  expect(encodeCommand(['SET', 'é'])).toBe('*2\r\n$3\r\nSET\r\n$2\r\né\r\n');
});

describe('TLS, as ElastiCache with encryption in transit', () => {
  let directory: string;
  let server: TlsServer;
  let port: number;
  const accepted: TLSSocket[] = [];
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'caching-tls-'));
    // A certificate for localhost that only this test trusts.
    execFileSync('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-keyout', join(directory, 'key.pem'), '-out', join(directory, 'cert.pem'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'],
    ], { stdio: 'ignore' });
    server = createTlsServer({ key: readFileSync(join(directory, 'key.pem')), cert: readFileSync(join(directory, 'cert.pem')) }, (socket) => {
      accepted.push(socket);
      socket.on('data', () => socket.write('+PONG\r\n'));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  const tlsCache = () => {
    const cache = new ValkeyCache({ host: 'localhost', port, tls: true });
    opened.push(cache);
    return cache;
  };

  test('commands go over TLS once the server\'s certificate is verified', async () => {
    // The process's trust store extended with the test's certificate, as Amazon's CA is trusted for ElastiCache.
    const tlsModule = jest.requireActual<typeof import('node:tls')>('node:tls');
    const connect = tlsModule.connect;
    const ca = [...tlsModule.rootCertificates, readFileSync(join(directory, 'cert.pem'), 'utf8')];
    const spy = jest.spyOn(tlsModule, 'connect').mockImplementation(((options: ConnectionOptions) => connect({ ...options, ca })) as typeof connect);
    try {
      expect(await tlsCache().command('PING')).toBe('PONG');
      expect(spy).toHaveBeenCalledWith(expect.objectContaining({ host: 'localhost', port, servername: 'localhost' }));
    } finally {
      spy.mockRestore();
    }
  });

  test('a certificate the client does not trust is refused with CacheUnavailable', async () => {
    await expect(tlsCache().command('PING')).rejects.toThrow(/could not connect to localhost:\d+: self[- ]signed certificate/);
  });
});

describe('the strategies\' decisions, against an in-memory cache double that records each call', () => {
  const OPTIONS: LazyLoadingOptions = { ttlSeconds: 60, lockTtlSeconds: 2, lockWaitMs: 0, lockPollMs: 20 };
  const product = { id: 'p1', name: 'Pen', priceCents: 100 };
  function cacheDouble(behaviour: { failing?: boolean; lockTaken?: boolean } = {}) {
    const calls: string[] = [];
    const values = new Map<string, string>();
    const call = async <R>(name: string, result: () => R): Promise<R> => {
      calls.push(name);
      if (behaviour.failing) throw new CacheUnavailable('cache down');
      return result();
    };
    const cache: Cache = {
      engine: 'double',
      get: (key) => call('get', () => values.get(key)),
      set: (key, value, ttlSeconds) => call(`set ${value} ${ttlSeconds}`, () => void values.set(key, value)),
      add: () => call('add', () => !behaviour.lockTaken),
      delete: (key) => call('delete', () => void values.delete(key)),
      deleteIfEquals: () => call('deleteIfEquals', () => true),
      close: () => undefined,
    };
    return { cache, calls, values };
  }

  test('a hit is served from the cache, without a lock or a load', async () => {
    const { cache, calls, values } = cacheDouble();
    values.set(cacheKey('p1'), JSON.stringify(product));
    const load = jest.fn(async () => product);
    await expect(new LazyLoader(cache, load, OPTIONS).read('p1')).resolves.toStrictEqual({ value: product, source: 'cache', loaded: false });
    expect(calls).toEqual(['get']);
    expect(load).not.toHaveBeenCalled();
  });

  test('without a cache, concurrent reads of an id share one load; the one that waited did not load', async () => {
    const load = jest.fn(async () => product);
    const loader = new LazyLoader<Product>(undefined, load, OPTIONS);
    const reads = await Promise.all([loader.read('p1'), loader.read('p1')]);
    expect(reads).toStrictEqual([
      { value: product, source: 'database', loaded: true },
      { value: product, source: 'database', loaded: false },
    ]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  test('after the first cache failure the cache is left out for the rest of the read', async () => {
    const { cache, calls } = cacheDouble({ failing: true });
    const read = await new LazyLoader(cache, async () => product, OPTIONS).read('p1');
    expect(read).toStrictEqual({ value: product, source: 'database', loaded: true, cacheError: 'cache down' });
    expect(calls).toEqual(['get']);
  });

  test('a reader that did not get the lock neither waits past lockWaitMs nor releases a lock it does not hold', async () => {
    const { cache, calls } = cacheDouble({ lockTaken: true });
    const read = await new LazyLoader(cache, async () => product, OPTIONS).read('p1');
    expect(read).toMatchObject({ value: product, source: 'database', loaded: true });
    expect(calls).toEqual(['get', 'add', `set ${JSON.stringify(product)} 60`]);
  });

  test('a reader waiting for the lock holder polls every lockPollMs, not in a busy loop', async () => {
    const { cache, calls } = cacheDouble({ lockTaken: true });
    await new LazyLoader(cache, async () => product, { ...OPTIONS, lockWaitMs: 60, lockPollMs: 20 }).read('p1');
    expect(calls.filter((name) => name === 'get').length).toBeLessThanOrEqual(1 + 60 / 20 + 1);
  });

  test('a missing item is cached as JSON null, for the lock\'s TTL', async () => {
    const { cache, calls } = cacheDouble();
    await expect(new LazyLoader(cache, async () => undefined, OPTIONS).read('p1')).resolves.toMatchObject({ value: undefined, source: 'database' });
    expect(calls).toContain('set null 2');
  });

  test('write-through without a cache writes the database and says the cache was skipped, with no error', async () => {
    const write = jest.fn(async () => undefined);
    await expect(new WriteThrough<Product>(undefined, write, { ttlSeconds: 60 }).put('p1', product)).resolves.toStrictEqual({ cache: 'skipped' });
    expect(write).toHaveBeenCalledWith('p1', product);
  });

  test('a cache failure is a CacheUnavailable by name', () => {
    expect(new CacheUnavailable('down')).toMatchObject({ name: 'CacheUnavailable', message: 'down' });
  });
});
