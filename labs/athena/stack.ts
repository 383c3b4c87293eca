import { Construct } from 'constructs';
import { AthenaDataLake, PartitionProjection, TableFormat } from '../../lib/athena-data-lake';
import { withCdkDurations } from '../support/cdk-duration';
import { labBucket } from '../support/lab-bucket';
import { LabStack, LabStackProps } from '../support/lab-stack';
import type { athenaLab } from './lab';
import { ATHENA_LAB as ATHENA_LAB_SPEC } from './constants';
import { ORDER_COLUMNS } from './dataset';

/** The shared constants (./constants.ts) with CDK durations. */
const ATHENA_LAB = withCdkDurations(ATHENA_LAB_SPEC);

/**
 * Athena lab: a data bucket the exercise fills with the same orders as gzip CSV and as Parquet, partitioned by day;
 * a Glue table over each (the CSV one with partitions registered in the catalogue, the Parquet one with partition
 * projection); an Athena workgroup that enforces its result location, encryption and a 10 MB scan cutoff.
 */
export class AthenaLabStack extends LabStack<typeof athenaLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const data = labBucket(this, 'Data', {
      expiration: ATHENA_LAB.dataExpiration,
      withoutAccessLogs: 'the exercise writes and Athena reads a few hundred kilobytes of generated orders; CloudTrail records the API calls',
    });
    const results = labBucket(this, 'Results', {
      expiration: ATHENA_LAB.resultsExpiration,
      withoutAccessLogs: 'only Athena writes here, one result file per query, kept a day; the query history records who ran what',
    });
    const partitionKeys = [{ name: ATHENA_LAB.partitionKey, type: 'string', comment: 'day of the order, YYYY-MM-DD' }];
    const lake = new AthenaDataLake(this, 'Lake', {
      dataBucket: data,
      resultsBucket: results,
      resultsPrefix: ATHENA_LAB.resultsPrefix,
      bytesScannedCutoffPerQuery: ATHENA_LAB.bytesScannedCutoffPerQuery,
      tables: [
        {
          name: ATHENA_LAB.tables.csv,
          description: 'Orders as gzip CSV; partitions registered by ALTER TABLE ADD PARTITION and MSCK REPAIR TABLE',
          prefix: ATHENA_LAB.prefixes.csv,
          format: TableFormat.csv({ header: true }),
          columns: ORDER_COLUMNS,
          partitionKeys,
        },
        {
          name: ATHENA_LAB.tables.parquet,
          description: 'The same orders as Parquet; partitions projected from the dates, none in the catalogue',
          prefix: ATHENA_LAB.prefixes.parquet,
          format: TableFormat.parquet(),
          columns: ORDER_COLUMNS,
          partitionKeys,
          projection: [PartitionProjection.date(ATHENA_LAB.partitionKey, { from: ATHENA_LAB.days[0], to: ATHENA_LAB.days[ATHENA_LAB.days.length - 1] })],
        },
      ],
    });

    this.addOutputs({
      DataBucketName: data.bucketName,
      ResultsBucketName: results.bucketName,
      DatabaseName: lake.databaseName,
      WorkgroupName: lake.workgroupName,
    });
  }
}
