import { Match } from 'aws-cdk-lib/assertions';
import { ATHENA_LAB } from '../../../labs/athena/constants';
import { ORDER_COLUMNS } from '../../../labs/athena/dataset';
import { athenaLab } from '../../../labs/athena/lab';
import { labTemplate } from '../../support/lab-template';

const template = labTemplate(athenaLab);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
const bucketIdOf = (location: unknown) => JSON.stringify(location).match(/"Ref":"(\w+)"/)?.[1];
const tableInputOf = (name: string) => {
  const table = Object.values(template.findResources('AWS::Glue::Table')).find((t) => t.Properties.TableInput.Name === name);
  expect(table).toBeDefined();
  return table!.Properties.TableInput;
};

test('the workgroup enforces engine 3, an encrypted result location in the results bucket and the 10 MB scan cutoff', () => {
  template.hasResourceProperties('AWS::Athena::WorkGroup', {
    RecursiveDeleteOption: true,
    WorkGroupConfiguration: {
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 10_000_000,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: {
        EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        OutputLocation: Match.anyValue(),
        ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
      },
    },
  });
  const workgroup = Object.values(template.findResources('AWS::Athena::WorkGroup'))[0];
  const output = workgroup.Properties.WorkGroupConfiguration.ResultConfiguration.OutputLocation;
  expect(JSON.stringify(output)).toContain(`/${ATHENA_LAB.resultsPrefix}`);
  expect(resources[bucketIdOf(output)!].Properties.LifecycleConfiguration).toMatchObject({ Rules: [expect.objectContaining({ ExpirationInDays: 1 })] });
});

test('the CSV table reads gzip CSV with a header, partitioned by dt, with no projection: partitions come from the catalogue', () => {
  const csv = tableInputOf(ATHENA_LAB.tables.csv);
  expect(csv.TableType).toBe('EXTERNAL_TABLE');
  expect(csv.PartitionKeys).toEqual([expect.objectContaining({ Name: 'dt', Type: 'string' })]);
  expect(csv.Parameters).toEqual({ EXTERNAL: 'TRUE', classification: 'csv', 'skip.header.line.count': '1' });
  expect(csv.StorageDescriptor.SerdeInfo).toEqual({
    SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe',
    Parameters: { 'field.delim': ',', 'serialization.format': ',' },
  });
  expect(csv.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => `${c.Name} ${c.Type}`)).toEqual(ORDER_COLUMNS.map((c) => `${c.name} ${c.type}`));
  expect(JSON.stringify(csv.StorageDescriptor.Location)).toContain(`/${ATHENA_LAB.prefixes.csv}`);
});

test('the Parquet table projects dt over the dataset\'s days into dt=${dt}/ folders of its prefix', () => {
  const parquet = tableInputOf(ATHENA_LAB.tables.parquet);
  expect(parquet.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
  expect(parquet.StorageDescriptor.InputFormat).toBe('org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat');
  expect(parquet.Parameters).toMatchObject({
    classification: 'parquet',
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.range': '2026-11-01,2026-11-07',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
  });
  const template = JSON.stringify(parquet.Parameters['storage.location.template']);
  expect(template).toMatch(/orders\/parquet\/dt=\$\{dt\}\/"\]\]\}$/);
  expect(bucketIdOf(parquet.StorageDescriptor.Location)).toBe(bucketIdOf(tableInputOf(ATHENA_LAB.tables.csv).StorageDescriptor.Location));
});

test('data and results live in two lab buckets; the outputs name what the exercise uses', () => {
  template.resourceCountIs('AWS::S3::Bucket', 2);
  template.resourceCountIs('AWS::Glue::Database', 1);
  expect(Object.keys(template.toJSON().Outputs).sort()).toEqual(['DataBucketName', 'DatabaseName', 'ResultsBucketName', 'WorkgroupName']);
});
