import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamSummaryCommand, KinesisClient, ListShardsCommand, Shard } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Template } from 'aws-cdk-lib/assertions';
import { workerServer, WorkerServer } from '../../support/worker-servers';

/** kinesalite (Kinesis's wire protocol, in memory) on loopback, one per jest worker. */
export interface Kinesalite extends WorkerServer {
  readonly endpoint: string;
}

export function startKinesalite(): Promise<Kinesalite> {
  return workerServer('kinesalite', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const kinesalite = require('kinesalite') as (options: object) => Server;
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    // The worker's exit ends it; it must not keep a process alive that has nothing else to do.
    server.unref();
    return { endpoint: `http://127.0.0.1:${port}`, kill: () => server.close() };
  });
}

export const kinesisClient = (endpoint: string) =>
  new KinesisClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, requestHandler: new NodeHttpHandler() });

/** A shard's write budget per second (KINESIS_LIMITS), which kinesalite does not enforce. */
export interface ShardBudget {
  readonly records: number;
  readonly bytes: number;
}

export interface LocalKinesisProxy {
  readonly endpoint: string;
  /** Entries refused with ProvisionedThroughputExceededException so far. */
  readonly throttled: number;
  stop(): Promise<void>;
}

const hashKeyOf = (partitionKey: string) => BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);

async function body(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A proxy in front of kinesalite that does what it leaves out: each shard takes `budget` records and bytes per
 * second, the rest of a PutRecords call is refused entry by entry with ProvisionedThroughputExceededException (a
 * PutRecord over budget is refused whole), and DescribeStreamSummary reports the encryption CloudFormation set.
 */
export async function startLocalKinesisProxy(
  target: string,
  options: {
    budget: ShardBudget;
    encryption?: { EncryptionType: string; KeyId: string };
    /** A broken stream, for negative tests: PutRecord answers another shard than the one that took the record. */
    misrouteShards?: boolean;
    /** A broken stream, for negative tests: GetRecords returns each page in reverse order. */
    reverseReads?: boolean;
  },
): Promise<LocalKinesisProxy> {
  const client = kinesisClient(target);
  const shardsOf = new Map<string, Shard[]>();
  const used = new Map<string, { since: number; records: number; bytes: number }>();
  let throttled = 0;

  /**
   * Whether the shard of `partitionKey` in `stream` can take one more record of `bytes` in the second that began with
   * the first request of this window; counts it if so. The time is the request's arrival, not the end of its handling:
   * requests sent at once fall in one second however busy the machine is, as they would at Kinesis.
   */
  const admit = async (streamName: string, partitionKey: string, bytes: number, arrivedAt: number) => {
    if (!shardsOf.has(streamName)) shardsOf.set(streamName, (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? []);
    const hash = hashKeyOf(partitionKey);
    const shard = shardsOf.get(streamName)?.find((s) => BigInt(s.HashKeyRange?.StartingHashKey ?? -1) <= hash && hash <= BigInt(s.HashKeyRange?.EndingHashKey ?? -1));
    const key = `${streamName} ${shard?.ShardId}`;
    const current = used.get(key);
    const counts = current && arrivedAt - current.since < 1000 ? current : { since: arrivedAt, records: 0, bytes: 0 };
    used.set(key, counts);
    if (counts.records + 1 > options.budget.records || counts.bytes + bytes > options.budget.bytes) return false;
    counts.records += 1;
    counts.bytes += bytes;
    return true;
  };

  const forward = (message: IncomingMessage, payload: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; payload: Buffer }>((resolve, reject) => {
      const url = new URL(target);
      const headers = { ...message.headers, 'content-length': String(payload.length) };
      const outgoing = request({ hostname: url.hostname, port: url.port, path: message.url, method: message.method, headers, agent: false }, async (response) =>
        resolve({ status: response.statusCode ?? 500, headers: response.headers, payload: await body(response) }),
      );
      outgoing.once('error', reject);
      outgoing.end(payload);
    });

  const server = createServer((message, response) => {
    handle(message, response).catch((error: Error) => {
      response.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: 'InternalFailure', message: `local proxy: ${error.message}` }));
    });
  });
  const handle = async (message: IncomingMessage, response: ServerResponse) => {
    const arrivedAt = Date.now();
    const operation = String(message.headers['x-amz-target'] ?? '').split('.')[1];
    let payload = await body(message);
    const reply = (status: number, headers: IncomingMessage['headers'], content: Buffer) => {
      response.writeHead(status, { ...headers, 'content-length': String(content.length) });
      response.end(content);
    };
    const input = payload.length > 0 ? (JSON.parse(payload.toString()) as Record<string, unknown>) : {};
    // kinesalite predates StreamARN parameters: the exercise names streams by StreamName.
    const stream = String(input.StreamName);
    const bytesOf = (entry: { Data: string; PartitionKey: string }) => Buffer.from(entry.Data, 'base64').length + Buffer.byteLength(entry.PartitionKey);
    const throttle = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard (local proxy)' };

    if (operation === 'PutRecords') {
      const entries = input.Records as { Data: string; PartitionKey: string }[];
      const admitted: boolean[] = [];
      for (const entry of entries) admitted.push(await admit(stream, entry.PartitionKey, bytesOf(entry), arrivedAt));
      throttled += admitted.filter((a) => !a).length;
      const kept = entries.filter((_, i) => admitted[i]);
      let results: object[] = [];
      if (kept.length > 0) {
        const forwarded = await forward(message, Buffer.from(JSON.stringify({ ...input, Records: kept })));
        if (forwarded.status !== 200) return reply(forwarded.status, forwarded.headers, forwarded.payload);
        results = (JSON.parse(forwarded.payload.toString()) as { Records: object[] }).Records;
      }
      const records = admitted.map((a) => (a ? results.shift() : throttle));
      const failed = records.filter((r) => (r as { ErrorCode?: string }).ErrorCode).length;
      return reply(200, { 'content-type': 'application/x-amz-json-1.1' }, Buffer.from(JSON.stringify({ FailedRecordCount: failed, Records: records })));
    }
    if (operation === 'PutRecord' && !(await admit(stream, input.PartitionKey as string, bytesOf(input as { Data: string; PartitionKey: string }), arrivedAt))) {
      throttled += 1;
      const error = { __type: throttle.ErrorCode, message: throttle.ErrorMessage };
      return reply(400, { 'content-type': 'application/x-amz-json-1.1' }, Buffer.from(JSON.stringify(error)));
    }
    const forwarded = await forward(message, payload);
    const rewrite = (change: (parsed: Record<string, unknown>) => void) => {
      const parsed = JSON.parse(forwarded.payload.toString()) as Record<string, unknown>;
      change(parsed);
      return reply(200, forwarded.headers, Buffer.from(JSON.stringify(parsed)));
    };
    if (operation === 'PutRecord' && forwarded.status === 200 && options.misrouteShards) {
      return rewrite((parsed) => {
        parsed.ShardId = shardsOf.get(stream)?.find((s) => s.ShardId !== parsed.ShardId)?.ShardId;
      });
    }
    if (operation === 'GetRecords' && forwarded.status === 200 && options.reverseReads) {
      return rewrite((parsed) => (parsed.Records as unknown[]).reverse());
    }
    if (operation === 'DescribeStreamSummary' && forwarded.status === 200 && options.encryption) {
      const parsed = JSON.parse(forwarded.payload.toString()) as { StreamDescriptionSummary: object };
      Object.assign(parsed.StreamDescriptionSummary, options.encryption);
      payload = Buffer.from(JSON.stringify(parsed));
      return reply(200, forwarded.headers, payload);
    }
    reply(forwarded.status, forwarded.headers, forwarded.payload);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get throttled() {
      return throttled;
    },
    stop: async () => {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Creates the template's Kinesis streams in kinesalite (each with `shardCount` shards, or the template's) under a
 * name of their own, and returns the stack outputs CloudFormation would give: `StreamName`, `StreamArn`.
 */
export async function deployStreamsLocally(
  template: Template,
  endpoint: string,
  options: { shardCount?: number; prefix: string },
): Promise<Record<string, string>> {
  const client = kinesisClient(endpoint);
  try {
    const streams = Object.entries(template.findResources('AWS::Kinesis::Stream'));
    if (streams.length !== 1) throw new Error(`expected one Kinesis stream in the template, found ${streams.length}`);
    const [[, stream]] = streams;
    const StreamName = `${options.prefix}-${Date.now().toString(36)}`;
    const ShardCount = options.shardCount ?? (stream.Properties.ShardCount as number);
    await client.send(new CreateStreamCommand({ StreamName, ShardCount }));
    for (;;) {
      const { StreamDescriptionSummary: summary } = await client.send(new DescribeStreamSummaryCommand({ StreamName }));
      if (summary?.StreamStatus === 'ACTIVE') return { StreamName, StreamArn: summary.StreamARN ?? '' };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } finally {
    client.destroy();
  }
}
