import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DynamoDBRecord } from 'aws-lambda';

/** Where to find credentials and the region: an SDK client's resolved config has both. */
export interface SigningConfig {
  readonly credentials: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>;
  readonly region: () => Promise<string>;
}

interface Shard {
  ShardId: string;
  ParentShardId?: string;
  SequenceNumberRange: { StartingSequenceNumber: string; EndingSequenceNumber?: string };
}

/**
 * The few DynamoDB Streams calls the exercise needs (DescribeStream, GetShardIterator, GetRecords), signed with
 * SigV4 and sent over HTTPS: the AWS SDK has a client for them, but this project does not install it. Honours
 * AWS_ENDPOINT_URL_DYNAMODB_STREAMS (then AWS_ENDPOINT_URL) like the SDK would.
 */
export class DynamoDbStreamsApi {
  constructor(private readonly config: SigningConfig) {}

  private async call<T>(operation: string, body: object): Promise<T> {
    const region = await this.config.region();
    const endpoint = new URL(
      process.env.AWS_ENDPOINT_URL_DYNAMODB_STREAMS ?? process.env.AWS_ENDPOINT_URL ?? `https://streams.dynamodb.${region}.amazonaws.com`,
    );
    const signer = new SignatureV4({ credentials: this.config.credentials, region, service: 'dynamodb', sha256: Sha256 });
    const payload = JSON.stringify(body);
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: '/',
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
      },
      body: payload,
    });
    // fetch sets Host itself from the URL, to the value that was signed.
    const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name !== 'host'));
    const response = await fetch(endpoint, { method: 'POST', headers, body: payload });
    const text = await response.text();
    if (!response.ok) throw new Error(`DynamoDB Streams ${operation} failed (HTTP ${response.status}): ${text}`);
    return JSON.parse(text) as T;
  }

  async shards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let ExclusiveStartShardId: string | undefined;
    do {
      const { StreamDescription } = await this.call<{
        StreamDescription: { Shards: Shard[]; LastEvaluatedShardId?: string };
      }>('DescribeStream', { StreamArn: streamArn, ExclusiveStartShardId });
      shards.push(...StreamDescription.Shards);
      ExclusiveStartShardId = StreamDescription.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    return shards;
  }

  /**
   * The stream record with this sequence number, exactly as Lambda received it (plus `eventSourceARN`), or undefined
   * when the stream no longer has it (records live 24 hours).
   */
  async recordAt(streamArn: string, sequenceNumber: string): Promise<DynamoDBRecord | undefined> {
    const wanted = BigInt(sequenceNumber);
    const shard = (await this.shards(streamArn)).find(({ SequenceNumberRange: range }) => {
      const start = BigInt(range.StartingSequenceNumber);
      return start <= wanted && (range.EndingSequenceNumber === undefined || wanted <= BigInt(range.EndingSequenceNumber));
    });
    if (!shard) return undefined;
    const { ShardIterator } = await this.call<{ ShardIterator: string }>('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shard.ShardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: sequenceNumber,
    });
    const { Records } = await this.call<{ Records: DynamoDBRecord[] }>('GetRecords', { ShardIterator, Limit: 1 });
    const record = Records.find((r) => r.dynamodb?.SequenceNumber === sequenceNumber);
    return record ? { ...record, eventSourceARN: streamArn } : undefined;
  }
}
