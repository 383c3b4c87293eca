import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AthenaDataLake, AthenaDataLakeProps, ATHENA_LIMITS, DataLakeTableOptions, PartitionProjection, TableFormat } from '../../lib/athena-data-lake';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
const columns = [{ name: 'id', type: 'string' }, { name: 'amount', type: 'double' }];
const events: DataLakeTableOptions = {
  name: 'events',
  prefix: 'events/',
  format: TableFormat.parquet(),
  columns,
  partitionKeys: [{ name: 'region', type: 'string' }, { name: 'dt', type: 'string' }],
  projection: [PartitionProjection.enum('region', ['eu-west-1', 'us-east-1']), PartitionProjection.date('dt', { from: '2026-01-01' })],
};

function lake(stack: Stack, props: Partial<AthenaDataLakeProps> = {}): AthenaDataLake {
  return new AthenaDataLake(stack, 'Lake', {
    dataBucket: new s3.Bucket(stack, 'Data'),
    resultsBucket: new s3.Bucket(stack, 'Results'),
    tables: [events],
    ...props,
  });
}

describe('defaults', () => {
  const stack = newStack();
  const created = lake(stack);
  const template = Template.fromStack(stack);

  test('a workgroup that enforces engine 3, SSE-S3 results under athena-results/ and a 1 GB cutoff, named after the stack', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, Match.stringLikeRegexp('^TestLake')]] },
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1_000_000_000,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('^Results') }, '/athena-results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  test('a database named from the construct path, lowercase; each table in it', () => {
    expect(created.databaseName).toMatch(/^test_lake_[0-9a-f]{8}$/);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: created.databaseName } });
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: { Ref: Match.stringLikeRegexp('^LakeDatabase') } });
  });

  test('projection of every partition key, and a location template in key order', () => {
    const table = Object.values(template.findResources('AWS::Glue::Table'))[0].Properties.TableInput;
    expect(table.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.region.type': 'enum',
      'projection.region.values': 'eu-west-1,us-east-1',
      'projection.dt.type': 'date',
      'projection.dt.range': '2026-01-01,NOW',
    });
    const [, [scheme, bucket, path]] = table.Parameters['storage.location.template']['Fn::Join'];
    expect([scheme, bucket.Ref, path]).toEqual(['s3://', expect.stringMatching(/^Data/), '/events/region=${region}/dt=${dt}/']);
    expect(table.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['region', 'dt']);
  });
});

test('a CSV table without projection: LazySimpleSerDe with its delimiter, no header skipped when told', () => {
  const stack = newStack();
  lake(stack, { tables: [{ name: 'raw', prefix: 'raw/', format: TableFormat.csv({ header: false, delimiter: '\t' }), columns }] });
  const table = Object.values(Template.fromStack(stack).findResources('AWS::Glue::Table'))[0].Properties.TableInput;
  expect(table.Parameters).toEqual({ EXTERNAL: 'TRUE', classification: 'csv' });
  expect(table.StorageDescriptor.SerdeInfo.Parameters).toEqual({ 'field.delim': '\t', 'serialization.format': '\t' });
});

test('a customer managed key encrypts results with SSE-KMS, and grantQuery lets a role decrypt them', () => {
  const stack = newStack();
  const key = new kms.Key(stack, 'Key');
  const created = lake(stack, { resultsEncryptionKey: key });
  const role = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
  created.grantQuery(role, { ctasPrefix: 'ctas/' });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Athena::WorkGroup', {
    WorkGroupConfiguration: { ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } } },
  });
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
  const actions = statements.flatMap((s) => [s.Action].flat());
  expect(actions).toEqual(expect.arrayContaining(['athena:StartQueryExecution', 'glue:GetPartitions', 'glue:BatchCreatePartition', 's3:PutObject', 'kms:Decrypt']));
  expect(actions.some((a) => a.endsWith(':*'))).toBe(false);
  // Athena's DROP TABLE example for a partitioned table: the table's partitions are deleted with it.
  expect(actions).toEqual(expect.arrayContaining(['glue:GetTable', 'glue:DeleteTable', 'glue:GetPartitions', 'glue:GetPartition', 'glue:DeletePartition']));
  const athena = statements.find((s) => [s.Action].flat().includes('athena:StartQueryExecution'))!;
  expect(JSON.stringify(athena.Resource)).toContain(':workgroup/');
  const glue = statements.find((s) => [s.Action].flat().includes('glue:GetTable'))!;
  expect(JSON.stringify(glue.Resource)).toContain(`:table/${created.databaseName}/*`);
});

describe('validation', () => {
  test('accepts the minimum cutoff, refuses one byte less', () => {
    expect(problemCodesOf(() => lake(newStack(), { bytesScannedCutoffPerQuery: ATHENA_LIMITS.minBytesScannedCutoffPerQuery }))).toEqual([]);
    expect(problemMessagesOf(() => lake(newStack(), { bytesScannedCutoffPerQuery: 9_999_999 }))).toEqual([
      'AthenaDataLake.ScanCutoffRange: bytesScannedCutoffPerQuery must be a whole number of bytes, at least 10000000 (10 MB), got 9999999',
    ]);
  });

  test('lists every problem of the tables at once', () => {
    const problems = problemMessagesOf(() =>
      lake(newStack(), {
        bytesScannedCutoffPerQuery: 1.5e7 + 0.5,
        databaseName: 'Sales-DB',
        resultsPrefix: '/results',
        tables: [
          { ...events, projection: [PartitionProjection.date('day', { from: '2026-01-01' })] },
          { name: 'Events', prefix: 'events', format: TableFormat.csv(), columns, partitionKeys: [{ name: 'amount', type: 'double' }] },
          { ...events, columns: [] },
        ],
      }),
    );
    expect(problems).toEqual([
      'AthenaDataLake.ScanCutoffRange: bytesScannedCutoffPerQuery must be a whole number of bytes, at least 10000000 (10 MB), got 15000000.5',
      'AthenaDataLake.DatabaseName: databaseName "Sales-DB" must be 1–255 lowercase letters, digits or underscores',
      'AthenaDataLake.Prefix: resultsPrefix "/results" must end with "/" and not start with "/"',
      'AthenaDataLake.ProjectedKeyNotPartitionKey: table events: projection of "day", which is not a partition key (partition keys: region, dt)',
      'AthenaDataLake.UnprojectedPartitionKey: table events: partition key "region" has no projection; with projection on, Athena needs one for every partition key',
      'AthenaDataLake.UnprojectedPartitionKey: table events: partition key "dt" has no projection; with projection on, Athena needs one for every partition key',
      'AthenaDataLake.TableName: table Events: the name must be 1–255 lowercase letters, digits or underscores',
      'AthenaDataLake.Prefix: table Events: prefix "events" must end with "/" and not start with "/"',
      'AthenaDataLake.PartitionKeyIsColumn: table Events: partition key "amount" is also a column; a partition key lives in the object key, not in the files',
      'AthenaDataLake.DuplicateTable: table events is listed twice',
      'AthenaDataLake.NoColumns: table events has no columns',
    ]);
  });

  test('refuses an empty table list', () => {
    expect(problemCodesOf(() => lake(newStack(), { tables: [] }))).toEqual(['AthenaDataLake.NoTables']);
  });
});
