import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AthenaDataLake, AthenaDataLakeProps, ATHENA_LIMITS, DataLakeTableOptions, PartitionProjection, TableFormat } from '../../lib/athena-data-lake';
import { testApp } from '../support/synth';
import { problemCodesOf, problemMessagesOf, validationErrorOf } from '../support/validation';

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

const ordersCsv: DataLakeTableOptions = { name: 'orders_csv', prefix: 'orders/', format: TableFormat.csv(), columns };

function lake(stack: Stack, props: Partial<AthenaDataLakeProps> = {}, id = 'Lake'): AthenaDataLake {
  return new AthenaDataLake(stack, id, {
    dataBucket: new s3.Bucket(stack, 'Data'),
    resultsBucket: new s3.Bucket(stack, 'Results'),
    tables: [events],
    ...props,
  });
}

/** A table's TableInput, by its name. */
function tableInput(template: Template, name: string) {
  return Object.values(template.findResources('AWS::Glue::Table')).find((t) => t.Properties.TableInput.Name === name)!.Properties.TableInput;
}

/** A policy resource as text, intrinsics as `${...}` without the logical ids' hash: `arn:${AWS::Partition}:glue:...`, `${Results.Arn}/athena-results/*`. */
function resourceText(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const intrinsic = resource as { 'Fn::Join'?: [string, unknown[]]; Ref?: string; 'Fn::GetAtt'?: string[] };
  if (intrinsic['Fn::Join']) return intrinsic['Fn::Join'][1].map(resourceText).join(intrinsic['Fn::Join'][0]);
  const withoutHash = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');
  if (intrinsic.Ref) return `\${${withoutHash(intrinsic.Ref)}}`;
  const [logicalId, attribute] = intrinsic['Fn::GetAtt']!;
  return `\${${withoutHash(logicalId)}.${attribute}}`;
}

/** The statements of the stack's one policy, with their actions and resources as text. */
function grantedStatements(template: Template): { actions: string[]; resources: string[] }[] {
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))[0].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
  return statements.map((s) => ({ actions: [s.Action].flat(), resources: [s.Resource].flat().map(resourceText) }));
}

describe('defaults', () => {
  const stack = newStack();
  const created = lake(stack, { tables: [events, ordersCsv] });
  const template = Template.fromStack(stack);

  test('a workgroup that enforces engine 3, SSE-S3 results under athena-results/ and a 1 GB cutoff, named after the stack', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: { 'Fn::Join': ['-', [{ Ref: 'AWS::StackName' }, Match.stringLikeRegexp('^TestLake')]] },
      Description: `Queries over ${created.databaseName}: results enforced in athena-results/, at most 1000000000 bytes scanned per query`,
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
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
    template.hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: { Name: created.databaseName, Description: { 'Fn::Join': ['', ['Tables over s3://', { Ref: Match.stringLikeRegexp('^Data') }]] } },
    });
    template.hasResourceProperties('AWS::Glue::Table', { DatabaseName: { Ref: Match.stringLikeRegexp('^LakeDatabase') } });
  });

  test('projection of every partition key, and a location template in key order', () => {
    const table = tableInput(template, 'events');
    expect(table.Parameters).toMatchObject({
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.region.type': 'enum',
      'projection.region.values': 'eu-west-1,us-east-1',
      'projection.dt.type': 'date',
      'projection.dt.range': '2026-01-01,NOW',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
    });
    const [, [scheme, bucket, path]] = table.Parameters['storage.location.template']['Fn::Join'];
    expect([scheme, bucket.Ref, path]).toEqual(['s3://', expect.stringMatching(/^Data/), '/events/region=${region}/dt=${dt}/']);
    expect(table.PartitionKeys.map((k: { Name: string }) => k.Name)).toEqual(['region', 'dt']);
  });

  test('external tables read with the SerDe of their format; a CSV table splits on commas and skips a header line', () => {
    const parquet = tableInput(template, 'events');
    expect(parquet.TableType).toBe('EXTERNAL_TABLE');
    expect(parquet.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    });
    const csv = tableInput(template, 'orders_csv');
    expect(csv.TableType).toBe('EXTERNAL_TABLE');
    expect(csv.Parameters).toEqual({ EXTERNAL: 'TRUE', classification: 'csv', 'skip.header.line.count': '1' });
    expect(csv.StorageDescriptor).toMatchObject({
      InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', Parameters: { 'field.delim': ',', 'serialization.format': ',' } },
    });
  });

  test("a table's logical id is its name in PascalCase: orders_csv → OrdersCsvTable", () => {
    const ids = Object.keys(template.findResources('AWS::Glue::Table')).map((id) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(ids).toEqual(['LakeEventsTable', 'LakeOrdersCsvTable']);
  });
});

test("a long construct path: the workgroup name's unique part keeps to 48 characters, leaving 79 of Athena's 128 to the stack name", () => {
  const stack = newStack();
  const created = lake(stack, {}, 'QuarterlyRevenueByRegionAndProductLineForTheFinanceTeam');
  const [, [, unique]] = (stack.resolve(created.workgroup.name) as { 'Fn::Join': [string, [unknown, string]] })['Fn::Join'];
  expect(unique).toMatch(/^TestQuarterlyRevenue.*[0-9A-F]{8}$/);
  expect(unique).toHaveLength(48);
});

test.each([
  [79, 48],
  [100, 27],
  [111, 16],
])("a stack name of %i characters leaves at most %i to the workgroup name's unique part: the name keeps to Athena's 128", (stackNameLength, uniqueLength) => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test', { stackName: 'S'.repeat(stackNameLength) });
  const created = lake(stack, {}, 'QuarterlyRevenueByRegionAndProductLineForTheFinanceTeam');
  const [, [, unique]] = (stack.resolve(created.workgroup.name) as { 'Fn::Join': [string, [unknown, string]] })['Fn::Join'];
  expect(unique.length).toBeLessThanOrEqual(uniqueLength);
  expect(unique).toMatch(/[0-9A-F]{8}$/);
  expect(stackNameLength + 1 + unique.length).toBeLessThanOrEqual(128);
});

test("a stack name over 111 characters is StackNameTooLong: the workgroup name would pass Athena's 128", () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test', { stackName: 'S'.repeat(112) });
  expect(validationErrorOf(() => lake(stack)).problems).toEqual([
    {
      code: 'AthenaDataLake.StackNameTooLong',
      message:
        "the stack's name (112 characters) leaves no room in Athena's 128-character workgroup name, which is the stack's name, a dash and a unique part of at least 16: use a stack name of at most 111 characters",
    },
  ]);
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
  // Writes go to the CTAS prefix of the data bucket and the results prefix, nowhere else.
  expect(grantedStatements(template).find((s) => s.actions.includes('s3:PutObject'))!.resources).toEqual([
    '${Data.Arn}',
    '${Results.Arn}',
    '${Data.Arn}/ctas/*',
    '${Results.Arn}/athena-results/*',
  ]);
});

test('grantQuery without a key or a CTAS prefix: the workgroup, the catalogue of this database, the data read-only, the results prefix read-write', () => {
  const stack = newStack();
  const created = lake(stack);
  created.grantQuery(new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() }));
  const statements = grantedStatements(Template.fromStack(stack));
  const arnPrefix = (service: string) => `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}`;
  expect(statements.find((s) => s.actions.includes('athena:StartQueryExecution'))!.resources).toEqual([
    `${arnPrefix('athena')}:workgroup/\${LakeWorkgroup}`,
  ]);
  expect(statements.find((s) => s.actions.includes('glue:GetTable'))!.resources).toEqual([
    `${arnPrefix('glue')}:catalog`,
    `${arnPrefix('glue')}:database/${created.databaseName}`,
    `${arnPrefix('glue')}:table/${created.databaseName}/*`,
  ]);
  expect(statements.find((s) => s.actions.includes('s3:GetObject*'))!.resources).toEqual(expect.arrayContaining(['${Data.Arn}', '${Data.Arn}/*']));
  expect(statements.find((s) => s.actions.includes('s3:PutObject'))!.resources).toEqual(['${Results.Arn}', '${Results.Arn}/athena-results/*']);
  expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('kms:'))).toEqual([]);
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
    expect(problemMessagesOf(() => lake(newStack(), { tables: [] }))).toEqual(['AthenaDataLake.NoTables: tables must list at least one table']);
  });

  test('accepts a database name of 255 characters, refuses 256', () => {
    expect(problemCodesOf(() => lake(newStack(), { databaseName: 'a'.repeat(ATHENA_LIMITS.maxNameLength) }))).toEqual([]);
    expect(problemMessagesOf(() => lake(newStack(), { databaseName: 'a'.repeat(256) }))).toEqual([
      `AthenaDataLake.DatabaseName: databaseName "${'a'.repeat(256)}" must be 1–255 lowercase letters, digits or underscores`,
    ]);
  });

  test('a projection on a table without partition keys: one problem, naming none', () => {
    expect(problemMessagesOf(() => lake(newStack(), { tables: [{ ...ordersCsv, projection: [PartitionProjection.enum('region', ['eu-west-1'])] }] }))).toEqual([
      'AthenaDataLake.ProjectedKeyNotPartitionKey: table orders_csv: projection of "region", which is not a partition key (partition keys: none)',
    ]);
  });
});
