import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DynamoDBClient,
  QueryCommand,
  TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamodbModellingLab } from '../../../labs/dynamodb-modelling/lab';
import { provisionedCapacity } from '../../../labs/dynamodb-modelling/capacity';
import { customersOf, examCalculator, seedOrders, steps, timing } from '../../../labs/dynamodb-modelling/exercise';
import { describeCapacity, isSortedDescending, units } from '../../../labs/dynamodb-modelling/exercise/report';
import { ExerciseCheckFailed, ExerciseCleanupFailed, ExerciseRun, provide, runExercise, runSteps, startExerciseRun } from '../../../labs/support/exercise';
import { deployTablesLocally, LocalDynamoDb, LocallyDeployedTables, startLocalDynamoDb } from '../../support/local-dynamodb';
import { LocalDynamoDbIam, LocalRoleDefinition, startLocalDynamoDbIam } from '../../support/local-dynamodb-iam';
import { LOCAL_ACCOUNT, PolicyDocument, resolveValue, TemplateEnvironment } from '../../support/local-iam';
import { labTemplate } from '../../support/lab-template';
import { alter, AnyCommand, Answer, is, restoreAlterations } from '../../support/altered-answers';
import { concurrentTest } from '../../support/concurrent-test';

jest.setTimeout(30_000);

const lab = dynamodbModellingLab;
const template = labTemplate(lab);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const roleId = Object.keys(resources).find((id) => id.startsWith('TenantRole') && resources[id].Type === 'AWS::IAM::Role')!;
const roleArn = `arn:aws:iam::${LOCAL_ACCOUNT}:role/TenantRole`;

let ddb: LocalDynamoDb;
let iam: LocalDynamoDbIam;
let deployed: LocallyDeployedTables;
let role: LocalRoleDefinition;
let outputs: Record<string, string>;
const lines: string[] = [];
/** One exercise run for the steps against DynamoDB Local, as `npm run lab -- exercise` makes: they share its seeded orders. */
let run: ExerciseRun;
const context = () => run.context;

/** The tenant role as the template declares it, with table ARNs resolved to the local tables'. */
function tenantRole(tables: LocallyDeployedTables): LocalRoleDefinition {
  const env: TemplateEnvironment = {
    account: LOCAL_ACCOUNT,
    region: 'us-east-1',
    stackName: lab.stackName,
    resources: {
      ...Object.fromEntries(Object.entries(tables.tables).map(([id, t]) => [id, { ref: t.name, attributes: { Arn: t.arn } }])),
      [roleId]: { ref: 'TenantRole', attributes: { Arn: roleArn } },
    },
  };
  const policies = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .map((r) => resolveValue(r.Properties.PolicyDocument, env) as PolicyDocument);
  return { arn: roleArn, trustPolicy: resolveValue(resources[roleId].Properties.AssumeRolePolicyDocument, env) as PolicyDocument, policies };
}

beforeAll(async () => {
  ddb = await startLocalDynamoDb();
  deployed = await deployTablesLocally(template, ddb.client);
  role = tenantRole(deployed);
  const tables = Object.values(deployed.tables);
  iam = await startLocalDynamoDbIam({
    upstream: ddb.endpoint,
    roles: [role],
    partitionKeys: Object.fromEntries(tables.map((t) => [t.name, t.partitionKey])),
    tableArns: Object.fromEntries(tables.map((t) => [t.name, t.arn])),
  });
  process.env.AWS_ENDPOINT_URL_DYNAMODB = iam.endpoint;
  process.env.AWS_ENDPOINT_URL_STS = iam.endpoint;
  outputs = { ...deployed.outputs, TenantRoleArn: roleArn };
  run = startExerciseRun({ outputs, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await run?.close();
  await iam?.stop();
  await ddb?.stop();
});
beforeEach(() => (lines.length = 0));

/** Everything but `protection` (PITR, SSE, replicas: APIs DynamoDB Local does not have; tested below) and `cleanup`. */
const localSteps = steps.filter((s) => s.id !== 'protection' && s.id !== 'cleanup');

// What each step prints against DynamoDB Local, line by line (its title first; printedShape says what varies: the run's
// id, timings, and how the parallel Scan's segments split the items): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  get: [
    '\n== 1/1 get: GetItem with a projection, BatchGetItem across partitions',
    'seeded 18 orders (3 customers × 6, ~764 bytes each) with BatchWriteItem',
    'GetItem run-ID-ada / ORDER#2025-01-10#o01 with a projection: {"orderId":"o01","amountCents":1000,"status":"PENDING"}',
    '"status" is a reserved word: an expression names it through ExpressionAttributeNames (#status)',
    'BatchGetItem of 4 keys (one of a missing item) across 2 partitions: 3 items, in no particular order',
  ],
  query: [
    '\n== 1/1 query: Query the table, the LSI and the GSI: sort order, begins_with, projections',
    'table: run-ID-bob\'s orders, ScanIndexForward=false: ORDER#2025-06-11#o16, ORDER#2025-05-11#o15, ORDER#2025-04-11#o14, ORDER#2025-03-11#o13, ORDER#2025-02-11#o12, ORDER#2025-01-11#o11 (total 1)',
    'table: begins_with(sk, "ORDER#2025-03") → o13',
    'LSI ByStatusDate: run-ID-bob\'s SHIPPED orders, newest first, strongly consistent: SHIPPED#2025-04-11T09:03:00Z, SHIPPED#2025-01-11T09:00:00Z (total 1, table 0, ByStatusDate 1)',
    'the LSI projects orderId and amountCents only: the note is not in the index (a query for it would fetch from the table)',
    'GSI ByStatus: PENDING orders of this run across 3 customers, newest first: 6 (0.5 RCU)',
    'a GSI has its own partition key (status): one query reaches every customer; its reads are eventually consistent only',
  ],
  'scan-vs-query': [
    '\n== 1/1 scan-vs-query: Scan with Limit pages and a filter against a Query, with consumed capacity',
    'Query (key condition on the customer, filter on status, strongly consistent): 2 items, read 6, 2 RCU',
    'Scan (Limit 10 per page, same filter, strongly consistent): 2 items, read 18 in 2 pages, 4 RCU',
    'a filter is applied after the read: a Scan pays for every item of the table, a Query only for one partition',
  ],
  'parallel-scan': [
    '\n== 1/1 parallel-scan: parallel Scan with Segment / TotalSegments',
    'parallel Scan, TotalSegments=3: segments of … = 18 items in N ms; one sequential Scan: 18',
    'each worker scans a disjoint part of the key space; together they read the table once, faster, and consume capacity faster too',
  ],
  consistency: [
    '\n== 1/1 consistency: strongly vs eventually consistent reads, and none on a GSI',
    'GetItem of a 764-byte item: strongly consistent 1 RCU, eventually consistent (the default) 0.5 RCU',
    'ConsistentRead on the GSI: ValidationException: Consistent read cannot be true when querying a GSI',
    'a GSI is updated asynchronously from the table: only the table and its LSIs offer strongly consistent reads',
  ],
  transaction: [
    '\n== 1/1 transaction: TransactWriteItems: all or nothing, idempotent with a ClientRequestToken',
    'product run-ID-widget: stock 5',
    'TransactWriteItems: put order t1 (2 widgets) + decrement stock if stock >= 2 → committed, 8 WCU for 2 small items (twice a plain write)',
    'the same transaction again with the same ClientRequestToken (within 10 minutes): accepted, applied once',
    'put order t2 (10 widgets) + decrement if stock >= 10 → TransactionCanceledException, reasons per item: ["None","ConditionalCheckFailed"]',
    'all or nothing: the order put, which had nothing wrong with it, was not written either',
  ],
  'optimistic-locking': [
    '\n== 1/1 optimistic-locking: optimistic locking with a version attribute',
    'two writers read the order at version 1 (amount 4000)',
    'writer A saves amount +500 with "version = 1": accepted, version is now 2',
    'writer B saves with the version it read (1): ConditionalCheckFailedException; the error carries the current item (version 2)',
    'writer B re-reads (version 2), reapplies -200 and saves: version 3, amount 4300',
    'no lock is held: a conditional write detects the conflict, and the loser retries on fresh data',
  ],
  capacity: [
    '\n== 1/1 capacity: RCU/WCU calculator, checked against what DynamoDB reports',
    'item size → WCU per write | RCU strong | RCU eventual | transactional write / read',
    '     500 B → 1 | 1 | 0.5 | 2 / 2',
    '    1024 B → 1 | 1 | 0.5 | 2 / 2',
    '    1025 B → 2 | 1 | 0.5 | 4 / 2',
    '    4096 B → 4 | 1 | 0.5 | 8 / 2',
    '    4097 B → 5 | 2 | 1 | 10 / 4',
    '    7500 B → 8 | 2 | 1 | 16 / 4',
    '  409600 B → 400 | 100 | 50 | 800 / 200',
    'exam question: 10 eventually consistent reads/s and 5 writes/s of 6 KB items → 10 RCU, 30 WCU',
    '  a 1024-byte item: DynamoDB reported 1 / 1 / 0.5 (WCU / RCU strong / RCU eventual), calculator 1 / 1 / 0.5',
    '  a 1025-byte item: DynamoDB reported 2 / 1 / 0.5 (WCU / RCU strong / RCU eventual), calculator 2 / 1 / 0.5',
    '  a 4097-byte item: DynamoDB reported 5 / 2 / 1 (WCU / RCU strong / RCU eventual), calculator 5 / 2 / 1',
    '  a 9000-byte item: DynamoDB reported 9 / 3 / 1.5 (WCU / RCU strong / RCU eventual), calculator 9 / 3 / 1.5',
    'attribute names count towards the size: short names are cheaper on every read and write',
  ],
  retries: [
    '\n== 1/1 retries: SDK retry configuration and what a throttled request does',
    'the SDK retries throttling (ProvisionedThroughputExceededException, ThrottlingException) and 5xx errors with',
    'exponential backoff and jitter: retryMode "standard" (default, 3 attempts) or "adaptive" (also slows the client down)',
    'maxAttempts 5, the first 2 attempts throttled: succeeded on attempt 3 after N ms of backoff (N ms in all)',
    'maxAttempts 1 (no retries): ProvisionedThroughputExceededException reaches the caller after 1 attempt',
    'a provisioned table also has burst capacity (up to 300 s of unused capacity) and auto scaling reacts in minutes:',
    'retries with backoff absorb short throttling; sustained throttling needs more capacity (or on-demand)',
  ],
  'leading-keys': [
    '\n== 1/1 leading-keys: fine-grained access: only my partition (dynamodb:LeadingKeys)',
    'assumed the tenant role with session tag customerId=run-ID-ada',
    '  GetItem of my order (run-ID-ada): allowed',
    '  Query of my partition: allowed',
    '  GetItem of run-ID-bob\'s order: denied',
    '  Query of run-ID-bob\'s partition: denied',
    '  Scan of the table: denied',
    'dynamodb:LeadingKeys holds the partition keys a request touches; the role allows them only when they equal the caller\'s tag',
  ],
  'table-settings': [
    '\n== 1/1 table-settings: keys, indexes, billing modes and TTL as deployed',
    'Orders: key customerId (HASH), sk (RANGE); billing PAY_PER_REQUEST; LSI ByStatusDate: customerId + statusDate, INCLUDE; GSI ByStatus: status + createdAt, INCLUDE',
    'Orders TTL: ENABLED on expiresAt',
    'Products: provisioned 1 RCU / 1 WCU now (auto scaling 1–10 at 70 %)',
  ],
};

const printedShape = (line: string) =>
  line
    .replace(/run-[a-z0-9]+-/g, 'run-ID-')
    .replace(/segments of [\d +]+ = /, 'segments of … = ')
    .replace(/ in \d+ ms;/, ' in N ms;')
    .replace(/after \d+ ms of backoff \(\d+ ms in all\)/, 'after N ms of backoff (N ms in all)');

/** What printedShape hides of a step's lines, checked for what it can be: figures that add up, durations of this run. */
const VARYING: Record<string, (printed: string[]) => void> = {
  'parallel-scan': (printed) => {
    const [, a, b, c, ms] = /segments of (\d+) \+ (\d+) \+ (\d+) = 18 items in (\d+) ms;/.exec(printed[1]) ?? [];
    expect(Number(a) + Number(b) + Number(c)).toBe(18);
    expect(Number(ms)).toBeLessThan(30_000);
  },
  retries: (printed) => {
    const [, backoff, all] = /after (\d+) ms of backoff \((\d+) ms in all\)$/.exec(printed[3]) ?? [];
    expect(Number(backoff)).toBeGreaterThan(0);
    expect(Number(all)).toBeGreaterThanOrEqual(Number(backoff));
    expect(Number(all)).toBeLessThan(30_000);
  },
};

describe('against the lab\'s tables on DynamoDB Local, behind a local IAM check', () => {
  test.each(localSteps.map((s) => [s.id, s] as const))('step %s passes its own checks', async (id, step) => {
    await runSteps([step], context());
    expect(lines.map(printedShape)).toEqual(PRINTED[id]);
    VARYING[id]?.(lines);
  });

  test('the leading-keys step was decided by the role\'s policy: own partition allowed, the other and Scan denied', () => {
    const summary = iam.decisions.map((d) => `${d.action} ${d.leadingKeys?.[0]?.replace(/^run-\w+-/, '') ?? '-'} ${d.decision}`);
    expect(summary).toEqual([
      'dynamodb:GetItem ada Allow',
      'dynamodb:Query ada Allow',
      'dynamodb:GetItem bob ImplicitDeny',
      'dynamodb:Query bob ImplicitDeny',
      'dynamodb:Scan - ImplicitDeny',
    ]);
  });

  test('the leading-keys step fails when the role lets a tenant read every partition', async () => {
    const original = role.policies[0];
    const statement = (original.Statement as PolicyDocument['Statement'] & unknown[])[0] as Record<string, unknown>;
    role.policies[0] = { ...original, Statement: [{ ...statement, Condition: undefined } as never] };
    try {
      const step = steps.find((s) => s.id === 'leading-keys')!;
      const failure = await runSteps([step], context()).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe('the tenant could read another customer\'s partition');
    } finally {
      role.policies[0] = original;
    }
  });

  test('a step run alone seeds the orders it needs, and the end of its run deletes them', async () => {
    const count = async (runId: string) => {
      const counts = await Promise.all(
        customersOf(runId).map(async (customerId) =>
          (await ddb.client.send(new QueryCommand({ TableName: outputs.OrdersTableName, KeyConditionExpression: 'customerId = :c', ExpressionAttributeValues: { ':c': { S: customerId } }, Select: 'COUNT' }))).Count ?? 0,
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    };
    const alone = startExerciseRun({ outputs, log: (line) => lines.push(line) });
    await runSteps(steps.filter((s) => s.id === 'query'), alone.context);
    expect(lines).toContainEqual(expect.stringMatching(/^seeded 18 orders/));
    expect(await count(alone.context.runId)).toBe(18);
    await alone.close();
    expect(lines).toContain(`(end of run: deleted this run's 18 orders)`);
    expect(await count(alone.context.runId)).toBe(0);
  });

  test('cleanup deletes this run\'s orders', async () => {
    await runSteps([steps.find((s) => s.id === 'cleanup')!], context());
    // The 18 seeded orders and the order t1 of the transaction step.
    expect(lines).toEqual([
      '\n== 1/1 cleanup: delete this run\'s orders',
      'deleted this run\'s 19 orders with BatchWriteItem; the products stay (a few KB)',
    ]);
  });

  test('a run whose cleanup step deleted its orders has nothing left to delete at its end, and says nothing of it', async () => {
    const alone = startExerciseRun({ outputs, log: (line) => lines.push(line) });
    await runSteps(steps.filter((s) => s.id === 'get' || s.id === 'cleanup'), alone.context);
    await alone.close();
    expect(lines.slice(-2)).toEqual([
      '\n== 2/2 cleanup: delete this run\'s orders',
      'deleted this run\'s 18 orders with BatchWriteItem; the products stay (a few KB)',
    ]);
  });
});

describe('the protection step, against DescribeTable / DescribeContinuousBackups answers built from the template', () => {
  const allFeatures = labTemplate(lab, { allFeatures: true });
  const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/0c1e1d0e-0000-4000-8000-000000000001';
  const awsManagedKeyArn = 'arn:aws:kms:us-east-1:123456789012:key/aws-dynamodb-managed';
  const restorableFrom = new Date('2026-11-20T08:30:00.000Z');

  /** What DynamoDB would describe for the tables of a template, from their declared settings. */
  function answers(t: Template) {
    const declared = { ...t.findResources('AWS::DynamoDB::GlobalTable'), ...t.findResources('AWS::DynamoDB::Table') };
    const byName = Object.fromEntries(
      Object.entries(declared).map(([id, r]) => {
        const p = r.Properties;
        const replicas = (p.Replicas ?? []) as { Region: unknown; PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled: boolean } }[];
        const pitr = p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled ?? replicas[0]?.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled;
        const sse = p.SSESpecification as { SSEEnabled: boolean; KMSMasterKeyId?: unknown } | undefined;
        const table: TableDescription = {
          TableName: id,
          SSEDescription: sse?.SSEEnabled ? { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: sse.KMSMasterKeyId ? keyArn : awsManagedKeyArn } : undefined,
          Replicas: replicas.length > 1 ? replicas.map((r) => ({ RegionName: typeof r.Region === 'string' ? r.Region : 'us-east-1', ReplicaStatus: 'ACTIVE' })) : undefined,
        };
        return [id, { table, pitr: pitr === true }];
      }),
    );
    const outputsOf = Object.fromEntries(Object.keys(t.toJSON().Outputs).map((name) => [name, name]));
    const names = {
      ...outputsOf,
      OrdersTableName: Object.keys(byName).find((id) => id.startsWith('Orders'))!,
      ProductsTableName: Object.keys(byName).find((id) => id.startsWith('Products'))!,
    };
    return { byName, names };
  }

  function stubbed(t: Template, extraOutputs: Record<string, string> = {}) {
    const { byName, names } = answers(t);
    const mock = mockClient(DynamoDBClient);
    mock.on(DescribeTableCommand).callsFake((input: { TableName: string }) => ({ Table: byName[input.TableName].table }));
    mock.on(DescribeContinuousBackupsCommand).callsFake((input: { TableName: string }) => ({
      ContinuousBackupsDescription: {
        ContinuousBackupsStatus: 'ENABLED',
        // With PITR off, DynamoDB describes its status only: no restore window.
        PointInTimeRecoveryDescription: byName[input.TableName].pitr
          ? { PointInTimeRecoveryStatus: 'ENABLED', EarliestRestorableDateTime: restorableFrom, RecoveryPeriodInDays: 35 }
          : { PointInTimeRecoveryStatus: 'DISABLED' },
      },
    }));
    return { mock, outputs: { ...names, ...extraOutputs } };
  }

  const protection = steps.find((s) => s.id === 'protection')!;

  test('features off: PITR on both tables, an AWS owned key for Orders, the AWS managed key for Products', async () => {
    const { mock, outputs: stubOutputs } = stubbed(template);
    try {
      await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) });
      expect(lines).toEqual([
      '\n== 1/1 protection: PITR, encryption choices, and the optional replica',
      'OrdersA9B65338: PITR ENABLED, restorable from 2026-11-20T08:30:00.000Z (35 days)',
      'Products229621C6: PITR ENABLED, restorable from 2026-11-20T08:30:00.000Z (35 days)',
      'Orders encryption: no SSEDescription = an AWS owned key (free, not in your account)',
      'Products encryption: KMS with arn:aws:kms:us-east-1:123456789012:key/aws-dynamodb-managed (the AWS managed key aws/dynamodb)',
      ]);
    } finally {
      mock.restore();
    }
  });

  test('all features on: the customer managed key, the replica Region', async () => {
    const { mock, outputs: stubOutputs } = stubbed(allFeatures, {
      ProductsKeyArn: keyArn,
      OrdersReplicaRegion: 'us-west-2',
    });
    try {
      await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) });
      expect(lines).toEqual([
      '\n== 1/1 protection: PITR, encryption choices, and the optional replica',
      'OrdersA9B65338: PITR ENABLED, restorable from 2026-11-20T08:30:00.000Z (35 days)',
      'Products229621C6: PITR ENABLED, restorable from 2026-11-20T08:30:00.000Z (35 days)',
      'Orders encryption: no SSEDescription = an AWS owned key (free, not in your account)',
        `Products encryption: KMS with ${keyArn} (customer managed key)`,
        'Orders replicas: us-east-1 (ACTIVE), us-west-2 (ACTIVE)',
      ]);
    } finally {
      mock.restore();
    }
  });

  test.each<[string, (table: TableDescription, name: string) => TableDescription, Record<string, string>, string]>([
    ['Orders under a KMS key', (table, name) => (name.startsWith('Orders') ? { ...table, SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: awsManagedKeyArn } } : table), {}, 'the Orders table is not encrypted with an AWS owned key'],
    ['Products under an AWS owned key', (table, name) => (name.startsWith('Products') ? { ...table, SSEDescription: undefined } : table), {}, 'the Products table is not encrypted with a KMS key'],
    ['Products under the AWS managed key instead of the lab\'s', (table, name) => (name.startsWith('Products') ? { ...table, SSEDescription: { Status: 'ENABLED', SSEType: 'KMS', KMSMasterKeyArn: awsManagedKeyArn } } : table), { ProductsKeyArn: keyArn }, `the Products table uses ${awsManagedKeyArn}, not the lab's key`],
    ['Products under an AES256 key (DynamoDB\'s own)', (table, name) => (name.startsWith('Products') ? { ...table, SSEDescription: { Status: 'ENABLED', SSEType: 'AES256' } } : table), {}, 'the Products table is not encrypted with a KMS key'],
    ['Products while its encryption is updated', (table, name) => (name.startsWith('Products') ? { ...table, SSEDescription: { Status: 'UPDATING', SSEType: 'KMS', KMSMasterKeyArn: awsManagedKeyArn } } : table), {}, 'the Products table is not encrypted with a KMS key'],
    ['Products not described', (table, name) => (name.startsWith('Products') ? (undefined as never) : table), {}, 'the Products table is not encrypted with a KMS key'],
    ['no replica in the replica Region', (table) => ({ ...table, Replicas: [{ RegionName: 'us-east-1', ReplicaStatus: 'ACTIVE' }] }), { ProductsKeyArn: keyArn, OrdersReplicaRegion: 'us-west-2' }, 'no replica of Orders in us-west-2'],
  ])('fails with %s', async (_name, change, extraOutputs, message) => {
    // The all-features template when the case names the lab's key, so that only the changed fact differs.
    const deployedTemplate = Object.keys(extraOutputs).length > 0 ? allFeatures : template;
    const { mock, outputs: stubOutputs } = stubbed(deployedTemplate, extraOutputs);
    const { byName } = answers(deployedTemplate);
    mock.on(DescribeTableCommand).callsFake((input: { TableName: string }) => ({ Table: change(byName[input.TableName].table, input.TableName) }));
    try {
      const failure = await runExercise([protection], { outputs: stubOutputs, log: () => undefined }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe(message);
    } finally {
      mock.restore();
    }
  });

  test('fails when the Orders table of a deployment with a replica is not described', async () => {
    const { mock, outputs: stubOutputs } = stubbed(allFeatures, { ProductsKeyArn: keyArn, OrdersReplicaRegion: 'us-west-2' });
    const { byName } = answers(allFeatures);
    mock.on(DescribeTableCommand).callsFake((input: { TableName: string }) => ({ Table: input.TableName.startsWith('Orders') ? undefined : byName[input.TableName].table }));
    try {
      const failure = await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe('no replica of Orders in us-west-2');
      expect(lines.slice(-3)).toEqual([
        'Orders encryption: no SSEDescription = an AWS owned key (free, not in your account)',
        `Products encryption: KMS with ${keyArn} (customer managed key)`,
        'Orders replicas: ',
      ]);
    } finally {
      mock.restore();
    }
  });

  test('fails when DynamoDB describes no continuous backups', async () => {
    const { mock, outputs: stubOutputs } = stubbed(template);
    mock.on(DescribeContinuousBackupsCommand).resolves({});
    try {
      const failure = await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe(`PITR is not enabled on ${stubOutputs.OrdersTableName}`);
      expect(lines.slice(-1)).toEqual([`${stubOutputs.OrdersTableName}: PITR undefined, restorable from undefined (35 days)`]);
    } finally {
      mock.restore();
    }
  });

  test('fails when a table has no PITR', async () => {
    const withoutPitr = template.toJSON();
    const products = Object.keys(withoutPitr.Resources).find((id) => id.startsWith('Products') && withoutPitr.Resources[id].Type === 'AWS::DynamoDB::Table')!;
    delete withoutPitr.Resources[products].Properties.PointInTimeRecoverySpecification;
    const { mock, outputs: stubOutputs } = stubbed(Template.fromJSON(withoutPitr));
    try {
      const failure = await runExercise([protection], { outputs: stubOutputs, log: (line) => lines.push(line) }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toBe(`PITR is not enabled on ${products}`);
      expect(lines.slice(-1)).toEqual([`${products}: PITR DISABLED, restorable from undefined (35 days)`]);
    } finally {
      mock.restore();
    }
  });
});

describe('each check of the local steps fails when the one fact it checks is changed', () => {
  /** The engine's answers, except the `name` calls of the document client that `when` picks (given their count so far), rewritten by `edit`. */
  const docs = (name: string, edit: (answer: Answer, command: AnyCommand) => Answer, when: (command: AnyCommand, nth: number) => boolean = () => true) => {
    let nth = 0;
    alter(DynamoDBDocumentClient, async (command, send) => (is(command, name) && when(command, (nth += 1)) ? edit(await send(), command) : send()));
  };
  /** The same for the calls of the low-level client (DescribeTable ...). */
  const raw = (name: string, edit: (answer: Answer, command: AnyCommand) => Answer) =>
    alter(DynamoDBClient, async (command, send) => (is(command, name) ? edit(await send(), command) : send()));
  /** The engine's answers, except the `name` calls of the document client that `when` picks, answered by `answer` instead. */
  const docsInstead = (name: string, answer: (command: AnyCommand, send: () => Promise<Answer>) => Promise<Answer>, when: (command: AnyCommand, nth: number) => boolean = () => true) => {
    let nth = 0;
    alter(DynamoDBDocumentClient, async (command, send) => (is(command, name) && when(command, (nth += 1)) ? answer(command, send) : send()));
  };
  const items = (answer: Answer) => (answer.Items ?? []) as Answer[];
  const onIndex = (index: string) => (command: AnyCommand) => command.input.IndexName === index;
  const onTable = (output: string) => (command: AnyCommand) => command.input.TableName === outputs[output];
  const rejection = (name: string) => Object.assign(new Error(`${name} (made up by the test)`), { name });
  const table = (answer: Answer) => answer.Table as TableDescription;
  afterEach(() => jest.restoreAllMocks());

  /** Per step, how each of its checks is made to fail, and the message it must fail with. */
  const CHECK_FAILURES: [string, string, () => void, string][] = [
    ['get', 'a projection that returns the note', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), note: 'n' } })), 'GetItem did not return the projected attributes only'],
    ['get', 'a missing item counted as found', () => docs('BatchGet', (a) => ({ ...a, Responses: { [outputs.OrdersTableName]: [...items({ Items: (a.Responses as Record<string, Answer[]>)[outputs.OrdersTableName] }), { orderId: 'none' }] } })), 'BatchGetItem returned 4 items, expected the 3 that exist'],
    ['get', 'another item in place of one asked for', () => docs('BatchGet', (a) => ({ ...a, Responses: { [outputs.OrdersTableName]: (a.Responses as Record<string, Answer[]>)[outputs.OrdersTableName].map((i, n) => (n === 0 ? { ...i, orderId: 'other' } : i)) } })), 'BatchGetItem did not return every existing item asked for'],
    ['get', 'a projection without the order id', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), orderId: 'other' } })), 'GetItem did not return the projected attributes only'],
    ['get', 'GetItem finding no item', () => docs('Get', (a) => ({ ...a, Item: undefined })), 'GetItem did not return the projected attributes only'],
    ['query', 'the table query oldest first', () => docs('Query', (a) => ({ ...a, Items: items(a).reverse() }), (c, nth) => nth === 1 && !c.input.IndexName), 'the table query did not return the 6 orders newest first'],
    ['query', 'begins_with matching two months', () => docs('Query', (a) => ({ ...a, Count: 2 }), (c, nth) => nth === 2 && !c.input.IndexName), 'expected 1 order in March, got 2'],
    ['query', 'the LSI query oldest first', () => docs('Query', (a) => ({ ...a, Items: items(a).reverse() }), onIndex('ByStatusDate')), 'the LSI query returned ['],
    ['query', 'an LSI that projects the note', () => docs('Query', (a) => ({ ...a, Items: items(a).map((i) => ({ ...i, note: 'n' })) }), onIndex('ByStatusDate')), 'the LSI returned the note, which it does not project'],
    ['query', 'a GSI missing a PENDING order', () => docs('Query', (a) => ({ ...a, Items: items(a).slice(1) }), onIndex('ByStatus')), 'the GSI query did not return every PENDING order of this run, newest first'],
    ['query', 'a GSI answer oldest first', () => docs('Query', (a) => ({ ...a, Items: items(a).reverse() }), onIndex('ByStatus')), 'the GSI query did not return every PENDING order of this run, newest first'],
    ['query', 'a GSI answer with one customer\'s orders under another customer', () => docs('Query', (a) => ({ ...a, Items: items(a).map((i) => ({ ...i, customerId: String(i.customerId).replace(/-cy$/, '-ada') })) }), onIndex('ByStatus')), 'the GSI query did not return every PENDING order of this run, newest first'],
    ['scan-vs-query', 'a Scan that finds another order', () => docs('Scan', (a) => ({ ...a, Items: [...items(a), { orderId: 'other' }] }), (_c, nth) => nth === 1), 'the Scan and the Query did not find the same orders'],
    ['scan-vs-query', 'a Scan that ignores Limit', () => docsInstead('Scan', async (command, send) => {
      // Every page in one answer, as if Limit had not been given.
      const all: Answer = { Items: [], ConsumedCapacity: { CapacityUnits: 0 } };
      do {
        const page = await send();
        all.Items = [...items(all), ...items(page)];
        all.ConsumedCapacity = { CapacityUnits: ((all.ConsumedCapacity as Answer).CapacityUnits as number) + ((page.ConsumedCapacity as Answer | undefined)?.CapacityUnits as number ?? 0) };
        command.input.ExclusiveStartKey = page.LastEvaluatedKey;
      } while (command.input.ExclusiveStartKey);
      return all;
    }), 'the Scan finished in one page: Limit did not paginate it'],
    ['scan-vs-query', 'a Scan as cheap as the Query', () => docs('Scan', (a) => ({ ...a, ConsumedCapacity: { CapacityUnits: 0 } })), 'the Scan consumed 0 RCU, not more than the Query\'s'],
    ['scan-vs-query', 'a Scan exactly as costly as the Query', () => docs('Scan', (a) => ({ ...a, ConsumedCapacity: { CapacityUnits: 1 } })), 'the Scan consumed 2 RCU, not more than the Query\'s 2'],
    ['parallel-scan', 'segments that overlap', () => docs('Scan', (a, c) => (c.input.Segment === 1 ? { ...a, Items: [...items(a), { customerId: 'x', sk: 'y' }, { customerId: 'x', sk: 'y' }] } : a)), 'two segments returned the same item'],
    ['parallel-scan', 'segments that miss an item', () => {
      let dropped = false;
      docs('Scan', (a, c) => {
        if (dropped || c.input.Segment === undefined || items(a).length === 0) return a;
        dropped = true;
        return { ...a, Items: items(a).slice(1) };
      });
    }, 'the segments together did not cover the table exactly'],
    ['parallel-scan', 'a segment that returns an item the table does not hold in place of one it holds', () => {
      let replaced = false;
      docs('Scan', (a, c) => {
        if (replaced || c.input.Segment === undefined || items(a).length === 0) return a;
        replaced = true;
        return { ...a, Items: [{ customerId: 'x', sk: 'y' }, ...items(a).slice(1)] };
      });
    }, 'the segments together did not cover the table exactly'],
    ['consistency', 'an eventually consistent read at full price', () => docs('Get', (a) => ({ ...a, ConsumedCapacity: { CapacityUnits: 1 } })), 'expected 1 and 0.5 RCU, got 1 and 1'],
    ['consistency', 'a strongly consistent read at half price', () => docs('Get', (a) => ({ ...a, ConsumedCapacity: { CapacityUnits: 0.5 } }), (c) => c.input.ConsistentRead === true), 'expected 1 and 0.5 RCU, got 0.5 and 0.5'],
    ['consistency', 'a strongly consistent GSI read accepted', () => docsInstead('Query', async () => ({ Items: [] }), onIndex('ByStatus')), 'a strongly consistent read of a GSI was not refused'],
    ['transaction', 'a transaction that does not decrement the stock', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), stock: 5 } }), onTable('ProductsTableName')), 'the first transaction did not both write the order and decrement the stock'],
    ['transaction', 'a transaction that does not write the order', () => docs('Get', (a) => ({ ...a, Item: undefined }), (c) => onTable('OrdersTableName')(c) && String((c.input.Key as Answer).sk).endsWith('#t1')), 'the first transaction did not both write the order and decrement the stock'],
    ['transaction', 'a retry with the same token applied twice', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), stock: 1 } }), (c, nth) => onTable('ProductsTableName')(c) && nth === 3), 'retrying with the same ClientRequestToken decremented the stock twice'],
    ['transaction', 'an order of 10 of 3 accepted', () => docsInstead('TransactWrite', async (_c, send) => send().catch(() => ({}))), 'ordering 10 of 3 was not cancelled: undefined'],
    ['transaction', 'other cancellation reasons', () => docsInstead('TransactWrite', async (_c, send) => send().catch((error: Answer) => Promise.reject(Object.assign(error, { CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'ConditionalCheckFailed' }] })))), 'unexpected cancellation reasons ["ConditionalCheckFailed","ConditionalCheckFailed"]'],
    ['transaction', 'a cancelled transaction that left its order', () => docs('Get', (a, c) => ({ ...a, Item: String((c.input.Key as Answer).sk).endsWith('#t2') ? { orderId: 't2' } : a.Item })), 'a cancelled transaction left a change behind'],
    ['transaction', 'a cancelled transaction that wrote its order all the same', () => docsInstead('TransactWrite', async (command, send) => send().catch(async (error: unknown) => {
      // Cancelled, but its first item written anyway: what TransactWriteItems guarantees never happens.
      const [{ Put: put }] = command.input.TransactItems as { Put: { TableName: string; Item: Answer } }[];
      if ((put.Item.orderId as string) !== 't1') await DynamoDBDocumentClient.from(ddb.client).send(new PutCommand({ TableName: put.TableName, Item: put.Item }));
      throw error;
    })), 'a cancelled transaction left a change behind'],
    ['transaction', 'a product gone after the first transaction', () => docs('Get', (a) => ({ ...a, Item: undefined }), (c, nth) => onTable('ProductsTableName')(c) && nth === 1), 'the first transaction did not both write the order and decrement the stock'],
    ['transaction', 'a cancelled transaction that decremented the stock', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), stock: 1 } }), (c, nth) => onTable('ProductsTableName')(c) && nth === 5), 'a cancelled transaction left a change behind'],
    ['optimistic-locking', 'a stale update accepted', () => docsInstead('Update', async (_c, send) => send().catch(() => ({}))), 'writer B\'s stale update was not refused: undefined'],
    ['optimistic-locking', 'an update lost', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), amountCents: 0 } }), (_c, nth) => nth === 4), 'the two updates did not both apply, in turn'],
    ['optimistic-locking', 'an update applied without its version', () => docs('Get', (a) => ({ ...a, Item: { ...(a.Item as object), version: 2 } }), (_c, nth) => nth === 4), 'the two updates did not both apply, in turn'],
    ['capacity', 'DynamoDB reporting other units than the calculator', () => docs('Put', (a) => ({ ...a, ConsumedCapacity: { CapacityUnits: 7 } })), 'for 1024 bytes DynamoDB reported 7 / 1 / 0.5, the calculator said 1 / 1 / 0.5'],
    // Answered without the SDK's real backoff (about 1 s): the attempt count is what the check reads.
    ['retries', 'a success reported at another attempt than the client made', () => docs('Put', (a) => ({ ...a, $metadata: { ...(a.$metadata as object), attempts: 2 } }), (_c, nth) => nth === 1), 'expected success on attempt 3, got 2'],
    ['retries', 'a third attempt the client did not make', () => docsInstead('Put', async () => ({ $metadata: { attempts: 3, totalRetryDelay: 100 } }), (_c, nth) => nth === 1), 'expected success on attempt 3, got 3'],
    ['retries', 'retries without backoff', () => docs('Put', (a) => ({ ...a, $metadata: { ...(a.$metadata as object), totalRetryDelay: 0 } }), (_c, nth) => nth === 1), 'the SDK retried without backing off'],
    ['retries', 'a throttling error retried without being asked to', () => docsInstead('Put', async (_c, send) => send().catch(() => ({ $metadata: {} })), (_c, nth) => nth === 2), 'without retries the throttling error did not reach the caller'],
    ['leading-keys', 'a tenant refused its own partition', () => docsInstead('Get', () => Promise.reject(rejection('AccessDeniedException')), (c) => String((c.input.Key as Answer).customerId).endsWith('-ada')), 'the tenant could not read its own partition'],
    ['leading-keys', 'a tenant refused a Query of its own partition', () => docsInstead('Query', () => Promise.reject(rejection('AccessDeniedException')), (c) => String((c.input.ExpressionAttributeValues as Answer)[':c']).endsWith('-ada')), 'the tenant could not read its own partition'],
    ['leading-keys', 'a tenant allowed to GetItem of another partition', () => docsInstead('Get', async () => ({ Item: {} }), (c) => String((c.input.Key as Answer).customerId).endsWith('-bob')), 'the tenant could read another customer\'s partition'],
    ['leading-keys', 'a tenant allowed to Query another partition', () => docsInstead('Query', async () => ({ Items: [] }), (c) => String((c.input.ExpressionAttributeValues as Answer)[':c']).endsWith('-bob')), 'the tenant could read another customer\'s partition'],
    ['leading-keys', 'a tenant allowed to Scan', () => docsInstead('Scan', async () => ({ Items: [] })), 'the tenant could Scan the table (a Scan has no partition key to check)'],
    ['table-settings', 'another key schema', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), KeySchema: [{ AttributeName: 'customerId', KeyType: 'HASH' }] } })), 'unexpected key schema customerId (HASH)'],
    ['table-settings', 'no table described', () => raw('DescribeTable', (a) => ({ ...a, Table: undefined })), 'unexpected key schema '],
    ['table-settings', 'Orders described without a billing mode summary', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), BillingModeSummary: undefined } })), 'the Orders table is not on demand'],
    ['table-settings', 'an LSI keyed otherwise', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), LocalSecondaryIndexes: table(a).LocalSecondaryIndexes?.map((i) => ({ ...i, KeySchema: [{ AttributeName: 'customerId', KeyType: 'HASH' }, { AttributeName: 'createdAt', KeyType: 'RANGE' }] })) } })), 'the LSI is missing or keyed differently'],
    ['table-settings', 'a second LSI', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), LocalSecondaryIndexes: [...(table(a).LocalSecondaryIndexes ?? []), ...(table(a).LocalSecondaryIndexes ?? [])] } })), 'the LSI is missing or keyed differently'],
    ['table-settings', 'indexes described without key schema or projection', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), LocalSecondaryIndexes: table(a).LocalSecondaryIndexes?.map((i) => ({ IndexName: i.IndexName })), GlobalSecondaryIndexes: table(a).GlobalSecondaryIndexes?.map((i) => ({ IndexName: i.IndexName })) } })), 'the LSI is missing or keyed differently'],
    ['table-settings', 'Orders on provisioned capacity', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), BillingModeSummary: { BillingMode: 'PROVISIONED' } } })), 'the Orders table is not on demand'],
    ['table-settings', 'no LSI', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), LocalSecondaryIndexes: [] } })), 'the LSI is missing or keyed differently'],
    ['table-settings', 'a GSI keyed otherwise', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), GlobalSecondaryIndexes: table(a).GlobalSecondaryIndexes?.map((i) => ({ ...i, KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }] })) } })), 'the GSI is missing or keyed differently'],
    ['table-settings', 'a second GSI', () => raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), GlobalSecondaryIndexes: [...(table(a).GlobalSecondaryIndexes ?? []), ...(table(a).GlobalSecondaryIndexes ?? [])] } })), 'the GSI is missing or keyed differently'],
    ['table-settings', 'TTL off', () => raw('DescribeTimeToLive', () => ({ TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } })), 'TTL is not enabled on expiresAt'],
    ['table-settings', 'TTL on another attribute', () => raw('DescribeTimeToLive', () => ({ TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'ttl' } })), 'TTL is not enabled on expiresAt'],
    ['table-settings', 'no TTL described', () => raw('DescribeTimeToLive', () => ({})), 'TTL is not enabled on expiresAt'],
    ['table-settings', 'Products without provisioned capacity', () => raw('DescribeTable', (a, c) => ({ ...a, Table: { ...table(a), ...(c.input.TableName === outputs.ProductsTableName ? { ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0 } } : {}) } })), 'the Products table has no provisioned capacity'],
    ['table-settings', 'Products without provisioned read capacity', () => raw('DescribeTable', (a, c) => ({ ...a, Table: { ...table(a), ...(c.input.TableName === outputs.ProductsTableName ? { ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 1 } } : {}) } })), 'the Products table has no provisioned capacity'],
    ['table-settings', 'Products without provisioned write capacity', () => raw('DescribeTable', (a, c) => ({ ...a, Table: { ...table(a), ...(c.input.TableName === outputs.ProductsTableName ? { ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 0 } } : {}) } })), 'the Products table has no provisioned capacity'],
    ['table-settings', 'Products not described', () => raw('DescribeTable', (a, c) => ({ ...a, Table: c.input.TableName === outputs.ProductsTableName ? undefined : table(a) })), 'the Products table has no provisioned capacity'],
    ['table-settings', 'Products described without provisioned throughput', () => raw('DescribeTable', (a, c) => ({ ...a, Table: c.input.TableName === outputs.ProductsTableName ? { ...table(a), ProvisionedThroughput: undefined } : table(a) })), 'the Products table has no provisioned capacity'],
    ['cleanup', 'an order left behind', () => docs('Query', (a) => ({ ...a, Count: 1 })), 'some orders of this run are still there'],
    ['cleanup', 'an order of one customer left behind', () => docs('Query', (a) => ({ ...a, Count: 1 }), (c) => c.input.Select === 'COUNT' && String((c.input.ExpressionAttributeValues as Answer)[':c']).endsWith('-bob')), 'some orders of this run are still there'],
  ];
  const failsOn = async (id: string, _name: string, breakIt: () => void, message: string) => {
    // Each case gets a run of its own (its own customers and product, seeded when the step needs them), as a step run alone does.
    // One read of the GSI: the case that hides an order from it fails at once.
    const own = startExerciseRun({ outputs, log: () => undefined, provide: [provide(timing, { gsiReadAttempts: 1, gsiRetryPauseSeconds: 0 })] });
    let failure: unknown;
    try {
      breakIt();
      failure = await runSteps(steps.filter((s) => s.id === id), own.context).catch((error: unknown) => error);
    } finally {
      restoreAlterations();
      await own.close();
    }
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  };
  // The retries cases wait for the SDK's real backoff (about 1 s each): they run beside the others, at the end of this block.
  const isRetries = ([id]: (typeof CHECK_FAILURES)[number]) => id === 'retries';
  test.each(CHECK_FAILURES.filter((c) => !isRetries(c)))('%s fails on %s', failsOn);

  /** A run of its own, printing into `lines`, reading the GSI as `timing` says. */
  const ownRun = (gsiReadAttempts = 1, gsiRetryPauseSeconds = 0) =>
    startExerciseRun({ outputs, log: (line) => lines.push(line), provide: [provide(timing, { gsiReadAttempts, gsiRetryPauseSeconds })] });
  /** Runs the step `id` in `own`, then closes it; the step's error, if any. */
  const runIn = async (own: ExerciseRun, id: string) => {
    try {
      return await runSteps(steps.filter((s) => s.id === id), own.context).then(() => undefined, (error: unknown) => error as Error);
    } finally {
      jest.restoreAllMocks();
      await own.close();
    }
  };

  test('table-settings prints what DynamoDB describes: no table at all', async () => {
    raw('DescribeTable', (a) => ({ ...a, Table: undefined }));
    const failure = await runIn(ownRun(), 'table-settings');
    expect(failure?.message).toBe('unexpected key schema ');
    expect(lines).toEqual(['\n== 1/1 table-settings: keys, indexes, billing modes and TTL as deployed', 'Orders: key ; billing undefined; LSI ; GSI ']);
  });

  test('table-settings prints what DynamoDB describes: two indexes of each kind', async () => {
    const twice = <T>(list: T[] | undefined) => [...(list ?? []), ...(list ?? [])];
    raw('DescribeTable', (a) => ({ ...a, Table: { ...table(a), LocalSecondaryIndexes: twice(table(a).LocalSecondaryIndexes), GlobalSecondaryIndexes: twice(table(a).GlobalSecondaryIndexes) } }));
    const failure = await runIn(ownRun(), 'table-settings');
    expect(failure?.message).toBe('the LSI is missing or keyed differently');
    expect(lines[1]).toBe(
      'Orders: key customerId (HASH), sk (RANGE); billing PAY_PER_REQUEST; ' +
        'LSI ByStatusDate: customerId + statusDate, INCLUDE; ByStatusDate: customerId + statusDate, INCLUDE; ' +
        'GSI ByStatus: status + createdAt, INCLUDE; ByStatus: status + createdAt, INCLUDE',
    );
  });

  test('the seed sends BatchWriteItem again with the items it left unprocessed', async () => {
    let writes = 0;
    docsInstead('BatchWrite', async (command, send) => {
      writes += 1;
      if (writes > 1) return send();
      // The first request writes 10 of the 18 items and leaves the others unprocessed, as a throttled BatchWriteItem does.
      const requests = (command.input.RequestItems as Record<string, Answer[]>)[outputs.OrdersTableName];
      const left = requests.splice(10);
      return { ...(await send()), UnprocessedItems: { [outputs.OrdersTableName]: left } };
    });
    // The get step reads orders[14], one of those left unprocessed at first.
    expect(await runIn(ownRun(), 'get')).toBeUndefined();
    expect(writes).toBe(2);
    expect(lines).toContain('BatchGetItem of 4 keys (one of a missing item) across 2 partitions: 3 items, in no particular order');
  });

  test('get asks BatchGetItem again for the keys it left unprocessed', async () => {
    let reads = 0;
    docsInstead('BatchGet', async (command, send) => {
      reads += 1;
      if (reads > 1) return send();
      const request = (command.input.RequestItems as Record<string, Answer>)[outputs.OrdersTableName];
      const keys = request.Keys as Answer[];
      request.Keys = keys.slice(0, 2);
      return { ...(await send()), UnprocessedKeys: { [outputs.OrdersTableName]: { ...request, Keys: keys.slice(2) } } };
    });
    expect(await runIn(ownRun(), 'get')).toBeUndefined();
    expect(reads).toBe(2);
    expect(lines).toContain('BatchGetItem of 4 keys (one of a missing item) across 2 partitions: 3 items, in no particular order');
  });

  test('query reads a lagging GSI again after a pause, and at most its number of attempts', async () => {
    const pauses = jest.spyOn(global, 'setTimeout');
    let reads = 0;
    docs('Query', (a) => ((reads += 1) === 1 ? { ...a, Items: items(a).slice(1) } : a), onIndex('ByStatus'));
    expect(await runIn(ownRun(3, 0.007), 'query')).toBeUndefined();
    expect(reads).toBe(2);
    expect(pauses.mock.calls.filter(([, ms]) => ms === 7)).toHaveLength(1);
    expect(lines).toContain('GSI ByStatus: PENDING orders of this run across 3 customers, newest first: 6 (0.5 RCU)');

    reads = 0;
    docs('Query', (a) => ((reads += 1), { ...a, Items: items(a).slice(1) }), onIndex('ByStatus'));
    const failure = await runIn(ownRun(2, 0), 'query');
    expect(failure?.message).toBe('the GSI query did not return every PENDING order of this run, newest first');
    expect(reads).toBe(2);
  });

  test('query follows LastEvaluatedKey through the GSI\'s pages', async () => {
    let pages = 0;
    docsInstead('Query', async (command, send) => {
      pages += 1;
      command.input.Limit = 2;
      return send();
    }, onIndex('ByStatus'));
    expect(await runIn(ownRun(), 'query')).toBeUndefined();
    // Pages of 2, 2, 2, then an empty one after the last LastEvaluatedKey: 0.5 RCU each but the last.
    expect(pages).toBe(4);
    expect(lines).toContain('GSI ByStatus: PENDING orders of this run across 3 customers, newest first: 6 (1.5 RCU)');
  });

  test('retries: the simulated throttling error is shaped as DynamoDB\'s, so that the SDK retries it', async () => {
    let thrown: unknown;
    docsInstead('Put', (_c, send) => send().catch((error: unknown) => {
      thrown = error;
      throw error;
    }), (_c, nth) => nth === 2);
    expect(await runIn(ownRun(), 'retries')).toBeUndefined();
    expect(thrown).toBeInstanceOf(Error);
    expect(thrown).toMatchObject({
      name: 'ProvisionedThroughputExceededException',
      message: 'The level of configured provisioned throughput for the table was exceeded (simulated by the exercise)',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
  });

  test('leading-keys lets an error other than AccessDeniedException through', async () => {
    docsInstead('Get', () => Promise.reject(rejection('ResourceNotFoundException')), (c) => String((c.input.Key as Answer).customerId).endsWith('-bob'));
    const failure = await runIn(ownRun(), 'leading-keys');
    expect(failure).not.toBeInstanceOf(ExerciseCheckFailed);
    expect(failure?.message).toBe('ResourceNotFoundException (made up by the test)');
  });

  test('consistency says so when the GSI accepts a strongly consistent read', async () => {
    docsInstead('Query', async () => ({ Items: [] }), onIndex('ByStatus'));
    await runIn(ownRun(), 'consistency');
    expect(lines).toContain('ConsistentRead on the GSI: accepted');
  });

  test('transaction and cleanup read back what they wrote or deleted with strongly consistent reads', async () => {
    const reads: string[] = [];
    alter(DynamoDBDocumentClient, async (command, send) => {
      if (is(command, 'Get') || (is(command, 'Query') && command.input.Select === 'COUNT')) reads.push(`${command.constructor.name} ${command.input.Select ?? ''} ${command.input.ConsistentRead}`);
      return send();
    });
    const own = ownRun();
    try {
      await runSteps(steps.filter((s) => s.id === 'transaction' || s.id === 'cleanup'), own.context);
    } finally {
      jest.restoreAllMocks();
      await own.close();
    }
    expect(reads).toEqual([...Array(5).fill('GetCommand  true'), ...Array(3).fill('QueryCommand COUNT true')]);
  });

  test('the end of a run says which fixture could not be torn down', async () => {
    const own = ownRun();
    await runSteps(steps.filter((s) => s.id === 'get'), own.context);
    docsInstead('Query', () => Promise.reject(rejection('InternalServerError')));
    const failure = await own.close().catch((error: unknown) => error as Error);
    jest.restoreAllMocks();
    expect(failure).toBeInstanceOf(ExerciseCleanupFailed);
    expect(failure?.message).toBe('cleaning up after the exercise failed (orders seeded: InternalServerError (made up by the test))');
    // What the failed tear-down left, this run's orders, deleted by its cleanup step.
    await runExercise(steps.filter((s) => s.id === 'cleanup'), { outputs, runId: own.context.runId, log: () => undefined });
  });

  test('capacity fails on a calculator that gets the writes of the exam question wrong', async () => {
    const doubleWrites: typeof provisionedCapacity = (workload) => provisionedCapacity({ ...workload, writesPerSecond: 2 * (workload.writesPerSecond ?? 0) });
    const failure = await runExercise(steps.filter((s) => s.id === 'capacity'), { outputs, log: () => undefined, provide: [provide(examCalculator, doubleWrites)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('the calculator got the exam question wrong');
  });

  test('capacity fails on a calculator that charges eventually consistent reads as strongly consistent ones', async () => {
    const strongOnly: typeof provisionedCapacity = (workload) => provisionedCapacity({ ...workload, consistency: 'strong' });
    const failure = await runExercise(steps.filter((s) => s.id === 'capacity'), { outputs, log: () => undefined, provide: [provide(examCalculator, strongOnly)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('the calculator got the exam question wrong');
  });

  // Last in the block: jest waits for a concurrent test where it is declared, so the tests above run while these wait.
  concurrentTest.each(CHECK_FAILURES.filter(isRetries))('%s fails on %s', failsOn);
});

describe('what the steps share', () => {
  test('seedOrders: six orders per customer, January to June, statuses in turn, amounts by month and customer', () => {
    expect(customersOf('run-x1')).toEqual(['run-x1-ada', 'run-x1-bob', 'run-x1-cy']);
    const orders = seedOrders(['ada', 'bob', 'cy']);
    expect(orders.map((o) => `${o.customerId} ${o.sk} ${o.orderId} ${o.statusDate} ${o.createdAt} ${o.amountCents} v${o.version}`)).toEqual([
      'ada ORDER#2025-01-10#o01 o01 PENDING#2025-01-10T09:00:00Z 2025-01-10T09:00:00Z 1000 v1',
      'ada ORDER#2025-02-10#o02 o02 SHIPPED#2025-02-10T09:01:00Z 2025-02-10T09:01:00Z 2000 v1',
      'ada ORDER#2025-03-10#o03 o03 DELIVERED#2025-03-10T09:02:00Z 2025-03-10T09:02:00Z 3000 v1',
      'ada ORDER#2025-04-10#o04 o04 PENDING#2025-04-10T09:03:00Z 2025-04-10T09:03:00Z 4000 v1',
      'ada ORDER#2025-05-10#o05 o05 SHIPPED#2025-05-10T09:04:00Z 2025-05-10T09:04:00Z 5000 v1',
      'ada ORDER#2025-06-10#o06 o06 DELIVERED#2025-06-10T09:05:00Z 2025-06-10T09:05:00Z 6000 v1',
      'bob ORDER#2025-01-11#o11 o11 SHIPPED#2025-01-11T09:00:00Z 2025-01-11T09:00:00Z 1100 v1',
      'bob ORDER#2025-02-11#o12 o12 DELIVERED#2025-02-11T09:01:00Z 2025-02-11T09:01:00Z 2100 v1',
      'bob ORDER#2025-03-11#o13 o13 PENDING#2025-03-11T09:02:00Z 2025-03-11T09:02:00Z 3100 v1',
      'bob ORDER#2025-04-11#o14 o14 SHIPPED#2025-04-11T09:03:00Z 2025-04-11T09:03:00Z 4100 v1',
      'bob ORDER#2025-05-11#o15 o15 DELIVERED#2025-05-11T09:04:00Z 2025-05-11T09:04:00Z 5100 v1',
      'bob ORDER#2025-06-11#o16 o16 PENDING#2025-06-11T09:05:00Z 2025-06-11T09:05:00Z 6100 v1',
      'cy ORDER#2025-01-12#o21 o21 DELIVERED#2025-01-12T09:00:00Z 2025-01-12T09:00:00Z 1200 v1',
      'cy ORDER#2025-02-12#o22 o22 PENDING#2025-02-12T09:01:00Z 2025-02-12T09:01:00Z 2200 v1',
      'cy ORDER#2025-03-12#o23 o23 SHIPPED#2025-03-12T09:02:00Z 2025-03-12T09:02:00Z 3200 v1',
      'cy ORDER#2025-04-12#o24 o24 DELIVERED#2025-04-12T09:03:00Z 2025-04-12T09:03:00Z 4200 v1',
      'cy ORDER#2025-05-12#o25 o25 PENDING#2025-05-12T09:04:00Z 2025-05-12T09:04:00Z 5200 v1',
      'cy ORDER#2025-06-12#o26 o26 SHIPPED#2025-06-12T09:05:00Z 2025-06-12T09:05:00Z 6200 v1',
    ]);
    expect(orders.map((o) => o.status).join()).toBe(orders.map((o) => o.statusDate.split('#')[0]).join());
    expect(new Set(orders.map((o) => o.note))).toEqual(new Set(['gift wrap, leave at the door. '.repeat(20)]));
  });

  test('units adds up the capacity of one or more answers', () => {
    expect(units(undefined)).toBe(0);
    expect(units({ CapacityUnits: 1.5 })).toBe(1.5);
    expect(units([{ CapacityUnits: 1 }, { TableName: 'no units' }, { CapacityUnits: 0.5 }])).toBe(1.5);
  });

  test('describeCapacity prints the total, the table\'s and each index\'s share', () => {
    expect(describeCapacity(undefined)).toBe('no capacity reported');
    expect(describeCapacity({ CapacityUnits: 1 })).toBe('total 1');
    expect(
      describeCapacity({
        CapacityUnits: 2,
        Table: { CapacityUnits: 0 },
        LocalSecondaryIndexes: { ByStatusDate: { CapacityUnits: 1.5 } },
        GlobalSecondaryIndexes: { ByStatus: { CapacityUnits: 0.5 } },
      }),
    ).toBe('total 2, table 0, ByStatusDate 1.5, ByStatus 0.5');
  });

  test('isSortedDescending allows equal neighbours', () => {
    expect(isSortedDescending([])).toBe(true);
    expect(isSortedDescending(['b', 'b', 'a'])).toBe(true);
    expect(isSortedDescending(['b', 'a', 'b'])).toBe(false);
    expect(isSortedDescending(['a', 'b'])).toBe(false);
  });
});
