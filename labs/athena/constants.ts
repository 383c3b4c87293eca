/** Names and figures the stack, the exercise, the dataset, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** The days of the generated dataset: one Hive-style partition (`dt=YYYY-MM-DD/`) each. */
const days = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04', '2026-11-05', '2026-11-06', '2026-11-07'] as const;

/** Figures the exercise and README rely on. */
export const ATHENA_LAB = {
  days,
  /** Orders generated per day: a few hundred kilobytes in all, so uploads and queries take seconds. */
  ordersPerDay: 4000,
  /** Rows per Parquet row group: 4 row groups per file, each with its own min/max statistics. */
  parquetRowGroupRows: 1000,
  /** Where each format lives in the data bucket; every table's location is one of these. */
  prefixes: { csv: 'orders/csv/', parquet: 'orders/parquet/', ctas: 'orders/ctas/' },
  tables: { csv: 'orders_csv', parquet: 'orders_parquet' },
  /** Partition key of both tables: a string `YYYY-MM-DD`, as Hive writes it into the key. */
  partitionKey: 'dt',
  /** The day the exercise's question asks about: one partition of seven. */
  questionDay: days[2],
  /** Prefix of query results in the results bucket; the workgroup enforces it. */
  resultsPrefix: 'athena-results/',
  /** The workgroup's per-query cutoff: Athena's minimum (ATHENA_LIMITS.minBytesScannedCutoffPerQuery), so the exercise can reach it. */
  bytesScannedCutoffPerQuery: 10_000_000,
  /** Data objects expire: the exercise uploads them again in a second. */
  dataExpiration: LabDuration.days(7),
  resultsExpiration: LabDuration.days(1),
  /** Athena's on-demand price (SQL queries, us-east-1): per TB scanned, bytes rounded up to whole MB, 10 MB minimum per query. */
  pricing: { usdPerTerabyte: 5, minimumBytesPerQuery: 10_000_000, roundingBytes: 1_000_000 },
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pause between two GetQueryExecution calls while a query runs. */
    queryPollMs: 1000,
    /** How long a query may run before the step fails, saying in which state it was. */
    queryDeadlineSeconds: 180,
  },
} as const;
