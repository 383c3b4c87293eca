import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ATHENA_LAB } from '../../../labs/athena/constants';
import { dataset, queryCostUsd, steps, timing } from '../../../labs/athena/exercise';
import { athenaLab } from '../../../labs/athena/lab';
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

/** Runs `ids` in one run against a fresh local lab with `faults`; returns what failed, if anything. */
async function runSteps(ids: readonly string[], faults: LocalAthenaFaults = {}, queryDeadlineSeconds = 5): Promise<{ failure?: Error; statements: string[] }> {
  // A step after `partitions` starts from a lab those two steps left: the dataset uploaded, the CSV partitions registered.
  const seeded = ids.includes('upload') ? [] : objects;
  const local = startLocalAthena(template as never, { folder: mkdtempSync(path.join(root, 'lab-')), duckdb, faults, seeded });
  try {
    const failure = await runExercise(ids.map(step), {
      outputs: local.outputs,
      log: (line) => lines.push(line),
      runId: 'run-test',
      provide: [provide(timing, { queryPollMs: 0, queryDeadlineSeconds }), provide(dataset, [...objects])],
    }).then(() => undefined, (error: Error) => error);
    return { failure, statements: local.statements };
  } finally {
    local.restore();
  }
}

const csvBytes = objects.filter((o) => o.format === 'csv').reduce((sum, o) => sum + o.body.length, 0);
/** The cutoff step reads the CSV table enough times to scan about three times the cutoff. */
const copies = Math.ceil((3 * ATHENA_LAB.bytesScannedCutoffPerQuery) / csvBytes);

const expectCheckFailure = (failure: Error | undefined, message: string | RegExp) => {
  expect(failure).toBeInstanceOf(ExerciseCheckFailed);
  expect(failure!.message).toMatch(message);
};

test('every step passes its checks, in order, against the local Athena', async () => {
  const { failure, statements } = await runSteps(steps.map((s) => s.id));
  expect(failure).toBeUndefined();
  expect(statements.filter((s) => s.startsWith('ALTER TABLE'))).toHaveLength(1);
  expect(statements).toContain('MSCK REPAIR TABLE orders_csv');
  expect(statements.some((s) => /^CREATE TABLE orders_ctas_run_test WITH \(format = 'PARQUET'/.test(s))).toBe(true);
  expect(statements).toContain('DROP TABLE IF EXISTS orders_ctas_run_test');
  expect(lines).toContain(`cutoff 10,000,000 bytes per query; the CSV table is ${csvBytes.toLocaleString('en-US')} bytes, so reading it ${copies} times is about 3× the cutoff`);
  expect(copies * csvBytes).toBeGreaterThanOrEqual(3 * ATHENA_LAB.bytesScannedCutoffPerQuery);
  expect(lines.join('\n')).toMatch(/cancelled: "Bytes scanned limit was exceeded"; 10,000,000 bytes scanned, billed \$0\.000050/);
  expect(lines.join('\n')).toMatch(/orders_parquet: 6 categories, same answer as the rows; [\d,]+ bytes scanned, billed \$0\.000050/);
});

test('the cost of a query: rounded up to whole MB, 10 MB at least, $5 per TB', () => {
  expect(queryCostUsd(0)).toBeCloseTo(0.00005, 10);
  expect(queryCostUsd(10_000_001)).toBeCloseTo(0.000055, 10);
  expect(queryCostUsd(1e12)).toBeCloseTo(5, 10);
});

describe('each step fails when the lab misbehaves', () => {
  test('upload: an object stored shorter than sent', async () => {
    const { failure } = await runSteps(['upload'], { truncatesUploads: true });
    expectCheckFailure(failure, /^s3:\/\/data-bucket\/orders\/csv\/dt=2026-11-01\/orders\.csv\.gz is \d+, expected \d+ bytes$/);
  });

  test('partitions: MSCK REPAIR that registers nothing leaves one partition', async () => {
    const { failure } = await runSteps(['upload', 'partitions'], { repairFindsNothing: true });
    expectCheckFailure(failure, 'orders_csv has partitions 2026-11-01, expected 2026-11-01, 2026-11-02');
  });

  test('compare: a workgroup that does not enforce its result location', async () => {
    const { failure } = await runSteps(['compare'], { notEnforced: true });
    expectCheckFailure(failure, /^the result went to s3:\/\/data-bucket\/not-here\/q-\d+\.csv, not under the workgroup's s3:\/\/results-bucket\/athena-results\/$/);
  });

  test('compare: results the workgroup does not encrypt', async () => {
    const { failure } = await runSteps(['compare'], { resultsUnencrypted: true });
    expectCheckFailure(failure, 'the result is not encrypted by the workgroup (undefined)');
  });

  test('compare: a Parquet scan that skips no column', async () => {
    const { failure } = await runSteps(['compare'], { parquetReadsWholeFiles: true });
    const parquetDay = objects.find((o) => o.format === 'parquet' && o.day === ATHENA_LAB.questionDay)!.body.length;
    expectCheckFailure(failure, `the Parquet question scanned ${parquetDay} bytes, the whole day's file (${parquetDay}): no column was skipped`);
  });

  test('compare: Parquet that scans no less than CSV', async () => {
    const { failure } = await runSteps(['compare'], { csvScanFraction: 0.25 });
    expectCheckFailure(failure, /^Parquet scanned (\d+) bytes, not less than CSV's (\d+)$/);
  });

  test('compare: a partition filter that does not prune', async () => {
    const { failure } = await runSteps(['compare'], { noPartitionPruning: true });
    expectCheckFailure(failure, /^the CSV question scanned \d+ bytes; one day's file is \d+: the partition filter did not prune$/);
  });

  test('ctas: a table written as text', async () => {
    const { failure, statements } = await runSteps(['ctas'], { ctasAsText: true });
    expectCheckFailure(failure, `orders_ctas_run_test is stored with ${'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'}, not Parquet`);
    expect(statements.at(-1)).toBe('DROP TABLE IF EXISTS orders_ctas_run_test');
  });

  test('ctas: a DROP TABLE that fails after a failed check is logged, and the check\'s failure is the one reported', async () => {
    const { failure } = await runSteps(['ctas'], { ctasAsText: true, dropFailsWith: 'AccessDeniedException: glue:DeletePartition' });
    expectCheckFailure(failure, `orders_ctas_run_test is stored with ${'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'}, not Parquet`);
    expect(lines).toContain('could not clean up orders_ctas_run_test after the failure below: DROP TABLE ended FAILED: AccessDeniedException: glue:DeletePartition');
  });

  test('ctas: a DROP TABLE that fails after passing checks fails the step', async () => {
    const { failure } = await runSteps(['ctas'], { dropFailsWith: 'AccessDeniedException: glue:DeletePartition' });
    expectCheckFailure(failure, 'DROP TABLE ended FAILED: AccessDeniedException: glue:DeletePartition');
  });

  test('cutoff: a workgroup without a cutoff', async () => {
    const { failure } = await runSteps(['cutoff'], { noCutoff: true });
    expectCheckFailure(failure, 'the workgroup has no BytesScannedCutoffPerQuery');
  });

  test('cutoff: a query that failed for another reason is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], { selectsEndWith: { state: 'FAILED', reason: 'TOO_MANY_STAGES: query exceeded the stage limit' } });
    expectCheckFailure(failure, `the ${copies}-fold scan ended FAILED (TOO_MANY_STAGES: query exceeded the stage limit), expected CANCELLED by the cutoff`);
  });

  test('cutoff: a query cancelled by StopQueryExecution is not the cutoff at work', async () => {
    const { failure } = await runSteps(['cutoff'], { selectsEndWith: { state: 'CANCELLED' } });
    expectCheckFailure(failure, 'the query was cancelled for another reason: no reason given (StopQueryExecution cancels a query too)');
  });

  test('cutoff: a query over the cutoff that SUCCEEDED before being cancelled is explained', async () => {
    const { failure } = await runSteps(['cutoff'], { cutoffAfterQueryEnds: true });
    expectCheckFailure(
      failure,
      new RegExp(`^the ${copies}-fold scan SUCCEEDED after scanning ${(copies * csvBytes).toLocaleString('en-US')} bytes, over the cutoff of 10,000,000: Athena cancels a query over the cutoff while it runs`),
    );
  });

  test('a query that never ends is stopped at the deadline', async () => {
    const { failure } = await runSteps(['partitions'], { neverFinishes: true }, 0.1);
    expectCheckFailure(failure, /^query q-1 was still RUNNING after 0.1 s; stopped it$/);
  });
});

test('the dataset the exercise uploads is the one the stack\'s tables describe: 7 days × 2 formats', () => {
  expect(objects.map((o) => o.key)).toEqual(
    ATHENA_LAB.days.flatMap((d) => [`orders/csv/dt=${d}/orders.csv.gz`, `orders/parquet/dt=${d}/orders.parquet`]),
  );
});
