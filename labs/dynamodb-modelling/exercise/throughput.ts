import { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { check, createClient, defineFixture, ExerciseContext, ExerciseStep, requireOutput } from '../../support/exercise';
import { itemSizeBytes, provisionedCapacity, readUnits, writeUnits } from '../capacity';
import { documentClient } from './orders';
import { units } from './report';

/** The calculator the exam question is put to: capacity.ts's, unless a test gives one that answers it otherwise. */
export const examCalculator = defineFixture('calculator of the exam question', () => provisionedCapacity);

async function capacityUnits(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const docs = await context.use(documentClient);
  const table = requireOutput(outputs, 'ProductsTableName');
  log('item size → WCU per write | RCU strong | RCU eventual | transactional write / read');
  for (const bytes of [500, 1024, 1025, 4096, 4097, 7_500, 400 * 1024]) {
    log(
      `  ${String(bytes).padStart(6)} B → ${writeUnits(bytes)} | ${readUnits(bytes)} | ${readUnits(bytes, 'eventual')} | ` +
        `${writeUnits(bytes, { transactional: true })} / ${readUnits(bytes, 'transactional')}`,
    );
  }
  const exam = (await context.use(examCalculator))({ itemBytes: 6 * 1024, readsPerSecond: 10, writesPerSecond: 5, consistency: 'eventual' });
  log(`exam question: 10 eventually consistent reads/s and 5 writes/s of 6 KB items → ${exam.readCapacityUnits} RCU, ${exam.writeCapacityUnits} WCU`);
  check(exam.readCapacityUnits === 10 && exam.writeCapacityUnits === 30, 'the calculator got the exam question wrong');

  for (const target of [1024, 1025, 4097, 9000]) {
    const base = { productId: `${context.runId}-size-${target}`, stock: 1, pad: '' };
    const item = { ...base, pad: 'x'.repeat(target - itemSizeBytes(base)) };
    const size = itemSizeBytes(item);
    const put = await docs.send(new PutCommand({ TableName: table, Item: item, ReturnConsumedCapacity: 'TOTAL' }));
    const strong = await docs.send(new GetCommand({ TableName: table, Key: { productId: item.productId }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL' }));
    const eventual = await docs.send(new GetCommand({ TableName: table, Key: { productId: item.productId }, ReturnConsumedCapacity: 'TOTAL' }));
    const measured = [units(put.ConsumedCapacity), units(strong.ConsumedCapacity), units(eventual.ConsumedCapacity)];
    const predicted = [writeUnits(size), readUnits(size), readUnits(size, 'eventual')];
    log(`  a ${size}-byte item: DynamoDB reported ${measured.join(' / ')} (WCU / RCU strong / RCU eventual), calculator ${predicted.join(' / ')}`);
    check(measured.join() === predicted.join(), `for ${size} bytes DynamoDB reported ${measured.join(' / ')}, the calculator said ${predicted.join(' / ')}`);
  }
  log('attribute names count towards the size: short names are cheaper on every read and write');
}

/** A throttling error as DynamoDB returns it, so that the SDK's retry strategy treats it as one. */
function throttled(): Error {
  return Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded (simulated by the exercise)'), {
    name: 'ProvisionedThroughputExceededException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
}

/** A document client whose first `failures` attempts are answered with a throttling error before reaching DynamoDB. */
function throttledClient(config: DynamoDBClientConfig, failures: number): { client: DynamoDBDocumentClient; attempts: () => number } {
  const raw = createClient(DynamoDBClient, 'DYNAMODB', config);
  let attempts = 0;
  raw.middlewareStack.add(
    (next) => async (args) => {
      attempts += 1;
      if (attempts <= failures) throw throttled();
      return next(args);
    },
    { step: 'deserialize', name: 'simulatedThrottling' },
  );
  return { client: DynamoDBDocumentClient.from(raw), attempts: () => attempts };
}

async function retries(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const table = requireOutput(outputs, 'ProductsTableName');
  const item = { productId: `${context.runId}-retry`, stock: 1 };
  log('the SDK retries throttling (ProvisionedThroughputExceededException, ThrottlingException) and 5xx errors with');
  log('exponential backoff and jitter: retryMode "standard" (default, 3 attempts) or "adaptive" (also slows the client down)');

  const patient = throttledClient({ maxAttempts: 5, retryMode: 'standard' }, 2);
  const started = Date.now();
  const result = await patient.client.send(new PutCommand({ TableName: table, Item: item }));
  log(
    `maxAttempts 5, the first 2 attempts throttled: succeeded on attempt ${result.$metadata.attempts} after ` +
      `${result.$metadata.totalRetryDelay} ms of backoff (${Date.now() - started} ms in all)`,
  );
  check(result.$metadata.attempts === 3 && patient.attempts() === 3, `expected success on attempt 3, got ${result.$metadata.attempts}`);
  check((result.$metadata.totalRetryDelay ?? 0) > 0, 'the SDK retried without backing off');

  const impatient = throttledClient({ maxAttempts: 1 }, 1);
  const failure = await impatient.client.send(new PutCommand({ TableName: table, Item: item })).then(() => undefined, (error: Error) => error);
  log(`maxAttempts 1 (no retries): ${failure?.name} reaches the caller after ${impatient.attempts()} attempt`);
  check(failure?.name === 'ProvisionedThroughputExceededException', 'without retries the throttling error did not reach the caller');
  log('a provisioned table also has burst capacity (up to 300 s of unused capacity) and auto scaling reacts in minutes:');
  log('retries with backoff absorb short throttling; sustained throttling needs more capacity (or on-demand)');
}

export const capacityStep: ExerciseStep = { id: 'capacity', title: 'RCU/WCU calculator, checked against what DynamoDB reports', run: capacityUnits };
export const retriesStep: ExerciseStep = { id: 'retries', title: 'SDK retry configuration and what a throttled request does', run: retries };
