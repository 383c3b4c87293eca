import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, NetConnectOpts, Server, Socket } from 'node:net';
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
import { createHandler, ProductsHandler } from '../../lambda/caching-products';
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
 * A RESP server on loopback that records the commands it reads and answers each with `answer` (a raw reply; empty for
 * none, as a server that hangs; `answer` may also end or reset the socket, as a server that fails), written with
 * `write`: at once, or byte by byte to split replies wherever the parsers must wait for more.
 */
async function fakeValkey(
  answer: (command: string[], socket: Socket) => string | Buffer,
  write: (socket: Socket, reply: Buffer) => Promise<void> = async (socket, reply) => void socket.write(reply),
  host = '127.0.0.1',
) {
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
        const reply = Buffer.from(answer(command.args, socket));
        writing = writing.then(() => write(socket, reply));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    commands,
    /** How many connections clients opened to it. */
    connections: () => sockets.length,
    /** How many of them are closed. */
    closed: () => sockets.filter((socket) => socket.closed).length,
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
    const server = await silentServer('127.0.0.1', (socket) => {
      socket.setNoDelay(true);
      void byteByByte(socket, Buffer.from(`VALUE k 0 ${Buffer.byteLength(large)}\r\n${large}\r\nEND\r\n`));
    });
    try {
      expect(await memcache(server.port, { ...DEFAULT_CACHE_TIMEOUTS, commandTimeoutMs: 10_000 }).get('k')).toBe(large);
    } finally {
      await server.stop();
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

/** What a cache call rejects with: a CacheUnavailable with this message. */
const unavailable = (message: string) => expect.objectContaining({ name: 'CacheUnavailable', message });

/** Waits until `condition` holds: what a server saw, which arrives a moment after the client's call. */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A server that accepts connections and never answers: a cache that hangs, or to a TLS client a handshake that never
 * ends; with `onFirstData`, it answers a connection's first data as that says (byte by byte, in parts ...).
 */
async function silentServer(host = '127.0.0.1', onFirstData?: (socket: Socket) => void) {
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createServer((socket) => {
    sockets.push(socket);
    if (onFirstData) socket.once('data', () => onFirstData(socket));
    socket.on('close', () => (closed += 1));
    socket.on('error', () => undefined);
    // Reading what arrives (and ignoring it) is what lets the server see the client's end of the connection.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => sockets.length,
    /** How many of those connections the client closed. */
    closed: () => closed,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A memcached server on loopback speaking the text protocol: records each command line it reads (reading past the data
 * block of set, add and cas) and answers it with `answer`, raw reply lines.
 */
async function fakeMemcached(answer: (line: string) => string) {
  const lines: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = buffer.indexOf('\r\n');
        if (end < 0) return;
        const line = buffer.toString('utf8', 0, end);
        const [command, , , , bytes] = line.split(' ');
        const length = ['set', 'add', 'cas'].includes(command) ? end + 2 + Number(bytes) + 2 : end + 2;
        if (buffer.length < length) return;
        buffer = buffer.subarray(length);
        lines.push(line);
        socket.write(answer(line));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    lines,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a connection: reused, failed with what went wrong, opened again', () => {
  const SHORT: CacheTimeouts = { connectTimeoutMs: 300, handshakeTimeoutMs: 150, commandTimeoutMs: 50 };
  const servers: { stop: () => Promise<void> }[] = [];
  const stopLater = <S extends { stop: () => Promise<void> }>(server: S): S => {
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  test('one connection carries sequential and concurrent commands', async () => {
    const server = stopLater(await fakeValkey(() => '$-1\r\n'));
    const cache = valkey(server.port);
    expect(await Promise.all([cache.get('a'), cache.get('b'), cache.get('c')])).toEqual([undefined, undefined, undefined]);
    expect(await cache.get('d')).toBeUndefined();
    expect(await cache.get('e')).toBeUndefined();
    expect(server.commands).toEqual([['GET', 'a'], ['GET', 'b'], ['GET', 'c'], ['GET', 'd'], ['GET', 'e']]);
    expect(server.connections()).toBe(1);
  });

  test('every command in flight fails with the deadline it missed; the next command connects again', async () => {
    let answering = false;
    const server = stopLater(await fakeValkey(() => (answering ? '+OK\r\n' : '')));
    const cache = valkey(server.port, SHORT);
    const started = Date.now();
    const results = await Promise.allSettled([cache.get('a'), cache.set('b', '1', 60)]);
    const message = `no reply from 127.0.0.1:${server.port} within 50 ms`;
    expect(results).toEqual([
      { status: 'rejected', reason: unavailable(message) },
      { status: 'rejected', reason: unavailable(message) },
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
    answering = true;
    await cache.set('c', '1', 60);
    // The deadline of a command that was answered is cleared: it does not drop the connection once it passes.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await cache.set('d', '1', 60);
    expect(server.connections()).toBe(2);
  });

  test('close() fails the command in flight; the next command connects again', async () => {
    let answering = false;
    const server = stopLater(await fakeValkey(() => (answering ? '$1\r\nv\r\n' : '')));
    const cache = valkey(server.port);
    const pending = cache.get('a');
    await waitFor(() => server.commands.length === 1);
    cache.close();
    await expect(pending).rejects.toEqual(unavailable('connection closed'));
    answering = true;
    expect(await cache.get('a')).toBe('v');
    expect(server.connections()).toBe(2);
  });

  test('a refused connection says so, with the socket error as its cause', async () => {
    const port = await closedPort();
    const error = await memcache(port, SHORT)
      .get('k')
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(CacheUnavailable);
    expect(error).toMatchObject({
      message: `could not connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
      cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
    });
  });

  test('a TLS handshake that never ends times out with the connect timeout, and the socket is closed', async () => {
    const server = stopLater(await silentServer('localhost'));
    const cache = new ValkeyCache({ host: 'localhost', port: server.port, tls: true }, { timeouts: SHORT });
    opened.push(cache);
    const started = Date.now();
    await expect(cache.get('k')).rejects.toEqual(unavailable(`could not connect to localhost:${server.port} within 300 ms`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await waitFor(() => server.closed() === 1);
  });

  test('AUTH waits for the handshake timeout, not the connect or command one', async () => {
    const server = stopLater(await silentServer());
    const cache = valkey(server.port, SHORT, { user: 'products', password: async () => 'pw' });
    const started = Date.now();
    await expect(cache.get('k')).rejects.toEqual(unavailable(`no reply from 127.0.0.1:${server.port} within 150 ms`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test.each([
    ['valkey', (port: number) => new ValkeyCache({ host: '127.0.0.1', port, tls: false })],
    ['memcached', (port: number) => new MemcachedCache({ host: '127.0.0.1', port, tls: false })],
  ])('%s without timeouts given takes the defaults: 200 ms for a command', async (engine, create) => {
    const server = stopLater(await silentServer());
    const cache = create(server.port);
    opened.push(cache);
    expect(cache.engine).toBe(engine);
    await expect(cache.get('k')).rejects.toEqual(unavailable(`no reply from 127.0.0.1:${server.port} within 200 ms`));
  });

  test('the default timeouts: 500 ms to connect, 1 s for the handshake, 200 ms a command', () => {
    expect(DEFAULT_CACHE_TIMEOUTS).toEqual({ connectTimeoutMs: 500, handshakeTimeoutMs: 1000, commandTimeoutMs: 200 });
  });

  /** A fake Valkey that answers +OK, except to a command on `key`: `breakConnection` answers that one. */
  const breaksOn = async (key: string, breakConnection: (socket: Socket) => void) =>
    stopLater(
      await fakeValkey((command, socket) => {
        if (command[1] !== key) return '+OK\r\n';
        breakConnection(socket);
        return '';
      }),
    );

  test('a server that closes the connection fails the command in flight; the next command connects again', async () => {
    const server = await breaksOn('gone', (socket) => socket.end());
    const cache = valkey(server.port);
    await expect(cache.get('gone')).rejects.toEqual(unavailable(`connection to 127.0.0.1:${server.port} closed`));
    await cache.set('k', 'v', 60);
    expect(server.connections()).toBe(2);
  });

  test('a connection reset fails the command in flight with the socket error', async () => {
    const server = await breaksOn('reset', (socket) => socket.resetAndDestroy());
    const cache = valkey(server.port);
    const error = await cache.get('reset').catch((failure: unknown) => failure);
    expect(error).toMatchObject({ name: 'CacheUnavailable', message: `connection to 127.0.0.1:${server.port} failed: read ECONNRESET`, cause: expect.objectContaining({ code: 'ECONNRESET' }) });
    await cache.set('k', 'v', 60);
    expect(server.connections()).toBe(2);
  });

  test('the part of a reply that came before a timeout is not read as the start of the next connection\'s reply', async () => {
    let first = true;
    const server = stopLater(
      await fakeValkey(() => {
        if (!first) return '$-1\r\n';
        first = false;
        return '$5\r\nab';
      }),
    );
    const cache = valkey(server.port, SHORT);
    await expect(cache.get('a')).rejects.toEqual(unavailable(`no reply from 127.0.0.1:${server.port} within 50 ms`));
    expect(await cache.get('b')).toBeUndefined();
  });

  test('an error reply fails the commands in flight and drops the connection; the next command connects again', async () => {
    const cache = valkey();
    const key = cacheKey(newId('error-reply'));
    const results = await Promise.allSettled([cache.command('NOSUCHCOMMAND', key), cache.get(key)]);
    const message = `unreadable reply: the server answered ERR unknown command 'NOSUCHCOMMAND', with args beginning with: '${key}' `;
    expect(results).toEqual([
      { status: 'rejected', reason: unavailable(message) },
      { status: 'rejected', reason: unavailable(message) },
    ]);
    await cache.set(key, 'after', 60);
    expect(await cache.get(key)).toBe('after');
  });

  test('a reply that starts with an empty line is refused, by both protocols', async () => {
    const resp = stopLater(await fakeValkey(() => '\r\n'));
    await expect(valkey(resp.port).get('k')).rejects.toEqual(unavailable('unreadable reply: unexpected reply type \r'));
    const text = stopLater(await fakeMemcached(() => '\r\n'));
    await expect(memcache(text.port).get('kk')).rejects.toEqual(unavailable('unreadable reply: unexpected reply '));
  });

  test('a reply of a type these commands do not get (an array) is refused', async () => {
    const server = stopLater(await fakeValkey(() => '*1\r\n$1\r\na\r\n'));
    await expect(valkey(server.port).command('KEYS', '*')).rejects.toEqual(unavailable('unreadable reply: unexpected reply type *'));
  });

  test('the socket sends each command at once (no Nagle delay) and does not keep the process alive', async () => {
    const netModule = jest.requireActual<typeof import('node:net')>('node:net');
    const connect = netModule.connect;
    const sockets: Socket[] = [];
    const spy = jest.spyOn(netModule, 'connect').mockImplementation(((options: NetConnectOpts) => {
      const socket = connect(options);
      jest.spyOn(socket, 'setNoDelay');
      jest.spyOn(socket, 'unref');
      sockets.push(socket);
      return socket;
    }) as typeof connect);
    try {
      expect(await valkey().command('PING')).toBe('PONG');
      expect(spy).toHaveBeenCalledWith({ host: '127.0.0.1', port: redis.port });
    } finally {
      spy.mockRestore();
    }
    expect(sockets).toHaveLength(1);
    expect(sockets[0].setNoDelay).toHaveBeenCalledWith(true);
    expect(sockets[0].unref).toHaveBeenCalled();
  });
});

describe('valkey replies', () => {
  test('an empty string is a value, not a miss; an integer reply is a number', async () => {
    const cache = valkey();
    const key = cacheKey(newId('empty'));
    await cache.set(key, '', 60);
    expect(await cache.get(key)).toBe('');
    expect(await cache.command('APPEND', key, 'abc')).toBe(3);
  });

  test('SET NX answers OK when it stored, and a null bulk string when the key was there', async () => {
    const server = await fakeValkey((command) => (command[1] === 'free' ? '+OK\r\n' : '$-1\r\n'));
    try {
      const cache = valkey(server.port);
      expect(await cache.add('free', 'v', 7)).toBe(true);
      expect(await cache.add('taken', 'v', 7)).toBe(false);
      expect(await cache.deleteIfEquals('taken', 'v')).toBe(false);
      expect(server.commands.slice(0, 2)).toEqual([
        ['SET', 'free', 'v', 'EX', '7', 'NX'],
        ['SET', 'taken', 'v', 'EX', '7', 'NX'],
      ]);
    } finally {
      await server.stop();
    }
  });
});

describe('memcached protocol', () => {
  test.each([
    ['a space', 'product:a b', '"product:a b" is not a valid Memcached key'],
    ['a control character', 'product:\n', '"product:\\n" is not a valid Memcached key'],
    ['DEL (0x7f)', 'product:\x7f', '"product:\x7f" is not a valid Memcached key'],
    ['a non-ASCII character', 'product:é', '"product:é" is not a valid Memcached key'],
    ['no character', '', '"" is not a valid Memcached key'],
    ['251 bytes', 'k'.repeat(251), `"${'k'.repeat(251)}" is not a valid Memcached key`],
  ])('a key with %s is refused before it is sent, by every command', async (_name, key, message) => {
    const cache = memcache();
    await expect(cache.get(key)).rejects.toEqual(unavailable(message));
    await expect(cache.set(key, 'v', 60)).rejects.toEqual(unavailable(message));
    await expect(cache.add(key, 'v', 60)).rejects.toEqual(unavailable(message));
    await expect(cache.delete(key)).rejects.toEqual(unavailable(message));
    await expect(cache.deleteIfEquals(key, 'v')).rejects.toEqual(unavailable(message));
  });

  test('keys of printable ASCII from ! to ~, up to 250 bytes, are used as they are', async () => {
    const cache = memcache();
    const key = `!${newId('k').replace(/ /g, '_')}`.padEnd(249, 'k') + '~';
    expect(key).toHaveLength(250);
    await cache.set(key, 'longest', 60);
    expect(await cache.get(key)).toBe('longest');
    expect(await memcachedLine(`mg ${key} v`)).toBe('VA 7\r\nlongest');
  });

  test('a key that contains ERROR is read as a key, not as an error line', async () => {
    const cache = memcache();
    const key = `product:SERVER_ERROR-${newId('e').replace(/ /g, '_')}`;
    await cache.set(key, 'fine', 60);
    expect(await cache.get(key)).toBe('fine');
    expect(await cache.deleteIfEquals(key, 'fine')).toBe(true);
    expect(await cache.get(key)).toBeUndefined();
  });

  test.each(['ERROR', 'CLIENT_ERROR bad data chunk', 'SERVER_ERROR out of memory storing object'])('an error line (%s) fails the command with it', async (line) => {
    const server = await fakeMemcached(() => `${line}\r\n`);
    try {
      await expect(memcache(server.port).set('kk', 'v', 60)).rejects.toEqual(unavailable(`unreadable reply: the server answered ${line}`));
      expect(server.lines).toEqual(['set kk 0 60 1']);
    } finally {
      await server.stop();
    }
  });

  test.each(['VALUE kk 0', 'VALUE kk 0 1 2 3', 'XVALUE kk 0 1', 'VALUE kk x 1', 'VALUE kk 0 x', 'VALUE kk 0 1 x', 'VALUE  0 1'])(
    'a malformed VALUE line (%s) is refused',
    async (header) => {
      const server = await fakeMemcached(() => `${header}\r\nx\r\nEND\r\n`);
      try {
        await expect(memcache(server.port).get('kk')).rejects.toEqual(unavailable(`unreadable reply: unexpected reply ${header}`));
      } finally {
        await server.stop();
      }
    },
  );

  test('flags, sizes and CAS uniques of several digits are read; the cas command names the version gets returned', async () => {
    let casReply = 'EXISTS';
    const server = await fakeMemcached((line) => {
      if (line === 'get kk') return 'VALUE kk 12 10\r\n0123456789\r\nEND\r\n';
      if (line === 'gets kk') return 'VALUE kk 12 1 123456789012\r\nv\r\nEND\r\n';
      return `${casReply}\r\n`;
    });
    try {
      const cache = memcache(server.port);
      expect(await cache.get('kk')).toBe('0123456789');
      // Changed by another client between gets and cas: not deleted.
      expect(await cache.deleteIfEquals('kk', 'v')).toBe(false);
      casReply = 'NOT_FOUND';
      expect(await cache.deleteIfEquals('kk', 'v')).toBe(false);
      casReply = 'STORED';
      expect(await cache.deleteIfEquals('kk', 'v')).toBe(true);
      // Another value: no cas at all.
      expect(await cache.deleteIfEquals('kk', 'other')).toBe(false);
      expect(server.lines).toEqual(['get kk', ...Array(3).fill(['gets kk', 'cas kk 0 -1 0 123456789012']).flat(), 'gets kk']);
    } finally {
      await server.stop();
    }
  });

  test('a VALUE block that arrives in two parts is read once the whole has come', async () => {
    const server = await silentServer('127.0.0.1', (socket) => {
      socket.write('VALUE kk 0 10\r\n0123');
      setTimeout(() => socket.write('456789\r\nEND\r\nEND\r\n'), 50);
    });
    try {
      const cache = memcache(server.port);
      expect(await Promise.all([cache.get('kk'), cache.get('other')])).toEqual(['0123456789', undefined]);
    } finally {
      await server.stop();
    }
  });

  test('close() fails the command in flight', async () => {
    const server = await silentServer();
    try {
      const cache = memcache(server.port);
      const pending = cache.get('kk');
      await waitFor(() => server.connections() === 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      cache.close();
      await expect(pending).rejects.toEqual(unavailable('connection closed'));
    } finally {
      await server.stop();
    }
  });

  test('set, add and delete send their commands with the TTL and the byte length of the value', async () => {
    const server = await fakeMemcached((line) => (line.startsWith('add') ? 'NOT_STORED\r\n' : line.startsWith('delete') ? 'NOT_FOUND\r\n' : 'STORED\r\n'));
    try {
      const cache = memcache(server.port);
      await cache.set('kk', 'é', 30);
      expect(await cache.add('kk', 'abc', 40)).toBe(false);
      await cache.delete('kk');
      expect(server.lines).toEqual(['set kk 0 30 2', 'add kk 0 40 3', 'delete kk']);
    } finally {
      await server.stop();
    }
  });
});

describe('write-through when the cache fails', () => {
  const product = { id: 'p1', name: 'Pen', priceCents: 100 };
  function failingCache(failing: { set: boolean; delete: boolean }) {
    const calls: string[] = [];
    const cache: Cache = {
      engine: 'double',
      get: async () => undefined,
      set: async (key, value, ttlSeconds) => {
        calls.push(`set ${key} ${value} ${ttlSeconds}`);
        if (failing.set) throw new CacheUnavailable('set failed');
      },
      add: async () => true,
      delete: async (key) => {
        calls.push(`delete ${key}`);
        if (failing.delete) throw new CacheUnavailable('delete failed');
      },
      deleteIfEquals: async () => true,
      close: () => undefined,
    };
    return { cache, calls };
  }

  test('a failed cache write deletes the entry when the cache still answers: invalidated, with the error', async () => {
    const { cache, calls } = failingCache({ set: true, delete: false });
    await expect(new WriteThrough(cache, async () => undefined, { ttlSeconds: 60 }).put('p1', product)).resolves.toStrictEqual({ cache: 'invalidated', cacheError: 'set failed' });
    expect(calls).toEqual([`set product:p1 ${JSON.stringify(product)} 60`, 'delete product:p1']);
  });

  test('when the delete fails too, the cache is skipped, with the first error', async () => {
    const { cache, calls } = failingCache({ set: true, delete: true });
    await expect(new WriteThrough(cache, async () => undefined, { ttlSeconds: 60 }).put('p1', product)).resolves.toStrictEqual({ cache: 'skipped', cacheError: 'set failed' });
    expect(calls).toEqual([`set product:p1 ${JSON.stringify(product)} 60`, 'delete product:p1']);
  });

  test('the database is written before the cache, and a database error leaves the cache alone', async () => {
    const { cache, calls } = failingCache({ set: false, delete: false });
    const write = jest.fn(async () => {
      throw new Error('ConditionalCheckFailedException');
    });
    await expect(new WriteThrough(cache, write, { ttlSeconds: 60 }).put('p1', product)).rejects.toThrow('ConditionalCheckFailedException');
    expect(calls).toEqual([]);
  });
});

describe('the handler, configured by its environment', () => {
  const servers: { stop: () => Promise<void> }[] = [];
  const stopLater = <S extends { stop: () => Promise<void> }>(server: S): S => {
    servers.push(server);
    return server;
  };
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  /** The handler's variables: a table, plain TCP, and nothing else unless a test sets it. */
  const BASE: Record<string, string | undefined> = {
    TABLE_NAME: tableName,
    CACHE_TLS: 'false',
    ...Object.fromEntries(
      ['VALKEY_HOST', 'VALKEY_PORT', 'VALKEY_USER', 'VALKEY_CACHE_NAME', 'MEMCACHED_HOST', 'MEMCACHED_PORT', 'CACHE_TTL_SECONDS', 'CACHE_LOCK_TTL_SECONDS', 'CACHE_LOCK_WAIT_MS', 'CACHE_LOCK_POLL_MS', 'CACHE_CONNECT_TIMEOUT_MS', 'CACHE_HANDSHAKE_TIMEOUT_MS', 'CACHE_COMMAND_TIMEOUT_MS'].map((name) => [name, undefined]),
    ),
  };
  /** Runs `use` with a new handler under BASE and `variables`; closes it and restores the environment after. */
  async function withHandler(variables: Record<string, string | undefined>, use: (handle: ProductsHandler) => Promise<void>): Promise<void> {
    const saved = process.env;
    process.env = { ...saved };
    for (const [name, value] of Object.entries({ ...BASE, ...variables })) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    const handle = createHandler();
    try {
      await use(handle);
    } finally {
      handle.close();
      process.env = saved;
    }
  }
  const redisVariables = () => ({ VALKEY_HOST: '127.0.0.1', VALKEY_PORT: String(redis.port) });
  const memcachedVariables = () => ({ MEMCACHED_HOST: '127.0.0.1', MEMCACHED_PORT: String(memcached.port) });
  const ttlOf = async (key: string) => (await valkey().command('TTL', key)) as number;

  test('without a cache, reads and writes go to DynamoDB, and the engine is none', async () => {
    await withHandler({}, async (handle) => {
      const id = newId('no-cache');
      const product = { id, name: 'plain', priceCents: 1 };
      expect(await handle({ action: 'write', product, strategy: 'write-through' })).toStrictEqual({
        id,
        engine: 'none',
        cache: 'skipped',
        cacheError: undefined,
        elapsedMs: expect.any(Number),
        ttlSeconds: 60,
      });
      expect(await handle({ action: 'read', id })).toStrictEqual({
        id,
        engine: 'none',
        product,
        source: 'database',
        loaded: true,
        cacheError: undefined,
        elapsedMs: expect.any(Number),
        ttlSeconds: 60,
      });
      await expect(handle({ action: 'read', id, engine: 'valkey' })).rejects.toThrow(new Error('this function has no valkey cache (configured: none)'));
    });
  });

  test.each([
    ['not set', undefined],
    ['empty', ''],
  ])('TABLE_NAME %s: the handler fails, naming it', async (_name, value) => {
    await withHandler({ TABLE_NAME: value }, async (handle) => {
      await expect(handle({ action: 'read', id: 'x' })).rejects.toThrow(new Error('environment variable TABLE_NAME is not set'));
    });
  });

  test('with both engines, the first configured (valkey) serves by default and the one asked for otherwise, each with the 60 s TTL', async () => {
    await withHandler({ ...redisVariables(), ...memcachedVariables() }, async (handle) => {
      const id = newId('engines');
      const product = { id, name: 'both', priceCents: 2 };
      expect(await handle({ action: 'write', product, strategy: 'write-through' })).toMatchObject({ engine: 'valkey', cache: 'updated', cacheError: undefined });
      expect(await handle({ action: 'read', id })).toMatchObject({ engine: 'valkey', source: 'cache', loaded: false, product });
      expect(await ttlOf(cacheKey(id))).toBeGreaterThan(58);
      expect(await ttlOf(cacheKey(id))).toBeLessThanOrEqual(60);
      expect(await handle({ action: 'read', id, engine: 'memcached' })).toMatchObject({ engine: 'memcached', source: 'database', loaded: true, product });
      expect(await handle({ action: 'read', id, engine: 'memcached' })).toMatchObject({ engine: 'memcached', source: 'cache', loaded: false, product });
      const remaining = Number(/t(\d+)/.exec(await memcachedLine(`mg ${cacheKey(id)} t`))?.[1]);
      expect(remaining).toBeGreaterThan(58);
      expect(remaining).toBeLessThanOrEqual(60);
      await expect(handle({ action: 'read', id, engine: 'dax' })).rejects.toThrow(new Error('this function has no dax cache (configured: valkey, memcached)'));
    });
  });

  test('CACHE_TTL_SECONDS is the TTL of what is cached; a lazy-loading write leaves the cache stale, a write-through one updates it', async () => {
    await withHandler({ ...redisVariables(), CACHE_TTL_SECONDS: '30' }, async (handle) => {
      const id = newId('strategies');
      await seed({ id, name: 'v1', priceCents: 1 });
      expect(await handle({ action: 'read', id })).toStrictEqual({
        id,
        engine: 'valkey',
        product: { id, name: 'v1', priceCents: 1 },
        source: 'database',
        loaded: true,
        cacheError: undefined,
        elapsedMs: expect.any(Number),
        ttlSeconds: 30,
      });
      expect(await ttlOf(cacheKey(id))).toBeGreaterThan(28);
      expect(await ttlOf(cacheKey(id))).toBeLessThanOrEqual(30);
      const v2 = { id, name: 'v2', priceCents: 2 };
      expect(await handle({ action: 'write', product: v2, strategy: 'lazy-loading' })).toStrictEqual({ id, engine: 'valkey', cache: 'skipped', elapsedMs: expect.any(Number), ttlSeconds: 30 });
      expect((await documents.send(new GetCommand({ TableName: tableName, Key: { id } }))).Item).toEqual(v2);
      expect(await handle({ action: 'read', id })).toMatchObject({ source: 'cache', product: { name: 'v1' } });
      const v3 = { id, name: 'v3', priceCents: 3 };
      expect(await handle({ action: 'write', product: v3, strategy: 'write-through' })).toStrictEqual({
        id,
        engine: 'valkey',
        cache: 'updated',
        cacheError: undefined,
        elapsedMs: expect.any(Number),
        ttlSeconds: 30,
      });
      expect(await handle({ action: 'read', id })).toMatchObject({ source: 'cache', product: v3 });
      expect(await ttlOf(cacheKey(id))).toBeLessThanOrEqual(30);
    });
  });

  test.each([
    ['2 s by default', {}, 2],
    ['CACHE_LOCK_TTL_SECONDS', { CACHE_LOCK_TTL_SECONDS: '9' }, 9],
  ])('the tombstone of a missing item lives the lock TTL: %s', async (_name, variables, seconds) => {
    await withHandler({ ...redisVariables(), ...variables }, async (handle) => {
      const id = newId('tombstone');
      expect(await handle({ action: 'read', id })).toMatchObject({ product: undefined, source: 'database', loaded: true });
      expect(await valkey().get(cacheKey(id))).toBe('null');
      expect(await ttlOf(cacheKey(id))).toBeGreaterThan(seconds - 2);
      expect(await ttlOf(cacheKey(id))).toBeLessThanOrEqual(seconds);
    });
  });

  test('a reader that loses the lock polls every CACHE_LOCK_POLL_MS for CACHE_LOCK_WAIT_MS, then loads; elapsedMs counts the wait', async () => {
    // The lock (SET NX) is always taken and the value never comes.
    const server = stopLater(await fakeValkey((command) => (command[0] === 'GET' || command.includes('NX') ? '$-1\r\n' : '+OK\r\n')));
    await withHandler({ VALKEY_HOST: '127.0.0.1', VALKEY_PORT: String(server.port), CACHE_LOCK_WAIT_MS: '300', CACHE_LOCK_POLL_MS: '100' }, async (handle) => {
      const id = newId('lock-wait');
      const product = { id, name: 'waited for', priceCents: 4 };
      await seed(product);
      const read = await handle({ action: 'read', id });
      expect(read).toMatchObject({ engine: 'valkey', product, source: 'database', loaded: true, cacheError: undefined });
      expect(read.elapsedMs).toBeGreaterThanOrEqual(295);
      expect(read.elapsedMs).toBeLessThan(1_500);
      expect(String(read.elapsedMs)).toMatch(/^\d+(\.\d{1,3})?$/);
      const key = cacheKey(id);
      const [get, lock, ...rest] = server.commands;
      expect([get, lock]).toEqual([
        ['GET', key],
        ['SET', `${key}:lock`, expect.stringMatching(/^[0-9a-f-]{36}$/), 'EX', '2', 'NX'],
      ]);
      const polls = rest.slice(0, -1);
      expect(polls.length).toBeGreaterThanOrEqual(1);
      expect(polls.length).toBeLessThanOrEqual(3);
      expect(polls).toEqual(polls.map(() => ['GET', key]));
      // Not the lock's owner: it does not release it.
      const store = rest.at(-1) ?? [];
      expect(store).toEqual(['SET', key, expect.any(String), 'EX', '60']);
      expect(JSON.parse(store[2])).toEqual(product);
    });
  });

  test.each([
    ['CACHE_*_TIMEOUT_MS', { CACHE_CONNECT_TIMEOUT_MS: '120', CACHE_HANDSHAKE_TIMEOUT_MS: '140', CACHE_COMMAND_TIMEOUT_MS: '60' }, [120, 140, 60]],
    ['the defaults', {}, [500, 1000, 200]],
  ])('the cache timeouts are %s: connect (TLS by default), handshake (AUTH), command', async (_name, variables, [connectMs, handshakeMs, commandMs]) => {
    const tlsServer = stopLater(await silentServer('localhost'));
    const server = stopLater(await silentServer());
    await withHandler({ ...variables, CACHE_TLS: undefined, VALKEY_HOST: 'localhost', VALKEY_PORT: String(tlsServer.port) }, async (handle) => {
      expect(await handle({ action: 'read', id: newId('tls') })).toMatchObject({ source: 'database', cacheError: `could not connect to localhost:${tlsServer.port} within ${connectMs} ms` });
    });
    const port = String(server.port);
    await withHandler(
      { ...variables, VALKEY_HOST: '127.0.0.1', VALKEY_PORT: port, VALKEY_USER: 'products-fn', VALKEY_CACHE_NAME: 'cachinglab-products', MEMCACHED_HOST: '127.0.0.1', MEMCACHED_PORT: port },
      async (handle) => {
        expect(await handle({ action: 'read', id: newId('auth') })).toMatchObject({ source: 'database', cacheError: `no reply from 127.0.0.1:${port} within ${handshakeMs} ms` });
        expect(await handle({ action: 'read', id: newId('command'), engine: 'memcached' })).toMatchObject({
          source: 'database',
          cacheError: `no reply from 127.0.0.1:${port} within ${commandMs} ms`,
        });
      },
    );
  });

  test('a write-through whose cache is down still writes DynamoDB and reports why the cache was skipped', async () => {
    const port = await closedPort();
    await withHandler({ VALKEY_HOST: '127.0.0.1', VALKEY_PORT: String(port) }, async (handle) => {
      const id = newId('write-down');
      const product = { id, name: 'written', priceCents: 5 };
      expect(await handle({ action: 'write', product, strategy: 'write-through' })).toStrictEqual({
        id,
        engine: 'valkey',
        cache: 'skipped',
        cacheError: `could not connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
        elapsedMs: expect.any(Number),
        ttlSeconds: 60,
      });
      expect((await documents.send(new GetCommand({ TableName: tableName, Key: { id } }))).Item).toEqual(product);
    });
  });

  test.each([{ VALKEY_USER: 'products-fn' }, { VALKEY_CACHE_NAME: 'cachinglab-products' }])('AUTH needs both VALKEY_USER and VALKEY_CACHE_NAME: not with %p alone', async (variables) => {
    const cached = JSON.stringify({ id: 'x', name: 'cached', priceCents: 9 });
    const server = stopLater(await fakeValkey((command) => (command[0] === 'GET' ? `$${cached.length}\r\n${cached}\r\n` : '-NOAUTH Authentication required.\r\n')));
    await withHandler({ ...variables, VALKEY_HOST: '127.0.0.1', VALKEY_PORT: String(server.port) }, async (handle) => {
      expect(await handle({ action: 'read', id: 'x' })).toMatchObject({ source: 'cache', product: { name: 'cached' } });
      expect(server.commands).toEqual([['GET', 'product:x']]);
    });
  });

  test.each([
    ['not set', undefined, undefined],
    ['empty', '', ''],
  ])('VALKEY_PORT and MEMCACHED_PORT %s: the engines\' ports, 6379 and 11211', async (_name, valkeyPort, memcachedPort) => {
    const netModule = jest.requireActual<typeof import('node:net')>('node:net');
    const connect = netModule.connect;
    const local: Record<number, number> = { 6379: redis.port, 11211: memcached.port };
    const spy = jest
      .spyOn(netModule, 'connect')
      .mockImplementation(((options: { host: string; port: number }) => connect({ ...options, port: local[options.port] ?? options.port })) as typeof connect);
    try {
      await withHandler({ VALKEY_HOST: '127.0.0.1', VALKEY_PORT: valkeyPort, MEMCACHED_HOST: '127.0.0.1', MEMCACHED_PORT: memcachedPort }, async (handle) => {
        const id = newId('ports');
        expect(await handle({ action: 'read', id, engine: 'valkey' })).toMatchObject({ engine: 'valkey', cacheError: undefined });
        expect(await handle({ action: 'read', id, engine: 'memcached' })).toMatchObject({ engine: 'memcached', cacheError: undefined });
      });
      expect(spy.mock.calls).toEqual([[{ host: '127.0.0.1', port: 6379 }], [{ host: '127.0.0.1', port: 11211 }]]);
    } finally {
      spy.mockRestore();
    }
  });

  test('invocations share the connection; close() ends it, and the next invocation reads the environment again', async () => {
    const cached = JSON.stringify({ id: 'x', name: 'cached', priceCents: 9 });
    const answer = () => `$${cached.length}\r\n${cached}\r\n`;
    const [first, second] = [stopLater(await fakeValkey(answer)), stopLater(await fakeValkey(answer))];
    await withHandler({ VALKEY_HOST: '127.0.0.1', VALKEY_PORT: String(first.port) }, async (handle) => {
      await handle({ action: 'read', id: 'x' });
      await handle({ action: 'read', id: 'x' });
      expect(first.connections()).toBe(1);
      handle.close();
      await waitFor(() => first.closed() === 1);
      process.env.VALKEY_PORT = String(second.port);
      expect(await handle({ action: 'read', id: 'x' })).toMatchObject({ source: 'cache', product: { name: 'cached' } });
      expect([first.commands.length, second.commands.length]).toEqual([2, 1]);
    });
  });
});
