import { KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handler as transform } from '../../../lambda/firehose-transform';
import { SEARCH_LAB } from '../../../labs/streaming/constants';
import { searchTiming, steps } from '../../../labs/streaming/exercise';
import { streamingLab } from '../../../labs/streaming/lab';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';
import { labTemplate } from '../../support/lab-template';
import { KnownSession, LocalSearchDomain, LocalSearchOptions } from './local-search';

const template = labTemplate(streamingLab, { context: { 'streaming:opensearch': true } });
const [[domainId, domain]] = Object.entries(template.findResources('AWS::OpenSearchService::Domain'));
const roleIdOf = (service: string, description: RegExp) =>
  Object.entries(template.findResources('AWS::IAM::Role')).find(
    ([, r]) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(service) && description.test(r.Properties.Description),
  )?.[0];

describe('-c streaming:opensearch=true: the template', () => {
  test('one t3.small.search node, 10 GiB gp3, encrypted at rest and node to node, HTTPS only with TLS 1.2', () => {
    expect(domain.Properties).toMatchObject({
      EngineVersion: 'OpenSearch_2.19',
      ClusterConfig: { InstanceType: 't3.small.search', InstanceCount: 1, DedicatedMasterEnabled: false, ZoneAwarenessEnabled: false },
      EBSOptions: { EBSEnabled: true, VolumeType: 'gp3', VolumeSize: 10 },
      EncryptionAtRestOptions: { Enabled: true },
      NodeToNodeEncryptionOptions: { Enabled: true },
      DomainEndpointOptions: { EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' },
    });
  });

  test('fine-grained access control with an IAM master role, no internal users', () => {
    const admin = roleIdOf('AWS', /Master user/);
    expect(domain.Properties.AdvancedSecurityOptions).toEqual({
      Enabled: true,
      InternalUserDatabaseEnabled: false,
      MasterUserOptions: { MasterUserARN: { 'Fn::GetAtt': [admin, 'Arn'] } },
    });
  });

  test('the access policy admits signed requests of the master role and the Firehose role only', () => {
    const [statement, ...others] = domain.Properties.AccessPolicies.Statement;
    expect(others).toEqual([]);
    expect(statement.Effect).toBe('Allow');
    expect(statement.Principal.AWS).toEqual([
      { 'Fn::GetAtt': [roleIdOf('AWS', /Master user/), 'Arn'] },
      { 'Fn::GetAtt': [roleIdOf('firehose.amazonaws.com', /to OpenSearch/), 'Arn'] },
    ]);
    expect(statement.Action).toEqual(['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut']);
    // arn:…:domain/clicks-<8 hex digits of the stack id>/*: this domain's paths, not every domain's.
    expect(JSON.stringify(statement.Resource)).toMatch(/":domain\/",\{"Fn::Join":\["-",\["clicks",.*"AWS::StackId".*"\/\*"/);
    expect(JSON.stringify(domain.Properties.AccessPolicies)).not.toMatch(/"\*"/);
  });

  test('a second Firehose stream reads the clicks stream, transforms, indexes into clicks, backs up failed documents only', () => {
    const streams = Object.values(template.findResources('AWS::KinesisFirehose::DeliveryStream'));
    expect(streams).toHaveLength(2);
    const toSearch = streams.find((s) => s.Properties.AmazonopensearchserviceDestinationConfiguration)!;
    const streamId = Object.keys(template.findResources('AWS::Kinesis::Stream'))[0];
    const transformId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('Transform'));
    expect(toSearch.Properties.KinesisStreamSourceConfiguration.KinesisStreamARN).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    const destination = toSearch.Properties.AmazonopensearchserviceDestinationConfiguration;
    expect(destination).toMatchObject({
      DomainARN: { 'Fn::GetAtt': [domainId, 'Arn'] },
      IndexName: 'clicks',
      IndexRotationPeriod: 'NoRotation',
      S3BackupMode: 'FailedDocumentsOnly',
      S3Configuration: { Prefix: SEARCH_LAB.failedDocumentsPrefix, CompressionFormat: 'GZIP' },
      RetryOptions: { DurationInSeconds: 60 },
      CloudWatchLoggingOptions: { Enabled: true },
    });
    expect(destination.ProcessingConfiguration.Processors[0].Parameters[0]).toEqual({
      ParameterName: 'LambdaArn',
      ParameterValue: { 'Fn::GetAtt': [transformId, 'Arn'] },
    });
  });

  test('the Firehose role may describe and call this domain, write failed documents under their prefix: no wildcard actions', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleIdOf('firehose.amazonaws.com', /to OpenSearch/)!),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0].Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const byAction = (action: string) => statements.find((s) => [s.Action].flat().includes(action))?.Resource;
    expect(byAction('es:DescribeDomain')).toEqual({ 'Fn::GetAtt': [domainId, 'Arn'] });
    expect(byAction('es:ESHttpPost')).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [domainId, 'Arn'] }, '/*']] });
    expect(JSON.stringify(byAction('s3:PutObject'))).toContain(`/${SEARCH_LAB.failedDocumentsPrefix}*`);
    expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
  });

  test('outputs the endpoint, the domain ARN and the two roles for the exercise', () => {
    expect(Object.keys(template.toJSON().Outputs)).toEqual(
      expect.arrayContaining(['SearchEndpoint', 'SearchDomainArn', 'SearchAdminRoleArn', 'SearchFirehoseRoleArn']),
    );
  });
});

describe('the opensearch step against a local stand-in of the domain, fed by the lab\'s transform', () => {
  const account = '123456789012';
  const adminRoleArn = `arn:aws:iam::${account}:role/StreamingLab-SearchAdminRole`;
  const firehoseRoleArn = `arn:aws:iam::${account}:role/StreamingLab-SearchFirehoseRole`;
  const adminSession: KnownSession = { roleArn: adminRoleArn, accessKeyId: 'ASIAADMIN', secretAccessKey: 'admin-secret', sessionToken: 'admin-token' };
  const kinesis = mockClient(KinesisClient);
  const sts = mockClient(STSClient);
  const lines: string[] = [];
  let search: LocalSearchDomain;
  let applyTransform = true;

  /**
   * The second Firehose stream: records wait in its buffer until the buffering interval ends, then go through the lab's
   * transform as one batch and are written as the Firehose role in one bulk. The interval here ends when the step first
   * searches, so a search sees a buffer whole or not at all, as Firehose delivers it.
   */
  const buffered: { data: Uint8Array; partitionKey: string }[] = [];
  const deliver = async () => {
    const records = buffered.splice(0).map(({ data, partitionKey }, i) => ({
      recordId: String(i + 1),
      approximateArrivalTimestamp: Date.now(),
      data: Buffer.from(data).toString('base64'),
      kinesisRecordMetadata: { partitionKey },
    }));
    if (records.length === 0) return;
    const results = applyTransform ? (await transform({ records } as unknown as FirehoseTransformationEvent)).records : records.map(({ data }) => ({ result: 'Ok', data }));
    const documents = results.filter((r) => r.result === 'Ok').map((r) => JSON.parse(Buffer.from(r.data ?? '', 'base64').toString('utf8')) as Record<string, unknown>);
    search.bulk(firehoseRoleArn, SEARCH_LAB.indexName, documents);
  };

  const start = async (options: Partial<LocalSearchOptions> = {}) => {
    search = await new LocalSearchDomain({ masterRoleArn: adminRoleArn, sessions: [adminSession], region: 'us-east-1', beforeSearch: deliver, ...options }).start();
  };
  const run = (runId?: string) =>
    runExercise(
      steps.filter((s) => s.id === 'opensearch'),
      {
        runId,
        outputs: {
          StreamName: 'StreamingLab-Clicks',
          SearchEndpoint: search.endpoint,
          SearchDomainArn: `arn:aws:es:us-east-1:${account}:domain/clicks-1a2b3c4d`,
          SearchAdminRoleArn: adminRoleArn,
          SearchFirehoseRoleArn: firehoseRoleArn,
        },
        log: (line) => lines.push(line),
        provide: [provide(searchTiming, { indexDeadlineSeconds: 0.2, indexPollSeconds: 0.01 })],
      },
    );

  beforeAll(() => {
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  });
  beforeEach(() => {
    lines.length = 0;
    buffered.length = 0;
    applyTransform = true;
    kinesis.reset();
    kinesis.on(PutRecordCommand).callsFake((input: { Data: Uint8Array; PartitionKey: string }) => {
      buffered.push({ data: input.Data, partitionKey: input.PartitionKey });
      return { ShardId: 'shardId-000000000000', SequenceNumber: '1' };
    });
    sts.reset();
    sts.on(AssumeRoleCommand, { RoleArn: adminRoleArn }).resolves({
      Credentials: { AccessKeyId: adminSession.accessKeyId, SecretAccessKey: adminSession.secretAccessKey, SessionToken: adminSession.sessionToken, Expiration: new Date() },
    });
  });
  afterEach(() => search?.stop());
  afterAll(() => {
    kinesis.restore();
    sts.restore();
  });

  test('passes its checks: anonymous refused, the Firehose role mapped to a writer role, clicks indexed, a partial match', async () => {
    await start();
    await run('run-s');
    expect(lines.map((line) => line.replace(/after \d+\.\d s/, 'after N s'))).toEqual([
      '\n== 1/1 opensearch: OpenSearch: no anonymous access, the Firehose role mapped, clicks indexed, a partial match (with -c streaming:opensearch=true)',
      'an unsigned search: HTTP 403',
      'as the master role: role clicks_writer (write clicks*) HTTP 201, mapped to the Firehose role HTTP 201',
      'put 3 clicks and a heartbeat; the second Firehose stream transforms them and indexes them in clicks',
      'indexed after N s: ["/basket","/basket/checkout","/home"]',
      'wildcard *ask* on page.keyword: ["/basket","/basket/checkout"]',
      'a part of a word found the clicks that hold it, and only them: what a search engine beside the database is for',
    ]);
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input)).toEqual([{ RoleArn: adminRoleArn, RoleSessionName: 'streaming-run-s' }]);
    expect(search.mappings.get(SEARCH_LAB.writerRole)).toEqual([firehoseRoleArn]);
    expect(search.roles.get(SEARCH_LAB.writerRole)).toEqual({
      cluster_permissions: ['cluster_composite_ops', 'cluster_monitor'],
      index_permissions: [{ index_patterns: ['clicks*'], allowed_actions: ['create_index', 'manage', 'crud'] }],
    });
    // What the transform made of the three clicks (the heartbeat dropped): lower-case pages, numbered as put.
    expect(search.documents.get('clicks')?.map(({ arrivedAt: _arrivedAt, ...doc }) => doc)).toEqual(
      ['/basket', '/basket/checkout', '/home'].map((page, i) => ({ key: 'run-s-search', seq: i + 1, page, runId: 'run-s', partitionKey: 'run-s-search' })),
    );
    expect(search.refused).toEqual([]);
  });

  test.each([
    ['no credentials', {}],
    ['an access key without its secret', { Credentials: { AccessKeyId: 'ASIAADMIN' } }],
  ])('fails when AssumeRole of the master role returns %s', async (_, answer) => {
    await start();
    sts.on(AssumeRoleCommand).resolves(answer as never);
    await expect(run()).rejects.toThrow(new ExerciseCheckFailed(`AssumeRole of ${adminRoleArn} returned no credentials`));
  });

  test('counts the clicks of its own partition key: a click the consumer step of the same run put is indexed too, neither counted nor matched by the partial search', async () => {
    await start();
    const earlierStep = { key: 'run-t-consumer-alice', seq: 1, page: '/Basket/Products/1', runId: 'run-t' };
    buffered.push({ data: Buffer.from(JSON.stringify(earlierStep)), partitionKey: earlierStep.key });
    await run('run-t');
    expect(search.documents.get('clicks')?.map((doc) => doc.page)).toEqual(['/basket/products/1', '/basket', '/basket/checkout', '/home']);
  });

  test('without the feature, it says how to deploy it and checks nothing', async () => {
    await runExercise(steps.filter((s) => s.id === 'opensearch'), { outputs: { StreamName: 'StreamingLab-Clicks' }, log: (line) => lines.push(line) });
    expect(lines.slice(1)).toEqual(['the OpenSearch part is not deployed: npx cdk deploy StreamingLab -c streaming:opensearch=true ($27.50/month)']);
  });

  test.each<[string, Partial<LocalSearchOptions>, boolean, RegExp]>([
    ['a domain that answers anonymous callers', { allowAnonymous: true }, true, /^an unsigned request got HTTP 200, not 403/],
    ['a master role that is not the domain\'s master user', { masterRoleArn: `arn:aws:iam::${account}:role/Other` }, true, /^the security API refused the mapping/],
    ['role mappings that grant nothing', { ignoreMappings: true }, true, /^expected the 3 clicks of run-\w+-search in clicks within 0.2 s, found 0$/],
    ['a Firehose stream without the transform', {}, false, /^the heartbeat was indexed/],
    ['a wildcard query that matches everything', { ignoreWildcard: true }, true, /^the partial match returned \["\/basket","\/basket\/checkout","\/home"\]/],
  ])('fails against %s', async (_, options, transformed, message) => {
    await start(options);
    applyTransform = transformed;
    const failure = await run().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(message);
  });
});
