import { Aws, Fn, Names, Stack, Token } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** Athena's and Glue's bounds on these props (Athena user guide: workgroup data usage controls, names of tables and databases). */
export const ATHENA_LIMITS = {
  /** The smallest per-query data usage control a workgroup accepts (`BytesScannedCutoffPerQuery`), 10 MB. */
  minBytesScannedCutoffPerQuery: 10_000_000,
  /** Database, table and column names Athena accepts unquoted: lowercase letters, digits and underscores. */
  namePattern: /^[a-z0-9_]+$/,
  /** Longest database or table name. */
  maxNameLength: 255,
  /** Longest workgroup name (`[a-zA-Z0-9._-]{1,128}`): this construct's is the stack's name, a dash and a unique part. */
  maxWorkgroupNameLength: 128,
  /** The unique part of the workgroup name: at most this long, and never shorter than the minimum. */
  workgroupUniqueLength: 48,
  minWorkgroupUniqueLength: 16,
} as const;

/** A column of a table: its name and its Hive type (`string`, `int`, `double`, `timestamp`, `decimal(10,2)` ...). */
export interface DataLakeColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

/** How a table's files are stored: build one with `TableFormat.csv()` or `TableFormat.parquet()`. */
export class TableFormat {
  /**
   * Delimited text read by LazySimpleSerDe (typed columns; no quoted fields). Files ending in `.gz` are decompressed.
   * @param options.header the first line of each file names the columns, and is skipped @default true
   * @param options.delimiter @default ','
   */
  static csv(options: { header?: boolean; delimiter?: string } = {}): TableFormat {
    const delimiter = options.delimiter ?? ',';
    return new TableFormat(
      'csv',
      'org.apache.hadoop.mapred.TextInputFormat',
      'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      { serializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: { 'field.delim': delimiter, 'serialization.format': delimiter } },
      options.header ?? true ? { 'skip.header.line.count': '1' } : {},
    );
  }

  /** Apache Parquet: columnar, compressed per page, with min/max statistics per row group. */
  static parquet(): TableFormat {
    return new TableFormat(
      'parquet',
      'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe', parameters: {} },
      {},
    );
  }

  private constructor(
    /** The table's `classification` parameter. */
    readonly classification: string,
    readonly inputFormat: string,
    readonly outputFormat: string,
    readonly serde: { readonly serializationLibrary: string; readonly parameters: Readonly<Record<string, string>> },
    /** Table parameters the format needs. */
    readonly parameters: Readonly<Record<string, string>>,
  ) {}
}

/**
 * How Athena computes the partitions of one partition key instead of reading them from the catalogue: no
 * `ALTER TABLE ADD PARTITION`, no `MSCK REPAIR TABLE`, no crawler. Build one with `PartitionProjection.date()` or
 * `PartitionProjection.enum()`.
 */
export class PartitionProjection {
  /**
   * Dates from `from` to `to` (inclusive), one partition per `intervalDays` days, written as `format`.
   * @param options.to a date in `format`, or `NOW` (also `NOW-3DAYS`) @default 'NOW'
   * @param options.format Java DateTimeFormatter pattern of the values @default 'yyyy-MM-dd'
   * @param options.intervalDays @default 1
   */
  static date(key: string, options: { from: string; to?: string; format?: string; intervalDays?: number }): PartitionProjection {
    return new PartitionProjection(key, {
      type: 'date',
      range: `${options.from},${options.to ?? 'NOW'}`,
      format: options.format ?? 'yyyy-MM-dd',
      interval: String(options.intervalDays ?? 1),
      'interval.unit': 'DAYS',
    });
  }

  /** A fixed list of values (Regions, account ids, event types). */
  static enum(key: string, values: readonly string[]): PartitionProjection {
    return new PartitionProjection(key, { type: 'enum', values: values.join(',') });
  }

  private constructor(
    /** The partition key it projects. */
    readonly key: string,
    /** Its settings, as table parameters `projection.<key>.<setting>`. */
    readonly settings: Readonly<Record<string, string>>,
  ) {}
}

/** One Glue table over a prefix of the data bucket. */
export interface DataLakeTableOptions {
  /** Table name: lowercase letters, digits and underscores. */
  readonly name: string;
  /** Where the table's files are in the data bucket, ending with `/` (e.g. `orders/parquet/`). */
  readonly prefix: string;
  readonly format: TableFormat;
  /** The columns of the files, in order. */
  readonly columns: readonly DataLakeColumn[];
  /** Keys of the Hive-style folders (`dt=2026-11-01/`) under the prefix, in folder order; none is a column of the files. @default none */
  readonly partitionKeys?: readonly DataLakeColumn[];
  /**
   * Partition projection: one per partition key (Athena requires every key to be projected). Without it, partitions
   * are registered in the catalogue (`ALTER TABLE ADD PARTITION`, `MSCK REPAIR TABLE`, a crawler).
   * @default none: partitions come from the catalogue
   */
  readonly projection?: readonly PartitionProjection[];
  readonly description?: string;
}

export interface AthenaDataLakeProps {
  /** The bucket the tables read. */
  readonly dataBucket: s3.IBucket;
  /** The bucket Athena writes query results to; the workgroup enforces it. */
  readonly resultsBucket: s3.IBucket;
  /** Prefix of the query results in `resultsBucket`, ending with `/`. @default 'athena-results/' */
  readonly resultsPrefix?: string;
  /**
   * Per-query data usage control: a query that scans more is cancelled, and billed for what it scanned. In bytes, at
   * least ATHENA_LIMITS.minBytesScannedCutoffPerQuery (10 MB). @default 1,000,000,000 (1 GB, $0.005 per query)
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Customer managed key for the query results (SSE-KMS). @default SSE-S3 */
  readonly resultsEncryptionKey?: kms.IKey;
  /** Glue database name. @default a name unique to this construct's path, lowercase with underscores */
  readonly databaseName?: string;
  readonly tables: readonly DataLakeTableOptions[];
}

/**
 * A queryable data lake over S3: a Glue database with external tables (CSV or Parquet, Hive-style partitions,
 * optional partition projection) and an Athena workgroup (engine version 3) that enforces its configuration on every
 * query: results in one bucket and prefix, encrypted, and a cutoff on the bytes one query may scan.
 */
export class AthenaDataLake extends Construct {
  public readonly database: glue.CfnDatabase;
  public readonly databaseName: string;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly workgroupName: string;
  /** The tables, by name. */
  public readonly tables: Readonly<Record<string, glue.CfnTable>>;
  /** Where query results go: `s3://<resultsBucket>/<resultsPrefix>`. */
  public readonly resultsLocation: string;
  private readonly props: AthenaDataLakeProps;
  private readonly resultsPrefix: string;

  constructor(scope: Construct, id: string, props: AthenaDataLakeProps) {
    super(scope, id);
    this.props = props;
    this.resultsPrefix = props.resultsPrefix ?? 'athena-results/';
    const cutoff = props.bytesScannedCutoffPerQuery ?? 1_000_000_000;
    const stackName = Stack.of(this).stackName;
    // What the stack's name leaves of the workgroup name's 128 characters, after the dash.
    const uniqueLength = Token.isUnresolved(stackName)
      ? ATHENA_LIMITS.workgroupUniqueLength
      : Math.min(ATHENA_LIMITS.workgroupUniqueLength, ATHENA_LIMITS.maxWorkgroupNameLength - 1 - stackName.length);
    validate(this, props, this.resultsPrefix, cutoff, uniqueLength);

    this.databaseName = props.databaseName ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '_' }).toLowerCase();
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: `Tables over s3://${props.dataBucket.bucketName}` },
    });

    const tables: Record<string, glue.CfnTable> = {};
    for (const table of props.tables) {
      tables[table.name] = this.createTable(table);
    }
    this.tables = tables;

    this.resultsLocation = `s3://${props.resultsBucket.bucketName}/${this.resultsPrefix}`;
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      // The stack's name keeps two deployments in one account and Region apart.
      name: Fn.join('-', [Aws.STACK_NAME, Names.uniqueResourceName(this, { maxLength: uniqueLength })]),
      description: `Queries over ${this.databaseName}: results enforced in ${this.resultsPrefix}, at most ${cutoff} bytes scanned per query`,
      // CloudFormation deletes a workgroup that holds saved queries or prepared statements only when told to.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.resultsLocation,
          encryptionConfiguration: props.resultsEncryptionKey
            ? { encryptionOption: 'SSE_KMS', kmsKey: props.resultsEncryptionKey.keyArn }
            : { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: Aws.ACCOUNT_ID,
        },
      },
    });
    this.workgroupName = this.workgroup.ref;
  }

  /**
   * Lets `grantee` run queries in the workgroup: read the tables' data, write and read the results, read the
   * catalogue, and change partitions and tables of this database (ALTER TABLE ADD PARTITION, MSCK REPAIR, CTAS into
   * `ctasPrefix` of the data bucket, DROP TABLE). Dropping a partitioned table deletes its partitions too, hence
   * glue:DeletePartition (the Athena user guide's DROP TABLE example for a partitioned table lists it).
   */
  grantQuery(grantee: iam.IGrantable, options: { ctasPrefix?: string } = {}): void {
    const stack = this.workgroup.stack;
    const arn = (resource: string) => stack.formatArn({ service: 'glue', resource, resourceName: undefined });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution', 'athena:GetWorkGroup'],
      resourceArns: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName })],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions', 'glue:BatchGetPartition', 'glue:BatchCreatePartition', 'glue:CreatePartition', 'glue:DeletePartition', 'glue:CreateTable', 'glue:DeleteTable', 'glue:UpdateTable'],
      resourceArns: [arn('catalog'), `${arn('database')}/${this.databaseName}`, `${arn('table')}/${this.databaseName}/*`],
    });
    this.props.dataBucket.grantRead(grantee);
    if (options.ctasPrefix) this.props.dataBucket.grantReadWrite(grantee, `${options.ctasPrefix}*`);
    this.props.resultsBucket.grantReadWrite(grantee, `${this.resultsPrefix}*`);
    this.props.resultsEncryptionKey?.grantEncryptDecrypt(grantee);
  }

  private createTable(table: DataLakeTableOptions): glue.CfnTable {
    const location = `s3://${this.props.dataBucket.bucketName}/${table.prefix}`;
    const projection = table.projection ?? [];
    const projectionParameters: Record<string, string> =
      projection.length === 0
        ? {}
        : {
            'projection.enabled': 'true',
            ...Object.fromEntries(
              projection.flatMap((p) => Object.entries(p.settings).map(([setting, value]) => [`projection.${p.key}.${setting}`, value])),
            ),
            'storage.location.template': location + (table.partitionKeys ?? []).map((k) => `${k.name}=\${${k.name}}/`).join(''),
          };
    const columns = (list: readonly DataLakeColumn[] | undefined) => list?.map((c) => ({ name: c.name, type: c.type, comment: c.comment }));
    // orders_csv → OrdersCsvTable
    const id = table.name.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('') + 'Table';
    return new glue.CfnTable(this, id, {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.database.ref,
      tableInput: {
        name: table.name,
        description: table.description,
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: table.format.classification, ...table.format.parameters, ...projectionParameters },
        partitionKeys: columns(table.partitionKeys),
        storageDescriptor: {
          columns: columns(table.columns),
          location,
          inputFormat: table.format.inputFormat,
          outputFormat: table.format.outputFormat,
          serdeInfo: { serializationLibrary: table.format.serde.serializationLibrary, parameters: table.format.serde.parameters },
        },
      },
    });
  }
}

function validate(scope: Construct, props: AthenaDataLakeProps, resultsPrefix: string, cutoff: number, workgroupUniqueLength: number): void {
  const check = new PropsValidator(scope, 'AthenaDataLake');
  check.require(
    workgroupUniqueLength >= ATHENA_LIMITS.minWorkgroupUniqueLength,
    'StackNameTooLong',
    `the stack's name (${Stack.of(scope).stackName.length} characters) leaves no room in Athena's ${ATHENA_LIMITS.maxWorkgroupNameLength}-character workgroup name, which is the stack's name, a dash and a unique part of at least ${ATHENA_LIMITS.minWorkgroupUniqueLength}: use a stack name of at most ${ATHENA_LIMITS.maxWorkgroupNameLength - 1 - ATHENA_LIMITS.minWorkgroupUniqueLength} characters`,
  );
  check.inRange(
    cutoff,
    { min: ATHENA_LIMITS.minBytesScannedCutoffPerQuery, whole: true },
    'ScanCutoffRange',
    `bytesScannedCutoffPerQuery must be a whole number of bytes, at least ${ATHENA_LIMITS.minBytesScannedCutoffPerQuery} (10 MB), got ${cutoff}`,
  );
  const validName = (name: string) => ATHENA_LIMITS.namePattern.test(name) && name.length <= ATHENA_LIMITS.maxNameLength;
  if (props.databaseName !== undefined) {
    check.require(validName(props.databaseName), 'DatabaseName', `databaseName "${props.databaseName}" must be 1–255 lowercase letters, digits or underscores`);
  }
  const validPrefix = (prefix: string) => prefix.endsWith('/') && !prefix.startsWith('/');
  check.require(validPrefix(resultsPrefix), 'Prefix', `resultsPrefix "${resultsPrefix}" must end with "/" and not start with "/"`);
  check.require(props.tables.length > 0, 'NoTables', 'tables must list at least one table');
  const seen = new Set<string>();
  for (const table of props.tables) {
    const where = `table ${table.name}`;
    check.require(validName(table.name), 'TableName', `${where}: the name must be 1–255 lowercase letters, digits or underscores`);
    check.require(!seen.has(table.name), 'DuplicateTable', `${where} is listed twice`);
    seen.add(table.name);
    check.require(validPrefix(table.prefix), 'Prefix', `${where}: prefix "${table.prefix}" must end with "/" and not start with "/"`);
    check.require(table.columns.length > 0, 'NoColumns', `${where} has no columns`);
    const columnNames = new Set(table.columns.map((c) => c.name));
    const keys = (table.partitionKeys ?? []).map((k) => k.name);
    for (const key of keys.filter((k) => columnNames.has(k))) {
      check.require(false, 'PartitionKeyIsColumn', `${where}: partition key "${key}" is also a column; a partition key lives in the object key, not in the files`);
    }
    const projected = (table.projection ?? []).map((p) => p.key);
    for (const key of projected.filter((k) => !keys.includes(k))) {
      check.require(false, 'ProjectedKeyNotPartitionKey', `${where}: projection of "${key}", which is not a partition key (partition keys: ${keys.join(', ') || 'none'})`);
    }
    if (projected.length > 0) {
      for (const key of keys.filter((k) => !projected.includes(k))) {
        check.require(false, 'UnprojectedPartitionKey', `${where}: partition key "${key}" has no projection; with projection on, Athena needs one for every partition key`);
      }
    }
  }
  check.throwIfInvalid();
}
