import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetWorkGroupCommand,
  QueryExecution,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  WorkGroupConfiguration,
} from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient, Partition, Table } from '@aws-sdk/client-glue';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Athena, Glue and S3 as the lab's exercise sees them, with no AWS account: SDK doubles (aws-sdk-client-mock) whose
 * answers come from the synthesized template and a real SQL engine. S3 keeps the uploaded objects as files; Glue holds
 * the template's tables and the partitions the queries register; Athena runs each SELECT on DuckDB over the files of
 * the partitions a table has (registered ones, or projected from its `projection.dt.range`), counts the bytes it
 * scanned as Athena does (whole files for CSV, the column chunks read for Parquet), and cancels a query past the
 * workgroup's cutoff before running it. The DDL the exercise sends (ADD PARTITION, MSCK REPAIR, CTAS, DROP) is
 * recognised by its shape.
 */

/** What a test changes to play a misconfigured lab. */
export interface LocalAthenaFaults {
  /** The workgroup does not enforce its configuration: a query's own result location wins. */
  readonly notEnforced?: boolean;
  /** The workgroup has no per-query cutoff. */
  readonly noCutoff?: boolean;
  /** Partition filters are ignored: every query reads every partition. */
  readonly noPartitionPruning?: boolean;
  /** MSCK REPAIR TABLE registers nothing. */
  readonly repairFindsNothing?: boolean;
  /** CTAS writes its table as CSV text. */
  readonly ctasAsText?: boolean;
  /** S3 keeps only the first half of each object. */
  readonly truncatesUploads?: boolean;
  /** Queries never finish. */
  readonly neverFinishes?: boolean;
  /** Every SELECT ends so, as a query Athena cannot plan (FAILED) or one stopped by StopQueryExecution (CANCELLED). */
  readonly selectsEndWith?: { readonly state: 'FAILED' | 'CANCELLED'; readonly reason?: string };
  /** A query over the cutoff runs to its end and SUCCEEDS, as a short one may before Athena acts on the cutoff. */
  readonly cutoffAfterQueryEnds?: boolean;
  /** The workgroup writes results unencrypted. */
  readonly resultsUnencrypted?: boolean;
  /** Parquet scans read whole files, as a reader that skips no column would. */
  readonly parquetReadsWholeFiles?: boolean;
  /** CSV scans count this fraction of their files' bytes, as CSV that compressed far better than its Parquet would. */
  readonly csvScanFraction?: number;
  /** DROP TABLE fails with this reason. */
  readonly dropFailsWith?: string;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

interface Execution {
  readonly execution: QueryExecution;
  rows: string[][];
  polled: number;
}

export interface LocalAthena {
  readonly outputs: Record<string, string>;
  /** Every statement run, in order. */
  readonly statements: string[];
  restore(): void;
}

const PARQUET_SERDE = 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe';
const TEXT_SERDE = 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe';
const DUCKDB_TYPES: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', double: 'DOUBLE', timestamp: 'TIMESTAMP' };
const RESULTS_PAGE_ROWS = 4;

export function startLocalAthena(template: { Resources: Record<string, CfnResource>; Outputs: Record<string, { Value: unknown }> }, options: {
  folder: string;
  duckdb: DuckDBConnection;
  faults?: LocalAthenaFaults;
  /** Objects already in the data bucket, with the CSV table's partitions registered: where `upload` and `partitions` leave the lab. */
  seeded?: readonly { key: string; body: Buffer }[];
}): LocalAthena {
  const { folder, duckdb } = options;
  const faults = options.faults ?? {};
  rmSync(folder, { recursive: true, force: true });
  const outputRef = (name: string) => (template.Outputs[name].Value as { Ref: string }).Ref;
  const bucketNames: Record<string, string> = { [outputRef('DataBucketName')]: 'data-bucket', [outputRef('ResultsBucketName')]: 'results-bucket' };
  /** A template value with the buckets' Refs and Fn::Join resolved. */
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      if ('Ref' in object && bucketNames[object.Ref as string]) return bucketNames[object.Ref as string];
      if ('Fn::Join' in object) {
        const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
        return parts.map(resolve).join(separator);
      }
      return Object.fromEntries(Object.entries(object).map(([key, item]) => [key, resolve(item)]));
    }
    return value;
  };
  const resources = Object.values(template.Resources);
  const workgroupProperties = resolve(resources.find((r) => r.Type === 'AWS::Athena::WorkGroup')!.Properties) as { WorkGroupConfiguration: WorkGroupConfiguration };
  const configuration: WorkGroupConfiguration = {
    ...workgroupProperties.WorkGroupConfiguration,
    EnforceWorkGroupConfiguration: !faults.notEnforced,
    BytesScannedCutoffPerQuery: faults.noCutoff ? undefined : workgroupProperties.WorkGroupConfiguration.BytesScannedCutoffPerQuery,
  };
  const outputs = {
    DataBucketName: 'data-bucket',
    ResultsBucketName: 'results-bucket',
    DatabaseName: template.Outputs.DatabaseName.Value as string,
    WorkgroupName: 'AthenaLab-workgroup',
  };

  // The Glue catalogue: the template's tables, then whatever CTAS creates; partitions by table.
  const tables = new Map<string, Table>();
  for (const resource of resources.filter((r) => r.Type === 'AWS::Glue::Table')) {
    const input = resolve(resource.Properties.TableInput) as Table;
    tables.set(input.Name!, input);
  }
  const partitions = new Map<string, Partition[]>();

  // S3: objects as files under <folder>/<bucket>/<key>.
  const fileOf = (bucket: string, key: string) => path.join(folder, bucket, key);
  const listKeys = (bucket: string, prefix: string): string[] => {
    const root = path.join(folder, bucket);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]));
    try {
      return walk(root).map((file) => path.relative(root, file).split(path.sep).join('/')).filter((key) => key.startsWith(prefix)).sort();
    } catch {
      return [];
    }
  };
  const splitS3 = (url: string) => {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.*)$/.exec(url) ?? [];
    return { bucket, key };
  };

  /** The files a table reads: those of its registered partitions, or of the days its projection allows. */
  const filesOf = (table: Table): string[] => {
    const { bucket, key } = splitS3(table.StorageDescriptor!.Location!);
    const all = listKeys(bucket, key);
    const range = table.Parameters?.['projection.dt.range'];
    const dayOf = (k: string) => /dt=([^/]+)\//.exec(k)?.[1] ?? '';
    const selected = range
      ? all.filter((k) => dayOf(k) >= range.split(',')[0] && dayOf(k) <= range.split(',')[1])
      : all.filter((k) => (partitions.get(table.Name!) ?? []).some((p) => `s3://${bucket}/${k}`.startsWith(p.StorageDescriptor!.Location!.replace(/\/?$/, '/'))));
    return selected.map((k) => fileOf(bucket, k));
  };
  for (const object of options.seeded ?? []) {
    mkdirSync(path.dirname(fileOf(outputs.DataBucketName, object.key)), { recursive: true });
    writeFileSync(fileOf(outputs.DataBucketName, object.key), object.body);
    const [, prefix, day] = /^(.*\/)dt=([^/]+)\//.exec(object.key)!;
    const table = [...tables.values()].find((t) => t.StorageDescriptor!.Location === `s3://${outputs.DataBucketName}/${prefix}`)!;
    const list = partitions.get(table.Name!) ?? [];
    if (!table.Parameters?.['projection.enabled'] && !list.some((p) => p.Values?.[0] === day)) {
      list.push({ Values: [day], StorageDescriptor: { Location: `s3://${outputs.DataBucketName}/${prefix}dt=${day}` } });
    }
    partitions.set(table.Name!, list);
  }
  const isParquet = (table: Table) => table.StorageDescriptor?.SerdeInfo?.SerializationLibrary === PARQUET_SERDE;

  const views = new Map<string, string>();
  async function defineViews(): Promise<void> {
    for (const table of tables.values()) {
      const files = filesOf(table);
      const columns = table.StorageDescriptor!.Columns!.map((c) => `'${c.Name}': '${DUCKDB_TYPES[c.Type!]}'`).join(', ');
      const list = `[${files.map((f) => `'${f}'`).join(', ')}]`;
      const source =
        files.length === 0
          ? `SELECT ${table.StorageDescriptor!.Columns!.map((c) => `NULL::${DUCKDB_TYPES[c.Type!]} AS ${c.Name}`).join(', ')}, NULL::VARCHAR AS dt WHERE false`
          : isParquet(table)
            ? `SELECT * FROM read_parquet(${list}, hive_partitioning = true, hive_types = {'dt': VARCHAR})`
            : `SELECT * FROM read_csv(${list}, header = ${table.Parameters?.['skip.header.line.count'] === '1'}, auto_detect = false, ` +
              `delim = '${table.StorageDescriptor!.SerdeInfo!.Parameters!['field.delim']}', columns = {${columns}}, hive_partitioning = true, hive_types = {'dt': VARCHAR})`;
      // Defining a view opens its files: only when a table's files changed.
      if (views.get(table.Name!) === source) continue;
      await duckdb.run(`CREATE OR REPLACE VIEW ${table.Name} AS ${source}`);
      views.set(table.Name!, source);
    }
  }

  /** Bytes Athena would scan: whole files of the partitions read for CSV, the chunks of the columns read for Parquet. */
  async function bytesScanned(sql: string): Promise<number> {
    const [[, plan]] = (await duckdb.runAndReadAll(`EXPLAIN (FORMAT JSON) ${sql}`)).getRowsJS() as [unknown, string][];
    const scans: Record<string, string | string[]>[] = [];
    // EXPLAIN without ANALYZE names a scan by its function (READ_CSV, READ_PARQUET) and lists the plan's roots.
    const visit = (node: { extra_info?: Record<string, string | string[]>; children?: unknown[] }) => {
      if (String(node.extra_info?.Function ?? '').startsWith('READ_')) scans.push(node.extra_info!);
      for (const child of node.children ?? []) visit(child as typeof node);
    };
    for (const root of [JSON.parse(plan)].flat()) visit(root);
    const table = tables.get(/\bFROM (\w+)/i.exec(sql.replace(/FROM \(/g, ''))?.[1] ?? '')!;
    let total = 0;
    for (const scan of scans) {
      const day = /dt = '([^']+)'/.exec(String(scan['File Filters'] ?? ''))?.[1];
      const files = filesOf(table).filter((f) => faults.noPartitionPruning || !day || f.includes(`/dt=${day}/`));
      if (!isParquet(table)) {
        total += Math.round(files.reduce((sum, f) => sum + statSync(f).size, 0) * (faults.csvScanFraction ?? 1));
        continue;
      }
      if (faults.parquetReadsWholeFiles) {
        total += files.reduce((sum, f) => sum + statSync(f).size, 0);
        continue;
      }
      const columns = [scan.Projections ?? []].flat().filter((c) => c !== 'dt');
      for (const file of files) {
        const [{ bytes }] = (
          await duckdb.runAndReadAll(
            `SELECT coalesce(sum(total_compressed_size), 0) AS bytes FROM parquet_metadata('${file}') WHERE path_in_schema IN (${columns.map((c) => `'${c}'`).join(', ') || "''"})`,
          )
        ).getRowObjectsJS();
        total += Number(bytes);
      }
    }
    return total;
  }

  const asText = (value: unknown) => (value instanceof Date ? value.toISOString().replace('T', ' ').replace('Z', '') : String(value));

  async function run(sql: string): Promise<{ state: 'SUCCEEDED' | 'CANCELLED' | 'FAILED'; reason?: string; scanned: number; rows: string[][] }> {
    if (faults.selectsEndWith && sql.startsWith('SELECT')) return { ...faults.selectsEndWith, scanned: 0, rows: [] };
    const addPartition = /^ALTER TABLE (\w+) ADD IF NOT EXISTS PARTITION \(dt = '([^']+)'\) LOCATION '([^']+)'$/.exec(sql);
    if (addPartition) {
      const [, table, day, location] = addPartition;
      const list = partitions.get(table) ?? [];
      if (!list.some((p) => p.Values?.[0] === day)) list.push({ Values: [day], StorageDescriptor: { Location: location } });
      partitions.set(table, list);
      return { state: 'SUCCEEDED', scanned: 0, rows: [] };
    }
    const repair = /^MSCK REPAIR TABLE (\w+)$/.exec(sql);
    if (repair) {
      const table = tables.get(repair[1])!;
      const { bucket, key } = splitS3(table.StorageDescriptor!.Location!);
      const list = partitions.get(table.Name!) ?? [];
      const days = new Set(listKeys(bucket, key).map((k) => /dt=([^/]+)\//.exec(k)?.[1] ?? ''));
      for (const day of faults.repairFindsNothing ? [] : days) {
        if (!list.some((p) => p.Values?.[0] === day)) list.push({ Values: [day], StorageDescriptor: { Location: `${table.StorageDescriptor!.Location}dt=${day}` } });
      }
      partitions.set(table.Name!, list);
      return { state: 'SUCCEEDED', scanned: 0, rows: [] };
    }
    const drop = /^DROP TABLE IF EXISTS (\w+)$/.exec(sql);
    if (drop) {
      if (faults.dropFailsWith) return { state: 'FAILED', reason: faults.dropFailsWith, scanned: 0, rows: [] };
      tables.delete(drop[1]);
      partitions.delete(drop[1]);
      return { state: 'SUCCEEDED', scanned: 0, rows: [] };
    }
    await defineViews();
    const ctas = /^CREATE TABLE (\w+) WITH \(format = 'PARQUET'.*external_location = '([^']+)'.*\) AS (SELECT .*)$/.exec(sql);
    if (ctas) {
      const [, name, location, select] = ctas;
      const { bucket, key } = splitS3(location);
      const scanned = await bytesScanned(select);
      const format = faults.ctasAsText ? 'csv, COMPRESSION gzip' : 'parquet, COMPRESSION gzip';
      mkdirSync(path.dirname(fileOf(bucket, key)), { recursive: true });
      await duckdb.run(`COPY (${select}) TO '${fileOf(bucket, key)}' (FORMAT ${format}, PARTITION_BY (dt))`);
      const source = tables.get(/FROM (\w+)$/.exec(select)![1])!;
      tables.set(name, {
        Name: name,
        PartitionKeys: [{ Name: 'dt', Type: 'string' }],
        StorageDescriptor: { ...source.StorageDescriptor, Location: location, SerdeInfo: { SerializationLibrary: faults.ctasAsText ? TEXT_SERDE : PARQUET_SERDE } },
      });
      const days = new Set(listKeys(bucket, key).map((k) => /dt=([^/]+)\//.exec(k)?.[1] ?? ''));
      partitions.set(name, [...days].map((day) => ({ Values: [day], StorageDescriptor: { Location: `${location}dt=${day}` } })));
      return { state: 'SUCCEEDED', scanned, rows: [] };
    }
    const scanned = await bytesScanned(sql);
    const cutoff = configuration.BytesScannedCutoffPerQuery;
    if (cutoff !== undefined && scanned > cutoff) {
      // Ran to its end: the step reads no rows of this query, so the double spares DuckDB the work.
      if (faults.cutoffAfterQueryEnds) return { state: 'SUCCEEDED', scanned, rows: [] };
      return { state: 'CANCELLED', reason: 'Bytes scanned limit was exceeded', scanned: cutoff, rows: [] };
    }
    const result = await duckdb.runAndReadAll(sql);
    return { state: 'SUCCEEDED', scanned, rows: [result.columnNames(), ...result.getRowsJS().map((row) => row.map(asText))] };
  }

  const statements: string[] = [];
  const executions = new Map<string, Execution>();
  const athena = mockClient(AthenaClient);
  athena.on(GetWorkGroupCommand).callsFake(() => ({ WorkGroup: { Name: outputs.WorkgroupName, Configuration: configuration } }));
  athena.on(StartQueryExecutionCommand).callsFake(async (input) => {
    const id = `q-${executions.size + 1}`;
    statements.push(input.QueryString);
    const outcome = await run(input.QueryString);
    const location = configuration.EnforceWorkGroupConfiguration || !input.ResultConfiguration?.OutputLocation
      ? configuration.ResultConfiguration!.OutputLocation!
      : input.ResultConfiguration.OutputLocation;
    executions.set(id, {
      rows: outcome.rows,
      polled: 0,
      execution: {
        QueryExecutionId: id,
        Query: input.QueryString,
        WorkGroup: input.WorkGroup,
        Status: { State: outcome.state, StateChangeReason: outcome.reason },
        Statistics: { DataScannedInBytes: outcome.scanned },
        ResultConfiguration: {
          OutputLocation: `${location}${id}.csv`,
          EncryptionConfiguration:
            configuration.EnforceWorkGroupConfiguration && !faults.resultsUnencrypted ? configuration.ResultConfiguration?.EncryptionConfiguration : undefined,
        },
      },
    });
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake((input) => {
    const execution = executions.get(input.QueryExecutionId)!;
    execution.polled += 1;
    // The first look finds it running, as a real query is: the exercise must poll.
    if (execution.polled === 1 || faults.neverFinishes) return { QueryExecution: { ...execution.execution, Status: { State: 'RUNNING' } } };
    return { QueryExecution: execution.execution };
  });
  athena.on(StopQueryExecutionCommand).callsFake((input) => {
    const execution = executions.get(input.QueryExecutionId)!;
    executions.set(input.QueryExecutionId, { ...execution, execution: { ...execution.execution, Status: { State: 'CANCELLED' } } });
    return {};
  });
  athena.on(GetQueryResultsCommand).callsFake((input) => {
    const { rows } = executions.get(input.QueryExecutionId)!;
    const start = Number(input.NextToken ?? 0);
    const next = start + RESULTS_PAGE_ROWS;
    return {
      ResultSet: { Rows: rows.slice(start, next).map((row) => ({ Data: row.map((VarCharValue) => ({ VarCharValue })) })) },
      NextToken: next < rows.length ? String(next) : undefined,
    };
  });

  const glue = mockClient(GlueClient);
  glue.on(GetPartitionsCommand).callsFake((input) => ({ Partitions: partitions.get(input.TableName) ?? [] }));
  glue.on(GetTableCommand).callsFake((input) => ({ Table: tables.get(input.Name) }));

  const s3 = mockClient(S3Client);
  s3.on(PutObjectCommand).callsFake((input) => {
    const body = input.Body as Buffer;
    const file = fileOf(input.Bucket, input.Key);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, faults.truncatesUploads ? body.subarray(0, body.length / 2) : body);
    return {};
  });
  s3.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: listKeys(input.Bucket, input.Prefix ?? '').map((Key) => ({ Key, Size: statSync(fileOf(input.Bucket, Key)).size })),
  }));
  s3.on(DeleteObjectsCommand).callsFake((input) => {
    for (const { Key } of input.Delete.Objects) rmSync(fileOf(input.Bucket, Key), { force: true });
    return {};
  });

  return {
    outputs,
    statements,
    restore() {
      athena.restore();
      glue.restore();
      s3.restore();
    },
  };
}
