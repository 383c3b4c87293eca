import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AthenaDataLake, PartitionProjection, TableFormat } from '../../../lib/athena-data-lake';

/** Daily Parquet events queried through a workgroup with a 100 MB scan cutoff, by one analyst role. */
export function build(stack: Stack): void {
  const bucketProps = { encryption: s3.BucketEncryption.S3_MANAGED, enforceSSL: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL };
  const lake = new AthenaDataLake(stack, 'Events', {
    dataBucket: new s3.Bucket(stack, 'Data', bucketProps),
    resultsBucket: new s3.Bucket(stack, 'Results', bucketProps),
    bytesScannedCutoffPerQuery: 100_000_000,
    tables: [
      {
        name: 'events',
        prefix: 'events/',
        format: TableFormat.parquet(),
        columns: [{ name: 'id', type: 'string' }, { name: 'kind', type: 'string' }, { name: 'at', type: 'timestamp' }],
        partitionKeys: [{ name: 'dt', type: 'string' }],
        projection: [PartitionProjection.date('dt', { from: '2026-01-01' })],
      },
    ],
  });
  lake.grantQuery(new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() }));
}
