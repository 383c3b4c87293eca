/**
 * The SQL the exercise sends to Athena, built in one place so the tests run the same text on a local engine
 * (DuckDB) over the same files. Only the DDL (partitions, CTAS) is Athena's own.
 */
import { ATHENA_LAB } from './constants';

const { partitionKey } = ATHENA_LAB;

/** The exercise's question: orders and revenue per category on one day. Reads 3 columns of 7 and 1 partition of 7. */
export const questionSql = (table: string, day: string = ATHENA_LAB.questionDay) =>
  `SELECT category, count(*) AS orders, round(sum(quantity * unit_price), 2) AS revenue FROM ${table} ` +
  `WHERE ${partitionKey} = '${day}' GROUP BY category ORDER BY category`;

/** Orders per day over every partition: a full scan, the cost the partition filter of the question avoids. */
export const ordersPerDaySql = (table: string) =>
  `SELECT ${partitionKey}, count(*) AS orders FROM ${table} GROUP BY ${partitionKey} ORDER BY ${partitionKey}`;

/** Registers one partition of the CSV table by hand, with its location. */
export const addPartitionSql = (table: string, bucket: string, day: string) =>
  `ALTER TABLE ${table} ADD IF NOT EXISTS PARTITION (${partitionKey} = '${day}') ` +
  `LOCATION 's3://${bucket}/${ATHENA_LAB.prefixes.csv}${partitionKey}=${day}/'`;

/** Registers every Hive-style folder under the table's location that the catalogue does not know yet. */
export const repairSql = (table: string) => `MSCK REPAIR TABLE ${table}`;

/** Converts the CSV table to Parquet, partitioned like it, with a query: Athena writes the files and the table. */
export const ctasSql = (table: string, source: string, location: string) =>
  `CREATE TABLE ${table} WITH (format = 'PARQUET', write_compression = 'GZIP', external_location = '${location}', ` +
  `partitioned_by = ARRAY['${partitionKey}']) AS SELECT order_id, customer_id, category, product, quantity, unit_price, ` +
  `ordered_at, ${partitionKey} FROM ${source}`;

export const dropTableSql = (table: string) => `DROP TABLE IF EXISTS ${table}`;

/**
 * A query that reads the CSV table `copies` times: each reference to a table is a separate scan, so the bytes scanned
 * are `copies` × the table's size, enough to cross the workgroup's cutoff with a dataset far smaller than it.
 */
export const repeatedScanSql = (table: string, copies: number) =>
  `SELECT count(*) AS orders FROM (${Array.from({ length: copies }, () => `SELECT order_id FROM ${table}`).join(' UNION ALL ')})`;
