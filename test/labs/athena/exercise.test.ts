import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryExecutionCommandOutput,
  GetQueryResultsCommand,
  GetQueryResultsCommandOutput,
  GetWorkGroupCommand,
  GetWorkGroupCommandOutput,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetPartitionsCommandOutput, GetTableCommand, GetTableCommandOutput, GlueClient } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, ListObjectsV2Command, ListObjectsV2CommandOutput, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ATHENA_LAB } from '../../../labs/athena/constants';
import { expectedAnswer } from '../../../labs/athena/dataset';
import { dataset, queryCostUsd, steps, timing } from '../../../labs/athena/exercise';
import { athenaLab } from '../../../labs/athena/lab';
import { questionSql, repeatedScanSql } from '../../../labs/athena/queries';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';
import { labTemplate } from '../../support/lab-template';
import { generatedDataset } from './generated-dataset';
import { LocalAthenaFaults, startLocalAthena } from './local-athena';

// DuckDB answers every query; on a loaded machine a full run takes seconds.
jest.setTimeout(30_000);

const template = labTemplate(athenaLab).toJSON();
const { objects } = generatedDataset();
const root = mkdtempSync(path.join(tmpdir(), 'athena-exercise-'));
let instance: DuckDBInstance;
let duckdb: DuckDBConnection;
const lines: string[] = [];

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  duckdb = await instance.connect();
});
afterAll(() => {
  duckdb.closeSync();
  instance.closeSync();
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => (lines.length = 0));

const step = (id: string) => steps.find((s) => s.id === id)!;

/** A command the exercise sent to the local lab, and what it was answered. */
interface Sent {
  readonly command: object;
  readonly input: Record<string, unknown>;
  readonly answer: unknown;
}

/**
 * Changes the local lab's answer to one command, as a lab that misbehaves in a way the faults do not cover would
 * answer, or pages it as AWS may: returns the answer to give (the local one unchanged when there is nothing to change).
 */
type Answer = (command: object, input: Record<string, unknown>, answer: unknown, sent: readonly Sent[]) => unknown;

interface RunOptions {
  readonly faults?: LocalAthenaFaults;
  readonly queryDeadlineSeconds?: number;
  readonly answer?: Answer;
}

/** Runs `ids` in one run against a fresh local lab with `faults`; returns what failed, if anything, and what was sent. */
async function runSteps(ids: readonly string[], options: RunOptions = {}): Promise<{ failure?: Error; statements: string[]; sent: Sent[] }> {
  const { faults = {}, queryDeadlineSeconds = 5, answer } = options;
  // A step after `partitions` starts from a lab those two steps left: the dataset uploaded, the CSV partitions registered.
  const seeded = ids.includes('upload') ? [] : objects;
  const local = startLocalAthena(template as never, { folder: mkdtempSync(path.join(root, 'lab-')), duckdb, faults, seeded });
  const sent: Sent[] = [];
  // Over the local lab's SDK doubles: records each command, and lets a test change an answer (`answer`).
  const spies = [AthenaClient, GlueClient, S3Client].map((type) => {
    const double = type.prototype.send as (this: unknown, command: object) => Promise<unknown>;
    return jest.spyOn(type.prototype, 'send').mockImplementation(async function (this: unknown, command: { input: Record<string, unknown> }) {
      const given = await double.call(this, command);
      const changed = answer ? answer(command, command.input, given, sent) : given;
      sent.push({ command, input: command.input, answer: changed });
      return changed;
    } as never);
  });
  try {
    const failure = await runExercise(ids.map(step), {
      outputs: local.outputs,
      log: (line) => lines.push(line),
      runId: 'run-test',
      provide: [provide(timing, { queryPollMs: 0, queryDeadlineSeconds }), provide(dataset, [...objects])],
    }).then(() => undefined, (error: Error) => error);
    return { failure, statements: local.statements, sent };
  } finally {
    for (const spy of spies) spy.mockRestore();
    local.restore();
  }
}

/** The inputs of the commands of `type` among `sent`. */
const inputsOf = (sent: readonly Sent[], type: abstract new (...args: never[]) => object) => sent.filter((s) => s.command instanceof type).map((s) => s.input);

/** Pages a listing the local lab answers whole, `size` items a page, with the token the real API gives the next one. */
function paged<T>(items: readonly T[] | undefined, token: unknown, size: number): { page: T[]; next?: string } {
  const start = Number(token ?? 0);
  const next = start + size;
  return { page: (items ?? []).slice(start, next), next: next < (items ?? []).length ? String(next) : undefined };
}

/**
 * S3 listings 5 keys a page and Glue partitions 3 a page, as the real APIs page (at 1,000 and 100 by default); Glue
 * lists partitions in no particular order: here the last registered first.
 */
const paging: Answer = (command, input, answer) => {
  if (command instanceof ListObjectsV2Command) {
    const { page, next } = paged((answer as ListObjectsV2CommandOutput).Contents, input.ContinuationToken, 5);
    return { ...(answer as object), Contents: page, KeyCount: page.length, IsTruncated: next !== undefined, NextContinuationToken: next };
  }
  if (command instanceof GetPartitionsCommand) {
    const { page, next } = paged([...((answer as GetPartitionsCommandOutput).Partitions ?? [])].reverse(), input.NextToken, 3);
    return { ...(answer as object), Partitions: page, NextToken: next };
  }
  return answer;
};

/** The SQL of the query whose execution id is `id` (q-1 is the first statement the run sent). */
const sqlOf = (sent: readonly Sent[], id: unknown) => inputsOf(sent, StartQueryExecutionCommand)[Number(String(id).slice(2)) - 1]?.QueryString as string;

const csvBytes = objects.filter((o) => o.format === 'csv').reduce((sum, o) => sum + o.body.length, 0);
const parquetBytes = objects.filter((o) => o.format === 'parquet').reduce((sum, o) => sum + o.body.length, 0);
const csvDayBytes = objects.find((o) => o.format === 'csv' && o.day === ATHENA_LAB.questionDay)!.body.length;
const parquetDayBytes = objects.find((o) => o.format === 'parquet' && o.day === ATHENA_LAB.questionDay)!.body.length;
/** The cutoff step reads the CSV table enough times to scan about three times the cutoff. */
const copies = Math.ceil((3 * ATHENA_LAB.bytesScannedCutoffPerQuery) / csvBytes);
const bytes = (n: number) => n.toLocaleString('en-US');
/** The answer to the question, as the exercise prints it. */
const expectedLines = expectedAnswer(ATHENA_LAB.questionDay).map((row) => `${row.category} ${row.orders} ${Number(row.revenue).toFixed(2)}`);
const WORKGROUP = 'AthenaLab-workgroup';
const DATABASE = template.Outputs.DatabaseName.Value as string;

const expectCheckFailure = (failure: Error | undefined, message: string | RegExp) => {
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  if (typeof message === 'string') expect(failure!.message).toBe(message);
  else expect(failure!.message).toMatch(message);
};

const HEADERS = {
  upload: '== upload: upload the same orders as gzip CSV and Parquet under dt=YYYY-MM-DD/ keys',
  partitions: '== partitions: ALTER TABLE ADD PARTITION and MSCK REPAIR TABLE, against partition projection',
  compare: '== compare: one question over CSV and over Parquet: bytes scanned and cost',
  ctas: '== ctas: CREATE TABLE AS SELECT converts the CSV table to partitioned Parquet',
  cutoff: "== cutoff: a query cancelled by the workgroup's bytes-scanned cutoff",
};
/** The line runSteps prints before step `index` of `of`. */
const header = (id: keyof typeof HEADERS, index = 1, of = 1) => HEADERS[id].replace('== ', `\n== ${index}/${of} `);
/** What the exercise sends to start `sql` in the lab's workgroup and database. */
const start = (sql: string, outputLocation?: string) => ({
  QueryString: sql,
  WorkGroup: WORKGROUP,
  QueryExecutionContext: { Database: DATABASE },
  ResultConfiguration: outputLocation ? { OutputLocation: outputLocation } : undefined,
});
/** Applies `change` to the answers to commands of `type` (after paging them, as the real API does). */
function changing<C extends abstract new (...args: never[]) => object, A>(
  type: C,
  change: (answer: A, input: Record<string, unknown>, sent: readonly Sent[]) => unknown,
): Answer {
  return (command, input, answer, sent) => {
    const paged = paging(command, input, answer, sent);
    return command instanceof type ? change(paged as A, input, sent) : paged;
  };
}
/** The answer to GetQueryExecution of the query whose SQL starts with `prefix`, finished, changed by `change`. */
const finishedQuery = (prefix: string, change: (execution: NonNullable<GetQueryExecutionCommandOutput['QueryExecution']>) => object) =>
  changing(GetQueryExecutionCommand, (answer: GetQueryExecutionCommandOutput, input, sent) => {
    const execution = answer.QueryExecution!;
    const finished = execution.Status?.State !== 'RUNNING';
    return finished && sqlOf(sent, input.QueryExecutionId).startsWith(prefix) ? { ...answer, QueryExecution: change(execution) } : answer;
  });
/** The answer to GetQueryResults of the query whose SQL starts with `prefix`, each data row changed by `change`. */
const queryRows = (prefix: string, change: (row: string[]) => string[]) =>
  changing(GetQueryResultsCommand, (answer: GetQueryResultsCommandOutput, input, sent) => {
    if (!sqlOf(sent, input.QueryExecutionId).startsWith(prefix)) return answer;
    const rows = answer.ResultSet!.Rows!.map((row, index) => {
      const cells = row.Data!.map((cell) => cell.VarCharValue ?? '');
      // The first page starts with the header row.
      const isHeader = index === 0 && input.NextToken === undefined;
      return { Data: (isHeader ? cells : change(cells)).map((VarCharValue) => ({ VarCharValue })) };
    });
    return { ...answer, ResultSet: { ...answer.ResultSet, Rows: rows } };
  });

test('every step passes its checks, in order, against the local Athena', async () => {
  const { failure, statements } = await runSteps(steps.map((s) => s.id), { answer: paging });
  expect(failure).toBeUndefined();
  expect(lines.filter((l) => l.startsWith('\n=='))).toEqual([
    header('upload', 1, 5),
    header('partitions', 2, 5),
    header('compare', 3, 5),
    header('ctas', 4, 5),
    header('cutoff', 5, 5),
  ]);
  expect(statements).toEqual([
    "ALTER TABLE orders_csv ADD IF NOT EXISTS PARTITION (dt = '2026-11-01') LOCATION 's3://data-bucket/orders/csv/dt=2026-11-01/'",
    'MSCK REPAIR TABLE orders_csv',
    'SELECT dt, count(*) AS orders FROM orders_csv GROUP BY dt ORDER BY dt',
    'SELECT dt, count(*) AS orders FROM orders_parquet GROUP BY dt ORDER BY dt',
    questionSql('orders_csv'),
    questionSql('orders_parquet'),
    "CREATE TABLE orders_ctas_run_test WITH (format = 'PARQUET', write_compression = 'GZIP', external_location = 's3://data-bucket/orders/ctas/run-test/', " +
      "partitioned_by = ARRAY['dt']) AS SELECT order_id, customer_id, category, product, quantity, unit_price, ordered_at, dt FROM orders_csv",
    questionSql('orders_ctas_run_test'),
    'DROP TABLE IF EXISTS orders_ctas_run_test',
    repeatedScanSql('orders_csv', copies),
  ]);
  expect(copies * csvBytes).toBeGreaterThanOrEqual(3 * ATHENA_LAB.bytesScannedCutoffPerQuery);
});

test('the cost of a query: rounded up to whole MB, 10 MB at least, $5 per TB', () => {
  expect(queryCostUsd(0)).toBeCloseTo(0.00005, 10);
  expect(queryCostUsd(10_000_001)).toBeCloseTo(0.000055, 10);
  expect(queryCostUsd(1e12)).toBeCloseTo(5, 10);
});

describe('upload', () => {
  test('uploads every object with its content type and lists them back, page after page', async () => {
    const { failure, sent } = await runSteps(['upload'], { answer: paging });
    expect(failure).toBeUndefined();
    expect(lines).toEqual([
      header('upload'),
      'uploaded 14 objects: 7 days × (gzip CSV, Parquet), Hive-style keys such as orders/csv/dt=2026-11-01/orders.csv.gz',
      `listed them back: gzip CSV ${bytes(csvBytes)} bytes, Parquet ${bytes(parquetBytes)} bytes (${Math.round((100 * parquetBytes) / csvBytes)} %)`,
    ]);
    const contentTypes = { csv: 'application/gzip', parquet: 'application/vnd.apache.parquet' };
    const puts = inputsOf(sent, PutObjectCommand);
    expect(puts.map(({ Bucket, Key, ContentType }) => ({ Bucket, Key, ContentType }))).toEqual(
      objects.map((o) => ({ Bucket: 'data-bucket', Key: o.key, ContentType: contentTypes[o.format] })),
    );
    // The bytes sent are the dataset's (compared by identity: a deep comparison of 600 kB takes seconds).
    expect(puts.every((put, index) => put.Body === objects[index].body)).toBe(true);
    expect(inputsOf(sent, ListObjectsV2Command)).toEqual([
      { Bucket: 'data-bucket', Prefix: 'orders/csv/' },
      { Bucket: 'data-bucket', Prefix: 'orders/csv/', ContinuationToken: '5' },
      { Bucket: 'data-bucket', Prefix: 'orders/parquet/' },
      { Bucket: 'data-bucket', Prefix: 'orders/parquet/', ContinuationToken: '5' },
    ]);
  });

  test('fails on an object stored shorter than sent', async () => {
    const { failure } = await runSteps(['upload'], { faults: { truncatesUploads: true } });
    const [first] = objects;
    expectCheckFailure(failure, `s3://data-bucket/${first.key} is ${Math.floor(first.body.length / 2)}, expected ${first.body.length} bytes`);
  });

  test('fails on an object that is not listed', async () => {
    const last = objects.at(-1)!;
    const { failure } = await runSteps(['upload'], {
      answer: changing(ListObjectsV2Command, (answer: ListObjectsV2CommandOutput) => ({ ...answer, Contents: answer.Contents?.filter((o) => o.Key !== last.key) })),
    });
    expectCheckFailure(failure, `s3://data-bucket/${last.key} is missing, expected ${last.body.length} bytes`);
  });
});

describe('partitions', () => {
  test('registers one partition by hand and the others by MSCK REPAIR, and counts the orders per day over both tables', async () => {
    const { failure, sent } = await runSteps(['upload', 'partitions'], { answer: paging });
    expect(failure).toBeUndefined();
    expect(lines.slice(3)).toEqual([
      header('partitions', 2, 2),
      'orders_csv has 0 partitions in the catalogue before this step',
      "ALTER TABLE orders_csv ADD PARTITION (dt = '2026-11-01'): one partition, its location given",
      'MSCK REPAIR TABLE orders_csv: Athena listed the dt=…/ folders and registered the others',
      'the catalogue now lists 7 partitions of orders_csv and none of orders_parquet, which projects them',
      `orders_csv: 4000 orders on each of 7 days; ${bytes(csvBytes)} bytes scanned, billed $0.000050`,
      expect.stringMatching(/^orders_parquet: 4000 orders on each of 7 days; [\d,]+ bytes scanned, billed \$0\.000050$/),
    ]);
    expect(inputsOf(sent, GetPartitionsCommand)).toEqual([
      { DatabaseName: DATABASE, TableName: 'orders_csv' },
      { DatabaseName: DATABASE, TableName: 'orders_csv' },
      { DatabaseName: DATABASE, TableName: 'orders_csv', NextToken: '3' },
      { DatabaseName: DATABASE, TableName: 'orders_csv', NextToken: '6' },
      { DatabaseName: DATABASE, TableName: 'orders_parquet' },
    ]);
    expect(inputsOf(sent, StartQueryExecutionCommand)).toEqual([
      start("ALTER TABLE orders_csv ADD IF NOT EXISTS PARTITION (dt = '2026-11-01') LOCATION 's3://data-bucket/orders/csv/dt=2026-11-01/'"),
      start('MSCK REPAIR TABLE orders_csv'),
      start('SELECT dt, count(*) AS orders FROM orders_csv GROUP BY dt ORDER BY dt'),
      start('SELECT dt, count(*) AS orders FROM orders_parquet GROUP BY dt ORDER BY dt'),
    ]);
    // Each query is polled until it ends (the local Athena says RUNNING first); results are read page after page.
    expect(inputsOf(sent, GetQueryExecutionCommand)).toEqual(['q-1', 'q-1', 'q-2', 'q-2', 'q-3', 'q-3', 'q-4', 'q-4'].map((QueryExecutionId) => ({ QueryExecutionId })));
    expect(inputsOf(sent, GetQueryResultsCommand)).toEqual([
      { QueryExecutionId: 'q-3' },
      { QueryExecutionId: 'q-3', NextToken: '4' },
      { QueryExecutionId: 'q-4' },
      { QueryExecutionId: 'q-4', NextToken: '4' },
    ]);
  });

  test('fails when MSCK REPAIR registers nothing, leaving one partition', async () => {
    const { failure } = await runSteps(['upload', 'partitions'], { faults: { repairFindsNothing: true } });
    expectCheckFailure(failure, 'orders_csv has partitions 2026-11-01, expected 2026-11-01, 2026-11-02, 2026-11-03, 2026-11-04, 2026-11-05, 2026-11-06, 2026-11-07');
  });

  test('fails on a partition whose location is outside the table\'s folder', async () => {
    const { failure } = await runSteps(['partitions'], {
      answer: changing(GetPartitionsCommand, (answer: GetPartitionsCommandOutput) => ({
        ...answer,
        Partitions: answer.Partitions?.map((p) =>
          p.Values?.[0] === '2026-11-03' ? { ...p, StorageDescriptor: { ...p.StorageDescriptor, Location: 's3://data-bucket/orders/elsewhere/dt=2026-11-03' } } : p,
        ),
      })),
    });
    expectCheckFailure(failure, 'partition 2026-11-03 points at s3://data-bucket/orders/elsewhere/dt=2026-11-03');
  });

  test('fails when the projected table has partitions in the catalogue', async () => {
    const { failure } = await runSteps(['partitions'], {
      answer: changing(GetPartitionsCommand, (answer: GetPartitionsCommandOutput, input) =>
        input.TableName === 'orders_parquet'
          ? { Partitions: [{ Values: ['2026-11-01'], StorageDescriptor: { Location: 's3://data-bucket/orders/parquet/dt=2026-11-01' } }] }
          : answer,
      ),
    });
    expectCheckFailure(failure, 'orders_parquet has 1 partitions in the catalogue: it should rely on projection alone');
  });

  test('fails when a table counts other orders per day', async () => {
    const { failure } = await runSteps(['partitions'], {
      answer: queryRows('SELECT dt, count(*) AS orders FROM orders_parquet', ([day, orders]) => [day, day === '2026-11-05' ? '3999' : orders]),
    });
    expectCheckFailure(
      failure,
      'orders_parquet counts 2026-11-01:4000 2026-11-02:4000 2026-11-03:4000 2026-11-04:4000 2026-11-05:3999 2026-11-06:4000 2026-11-07:4000, ' +
        'expected 2026-11-01:4000 2026-11-02:4000 2026-11-03:4000 2026-11-04:4000 2026-11-05:4000 2026-11-06:4000 2026-11-07:4000',
    );
  });

  test.each([
    ['ALTER TABLE', 'AccessDeniedException: not authorized to perform glue:BatchCreatePartition', 'ALTER TABLE ADD PARTITION ended FAILED: AccessDeniedException: not authorized to perform glue:BatchCreatePartition'],
    ['MSCK REPAIR', undefined, 'MSCK REPAIR TABLE ended FAILED: no reason given'],
    ['SELECT dt', 'HIVE_BAD_DATA: Error parsing field value', 'orders per day from orders_csv ended FAILED: HIVE_BAD_DATA: Error parsing field value'],
  ])('fails when %s fails, with its reason', async (prefix, reason, message) => {
    const { failure } = await runSteps(['partitions'], {
      answer: finishedQuery(prefix, (execution) => ({ ...execution, Status: { State: 'FAILED', StateChangeReason: reason } })),
    });
    expectCheckFailure(failure, message);
  });

  test('a query that never ends is stopped at the deadline', async () => {
    const { failure, sent } = await runSteps(['partitions'], { faults: { neverFinishes: true }, queryDeadlineSeconds: 0.1 });
    expectCheckFailure(failure, 'query q-1 was still RUNNING after 0.1 s; stopped it');
    expect(inputsOf(sent, StopQueryExecutionCommand)).toEqual([{ QueryExecutionId: 'q-1' }]);
    expect(inputsOf(sent, GetQueryExecutionCommand).length).toBeGreaterThan(1);
  });
});

describe('compare', () => {
  test('asks the question of both tables, gets the rows\' answer, and reads the bytes scanned', async () => {
    const { failure, sent } = await runSteps(['compare'], { answer: paging });
    expect(failure).toBeUndefined();
    const parquetScanned = Number(lines[2].match(/; ([\d,]+) bytes scanned/)?.[1].replace(/,/g, ''));
    expect(lines).toEqual([
      header('compare'),
      `orders_csv: 6 categories, same answer as the rows; ${bytes(csvDayBytes)} bytes scanned, billed $0.000050`,
      `orders_parquet: 6 categories, same answer as the rows; ${bytes(parquetScanned)} bytes scanned, billed $0.000050`,
      'both results went to s3://results-bucket/athena-results/ (SSE_S3), not to the location the query asked for',
      `one partition of 7: CSV read the day's whole file (${csvDayBytes} bytes), Parquet only 3 of 7 columns of it`,
      `${Math.round(csvDayBytes / parquetScanned)}× fewer bytes with Parquet; both are billed the 10 MB minimum at this size`,
    ]);
    expect(parquetScanned).toBeGreaterThan(0);
    expect(inputsOf(sent, GetWorkGroupCommand)).toEqual([{ WorkGroup: WORKGROUP }]);
    expect(inputsOf(sent, StartQueryExecutionCommand)).toEqual([
      start(questionSql('orders_csv'), 's3://data-bucket/not-here/'),
      start(questionSql('orders_parquet'), 's3://data-bucket/not-here/'),
    ]);
  });

  test('fails when the question fails, with its reason', async () => {
    const { failure } = await runSteps(['compare'], {
      answer: finishedQuery('SELECT', (execution) => ({ ...execution, Status: { State: 'FAILED', StateChangeReason: 'HIVE_BAD_DATA: Error parsing field value' } })),
    });
    expectCheckFailure(failure, 'the question over orders_csv ended FAILED: HIVE_BAD_DATA: Error parsing field value');
  });

  test('fails when a workgroup does not enforce its result location', async () => {
    const { failure } = await runSteps(['compare'], { faults: { notEnforced: true } });
    expectCheckFailure(failure, "the result went to s3://data-bucket/not-here/q-1.csv, not under the workgroup's s3://results-bucket/athena-results/");
  });

  test('fails when the workgroup names no result location', async () => {
    const { failure } = await runSteps(['compare'], {
      answer: changing(GetWorkGroupCommand, (answer: GetWorkGroupCommandOutput) => ({
        WorkGroup: { ...answer.WorkGroup, Configuration: { ...answer.WorkGroup?.Configuration, ResultConfiguration: undefined } },
      })),
    });
    expectCheckFailure(failure, "the result went to s3://results-bucket/athena-results/q-1.csv, not under the workgroup's ");
  });

  test('fails on results the workgroup does not encrypt', async () => {
    const { failure } = await runSteps(['compare'], { faults: { resultsUnencrypted: true } });
    expectCheckFailure(failure, 'the result is not encrypted by the workgroup (undefined)');
  });

  test('fails on results encrypted otherwise than by the workgroup', async () => {
    const { failure } = await runSteps(['compare'], {
      answer: finishedQuery('SELECT', (execution) => ({
        ...execution,
        ResultConfiguration: { ...execution.ResultConfiguration, EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: 'alias/other' } },
      })),
    });
    expectCheckFailure(failure, 'the result is not encrypted by the workgroup ({"EncryptionOption":"SSE_KMS","KmsKey":"alias/other"})');
  });

  test('fails when a table answers otherwise than the rows', async () => {
    const { failure } = await runSteps(['compare'], {
      answer: queryRows('SELECT category', ([category, orders, revenue]) => [category, orders, String(Number(revenue) + 1)]),
    });
    const answered = expectedAnswer(ATHENA_LAB.questionDay).map((row) => `${row.category} ${row.orders} ${(Number(row.revenue) + 1).toFixed(2)}`);
    expectCheckFailure(failure, `orders_csv answered ${answered.join('; ')}, expected ${expectedLines.join('; ')}`);
  });

  test('fails on a Parquet scan that skips no column', async () => {
    const { failure } = await runSteps(['compare'], { faults: { parquetReadsWholeFiles: true } });
    expectCheckFailure(failure, `the Parquet question scanned ${parquetDayBytes} bytes, the whole day's file (${parquetDayBytes}): no column was skipped`);
  });

  test('fails when Parquet scans no less than CSV', async () => {
    const { failure } = await runSteps(['compare'], { faults: { csvScanFraction: 0.25 } });
    expectCheckFailure(failure, new RegExp(`^Parquet scanned \\d+ bytes, not less than CSV's ${Math.round(csvDayBytes * 0.25)}$`));
  });

  test('fails when the partition filter does not prune', async () => {
    const { failure } = await runSteps(['compare'], { faults: { noPartitionPruning: true } });
    expectCheckFailure(failure, `the CSV question scanned ${csvBytes} bytes; one day's file is ${csvDayBytes}: the partition filter did not prune`);
  });

  test('fails when the CSV question reports no bytes scanned (no statistics)', async () => {
    const { failure } = await runSteps(['compare'], {
      answer: finishedQuery('SELECT category, count(*) AS orders, round(sum(quantity * unit_price), 2) AS revenue FROM orders_csv', (execution) => ({
        ...execution,
        Statistics: undefined,
      })),
    });
    expectCheckFailure(failure, `the CSV question scanned 0 bytes; one day's file is ${csvDayBytes}: the partition filter did not prune`);
  });
});

describe('ctas', () => {
  const CTAS =
    "CREATE TABLE orders_ctas_run_test WITH (format = 'PARQUET', write_compression = 'GZIP', external_location = 's3://data-bucket/orders/ctas/run-test/', " +
    "partitioned_by = ARRAY['dt']) AS SELECT order_id, customer_id, category, product, quantity, unit_price, ordered_at, dt FROM orders_csv";
  const DROP = 'DROP TABLE IF EXISTS orders_ctas_run_test';
  /** The keys the listings answered, page after page. */
  const listed = (sent: readonly Sent[]) => sent.filter((s) => s.command instanceof ListObjectsV2Command).flatMap((s) => (s.answer as ListObjectsV2CommandOutput).Contents ?? []);

  test('creates the table, checks it, asks it the question, then drops it and deletes its files', async () => {
    const { failure, statements, sent } = await runSteps(['ctas'], { answer: paging });
    expect(failure).toBeUndefined();
    expect(lines).toEqual([
      header('ctas'),
      `CTAS orders_csv → orders_ctas_run_test at s3://data-bucket/orders/ctas/run-test/: ${bytes(csvBytes)} bytes scanned, billed $0.000050`,
      'orders_ctas_run_test: ParquetHiveSerDe, 7 partitions registered by the CTAS itself, 7 files',
      expect.stringMatching(/^the question over orders_ctas_run_test gives the same answer; [\d,]+ bytes scanned, billed \$0\.000050$/),
      'dropped orders_ctas_run_test and deleted its 7 files',
    ]);
    expect(statements).toEqual([CTAS, questionSql('orders_ctas_run_test'), DROP]);
    expect(inputsOf(sent, GetTableCommand)).toEqual([{ DatabaseName: DATABASE, Name: 'orders_ctas_run_test' }]);
    expect(inputsOf(sent, ListObjectsV2Command)).toEqual([
      { Bucket: 'data-bucket', Prefix: 'orders/ctas/run-test/' },
      { Bucket: 'data-bucket', Prefix: 'orders/ctas/run-test/', ContinuationToken: '5' },
      { Bucket: 'data-bucket', Prefix: 'orders/ctas/run-test/' },
      { Bucket: 'data-bucket', Prefix: 'orders/ctas/run-test/', ContinuationToken: '5' },
    ]);
    const files = listed(sent).slice(7).map((o) => ({ Key: o.Key }));
    expect(files).toHaveLength(7);
    expect(inputsOf(sent, DeleteObjectsCommand)).toEqual([{ Bucket: 'data-bucket', Delete: { Objects: files } }]);
  });

  test('fails on a table written as text, and drops it', async () => {
    const { failure, statements } = await runSteps(['ctas'], { faults: { ctasAsText: true } });
    expectCheckFailure(failure, 'orders_ctas_run_test is stored with org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe, not Parquet');
    expect(statements).toEqual([CTAS, DROP]);
    expect(lines.at(-1)).toBe('dropped orders_ctas_run_test and deleted its 7 files');
  });

  test.each([
    ['another key', [{ Name: 'day', Type: 'string' }], 'orders_ctas_run_test is partitioned by day'],
    ['no key', undefined, 'orders_ctas_run_test is partitioned by nothing'],
  ])('fails on a table partitioned by %s', async (_what, keys, message) => {
    const { failure } = await runSteps(['ctas'], {
      answer: changing(GetTableCommand, (answer: GetTableCommandOutput) => ({ Table: { ...answer.Table, PartitionKeys: keys } })),
    });
    expectCheckFailure(failure, message);
  });

  test('fails when the CTAS registered fewer partitions than days', async () => {
    const { failure } = await runSteps(['ctas'], {
      answer: changing(GetPartitionsCommand, (answer: GetPartitionsCommandOutput) => ({ ...answer, Partitions: answer.Partitions?.filter((p) => p.Values?.[0] !== '2026-11-07') })),
    });
    expectCheckFailure(failure, 'CTAS registered 6 partitions of orders_ctas_run_test, expected 7');
  });

  test('fails when the CTAS wrote fewer files than days', async () => {
    const { failure } = await runSteps(['ctas'], {
      answer: changing(ListObjectsV2Command, (answer: ListObjectsV2CommandOutput) => ({ ...answer, Contents: answer.Contents?.filter((o) => !o.Key?.includes('dt=2026-11-07/')) })),
    });
    expectCheckFailure(failure, 'CTAS wrote 6 files under orders/ctas/run-test/, fewer than one per day');
  });

  test('fails when the new table answers otherwise than the rows', async () => {
    const { failure } = await runSteps(['ctas'], {
      answer: queryRows('SELECT category', ([category, orders, revenue]) => [category, String(Number(orders) - 1), revenue]),
    });
    const answered = expectedAnswer(ATHENA_LAB.questionDay).map((row) => `${row.category} ${row.orders - 1} ${Number(row.revenue).toFixed(2)}`);
    expectCheckFailure(failure, `orders_ctas_run_test answered ${answered.join('; ')}, expected ${expectedLines.join('; ')}`);
  });

  test('fails when the question over the new table fails, with its reason, and drops it', async () => {
    const { failure, statements } = await runSteps(['ctas'], {
      answer: finishedQuery('SELECT', (execution) => ({ ...execution, Status: { State: 'FAILED', StateChangeReason: 'HIVE_CURSOR_ERROR: Failed to read Parquet file' } })),
    });
    expectCheckFailure(failure, 'the question over orders_ctas_run_test ended FAILED: HIVE_CURSOR_ERROR: Failed to read Parquet file');
    expect(statements.at(-1)).toBe(DROP);
  });

  test('a CTAS that fails and writes nothing is dropped; no file is deleted', async () => {
    const { failure, statements, sent } = await runSteps(['ctas'], {
      answer: (command, input, answer, sent) => {
        // The failed CTAS left no files (the local one wrote them: they are hidden); S3 omits Contents when no key matches.
        if (command instanceof ListObjectsV2Command) return { Name: 'data-bucket', Prefix: input.Prefix, KeyCount: 0, IsTruncated: false };
        return finishedQuery('CREATE TABLE', (execution) => ({ ...execution, Status: { State: 'FAILED', StateChangeReason: 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split' } }))(
          command,
          input,
          answer,
          sent,
        );
      },
    });
    expectCheckFailure(failure, 'CREATE TABLE AS SELECT ended FAILED: HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split');
    expect(statements).toEqual([CTAS, DROP]);
    expect(lines).toEqual([header('ctas'), 'dropped orders_ctas_run_test and deleted its 0 files']);
    // DeleteObjects with no key is refused by S3 (MalformedXML): it is not sent.
    expect(inputsOf(sent, DeleteObjectsCommand)).toEqual([]);
  });

  test('a DROP TABLE that fails after a failed check is logged, and the check\'s failure is the one reported', async () => {
    const { failure } = await runSteps(['ctas'], { faults: { ctasAsText: true, dropFailsWith: 'AccessDeniedException: glue:DeletePartition' } });
    expectCheckFailure(failure, 'orders_ctas_run_test is stored with org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe, not Parquet');
    expect(lines.slice(1)).toEqual([
      `CTAS orders_csv → orders_ctas_run_test at s3://data-bucket/orders/ctas/run-test/: ${bytes(csvBytes)} bytes scanned, billed $0.000050`,
      'could not clean up orders_ctas_run_test after the failure below: DROP TABLE ended FAILED: AccessDeniedException: glue:DeletePartition',
    ]);
  });

  test('a DROP TABLE that fails after passing checks fails the step', async () => {
    const { failure } = await runSteps(['ctas'], { faults: { dropFailsWith: 'AccessDeniedException: glue:DeletePartition' } });
    expectCheckFailure(failure, 'DROP TABLE ended FAILED: AccessDeniedException: glue:DeletePartition');
  });
});

describe('cutoff', () => {
  const scan = repeatedScanSql('orders_csv', copies);

  test('a query over the cutoff is cancelled by it', async () => {
    const { failure, statements, sent } = await runSteps(['cutoff']);
    expect(failure).toBeUndefined();
    expect(lines).toEqual([
      header('cutoff'),
      `cutoff 10,000,000 bytes per query; the CSV table is ${bytes(csvBytes)} bytes, so reading it ${copies} times is about 3× the cutoff`,
      'cancelled: "Bytes scanned limit was exceeded"; 10,000,000 bytes scanned, billed $0.000050 (a cancelled query is billed for what it read)',
    ]);
    expect(statements).toEqual([scan]);
    expect(inputsOf(sent, GetWorkGroupCommand)).toEqual([{ WorkGroup: WORKGROUP }]);
  });

  test('fails on a workgroup without a cutoff', async () => {
    const { failure } = await runSteps(['cutoff'], { faults: { noCutoff: true } });
    expectCheckFailure(failure, 'the workgroup has no BytesScannedCutoffPerQuery');
  });

  test('fails on a workgroup that does not enforce its configuration', async () => {
    const { failure, statements } = await runSteps(['cutoff'], { faults: { notEnforced: true } });
    expectCheckFailure(failure, 'the workgroup does not enforce its configuration: a client could override it');
    expect(statements).toEqual([]);
  });

  test('a query that failed for another reason is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], { faults: { selectsEndWith: { state: 'FAILED', reason: 'TOO_MANY_STAGES: query exceeded the stage limit' } } });
    expectCheckFailure(failure, `the ${copies}-fold scan ended FAILED (TOO_MANY_STAGES: query exceeded the stage limit), expected CANCELLED by the cutoff`);
  });

  test('a query that SUCCEEDED having read no more than the cutoff is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], {
      answer: finishedQuery('SELECT', (execution) => ({ ...execution, Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 10_000_000 } })),
    });
    expectCheckFailure(failure, `the ${copies}-fold scan ended SUCCEEDED (no reason), expected CANCELLED by the cutoff`);
  });

  test('a query cancelled by StopQueryExecution is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], { faults: { selectsEndWith: { state: 'CANCELLED' } } });
    expectCheckFailure(failure, 'the query was cancelled for another reason: no reason given (StopQueryExecution cancels a query too)');
  });

  test('a query cancelled for another reason is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], { faults: { selectsEndWith: { state: 'CANCELLED', reason: 'Query was cancelled by the user' } } });
    expectCheckFailure(failure, 'the query was cancelled for another reason: Query was cancelled by the user (StopQueryExecution cancels a query too)');
  });

  test('a query over the cutoff that SUCCEEDED before being cancelled is explained', async () => {
    const { failure } = await runSteps(['cutoff'], { faults: { cutoffAfterQueryEnds: true } });
    expectCheckFailure(
      failure,
      `the ${copies}-fold scan SUCCEEDED after scanning ${bytes(copies * csvBytes)} bytes, over the cutoff of 10,000,000: ` +
        'Athena cancels a query over the cutoff while it runs, and this one finished before it was cancelled (it is billed for all it read); ' +
        'the cutoff is a bound checked during the run, not a refusal up front',
    );
  });
});

test('the dataset the exercise uploads is the one the stack\'s tables describe: 7 days × 2 formats', () => {
  expect(objects.map((o) => o.key)).toEqual(
    ATHENA_LAB.days.flatMap((d) => [`orders/csv/dt=${d}/orders.csv.gz`, `orders/parquet/dt=${d}/orders.parquet`]),
  );
});
