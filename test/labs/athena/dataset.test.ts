import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ATHENA_LAB } from '../../../labs/athena/constants';
import { expectedAnswer, ORDER_COLUMNS } from '../../../labs/athena/dataset';
import { ordersPerDaySql, questionSql, repeatedScanSql } from '../../../labs/athena/queries';
import { datasetFolderName, generatedDataset, removeOtherVersions } from './generated-dataset';

// DuckDB is the independent reader: it opens the files the lab writes, and runs the exercise's SQL over them.
const { folder, objects } = generatedDataset();
const { tables, days } = ATHENA_LAB;
let instance: DuckDBInstance;
let duckdb: DuckDBConnection;
const rowsOf = async (sql: string) => (await duckdb.runAndReadAll(sql)).getRowObjectsJS();
const glob = (format: 'csv' | 'parquet') => path.join(folder, ATHENA_LAB.prefixes[format], '*', format === 'csv' ? '*.csv.gz' : '*.parquet');
const parquetFile = (day: string) => path.join(folder, ATHENA_LAB.prefixes.parquet, `dt=${day}`, 'orders.parquet');

/** The table scans of a query's profile: DuckDB's counterpart of Athena's bytes scanned. */
async function scansOf(sql: string): Promise<Record<string, string | string[]>[]> {
  const [[, profile]] = (await duckdb.runAndReadAll(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`)).getRowsJS() as [unknown, string][];
  const scans: Record<string, string | string[]>[] = [];
  const visit = (node: { operator_type?: string; extra_info?: Record<string, string | string[]>; children?: unknown[] }) => {
    if (node.operator_type === 'TABLE_SCAN') scans.push(node.extra_info ?? {});
    for (const child of node.children ?? []) visit(child as typeof node);
  };
  visit(JSON.parse(profile));
  return scans;
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  duckdb = await instance.connect();
  // The Glue tables, as DuckDB views over the same keys: dt read from the dt=…/ folders as a string, as Glue declares it.
  await duckdb.run(`CREATE VIEW ${tables.csv} AS SELECT * FROM read_csv('${glob('csv')}', header = true, hive_partitioning = true, hive_types = {'dt': VARCHAR})`);
  await duckdb.run(`CREATE VIEW ${tables.parquet} AS SELECT * FROM read_parquet('${glob('parquet')}', hive_partitioning = true, hive_types = {'dt': VARCHAR})`);
});
afterAll(() => {
  duckdb.closeSync();
  instance.closeSync();
});

describe('the Parquet files, read back', () => {
  test('hold the order columns with Parquet types, none of them the partition key', async () => {
    const schema = await rowsOf(`SELECT name, type, converted_type FROM parquet_schema('${parquetFile(days[0])}') WHERE name <> 'root'`);
    expect(schema.map((c) => c.name)).toEqual(ORDER_COLUMNS.map((c) => c.name));
    expect(schema.map((c) => `${c.type} ${c.converted_type ?? ''}`.trim())).toEqual([
      'BYTE_ARRAY UTF8', 'BYTE_ARRAY UTF8', 'BYTE_ARRAY UTF8', 'BYTE_ARRAY UTF8', 'INT32', 'DOUBLE', 'INT64 TIMESTAMP_MILLIS',
    ]);
  });

  test.each(days.map((d) => [d]))('%s: 4,000 rows in 4 row groups of 1,000, every column chunk GZIP, min/max statistics per group', async (day) => {
    const [file] = await rowsOf(`SELECT num_rows, num_row_groups FROM parquet_file_metadata('${parquetFile(day)}')`);
    expect(file).toEqual({ num_rows: BigInt(ATHENA_LAB.ordersPerDay), num_row_groups: 4n });
    const chunks = await rowsOf(
      `SELECT row_group_id, row_group_num_rows, path_in_schema, compression, encodings, stats_min_value, stats_max_value, total_compressed_size FROM parquet_metadata('${parquetFile(day)}')`,
    );
    expect(chunks).toHaveLength(4 * ORDER_COLUMNS.length);
    expect(new Set(chunks.map((c) => c.compression))).toEqual(new Set(['GZIP']));
    expect(new Set(chunks.map((c) => c.row_group_num_rows))).toEqual(new Set([1000n]));
    expect(chunks.find((c) => c.path_in_schema === 'order_id')?.encodings).toContain('DELTA_BYTE_ARRAY');
    const times = chunks.filter((c) => c.path_in_schema === 'ordered_at').map((c) => [c.stats_min_value, c.stats_max_value]);
    expect(times[0][0]).toBe(`${day} 00:00:00`);
    // Rows are in time order, so each group's range starts after the previous one ends: a time filter skips groups.
    for (let group = 1; group < times.length; group++) expect(String(times[group][0]) > String(times[group - 1][1])).toBe(true);
  });

  test('the question\'s 3 columns are under half of a file\'s bytes: what a columnar reader skips', async () => {
    const [{ question, whole }] = await rowsOf(
      `SELECT sum(total_compressed_size) FILTER (WHERE path_in_schema IN ('category', 'quantity', 'unit_price')) AS question, ` +
        `sum(total_compressed_size) AS whole FROM parquet_metadata('${parquetFile(ATHENA_LAB.questionDay)}')`,
    );
    expect(Number(question)).toBeLessThan(0.5 * Number(whole));
  });

  test('are smaller than the gzip CSV of the same rows', () => {
    const bytes = (format: string) => objects.filter((o) => o.format === format).reduce((sum, o) => sum + o.body.length, 0);
    expect(bytes('parquet')).toBeLessThan(0.8 * bytes('csv'));
  });
});

test('the gzip CSV starts with a header line and holds exactly the rows of the Parquet files', async () => {
  const csv = objects.find((o) => o.format === 'csv')!;
  const firstLine = (await import('node:zlib')).gunzipSync(csv.body).toString().split('\n')[0];
  expect(firstLine).toBe(ORDER_COLUMNS.map((c) => c.name).join(','));
  const [{ total }] = await rowsOf(`SELECT count(*) AS total FROM ${tables.csv}`);
  expect(total).toBe(BigInt(days.length * ATHENA_LAB.ordersPerDay));
  for (const [from, minus] of [[tables.csv, tables.parquet], [tables.parquet, tables.csv]]) {
    expect(await rowsOf(`SELECT * FROM ${from} EXCEPT SELECT * FROM ${minus}`)).toEqual([]);
  }
  // Two EXCEPTs over every row of both formats: ~1 s alone, over jest's 5 s on a loaded machine.
}, 20_000);

describe('the exercise\'s SQL on DuckDB over the same files', () => {
  test.each([[tables.csv], [tables.parquet]])('the question over %s answers what the rows say', async (table) => {
    const answer = (await rowsOf(questionSql(table))).map((r) => ({ category: r.category, orders: Number(r.orders), revenue: Number(r.revenue).toFixed(2) }));
    expect(answer).toEqual(expectedAnswer(ATHENA_LAB.questionDay));
  });

  test.each([[tables.csv], [tables.parquet]])('the question over %s reads 1 file of 7 (partition pruning) and 3 columns of 7', async (table) => {
    const [scan] = await scansOf(questionSql(table));
    expect(scan['File Filters']).toBe(`(dt = '${ATHENA_LAB.questionDay}')`);
    expect(scan['Scanning Files']).toBe('1/7');
    expect(scan['Total Files Read']).toBe('1');
    expect(scan['Filename(s)']).toContain(`dt=${ATHENA_LAB.questionDay}`);
    expect(scan.Projections).toEqual(['category', 'quantity', 'unit_price']);
  });

  test('orders per day reads every file: the full scan the question avoids', async () => {
    expect((await rowsOf(ordersPerDaySql(tables.csv))).map((r) => `${r.dt}:${r.orders}`)).toEqual(days.map((d) => `${d}:${ATHENA_LAB.ordersPerDay}`));
    const [scan] = await scansOf(ordersPerDaySql(tables.csv));
    expect(scan['File Filters']).toBeUndefined();
    expect(scan['Total Files Read']).toBe('7');
  });

  test('the cutoff query reads the table once per copy: three copies, three scans of every file', async () => {
    const scans = await scansOf(repeatedScanSql(tables.csv, 3));
    expect(scans.map((s) => s['Total Files Read'])).toEqual(['7', '7', '7']);
  });

  test('the CTAS, as DuckDB writes it (COPY … PARTITION_BY), gives Hive-style Parquet folders with the same answer', async () => {
    const target = mkdtempSync(path.join(tmpdir(), 'athena-ctas-'));
    try {
      await duckdb.run(`COPY (SELECT * FROM ${tables.csv}) TO '${target}' (FORMAT parquet, COMPRESSION gzip, PARTITION_BY (dt))`);
      expect(readdirSync(target).sort()).toEqual(days.map((d) => `dt=${d}`));
      await duckdb.run(`CREATE VIEW orders_ctas AS SELECT * FROM read_parquet('${target}/*/*.parquet', hive_partitioning = true, hive_types = {'dt': VARCHAR})`);
      const answer = (await rowsOf(questionSql('orders_ctas'))).map((r) => ({ category: r.category, orders: Number(r.orders), revenue: Number(r.revenue).toFixed(2) }));
      expect(answer).toEqual(expectedAnswer(ATHENA_LAB.questionDay));
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});

describe('the dataset cache', () => {
  test('another version of hyparquet-writer gets another folder', () => {
    expect(datasetFolderName('0.17.0')).toMatch(/^athena-lab-dataset-[0-9a-f]{16}$/);
    expect(datasetFolderName('0.17.0')).toBe(datasetFolderName('0.17.0'));
    expect(datasetFolderName('0.18.0')).not.toBe(datasetFolderName('0.17.0'));
  });

  test('writing a version removes the folders of the others, finished or partial, and leaves its own partial ones', () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'athena-cache-'));
    try {
      const entries = ['athena-lab-dataset-old', 'athena-lab-dataset-old-partial-x1', 'athena-lab-dataset-new-partial-y2', 'unrelated'];
      for (const entry of entries) mkdirSync(path.join(parent, entry));
      removeOtherVersions(parent, 'athena-lab-dataset-new');
      expect(readdirSync(parent).sort()).toEqual(['athena-lab-dataset-new-partial-y2', 'unrelated']);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
