import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DaxObservations } from '../../lambda/caching-dax-probe';
import type { Product, ProductRequest, ProductResponse } from '../../lambda/caching-products';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { CACHING_LAB } from './constants';

export const timing = defineTiming(CACHING_LAB.exerciseTiming);

const documents = defineFixture('DynamoDB document client', (context) => DynamoDBDocumentClient.from(context.client(DynamoDBClient, 'DYNAMODB')));

/** Calls a function of the lab and returns what it answered; a function error fails the step with its message. */
async function invoke<T>(context: ExerciseContext, output: string, request: unknown): Promise<T> {
  const response = await context.client(LambdaClient, 'LAMBDA').send(
    new InvokeCommand({ FunctionName: requireOutput(context.outputs, output), Payload: Buffer.from(JSON.stringify(request)) }),
  );
  const payload = Buffer.from(response.Payload ?? []).toString();
  check(!response.FunctionError, `${output} failed: ${payload}`);
  return JSON.parse(payload) as T;
}

const products = (context: ExerciseContext, request: ProductRequest) => invoke<ProductResponse>(context, 'ProductsFunctionName', request);

/** The engines the function has a cache of, from the stack's outputs; `undefined` stands for "no cache". */
function engines(context: ExerciseContext): (string | undefined)[] {
  const configured = [context.outputs.ValkeyEndpoint ? 'valkey' : undefined, context.outputs.MemcachedEndpoint ? 'memcached' : undefined];
  const found = configured.filter((engine): engine is string => engine !== undefined);
  if (found.length === 0) context.log('no cache deployed (-c caching:valkey=true or -c caching:memcached=true): every read goes to DynamoDB');
  return found.length > 0 ? found : [undefined];
}

/** Writes products of this run straight to the table (no cache involved) and returns them. */
async function seed(context: ExerciseContext, prefix: string, count: number): Promise<Product[]> {
  const table = requireOutput(context.outputs, 'ProductsTableName');
  const items = Array.from({ length: count }, (_, i) => ({ id: `${context.runId}-${prefix}-${i}`, name: `product ${i}`, priceCents: 100 + i }));
  const docs = await context.use(documents);
  for (const item of items) await docs.send(new PutCommand({ TableName: table, Item: item }));
  return items;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)];
};

async function lazyLoading(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { products: count, readsPerProduct } = await context.use(timing);
  for (const engine of engines(context)) {
    const seeded = await seed(context, `lazy-${engine ?? 'none'}`, count);
    const answers: ProductResponse[] = [];
    // Each product's reads back to back: its hits come within the cache TTL of its one miss, however slow the invokes.
    for (const product of seeded) {
      for (let round = 0; round < readsPerProduct; round++) {
        const answer = await products(context, { action: 'read', id: product.id, engine });
        check(answer.product?.priceCents === product.priceCents, `read ${product.id} returned ${JSON.stringify(answer.product)}, not the seeded product`);
        answers.push(answer);
      }
    }
    const hits = answers.filter((a) => a.source === 'cache');
    const misses = answers.filter((a) => a.source === 'database');
    const label = engine ?? 'no cache';
    log(`${label}: ${answers.length} reads, ${hits.length} hits, ${misses.length} from DynamoDB: hit ratio ${((100 * hits.length) / answers.length).toFixed(0)}%`);
    log(`${label}: median latency in the function, cache hit ${median(hits.map((a) => a.elapsedMs))} ms, DynamoDB ${median(misses.map((a) => a.elapsedMs))} ms`);
    const errors = answers.filter((a) => a.cacheError).map((a) => a.cacheError);
    check(errors.length === 0, `the ${label} cache failed, the function answered from DynamoDB: ${errors[0]}`);
    if (!engine) {
      check(hits.length === 0, 'reads came from a cache although none is deployed');
      continue;
    }
    check(misses.length === count, `expected one miss per product (${count}), got ${misses.length}`);
    check(hits.length === count * (readsPerProduct - 1), `expected ${count * (readsPerProduct - 1)} hits, got ${hits.length}`);
    check(median(hits.map((a) => a.elapsedMs)) < median(misses.map((a) => a.elapsedMs)), `${label}: a cache hit was not faster than a DynamoDB read`);
  }
}

async function staleWindow(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { stalePollMs, staleSlackSeconds } = await context.use(timing);
  for (const engine of engines(context)) {
    const [product] = await seed(context, `stale-${engine ?? 'none'}`, 1);
    const first = await products(context, { action: 'read', id: product.id, engine });
    const updated = { ...product, priceCents: product.priceCents + 1000 };
    await products(context, { action: 'write', product: updated, strategy: 'lazy-loading', engine });
    const writtenAt = Date.now();
    const label = engine ?? 'no cache';
    const after = await products(context, { action: 'read', id: product.id, engine });
    if (!engine) {
      check(after.product?.priceCents === updated.priceCents, 'without a cache, the read after the write did not return the new price');
      log('no cache: the read right after the write returns the new price; no stale window');
      continue;
    }
    check(first.source === 'database' && after.source === 'cache', `${label}: expected a miss then a hit, got ${first.source} then ${after.source}`);
    check(after.product?.priceCents === product.priceCents, `${label}: lazy loading served the new price at once; expected the cached old one`);
    log(`${label}: wrote price ${updated.priceCents} to DynamoDB only; the next read still returns ${after.product?.priceCents} from the cache`);
    const ttlSeconds = after.ttlSeconds ?? 0;
    const deadline = writtenAt + (ttlSeconds + staleSlackSeconds) * 1000;
    let fresh: ProductResponse | undefined;
    while (!fresh && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, stalePollMs));
      const read = await products(context, { action: 'read', id: product.id, engine });
      if (read.product?.priceCents === updated.priceCents) fresh = read;
    }
    check(fresh !== undefined, `${label}: the old price was still served ${ttlSeconds + staleSlackSeconds} s after the write (TTL ${ttlSeconds} s)`);
    const window = (Date.now() - writtenAt) / 1000;
    log(`${label}: the new price appeared after ${window.toFixed(1)} s (TTL ${ttlSeconds} s): that is the stale read window lazy loading costs`);
    check(fresh.source === 'database', `${label}: the new price came from ${fresh.source}, not from a load after the TTL ended`);
  }
}

async function writeThrough(context: ExerciseContext): Promise<void> {
  const { log } = context;
  for (const engine of engines(context)) {
    const [product] = await seed(context, `write-through-${engine ?? 'none'}`, 1);
    await products(context, { action: 'read', id: product.id, engine });
    const updated = { ...product, priceCents: product.priceCents + 2000 };
    const lazyWrite = await products(context, { action: 'write', product: { ...updated, priceCents: updated.priceCents - 1 }, strategy: 'lazy-loading', engine });
    const written = await products(context, { action: 'write', product: updated, strategy: 'write-through', engine });
    const after = await products(context, { action: 'read', id: product.id, engine });
    const label = engine ?? 'no cache';
    check(after.product?.priceCents === updated.priceCents, `${label}: the read after a write-through returned ${after.product?.priceCents}, not ${updated.priceCents}`);
    log(`${label}: write-through took ${written.elapsedMs} ms (DynamoDB only: ${lazyWrite.elapsedMs} ms); the next read returns the new price from ${after.source}`);
    if (!engine) continue;
    check(written.cache === 'updated', `${label}: the write-through did not update the cache (${written.cache}: ${written.cacheError})`);
    check(after.source === 'cache', `${label}: the read after a write-through went to DynamoDB instead of the cache`);
  }
}

async function stampede(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { stampedeReaders } = await context.use(timing);
  for (const engine of engines(context)) {
    const [product] = await seed(context, `stampede-${engine ?? 'none'}`, 1);
    const answers = await Promise.all(Array.from({ length: stampedeReaders }, () => products(context, { action: 'read', id: product.id, engine })));
    const loads = answers.filter((a) => a.loaded).length;
    const label = engine ?? 'no cache';
    log(`${label}: ${stampedeReaders} concurrent reads of a product not yet cached: ${loads} loaded it from DynamoDB`);
    check(answers.every((a) => a.product?.priceCents === product.priceCents), `${label}: a concurrent read returned the wrong product`);
    if (!engine) continue;
    const cacheErrors = [...new Set(answers.flatMap((a) => (a.cacheError ? [a.cacheError] : [])))];
    check(loads === 1, `${label}: expected the lock key to let one reader load, ${loads} did${cacheErrors.length ? ` (cache errors: ${cacheErrors.join('; ')})` : ''}`);
    log(`${label}: the others waited for its value in the cache (lock key product:<id>:lock, ${CACHING_LAB.lockTtlSeconds} s)`);
  }
}

async function daxCaches(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  if (!outputs.DaxProbeFunctionName) {
    log('no DAX cluster deployed (-c caching:dax=true): nothing to show');
    return;
  }
  const seen = await invoke<DaxObservations>(context, 'DaxProbeFunctionName', { id: `${context.runId}-dax` });
  log(`GetItem through DAX: ${seen.itemMissMs} ms on a miss, ${seen.itemHitMs} ms on a hit; Query: ${seen.queryMissMs} ms, then ${seen.queryHitMs} ms`);
  check(seen.itemHitMs < seen.itemMissMs, 'a GetItem served by the item cache was not faster than the miss before it');
  check(seen.itemAfterDirectWrite === 1, `after version 2 was written to DynamoDB directly, DAX returned version ${seen.itemAfterDirectWrite}, not its cached 1`);
  log('version 2 written to DynamoDB directly: DAX still returns version 1 (its item cache knows only writes made through it)');
  check(seen.consistentAfterDirectWrite === 2, `a strongly consistent read through DAX returned version ${seen.consistentAfterDirectWrite}, not 2`);
  log('ConsistentRead: true through DAX returns version 2: DAX passes strongly consistent reads to DynamoDB and caches nothing');
  check(seen.itemAfterDaxWrite === 3, `after version 3 was written through DAX, GetItem through DAX returned ${seen.itemAfterDaxWrite}`);
  log('version 3 written through DAX: GetItem returns it at once (write-through to the item cache)');
  check(seen.queryAfterDaxWrite === 1, `the same Query through DAX returned version ${seen.queryAfterDaxWrite}; expected the cached result (version 1)`);
  log('the same Query still returns version 1: the query cache is separate and not updated by writes, only by its TTL (5 min default)');
}

export const steps: readonly ExerciseStep[] = [
  { id: 'lazy-loading', title: 'lazy loading: hit ratio and latency per path', run: lazyLoading },
  { id: 'stale-window', title: 'lazy loading: the stale read window after a write, bounded by the TTL', run: staleWindow },
  { id: 'write-through', title: 'write-through: the read after a write is fresh and a hit', run: writeThrough },
  { id: 'stampede', title: 'a stampede of concurrent misses served by one load', run: stampede },
  { id: 'dax', title: 'DAX: item cache, query cache, and a strongly consistent read passing through', run: daxCaches },
];
