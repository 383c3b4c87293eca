import { setTimeout as sleep } from 'node:timers/promises';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient, Partition } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, _Object } from '@aws-sdk/client-s3';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { ATHENA_LAB } from './constants';
import { DatasetObject, datasetObjects, expectedAnswer } from './dataset';
import { addPartitionSql, ctasSql, dropTableSql, ordersPerDaySql, questionSql, repairSql, repeatedScanSql } from './queries';

export const timing = defineTiming(ATHENA_LAB.exerciseTiming);

/** The generated orders, as gzip CSV and Parquet objects (a test gives the files it generated). */
export const dataset = defineFixture('the generated dataset', () => datasetObjects());

const athenaOf = (context: ExerciseContext) => context.client(AthenaClient, 'ATHENA');
const glueOf = (context: ExerciseContext) => context.client(GlueClient, 'GLUE');
const s3Of = (context: ExerciseContext) => context.client(S3Client, 'S3');

const { pricing, tables, days } = ATHENA_LAB;

/** How many times the cutoff the `cutoff` step's query reads. */
const CUTOFF_OVERSHOOT = 3;

/** What Athena bills for a query that scanned `bytes`: rounded up to whole MB, at least 10 MB, $5 per TB. */
export function queryCostUsd(bytes: number): number {
  const billed = Math.max(Math.ceil(bytes / pricing.roundingBytes) * pricing.roundingBytes, pricing.minimumBytesPerQuery);
  return (billed / 1e12) * pricing.usdPerTerabyte;
}

const scannedOf = (execution: QueryExecution) => execution.Statistics?.DataScannedInBytes ?? 0;
const describeScan = (execution: QueryExecution) =>
  `${scannedOf(execution).toLocaleString('en-US')} bytes scanned, billed $${queryCostUsd(scannedOf(execution)).toFixed(6)}`;

/**
 * Runs `sql` in the lab's workgroup and database and waits until it ends, whatever its end; a query still running at
 * the deadline is stopped and fails the step. `clientOutputLocation` is a result location the workgroup must ignore.
 */
async function runQuery(context: ExerciseContext, sql: string, clientOutputLocation?: string): Promise<QueryExecution> {
  const workgroup = requireOutput(context.outputs, 'WorkgroupName');
  const database = requireOutput(context.outputs, 'DatabaseName');
  const { QueryExecutionId } = await athenaOf(context).send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: workgroup,
      QueryExecutionContext: { Database: database },
      ResultConfiguration: clientOutputLocation ? { OutputLocation: clientOutputLocation } : undefined,
    }),
  );
  const { queryPollMs, queryDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + queryDeadlineSeconds * 1000;
  for (;;) {
    const { QueryExecution: execution } = await athenaOf(context).send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = execution?.Status?.State;
    if (execution && (state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED')) return execution;
    if (Date.now() > deadline) {
      await athenaOf(context).send(new StopQueryExecutionCommand({ QueryExecutionId }));
      check(false, `query ${QueryExecutionId} was still ${state} after ${queryDeadlineSeconds} s; stopped it`);
    }
    await sleep(queryPollMs);
  }
}

/** Runs `sql`, which must succeed. */
async function succeed(context: ExerciseContext, sql: string, what: string, clientOutputLocation?: string): Promise<QueryExecution> {
  const execution = await runQuery(context, sql, clientOutputLocation);
  const status = execution.Status;
  check(status?.State === 'SUCCEEDED', `${what} ended ${status?.State}: ${status?.StateChangeReason ?? 'no reason given'}`);
  return execution;
}

/** The rows of a finished SELECT, as strings, without the header row Athena puts first. */
async function rowsOf(context: ExerciseContext, execution: QueryExecution): Promise<string[][]> {
  const rows: string[][] = [];
  let NextToken: string | undefined;
  do {
    const page = await athenaOf(context).send(new GetQueryResultsCommand({ QueryExecutionId: execution.QueryExecutionId, NextToken }));
    rows.push(...(page.ResultSet?.Rows ?? []).map((row) => (row.Data ?? []).map((cell) => cell.VarCharValue ?? '')));
    NextToken = page.NextToken;
  } while (NextToken);
  return rows.slice(1);
}

async function partitionsOf(context: ExerciseContext, table: string): Promise<Partition[]> {
  const partitions: Partition[] = [];
  let NextToken: string | undefined;
  do {
    const page = await glueOf(context).send(
      new GetPartitionsCommand({ DatabaseName: requireOutput(context.outputs, 'DatabaseName'), TableName: table, NextToken }),
    );
    partitions.push(...(page.Partitions ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return partitions;
}

async function listObjects(context: ExerciseContext, bucket: string, prefix: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3Of(context).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
    objects.push(...(page.Contents ?? []));
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return objects;
}

const bytesOf = (objects: readonly DatasetObject[], format: DatasetObject['format'], day?: string) =>
  objects.filter((o) => o.format === format && (day === undefined || o.day === day)).reduce((sum, o) => sum + o.body.length, 0);

/** The answer rows as `category orders revenue`, revenue with two decimals, whatever the engine printed. */
const answerLines = (rows: readonly string[][]) => rows.map(([category, orders, revenue]) => `${category} ${orders} ${Number(revenue).toFixed(2)}`);

async function upload(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const bucket = requireOutput(context.outputs, 'DataBucketName');
  const objects = await context.use(dataset);
  for (const object of objects) {
    await s3Of(context).send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: object.key,
        Body: object.body,
        // Not Content-Encoding: gzip, which would let HTTP clients unzip it on the way; Athena unzips by the .gz suffix.
        ContentType: object.format === 'csv' ? 'application/gzip' : 'application/vnd.apache.parquet',
      }),
    );
  }
  log(`uploaded ${objects.length} objects: ${days.length} days × (gzip CSV, Parquet), Hive-style keys such as ${objects[0].key}`);

  for (const format of ['csv', 'parquet'] as const) {
    const listed = new Map((await listObjects(context, bucket, ATHENA_LAB.prefixes[format])).map((o) => [o.Key, o.Size]));
    for (const object of objects.filter((o) => o.format === format)) {
      check(listed.get(object.key) === object.body.length, `s3://${bucket}/${object.key} is ${listed.get(object.key) ?? 'missing'}, expected ${object.body.length} bytes`);
    }
  }
  const csv = bytesOf(objects, 'csv');
  const parquet = bytesOf(objects, 'parquet');
  log(`listed them back: gzip CSV ${csv.toLocaleString('en-US')} bytes, Parquet ${parquet.toLocaleString('en-US')} bytes (${Math.round((100 * parquet) / csv)} %)`);
}

async function partitions(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const bucket = requireOutput(context.outputs, 'DataBucketName');
  log(`${tables.csv} has ${(await partitionsOf(context, tables.csv)).length} partitions in the catalogue before this step`);

  await succeed(context, addPartitionSql(tables.csv, bucket, days[0]), 'ALTER TABLE ADD PARTITION');
  log(`ALTER TABLE ${tables.csv} ADD PARTITION (dt = '${days[0]}'): one partition, its location given`);
  await succeed(context, repairSql(tables.csv), 'MSCK REPAIR TABLE');
  log(`MSCK REPAIR TABLE ${tables.csv}: Athena listed the dt=…/ folders and registered the others`);

  const registered = await partitionsOf(context, tables.csv);
  const registeredDays = registered.map((p) => p.Values?.[0]).sort();
  check(JSON.stringify(registeredDays) === JSON.stringify([...days]), `${tables.csv} has partitions ${registeredDays.join(', ')}, expected ${days.join(', ')}`);
  for (const partition of registered) {
    const location = partition.StorageDescriptor?.Location ?? '';
    check(location.includes(`${ATHENA_LAB.prefixes.csv}${ATHENA_LAB.partitionKey}=${partition.Values?.[0]}`), `partition ${partition.Values?.[0]} points at ${location}`);
  }
  const projected = await partitionsOf(context, tables.parquet);
  check(projected.length === 0, `${tables.parquet} has ${projected.length} partitions in the catalogue: it should rely on projection alone`);
  log(`the catalogue now lists ${registered.length} partitions of ${tables.csv} and none of ${tables.parquet}, which projects them`);

  for (const table of [tables.csv, tables.parquet]) {
    const execution = await succeed(context, ordersPerDaySql(table), `orders per day from ${table}`);
    const counts = (await rowsOf(context, execution)).map(([day, orders]) => `${day}:${orders}`);
    const expected = days.map((day) => `${day}:${ATHENA_LAB.ordersPerDay}`);
    check(JSON.stringify(counts) === JSON.stringify(expected), `${table} counts ${counts.join(' ')}, expected ${expected.join(' ')}`);
    log(`${table}: ${ATHENA_LAB.ordersPerDay} orders on each of ${days.length} days; ${describeScan(execution)}`);
  }
}

async function compare(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const objects = await context.use(dataset);
  const dataBucket = requireOutput(context.outputs, 'DataBucketName');
  const { WorkGroup } = await athenaOf(context).send(new GetWorkGroupCommand({ WorkGroup: requireOutput(context.outputs, 'WorkgroupName') }));
  const enforced = WorkGroup?.Configuration?.ResultConfiguration?.OutputLocation ?? '';
  const expected = answerLines(expectedAnswer(ATHENA_LAB.questionDay).map((row) => [row.category, String(row.orders), row.revenue]));

  const scanned: Record<string, number> = {};
  for (const table of [tables.csv, tables.parquet]) {
    // Asks for results in the data bucket: the workgroup enforces its own location and encryption instead.
    const execution = await succeed(context, questionSql(table), `the question over ${table}`, `s3://${dataBucket}/not-here/`);
    const answer = answerLines(await rowsOf(context, execution));
    check(JSON.stringify(answer) === JSON.stringify(expected), `${table} answered ${answer.join('; ')}, expected ${expected.join('; ')}`);
    const result = execution.ResultConfiguration;
    check(enforced !== '' && (result?.OutputLocation ?? '').startsWith(enforced), `the result went to ${result?.OutputLocation}, not under the workgroup's ${enforced}`);
    check(result?.EncryptionConfiguration?.EncryptionOption === 'SSE_S3', `the result is not encrypted by the workgroup (${JSON.stringify(result?.EncryptionConfiguration)})`);
    scanned[table] = scannedOf(execution);
    log(`${table}: ${answer.length} categories, same answer as the rows; ${describeScan(execution)}`);
  }
  log(`both results went to ${enforced} (SSE_S3), not to the location the query asked for`);

  const csvDay = bytesOf(objects, 'csv', ATHENA_LAB.questionDay);
  const parquetDay = bytesOf(objects, 'parquet', ATHENA_LAB.questionDay);
  check(scanned[tables.csv] > 0 && scanned[tables.csv] < 2 * csvDay, `the CSV question scanned ${scanned[tables.csv]} bytes; one day's file is ${csvDay}: the partition filter did not prune`);
  check(scanned[tables.parquet] < parquetDay, `the Parquet question scanned ${scanned[tables.parquet]} bytes, the whole day's file (${parquetDay}): no column was skipped`);
  check(scanned[tables.parquet] < scanned[tables.csv], `Parquet scanned ${scanned[tables.parquet]} bytes, not less than CSV's ${scanned[tables.csv]}`);
  log(`one partition of ${days.length}: CSV read the day's whole file (${csvDay} bytes), Parquet only 3 of 7 columns of it`);
  log(`${Math.round(scanned[tables.csv] / Math.max(scanned[tables.parquet], 1))}× fewer bytes with Parquet; both are billed the 10 MB minimum at this size`);
}

async function ctas(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const bucket = requireOutput(context.outputs, 'DataBucketName');
  const table = `orders_ctas_${context.runId.replace(/[^a-z0-9]/g, '_')}`;
  const prefix = `${ATHENA_LAB.prefixes.ctas}${context.runId}/`;
  const location = `s3://${bucket}/${prefix}`;

  // DROP TABLE removes the catalogue entry only; the files are deleted here.
  const cleanUp = async () => {
    await succeed(context, dropTableSql(table), 'DROP TABLE');
    const files = await listObjects(context, bucket, prefix);
    if (files.length > 0) {
      await s3Of(context).send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: files.map((f) => ({ Key: f.Key })) } }));
    }
    log(`dropped ${table} and deleted its ${files.length} files`);
  };

  try {
    const created = await succeed(context, ctasSql(table, tables.csv, location), 'CREATE TABLE AS SELECT');
    log(`CTAS ${tables.csv} → ${table} at ${location}: ${describeScan(created)}`);

    const { Table } = await glueOf(context).send(new GetTableCommand({ DatabaseName: requireOutput(context.outputs, 'DatabaseName'), Name: table }));
    const serde = Table?.StorageDescriptor?.SerdeInfo?.SerializationLibrary ?? '';
    check(serde.includes('ParquetHiveSerDe'), `${table} is stored with ${serde}, not Parquet`);
    check(Table?.PartitionKeys?.map((k) => k.Name).join() === ATHENA_LAB.partitionKey, `${table} is partitioned by ${Table?.PartitionKeys?.map((k) => k.Name).join() || 'nothing'}`);
    const partitionCount = (await partitionsOf(context, table)).length;
    check(partitionCount === days.length, `CTAS registered ${partitionCount} partitions of ${table}, expected ${days.length}`);
    const files = await listObjects(context, bucket, prefix);
    check(files.length >= days.length, `CTAS wrote ${files.length} files under ${prefix}, fewer than one per day`);
    log(`${table}: ${serde.split('.').pop()}, ${partitionCount} partitions registered by the CTAS itself, ${files.length} files`);

    const asked = await succeed(context, questionSql(table), `the question over ${table}`);
    const answer = answerLines(await rowsOf(context, asked));
    const expected = answerLines(expectedAnswer(ATHENA_LAB.questionDay).map((row) => [row.category, String(row.orders), row.revenue]));
    check(JSON.stringify(answer) === JSON.stringify(expected), `${table} answered ${answer.join('; ')}, expected ${expected.join('; ')}`);
    log(`the question over ${table} gives the same answer; ${describeScan(asked)}`);
  } catch (error) {
    // The step fails for its own reason; a clean-up that fails too is reported, not allowed to hide that reason.
    await cleanUp().catch((cleanUpError: Error) => log(`could not clean up ${table} after the failure below: ${cleanUpError.message}`));
    throw error;
  }
  await cleanUp();
}

async function cutoff(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const { WorkGroup } = await athenaOf(context).send(new GetWorkGroupCommand({ WorkGroup: requireOutput(context.outputs, 'WorkgroupName') }));
  const limit = WorkGroup?.Configuration?.BytesScannedCutoffPerQuery;
  check(limit !== undefined, 'the workgroup has no BytesScannedCutoffPerQuery');
  check(WorkGroup?.Configuration?.EnforceWorkGroupConfiguration === true, 'the workgroup does not enforce its configuration: a client could override it');
  const csvBytes = bytesOf(await context.use(dataset), 'csv');
  // Athena cancels a query over the cutoff while it runs, not before it starts, and the docs do not say how promptly:
  // reading about three times the cutoff leaves the query running long enough past it to be cancelled.
  const copies = Math.ceil((CUTOFF_OVERSHOOT * limit) / csvBytes);
  log(`cutoff ${limit.toLocaleString('en-US')} bytes per query; the CSV table is ${csvBytes.toLocaleString('en-US')} bytes, so reading it ${copies} times is about ${CUTOFF_OVERSHOOT}× the cutoff`);

  const execution = await runQuery(context, repeatedScanSql(tables.csv, copies));
  const status = execution.Status;
  const scanned = scannedOf(execution);
  check(
    !(status?.State === 'SUCCEEDED' && scanned > limit),
    `the ${copies}-fold scan SUCCEEDED after scanning ${scanned.toLocaleString('en-US')} bytes, over the cutoff of ${limit.toLocaleString('en-US')}: ` +
      'Athena cancels a query over the cutoff while it runs, and this one finished before it was cancelled (it is billed for all it read); ' +
      'the cutoff is a bound checked during the run, not a refusal up front',
  );
  check(status?.State === 'CANCELLED', `the ${copies}-fold scan ended ${status?.State} (${status?.StateChangeReason ?? 'no reason'}), expected CANCELLED by the cutoff`);
  check(
    /bytes scanned limit was exceeded/i.test(status?.StateChangeReason ?? ''),
    `the query was cancelled for another reason: ${status?.StateChangeReason ?? 'no reason given'} (StopQueryExecution cancels a query too)`,
  );
  log(`cancelled: "${status?.StateChangeReason}"; ${describeScan(execution)} (a cancelled query is billed for what it read)`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'upload', title: 'upload the same orders as gzip CSV and Parquet under dt=YYYY-MM-DD/ keys', run: upload },
  { id: 'partitions', title: 'ALTER TABLE ADD PARTITION and MSCK REPAIR TABLE, against partition projection', run: partitions },
  { id: 'compare', title: 'one question over CSV and over Parquet: bytes scanned and cost', run: compare },
  { id: 'ctas', title: 'CREATE TABLE AS SELECT converts the CSV table to partitioned Parquet', run: ctas },
  { id: 'cutoff', title: 'a query cancelled by the workgroup\'s bytes-scanned cutoff', run: cutoff },
];
