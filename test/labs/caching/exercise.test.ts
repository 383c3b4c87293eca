import { DynamoDBDocument, GetCommandInput, PutCommandInput, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DaxObservations, daxTour, DocumentApi } from '../../../lambda/caching-dax-probe';
import { createHandler, ProductRequest, ProductResponse, ProductsHandler } from '../../../lambda/caching-products';
import { cachingLab } from '../../../labs/caching/lab';
import { steps, timing } from '../../../labs/caching/exercise';
import { CACHING_LAB } from '../../../labs/caching/constants';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';
import { LocalLambdaInvoke, startLocalLambdaInvoke } from '../../support/local-lambda-invoke';
import { deployTablesLocally, LocalDynamoDb, startLocalDynamoDb } from '../../support/local-dynamodb';
import { labTemplate } from '../../support/lab-template';
import { concurrentTest } from '../../support/concurrent-test';
import { closedPort, LocalCacheServer, startLocalMemcached, startLocalRedis } from './local-cache-servers';

// DynamoDB Local's JVM may take most of its 30 s start deadline on a loaded machine.
const SERVERS_START_TIMEOUT_MS = 60_000;
jest.setTimeout(30_000);

const lab = cachingLab;
const template = labTemplate(lab);
const FUNCTION = 'products-function';
const PROBE = 'dax-probe-function';
/**
 * The lab's timings with quick polls, for a short cache TTL (SHORT_TTL, in the functions' environment): 3 s, so that on a
 * machine busy with other tests the value outlives the write between the step's first two reads.
 */
const SHORT_TIMING = { ...CACHING_LAB.exerciseTiming, products: 3, readsPerProduct: 3, stalePollMs: 100, staleSlackSeconds: 3 };

const SHORT_TTL_SECONDS = 3;
const SHORT_TTL = { CACHE_TTL_SECONDS: String(SHORT_TTL_SECONDS) };

let dynamo: LocalDynamoDb;
let redis: LocalCacheServer;
let memcached: LocalCacheServer;
let tableName: string;
let lambda: LocalLambdaInvoke;
const lines: string[] = [];
/** Every execution environment the pools created, closed after the tests so that no connection or client outlives them. */
const environments: ProductsHandler[] = [];

type ProductHandler = (request: ProductRequest) => Promise<ProductResponse>;
const LOCK_SECONDS_ON_A_BUSY_MACHINE = 15;

/** What runs behind each function name; a test swaps them. */
const behind: { products?: ProductHandler; probe?: (request: { id: string }) => Promise<unknown> } = {};
/**
 * The functions the local Invoke API runs, by name. It looks a name up on each call: a test that runs beside the others
 * adds a function of its own (see the end of the file) instead of swapping `behind`.
 */
const functions: Record<string, (event: unknown) => Promise<unknown>> = {
  [FUNCTION]: (event) => (behind.products as ProductHandler)(event as ProductRequest),
  [PROBE]: (event) => (behind.probe as (request: { id: string }) => Promise<unknown>)(event as { id: string }),
};

/** The environment the stack gives the function, pointing at the local servers; the stale-window tests shorten the TTL. */
function functionEnvironment(caches: { valkeyPort?: number; memcachedPort?: number }, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    TABLE_NAME: tableName,
    CACHE_TTL_SECONDS: String(CACHING_LAB.cacheTtlSeconds),
    // On a test machine busy with other test files, one DynamoDB Local read can outlast the deployed 2 s lock, and the
    // stampede step would count two loads: the lock lives and is waited for longer here. Waiting ends when the value
    // arrives, so this costs nothing; the guard's own behaviour at its limits is tested in caching-products.test.ts.
    CACHE_LOCK_TTL_SECONDS: String(LOCK_SECONDS_ON_A_BUSY_MACHINE),
    CACHE_LOCK_WAIT_MS: String(LOCK_SECONDS_ON_A_BUSY_MACHINE * 1000),
    // Likewise the deployed 200 ms per command: a reader whose command times out answers from DynamoDB, a second load.
    CACHE_CONNECT_TIMEOUT_MS: '5000',
    CACHE_HANDSHAKE_TIMEOUT_MS: '5000',
    CACHE_COMMAND_TIMEOUT_MS: '5000',
    CACHE_LOCK_POLL_MS: String(CACHING_LAB.lockPollMs),
    CACHE_TLS: 'false',
    VALKEY_HOST: caches.valkeyPort ? '127.0.0.1' : undefined,
    VALKEY_PORT: caches.valkeyPort ? String(caches.valkeyPort) : undefined,
    MEMCACHED_HOST: caches.memcachedPort ? '127.0.0.1' : undefined,
    MEMCACHED_PORT: caches.memcachedPort ? String(caches.memcachedPort) : undefined,
    ...extra,
  };
}

/**
 * The function as Lambda runs it: a pool of execution environments (handlers with their own connections), one request
 * at a time each, a new one when all are busy. Each reads `environment` on its first request, as Lambda's would.
 */
function lambdaPool(environment: Record<string, string | undefined>): ProductHandler {
  const idle: ProductsHandler[] = [];
  const create = () => {
    const created = createHandler();
    environments.push(created);
    return created;
  };
  return async (request) => {
    const saved = { ...process.env };
    const handler = idle.pop() ?? create();
    try {
      for (const [name, value] of Object.entries(environment)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      return await handler(request);
    } finally {
      process.env = saved;
      idle.push(handler);
    }
  };
}

/** The headings the steps print, written out: taken from the steps themselves, they would change with them. */
const TITLES: Record<string, string> = {
  'lazy-loading': 'lazy loading: hit ratio and latency per path',
  'stale-window': 'lazy loading: the stale read window after a write, bounded by the TTL',
  'write-through': 'write-through: the read after a write is fresh and a hit',
  stampede: 'a stampede of concurrent misses served by one load',
  dax: 'DAX: item cache, query cache, and a strongly consistent read passing through',
};
/** The lines a step run alone prints: its heading, then `expected` (a pattern for a line with times in it). */
const printed = (stepId: string, ...expected: (string | RegExp)[]) => [
  `\n== 1/1 ${stepId}: ${TITLES[stepId]}`,
  ...expected.map((line) => (typeof line === 'string' ? line : expect.stringMatching(line))),
];
const NO_CACHE = 'no cache deployed (-c caching:valkey=true or -c caching:memcached=true): every read goes to DynamoDB';

const outputsFor = (caches: { valkey?: boolean; memcached?: boolean; dax?: boolean }) => ({
  ProductsTableName: tableName,
  ProductsFunctionName: FUNCTION,
  ...(caches.valkey ? { ValkeyEndpoint: 'local-valkey:6380' } : {}),
  ...(caches.memcached ? { MemcachedEndpoint: 'local-memcached:11212' } : {}),
  ...(caches.dax ? { DaxClusterEndpoint: 'daxs://local', DaxProbeFunctionName: PROBE } : {}),
});

async function run(stepId: string, outputs: Record<string, string>, runId?: string, printedTo = lines): Promise<void> {
  const step = steps.filter((s) => s.id === stepId);
  expect(step).toHaveLength(1);
  await runExercise(step, { outputs, log: (line) => printedTo.push(line), provide: [provide(timing, SHORT_TIMING)], runId });
}

beforeAll(async () => {
  [dynamo, redis, memcached] = await Promise.all([startLocalDynamoDb(), startLocalRedis(), startLocalMemcached()]);
  const deployed = await deployTablesLocally(template, dynamo.client);
  tableName = deployed.outputs.ProductsTableName;
  // DynamoDB Local's first reads run in a cold JVM and may take seconds on a loaded machine, longer than the lab's lock
  // wait: made here, so that the steps measure the cache, not the JVM's warm-up.
  const warmUp = DynamoDBDocument.from(dynamo.client);
  for (let i = 0; i < 20; i++) await warmUp.get({ TableName: tableName, Key: { id: `warm-up-${i}` }, ConsistentRead: true });
  lambda = await startLocalLambdaInvoke(functions);
}, SERVERS_START_TIMEOUT_MS);
afterAll(async () => {
  for (const environment of environments) environment.close();
  await lambda?.stop();
  await dynamo?.stop();
});
beforeEach(() => (lines.length = 0));

describe('with Valkey and Memcached (redis-server and memcached on loopback)', () => {
  // The lab's 10 s TTL; the stale window, which lasts as long as the TTL, is tested with a short one at the end of the file.
  beforeAll(() => (behind.products = lambdaPool(functionEnvironment({ valkeyPort: redis.port, memcachedPort: memcached.port }))));

  /** What each step prints for one engine; times vary, the rest does not. */
  const printedPerEngine: Record<string, (engine: string) => (string | RegExp)[]> = {
    'lazy-loading': (engine) => [`${engine}: 9 reads, 6 hits, 3 from DynamoDB: hit ratio 67%`, new RegExp(`^${engine}: median latency in the function, cache hit [\\d.]+ ms, DynamoDB [\\d.]+ ms$`)],
    'write-through': (engine) => [new RegExp(`^${engine}: write-through took [\\d.]+ ms \\(DynamoDB only: [\\d.]+ ms\\); the next read returns the new price from cache$`)],
    stampede: (engine) => [
      `${engine}: ${SHORT_TIMING.stampedeReaders} concurrent reads of a product not yet cached: 1 loaded it from DynamoDB`,
      `${engine}: the others waited for its value in the cache (lock key product:<id>:lock, ${CACHING_LAB.lockTtlSeconds} s)`,
    ],
  };

  // The steps in order with one run id, as in a learner's run: each step must read only the products it seeded. The
  // stale-window step of this run is at the end of the file.
  test.each(['lazy-loading', 'write-through', 'stampede'])('step %s passes its checks for both engines', async (stepId) => {
    await run(stepId, outputsFor({ valkey: true, memcached: true }), 'run-t');
    expect(lines).toEqual(printed(stepId, ...printedPerEngine[stepId]('valkey'), ...printedPerEngine[stepId]('memcached')));
  });

  test('lazy-loading measures the hit ratio: one miss per product, then hits', async () => {
    await run('lazy-loading', outputsFor({ valkey: true }));
    expect(lines).toContain('valkey: 9 reads, 6 hits, 3 from DynamoDB: hit ratio 67%');
  });
});

describe('without a cache', () => {
  beforeAll(() => (behind.products = lambdaPool(functionEnvironment({}))));

  const printedWithoutCache: Record<string, (string | RegExp)[]> = {
    'lazy-loading': [NO_CACHE, 'no cache: 9 reads, 0 hits, 9 from DynamoDB: hit ratio 0%', /^no cache: median latency in the function, cache hit NaN ms, DynamoDB [\d.]+ ms$/],
    'stale-window': [NO_CACHE, 'no cache: the read right after the write returns the new price; no stale window'],
    'write-through': [NO_CACHE, /^no cache: write-through took [\d.]+ ms \(DynamoDB only: [\d.]+ ms\); the next read returns the new price from database$/],
    stampede: [NO_CACHE, `no cache: ${SHORT_TIMING.stampedeReaders} concurrent reads of a product not yet cached: ${SHORT_TIMING.stampedeReaders} loaded it from DynamoDB`],
    dax: ['no DAX cluster deployed (-c caching:dax=true): nothing to show'],
  };

  // The steps in order with the same run id (and table) as above: the products each seeds are still its own.
  test.each(['lazy-loading', 'stale-window', 'write-through', 'stampede', 'dax'])('step %s passes, every read from DynamoDB', async (stepId) => {
    await run(stepId, outputsFor({}), 'run-t');
    expect(lines).toEqual(printed(stepId, ...printedWithoutCache[stepId]));
  });
});

describe('the checks fail when the lab misbehaves', () => {
  const fails = async (stepId: string, outputs: Record<string, string>, message: RegExp) => {
    const failure = await run(stepId, outputs).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(message);
  };

  test('lazy-loading: a cache that is down (the function answers from DynamoDB) is reported', async () => {
    behind.products = lambdaPool(functionEnvironment({ valkeyPort: await closedPort() }));
    await fails('lazy-loading', outputsFor({ valkey: true }), /^the valkey cache failed, the function answered from DynamoDB: could not connect to 127.0.0.1:\d+: connect ECONNREFUSED/);
  });

  test('lazy-loading: a function that never uses its cache fails the hit count', async () => {
    const pool = lambdaPool(functionEnvironment({}));
    behind.products = (request) => pool({ ...request, engine: undefined });
    await fails('lazy-loading', outputsFor({ valkey: true }), /expected one miss per product/);
  });

  test('stale-window: a write that refreshes the cache shows no stale read, which lazy loading must', async () => {
    const pool = lambdaPool(functionEnvironment({ valkeyPort: redis.port }));
    behind.products = (request) => pool(request.action === 'write' ? { ...request, strategy: 'write-through' } : request);
    await fails('stale-window', outputsFor({ valkey: true }), /served the new price at once/);
  });

  test('write-through: a write that leaves the cache alone serves the old price', async () => {
    const pool = lambdaPool(functionEnvironment({ memcachedPort: memcached.port }));
    behind.products = (request) => pool(request.action === 'write' ? { ...request, strategy: 'lazy-loading' } : request);
    await fails('write-through', outputsFor({ memcached: true }), /the read after a write-through returned/);
  });

  test('stampede: without the wait for the lock holder, each concurrent reader loads', async () => {
    behind.products = lambdaPool(functionEnvironment({ valkeyPort: redis.port }, { CACHE_LOCK_WAIT_MS: '0' }));
    await fails('stampede', outputsFor({ valkey: true }), /^valkey: expected the lock key to let one reader load, \d+ did$/);
  });

  /** The function as deployed with `caches`, each answer changed by `change` (given the request and the call's number, from 1). */
  const answeredAs = (caches: Parameters<typeof functionEnvironment>[0], change: (answer: ProductResponse, request: ProductRequest, nth: number) => ProductResponse) => {
    const pool = lambdaPool(functionEnvironment(caches));
    let nth = 0;
    behind.products = async (request) => change(await pool(request), request, (nth += 1));
  };
  const priced = (answer: ProductResponse, priceCents: number): ProductResponse => ({ ...answer, product: { ...answer.product!, priceCents } });

  test('lazy-loading: a read that returns another price than the seeded one', async () => {
    answeredAs({ valkeyPort: redis.port }, (answer, request) => (request.action === 'read' && request.id.endsWith('-1') ? priced(answer, answer.product!.priceCents + 1000) : answer));
    const failure = await run('lazy-loading', outputsFor({ valkey: true })).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    const [, id, product] = /^read (run-\w+-lazy-valkey-1) returned (\{.*\}), not the seeded product$/.exec((failure as Error).message) ?? [];
    expect(JSON.parse(product)).toEqual({ id, name: 'product 1', priceCents: 1101 });
  });

  test('lazy-loading: reads from a cache when none is deployed', async () => {
    answeredAs({}, (answer) => ({ ...answer, source: 'cache' }));
    await fails('lazy-loading', outputsFor({}), /^reads came from a cache although none is deployed$/);
  });

  test('lazy-loading: hits no faster than misses, compared by the median of each', async () => {
    // Medians of the sorted times: hits [1 2 3 5 7 9] → 5, misses [2 5 30] → 5. Unsorted, they would be 3 and 5.
    const hitMs = [9, 1, 5, 3, 7, 2];
    const missMs = [30, 5, 2];
    answeredAs({ valkeyPort: redis.port }, (answer) => ({ ...answer, elapsedMs: (answer.source === 'cache' ? hitMs : missMs).shift()! }));
    await fails('lazy-loading', outputsFor({ valkey: true }), /^valkey: a cache hit was not faster than a DynamoDB read$/);
    expect(lines).toContain('valkey: median latency in the function, cache hit 5 ms, DynamoDB 5 ms');
  });

  test('stale-window: without a cache, a read after the write that returns the old price', async () => {
    let written = false;
    answeredAs({}, (answer, request) => {
      written ||= request.action === 'write';
      return written && request.action === 'read' ? priced(answer, answer.product!.priceCents - 1000) : answer;
    });
    await fails('stale-window', outputsFor({}), /^without a cache, the read after the write did not return the new price$/);
  });

  test.each<[string, number, string]>([
    ['a first read served by the cache', 1, 'valkey: expected a miss then a hit, got cache then cache'],
    ['a read after the write served by DynamoDB', 3, 'valkey: expected a miss then a hit, got database then database'],
  ])('stale-window: %s', async (_name, changedCall, message) => {
    // Calls: 1 the first read, 2 the write, 3 the read after it.
    answeredAs({ valkeyPort: redis.port }, (answer, _request, nth) => (nth === changedCall ? { ...answer, source: answer.source === 'cache' ? 'database' : 'cache' } : answer));
    await fails('stale-window', outputsFor({ valkey: true }), new RegExp(`^${message}$`));
  });

  test.each<[string, (answer: ProductResponse, request: ProductRequest) => ProductResponse, string]>([
    ['a write-through that only invalidates', (answer, request) => (request.action === 'write' && request.strategy === 'write-through' ? { ...answer, cache: 'invalidated', cacheError: 'made up' } : answer), 'memcached: the write-through did not update the cache (invalidated: made up)'],
    ['a read after it served by DynamoDB', (answer, request) => (request.action === 'read' && answer.product!.priceCents > 2000 ? { ...answer, source: 'database' } : answer), 'memcached: the read after a write-through went to DynamoDB instead of the cache'],
  ])('write-through: %s', async (_name, change, message) => {
    answeredAs({ memcachedPort: memcached.port }, change);
    await fails('write-through', outputsFor({ memcached: true }), new RegExp(`^${message.replace(/[()]/g, '\\$&')}$`));
  });

  /** Answers as deployed with the cache of `engine`, except the `nth` call, which has no product. */
  const nthWithoutProduct = (engine: 'valkey' | 'memcached' | 'no cache', nth: number) =>
    answeredAs({ valkeyPort: engine === 'valkey' ? redis.port : undefined, memcachedPort: engine === 'memcached' ? memcached.port : undefined }, (answer, _request, call) => (call === nth ? { ...answer, product: undefined } : answer));
  // The calls: lazy-loading reads; stale-window reads (1), writes (2), reads again (3); write-through reads (1), writes twice (2, 3), reads (4).
  test.each<[string, 'valkey' | 'memcached' | 'no cache', number, RegExp]>([
    ['lazy-loading', 'valkey', 1, /^read run-\w+-lazy-valkey-0 returned undefined, not the seeded product$/],
    ['stale-window', 'no cache', 3, /^without a cache, the read after the write did not return the new price$/],
    ['stale-window', 'valkey', 3, /^valkey: lazy loading served the new price at once; expected the cached old one$/],
    ['write-through', 'memcached', 4, /^memcached: the read after a write-through returned undefined, not 2100$/],
    ['stampede', 'valkey', 2, /^valkey: a concurrent read returned the wrong product$/],
  ])('%s (%s): a read answered without the product fails the check, not the step', async (stepId, engine, nth, message) => {
    nthWithoutProduct(engine, nth);
    await fails(stepId, outputsFor({ valkey: engine === 'valkey', memcached: engine === 'memcached' }), message);
  });

  test('stampede: a concurrent read that returns another price', async () => {
    answeredAs({ valkeyPort: redis.port }, (answer, _request, nth) => (nth === 2 ? priced(answer, 1) : answer));
    await fails('stampede', outputsFor({ valkey: true }), /^valkey: a concurrent read returned the wrong product$/);
  });

  test('stampede: two loads name the cache errors behind them', async () => {
    answeredAs({ valkeyPort: redis.port }, (answer, _request, nth) => (nth <= 2 ? { ...answer, loaded: true, cacheError: `error ${nth}` } : { ...answer, loaded: false, cacheError: undefined }));
    // The concurrent calls reach the function in any order: which read got which error is not known.
    await fails('stampede', outputsFor({ valkey: true }), /^valkey: expected the lock key to let one reader load, 2 did \(cache errors: (error 1; error 2|error 2; error 1)\)$/);
  });

  test('a function error fails the step with what the function answered', async () => {
    behind.products = () => Promise.reject(new Error('made up'));
    await fails('lazy-loading', outputsFor({}), /^ProductsFunctionName failed: \{"errorType":"Error","errorMessage":"made up"\}$/);
  });
});

/**
 * A stand-in for DAX (no local DAX exists) over DynamoDB Local, with DAX's documented behaviour: an item cache filled by
 * reads and by writes made through it, a query cache filled by queries and never updated by writes, strongly
 * consistent reads passed through. Each `broken` flag removes one of those behaviours.
 */
class DaxDouble implements DocumentApi {
  private readonly items = new Map<string, Record<string, unknown>>();
  private readonly queries = new Map<string, Record<string, unknown>[]>();
  constructor(
    private readonly direct: DynamoDBDocument,
    private readonly broken: { noItemCache?: boolean; cachesConsistentReads?: boolean; noWriteThrough?: boolean; writesClearQueries?: boolean } = {},
  ) {}
  async get(input: GetCommandInput) {
    const key = JSON.stringify(input.Key);
    if (input.ConsistentRead && !this.broken.cachesConsistentReads) return this.direct.get(input);
    const cached = this.broken.noItemCache ? undefined : this.items.get(key);
    if (cached) return { Item: cached, $metadata: {} };
    const read = await this.direct.get({ ...input, ConsistentRead: false });
    if (read.Item) this.items.set(key, read.Item);
    return read;
  }
  async put(input: PutCommandInput) {
    const written = await this.direct.put(input);
    if (!this.broken.noWriteThrough) this.items.set(JSON.stringify({ id: input.Item?.id }), input.Item as Record<string, unknown>);
    if (this.broken.writesClearQueries) this.queries.clear();
    return written;
  }
  async query(input: QueryCommandInput) {
    const key = JSON.stringify(input);
    const cached = this.queries.get(key);
    if (cached) return { Items: cached, $metadata: {} };
    const read = await this.direct.query(input);
    this.queries.set(key, read.Items ?? []);
    return read;
  }
}

describe('dax, against a DAX double over DynamoDB Local', () => {
  /** What the probe reports when DAX behaves as documented. */
  const observed: DaxObservations = { itemMissMs: 9, itemHitMs: 1, queryMissMs: 8, queryHitMs: 2, itemAfterDirectWrite: 1, consistentAfterDirectWrite: 2, itemAfterDaxWrite: 3, queryAfterDaxWrite: 1 };

  const probeWith = (broken?: ConstructorParameters<typeof DaxDouble>[1]) => {
    const direct = DynamoDBDocument.from(dynamo.client);
    behind.probe = (request) => daxTour(new DaxDouble(direct, broken), direct, tableName, request.id);
  };

  test('passes: item cache, query cache, strongly consistent read passing through', async () => {
    probeWith();
    // The last step of run `run-t`, after the others above, on the same table.
    await run('dax', outputsFor({ dax: true }), 'run-t');
    expect(lines.join('\n')).toMatch(/query cache is separate/);
  });

  test('prints the times and what each read showed', async () => {
    behind.probe = async () => ({ ...observed });
    await run('dax', outputsFor({ dax: true }));
    expect(lines).toEqual(printed(
      'dax',
      'GetItem through DAX: 9 ms on a miss, 1 ms on a hit; Query: 8 ms, then 2 ms',
      'version 2 written to DynamoDB directly: DAX still returns version 1 (its item cache knows only writes made through it)',
      'ConsistentRead: true through DAX returns version 2: DAX passes strongly consistent reads to DynamoDB and caches nothing',
      'version 3 written through DAX: GetItem returns it at once (write-through to the item cache)',
      'the same Query still returns version 1: the query cache is separate and not updated by writes, only by its TTL (5 min default)',
    ));
  });

  test.each<[string, Partial<DaxObservations>, string]>([
    ['a hit as slow as the miss', { itemHitMs: 9 }, 'a GetItem served by the item cache was not faster than the miss before it'],
    ['the direct write seen through the item cache', { itemAfterDirectWrite: 2 }, 'after version 2 was written to DynamoDB directly, DAX returned version 2, not its cached 1'],
  ])('fails on the probe\'s answer: %s', async (_name, change, message) => {
    behind.probe = async () => ({ ...observed, ...change });
    await expect(run('dax', outputsFor({ dax: true }))).rejects.toThrow(new ExerciseCheckFailed(message));
  });

  test('the timed miss is the item cache\'s: the client\'s slow first call (discovery, TLS) is made before it', async () => {
    const direct = DynamoDBDocument.from(dynamo.client);
    const startUpMs = 500;
    // A client whose first call takes 500 ms longer, as the DAX client's first call, which discovers the nodes.
    class ColdDaxDouble extends DaxDouble {
      private started = false;
      async get(input: GetCommandInput) {
        if (!this.started) {
          this.started = true;
          await new Promise((resolve) => setTimeout(resolve, startUpMs));
        }
        return super.get(input);
      }
    }
    const seen = await daxTour(new ColdDaxDouble(direct), direct, tableName, `${Date.now().toString(36)}-cold`);
    expect(seen.itemMissMs).toBeLessThan(startUpMs);
  });

  test.each([
    [{ noItemCache: true }, /not faster|not its cached 1/],
    [{ cachesConsistentReads: true }, /strongly consistent read through DAX returned version 1/],
    [{ noWriteThrough: true }, /after version 3 was written through DAX/],
    [{ writesClearQueries: true }, /expected the cached result/],
  ])('fails when DAX misbehaves: %j', async (broken, message) => {
    probeWith(broken);
    await expect(run('dax', outputsFor({ dax: true }))).rejects.toThrow(message);
  });
});

/**
 * The stale read window lasts as long as the cache TTL: these tests wait for real TTLs, seconds each. They run at once
 * (`concurrentTest`), beside the tests above, each through a function of its own and printing to lines of its own.
 * Declared last, since jest waits for a concurrent test where it is declared.
 */
describe('the stale read window, on real TTLs, beside the other tests', () => {
  let ownFunctions = 0;
  /** The outputs of a stack with `caches` whose products function, of this test alone, is `handler`. */
  const deployedWith = (handler: ProductHandler, caches: Parameters<typeof outputsFor>[0]) => {
    const name = `${FUNCTION}-${(ownFunctions += 1)}`;
    functions[name] = (event) => handler(event as ProductRequest);
    return { ...outputsFor(caches), ProductsFunctionName: name };
  };
  /** A run id no other test has: the time, as runExercise's, so that values an earlier run left in the worker's cache servers are never read. */
  const ownRunId = (name: string) => `run-${Date.now().toString(36)}-${name}`;
  const shortTtl = () => lambdaPool(functionEnvironment({ valkeyPort: redis.port, memcachedPort: memcached.port }, SHORT_TTL));
  /** What the stale-window step prints for one engine; the window's length varies. */
  const printedStaleWindow = (engine: string) => [
    `${engine}: wrote price 1100 to DynamoDB only; the next read still returns 100 from the cache`,
    new RegExp(`^${engine}: the new price appeared after \\d+\\.\\d s \\(TTL ${SHORT_TTL_SECONDS} s\\): that is the stale read window lazy loading costs$`),
  ];

  // The stale-window step of run `run-t` (see above): the products it seeds are still its own.
  concurrentTest('step stale-window passes its checks for both engines', async () => {
    const ownLines: string[] = [];
    await run('stale-window', deployedWith(shortTtl(), { valkey: true, memcached: true }), 'run-t', ownLines);
    expect(ownLines).toEqual(printed('stale-window', ...printedStaleWindow('valkey'), ...printedStaleWindow('memcached')));
  });

  concurrentTest('stale-window measures a window no longer than the TTL and its slack', async () => {
    const ownLines: string[] = [];
    await run('stale-window', deployedWith(shortTtl(), { memcached: true }), ownRunId('window'), ownLines);
    const window = Number(/appeared after ([\d.]+) s/.exec(ownLines.join('\n'))?.[1]);
    expect(window).toBeGreaterThan(0);
    expect(window).toBeLessThanOrEqual(SHORT_TTL_SECONDS + SHORT_TIMING.staleSlackSeconds);
  });

  concurrentTest('stale-window: a value that outlives the TTL the function states is reported after that TTL and its slack', async () => {
    // The cache keeps values 60 s while the function says 1 s.
    const pool = lambdaPool(functionEnvironment({ valkeyPort: redis.port }, { CACHE_TTL_SECONDS: '60' }));
    const ownLines: string[] = [];
    await expect(
      runExercise(steps.filter((s) => s.id === 'stale-window'), {
        outputs: deployedWith(async (request) => ({ ...(await pool(request)), ttlSeconds: 1 }), { valkey: true }),
        log: (line) => ownLines.push(line),
        provide: [provide(timing, { ...SHORT_TIMING, staleSlackSeconds: 1 })],
        runId: ownRunId('outlived'),
      }),
    ).rejects.toThrow(new ExerciseCheckFailed('valkey: the old price was still served 2 s after the write (TTL 1 s)'));
  });
});
