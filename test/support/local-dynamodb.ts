import {
  AttributeDefinition,
  CreateTableCommand,
  CreateTableCommandInput,
  DynamoDBClient,
  GlobalSecondaryIndex,
  KeySchemaElement,
  ListTablesCommand,
  LocalSecondaryIndex,
  Projection,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { RunServerAddress, runServer } from './worker-servers';

/** DynamoDB Local, the jar AWS ships, as packaged by the npm package amplify-dynamodb-simulator. */
const EMULATOR_DIR = path.join(path.dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');

export interface LocalDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** The DynamoDB Streams API of the same engine (DescribeStream, GetShardIterator, GetRecords). */
  readonly streams: LocalStreamsApi;
  /** Releases this file's client; the server belongs to the jest run, which stops it when it ends. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(client: DynamoDBClient, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  await new Promise((resolve) => setImmediate(resolve)); // lets a spawn error (no java) be reported first
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      throw new Error(`DynamoDB Local did not start (exit code ${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      await client.send(new ListTablesCommand({}));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer within 30 s:\n${output()}`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Starts DynamoDB Local (in memory, one database for every credential and Region, no telemetry) on a random port, in
 * the background: its output and pid in `dir`, so that it outlives the worker that started it (`runServer`). Not
 * detached: it stays in jest's process group, which Ctrl-C ends as a whole.
 */
async function startDynamoDbLocalServer(dir: string): Promise<RunServerAddress> {
  const port = await freePort();
  const outputFile = path.join(dir, 'dynamodb-local.log');
  const outputFd = openSync(outputFile, 'a');
  const child = spawn(
    'java',
    [
      // The client compiler only, with one GC thread: a test's few thousand requests never repay the optimizing
      // compiler's work, and this halves the JVM's CPU time (~9 → ~5 CPU-s measured here) on two cores.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      `-Djava.library.path=${path.join(EMULATOR_DIR, 'DynamoDBLocal_lib')}`,
      '-jar',
      path.join(EMULATOR_DIR, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    { cwd: dir, stdio: ['ignore', outputFd, outputFd] },
  );
  closeSync(outputFd);
  if (child.pid !== undefined) writeFileSync(path.join(dir, 'server.pid'), String(child.pid));
  let spawnError = '';
  child.once('error', (error: NodeJS.ErrnoException) => {
    spawnError = error.code === 'ENOENT' ? 'java was not found on PATH: DynamoDB Local needs Java 17 or later' : String(error);
  });
  const output = () => spawnError || (existsSync(outputFile) ? readFileSync(outputFile, 'utf8') : '');
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await waitUntilServing(client, child, output);
  } catch (error) {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  // Kept for the whole run, it must not keep this worker alive: the run's globalSetup process kills it at the end.
  child.unref();
  return { endpoint, pid: child.pid as number };
}

/**
 * DynamoDB Local for a test file: the jest run's one (the JVM takes ~2.5 s and ~5 CPU-s to start and warm up, so the
 * first worker that needs it starts it for every file of the run; deployTablesLocally gives each deployment tables of
 * its own). Points the AWS SDK's
 * DynamoDB and DynamoDB Streams clients at it through the service-specific variables AWS_ENDPOINT_URL_DYNAMODB and
 * AWS_ENDPOINT_URL_DYNAMODB_STREAMS, so that another engine (fauxqs for SQS) can own AWS_ENDPOINT_URL in the same
 * test. DynamoDB Local listens on every interface (it has no bind option); clients use the loopback address.
 */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  const { endpoint } = await runServer('dynamodb-local', startDynamoDbLocalServer);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const client = new DynamoDBClient({ endpoint });
  // The server outlives the file: the run's next files use it.
  return { endpoint, client, streams: new LocalStreamsApi(endpoint), stop: async () => client.destroy() };
}

/** A record of the DynamoDB Streams API as Lambda passes it to a function: `eventSourceARN` added, identity keys lower-cased. */
export function lambdaRecordOf({ userIdentity, ...record }: StreamApiRecord, streamArn: string): DynamoDBRecord {
  return {
    ...record,
    // A TTL delete's identity: the function tells TTL deletes from a caller's deletes by it.
    ...(userIdentity ? { userIdentity: { type: userIdentity.Type, principalId: userIdentity.PrincipalId } } : {}),
    eventSourceARN: streamArn,
  } as DynamoDBRecord;
}

/** A stream record as DynamoDB Streams returns it (Lambda passes it on through `lambdaRecordOf`). */
export interface StreamApiRecord {
  eventID: string;
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  eventVersion: string;
  eventSource: string;
  awsRegion: string;
  /** Only on a TTL delete: `{ Type: 'Service', PrincipalId: 'dynamodb.amazonaws.com' }`. */
  userIdentity?: { Type: string; PrincipalId: string };
  dynamodb: {
    ApproximateCreationDateTime: number;
    Keys: Record<string, AttributeValue>;
    NewImage?: Record<string, AttributeValue>;
    OldImage?: Record<string, AttributeValue>;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: string;
  };
}

export interface StreamShard {
  ShardId: string;
  ParentShardId?: string;
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

/**
 * The DynamoDB Streams API of DynamoDB Local over plain HTTP (its JSON 1.0 protocol, which DynamoDB Local serves on
 * the same port). The project has no DynamoDB Streams SDK client, and DynamoDB Local does not check signatures.
 */
export class LocalStreamsApi {
  constructor(private readonly endpoint: string) {}

  private async call<T>(operation: string, body: object): Promise<T> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`DynamoDB Streams ${operation} failed (${response.status}): ${text}`);
    return JSON.parse(text) as T;
  }

  async shards(streamArn: string): Promise<StreamShard[]> {
    const { StreamDescription } = await this.call<{ StreamDescription: { Shards: StreamShard[] } }>('DescribeStream', {
      StreamArn: streamArn,
    });
    return StreamDescription.Shards;
  }

  async iterator(streamArn: string, shardId: string, type: 'TRIM_HORIZON' | 'LATEST' = 'TRIM_HORIZON'): Promise<string> {
    const { ShardIterator } = await this.call<{ ShardIterator: string }>('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: type,
    });
    return ShardIterator;
  }

  async records(iterator: string, limit = 1000): Promise<{ records: StreamApiRecord[]; next?: string }> {
    const { Records, NextShardIterator } = await this.call<{ Records: StreamApiRecord[]; NextShardIterator?: string }>(
      'GetRecords',
      { ShardIterator: iterator, Limit: limit },
    );
    return { records: Records, next: NextShardIterator };
  }

  /** Every record currently in the stream, oldest first (all shards, parents before children). */
  async readAll(streamArn: string): Promise<StreamApiRecord[]> {
    const all: StreamApiRecord[] = [];
    for (const shard of await this.shards(streamArn)) {
      let iterator: string | undefined = await this.iterator(streamArn, shard.ShardId);
      while (iterator) {
        const { records, next } = await this.records(iterator);
        all.push(...records);
        if (records.length === 0) break;
        iterator = next;
      }
    }
    return all;
  }
}

interface CfnTable {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

/**
 * Table properties this function knows: the key schema, indexes, stream and TTL are created locally; the rest has no
 * effect on the local engine's behaviour (it neither encrypts, backs up, replicates nor bills). Any other property
 * fails the deployment, so that a new one is looked at rather than silently dropped.
 */
const KNOWN_TABLE_PROPERTIES = new Set([
  'SSESpecification',
  'PointInTimeRecoverySpecification',
  'Tags',
  'DeletionProtectionEnabled',
  'TableClass',
  'ContributorInsightsSpecification',
  'WriteOnDemandThroughputSettings',
  'WriteProvisionedThroughputSettings',
  'Replicas',
  'BillingMode',
  'ProvisionedThroughput',
  'TimeToLiveSpecification',
  'StreamSpecification',
  'KeySchema',
  'AttributeDefinitions',
  'LocalSecondaryIndexes',
  'GlobalSecondaryIndexes',
]);
const SUPPORTED_INDEX_PROPERTIES = new Set(['IndexName', 'KeySchema', 'Projection']);

export interface LocallyDeployedTables {
  /** Table name, ARN, stream ARN and partition key attribute per logical id. */
  readonly tables: Record<string, { name: string; arn: string; streamArn?: string; partitionKey: string }>;
  /** The stack's outputs that resolve to table names, ARNs or stream ARNs. */
  readonly outputs: Record<string, string>;
}

function index<T extends LocalSecondaryIndex | GlobalSecondaryIndex>(logicalId: string, declared: Record<string, unknown>): T {
  for (const key of Object.keys(declared)) {
    if (!SUPPORTED_INDEX_PROPERTIES.has(key) && !/Throughput|ContributorInsights|WarmThroughput/.test(key)) {
      throw new Error(`${logicalId}: index property ${key} has no local equivalent`);
    }
  }
  return {
    IndexName: declared.IndexName as string,
    KeySchema: declared.KeySchema as KeySchemaElement[],
    Projection: declared.Projection as Projection,
  } as T;
}

/**
 * "Deploys" the DynamoDB tables of a synthesized template (`AWS::DynamoDB::GlobalTable` from TableV2, or
 * `AWS::DynamoDB::Table`) to DynamoDB Local with what shapes their behaviour: key schema, local and global
 * secondary indexes with their projections, stream view type, TTL attribute. Provisioned tables get on-demand
 * capacity locally (DynamoDB Local does not throttle). Tables are named as CloudFormation names them, after their
 * logical id with a suffix of their own, so the files of a run, all on its one DynamoDB Local, never share a table.
 */
export async function deployTablesLocally(template: Template, client: DynamoDBClient): Promise<LocallyDeployedTables> {
  const declared = {
    ...template.findResources('AWS::DynamoDB::GlobalTable'),
    ...template.findResources('AWS::DynamoDB::Table'),
  } as Record<string, CfnTable>;
  const tables: LocallyDeployedTables['tables'] = {};
  const suffix = randomBytes(4).toString('hex').toUpperCase();
  for (const [logicalId, { Properties: p }] of Object.entries(declared)) {
    const tableName = `${logicalId}-${suffix}`;
    for (const key of Object.keys(p)) {
      if (!KNOWN_TABLE_PROPERTIES.has(key)) throw new Error(`${logicalId}: table property ${key} has no local equivalent`);
    }
    const stream = p.StreamSpecification as { StreamViewType: string } | undefined;
    // A Table's fixed throughput is kept (DescribeTable shows it); a GlobalTable's autoscaled one becomes on demand.
    const throughput = p.ProvisionedThroughput as { ReadCapacityUnits: number; WriteCapacityUnits: number } | undefined;
    const input: CreateTableCommandInput = {
      TableName: tableName,
      ...(throughput ? { BillingMode: 'PROVISIONED', ProvisionedThroughput: throughput } : { BillingMode: 'PAY_PER_REQUEST' }),
      KeySchema: p.KeySchema as KeySchemaElement[],
      AttributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
      LocalSecondaryIndexes: (p.LocalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map((i) =>
        index<LocalSecondaryIndex>(logicalId, i),
      ),
      GlobalSecondaryIndexes: (p.GlobalSecondaryIndexes as Record<string, unknown>[] | undefined)?.map((i) => ({
        ...index<GlobalSecondaryIndex>(logicalId, i),
        ProvisionedThroughput: throughput ? (i.ProvisionedThroughput as GlobalSecondaryIndex['ProvisionedThroughput']) : undefined,
      })),
      StreamSpecification: stream ? { StreamEnabled: true, StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES' } : undefined,
    };
    const { TableDescription } = await client.send(new CreateTableCommand(input));
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled: boolean } | undefined;
    if (ttl?.Enabled) {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: ttl.AttributeName } }),
      );
    }
    tables[logicalId] = {
      name: tableName,
      arn: TableDescription?.TableArn ?? '',
      streamArn: TableDescription?.LatestStreamArn,
      partitionKey: (p.KeySchema as KeySchemaElement[]).find((k) => k.KeyType === 'HASH')?.AttributeName ?? '',
    };
  }

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.toJSON().Outputs ?? {}) as [string, { Value: unknown }][]) {
    const value = output.Value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    const [attId, attribute] = value['Fn::GetAtt'] ?? [];
    const refTable = value.Ref ? tables[value.Ref] : undefined;
    const attTable = attId ? tables[attId] : undefined;
    if (refTable) outputs[name] = refTable.name;
    else if (attTable && attribute === 'Arn') outputs[name] = attTable.arn;
    else if (attTable && attribute === 'StreamArn' && attTable.streamArn) outputs[name] = attTable.streamArn;
  }
  return { tables, outputs };
}
