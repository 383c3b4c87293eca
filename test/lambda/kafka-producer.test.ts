import { generateAuthTokenFromCredentialsProvider } from 'aws-msk-iam-sasl-signer-js';
import type { KafkaConfig, ProducerConfig, ProducerRecord, RecordMetadata, SASLOptions } from 'kafkajs';
import { Partitioners } from 'kafkajs';
import { KafkaClient, mskIamToken, producerHandler, ProduceRequest, requestProblems } from '../../lambda/kafka-producer';

// The handler logs what it produced: what CloudWatch Logs shows, noise here.
beforeAll(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));

const credentials = { accessKeyId: 'AKIAFUNCTIONROLE', secretAccessKey: 'secret-of-the-role', sessionToken: 'session-of-the-role' };
const signedAt = new Date('2026-12-03T11:00:00Z');

/** The URL inside a token, and its query. */
function decoded(token: string) {
  const url = new URL(Buffer.from(token, 'base64url').toString('utf8'));
  return { url, query: Object.fromEntries(url.searchParams) };
}

describe('the IAM token', () => {
  afterEach(() => jest.useRealTimers());

  test('is what aws-msk-iam-sasl-signer-js makes from the same credentials at the same time, but for its User-Agent', async () => {
    jest.useFakeTimers({ now: signedAt });
    const official = await generateAuthTokenFromCredentialsProvider({ region: 'us-east-1', awsCredentialsProvider: async () => credentials });
    const ours = await mskIamToken('us-east-1', credentials, signedAt);
    const { 'User-Agent': officialAgent, ...officialQuery } = decoded(official.token).query;
    const { 'User-Agent': ourAgent, ...ourQuery } = decoded(ours).query;
    expect(ourQuery).toEqual(officialQuery);
    expect(decoded(ours).url.origin + decoded(ours).url.pathname).toBe(decoded(official.token).url.origin + decoded(official.token).url.pathname);
    expect([officialAgent, ourAgent]).toEqual([expect.stringMatching(/^aws-msk-iam-sasl-signer-js\//), 'streaming-lab-kafka-producer']);
  });

  test('presigns kafka-cluster:Connect for the region with the role\'s session, for 15 minutes, base64url without padding', async () => {
    const token = await mskIamToken('eu-west-1', credentials, signedAt);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const { url, query } = decoded(token);
    expect(url.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(query).toMatchObject({
      Action: 'kafka-cluster:Connect',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIAFUNCTIONROLE/20261203/eu-west-1/kafka-cluster/aws4_request',
      'X-Amz-Date': '20261203T110000Z',
      'X-Amz-Expires': '900',
      'X-Amz-Security-Token': 'session-of-the-role',
      'X-Amz-SignedHeaders': 'host',
    });
    expect(query['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });
});

/** A double of kafkajs's Kafka client: records what the handler asks of it; a test makes a call fail. */
function kafkajsDouble(options: { topicExists?: boolean; failConnect?: Error; failSend?: Error } = {}) {
  const calls = { config: undefined as KafkaConfig | undefined, producerConfig: undefined as ProducerConfig | undefined, createTopics: [] as unknown[], sent: [] as ProducerRecord[], disconnected: [] as string[] };
  const offsets = new Map<number, number>();
  const kafka = {
    admin: () => ({
      connect: async () => {
        if (options.failConnect) throw options.failConnect;
      },
      disconnect: async () => void calls.disconnected.push('admin'),
      createTopics: async (request: unknown) => {
        calls.createTopics.push(request);
        return !options.topicExists;
      },
    }),
    producer: (config?: ProducerConfig) => {
      calls.producerConfig = config;
      return {
        connect: async () => undefined,
        disconnect: async () => void calls.disconnected.push('producer'),
        send: async (record: ProducerRecord): Promise<RecordMetadata[]> => {
          if (options.failSend) throw options.failSend;
          calls.sent.push(record);
          const partition = record.messages[0].key === 'k-a' ? 0 : 1;
          const offset = offsets.get(partition) ?? 41;
          offsets.set(partition, offset + 1);
          return [{ topicName: record.topic, partition, errorCode: 0, baseOffset: String(offset + 1) }];
        },
      };
    },
  } as unknown as KafkaClient;
  const handler = producerHandler((config) => {
    calls.config = config;
    return kafka;
  });
  return { handler, calls };
}

const request: ProduceRequest = {
  brokers: ['boot-a.c1.kafka-serverless.us-east-1.amazonaws.com:9098', 'boot-b.c1.kafka-serverless.us-east-1.amazonaws.com:9098'],
  topic: 'clicks',
  partitions: 2,
  messages: [
    { key: 'k-a', value: '{"seq":1}' },
    { key: 'k-b', value: '{"seq":2}' },
    { key: 'k-a', value: '{"seq":3}' },
  ],
};

describe('the handler, over a double of kafkajs', () => {
  const environment = { ...process.env };
  afterAll(() => (process.env = environment));
  beforeEach(() => {
    Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_SESSION_TOKEN: credentials.sessionToken });
  });

  test('creates the topic, sends each message alone, answers each one\'s partition and offset, and disconnects', async () => {
    const { handler, calls } = kafkajsDouble();
    await expect(handler(request)).resolves.toEqual({
      topicCreated: true,
      produced: [
        { key: 'k-a', partition: 0, offset: '42' },
        { key: 'k-b', partition: 1, offset: '42' },
        { key: 'k-a', partition: 0, offset: '43' },
      ],
    });
    expect(calls.createTopics).toEqual([{ topics: [{ topic: 'clicks', numPartitions: 2 }], waitForLeaders: true, timeout: 30_000 }]);
    expect(calls.sent).toEqual(request.messages.map((message) => ({ topic: 'clicks', messages: [message] })));
    expect(calls.producerConfig?.createPartitioner).toBe(Partitioners.DefaultPartitioner);
    expect(calls.disconnected.sort()).toEqual(['admin', 'producer']);
  });

  test('connects over TLS with SASL OAUTHBEARER, signing a token with the function\'s own credentials (no STS call)', async () => {
    const { handler, calls } = kafkajsDouble();
    await handler(request);
    expect(calls.config).toMatchObject({ brokers: request.brokers, ssl: true, connectionTimeout: 5_000, sasl: { mechanism: 'oauthbearer' } });
    const sasl = calls.config?.sasl as Extract<SASLOptions, { mechanism: 'oauthbearer' }>;
    const { value } = await sasl.oauthBearerProvider();
    const { url, query } = decoded(value);
    expect(url.host).toBe('kafka.us-east-1.amazonaws.com');
    expect(query['X-Amz-Credential']).toMatch(/^AKIAFUNCTIONROLE\/\d{8}\/us-east-1\/kafka-cluster\/aws4_request$/);
    expect(query['X-Amz-Security-Token']).toBe('session-of-the-role');
  });

  test('answers topicCreated false when the topic exists', async () => {
    const { handler } = kafkajsDouble({ topicExists: true });
    await expect(handler(request)).resolves.toMatchObject({ topicCreated: false });
  });

  test('fails with kafkajs\'s error when a send fails, and still disconnects', async () => {
    const { handler, calls } = kafkajsDouble({ failSend: new Error('This server is not the leader for that topic-partition') });
    await expect(handler(request)).rejects.toThrow('This server is not the leader for that topic-partition');
    expect(calls.disconnected.sort()).toEqual(['admin', 'producer']);
  });

  test('fails when it cannot connect, disconnects what it opened, and creates nothing', async () => {
    const { handler, calls } = kafkajsDouble({ failConnect: new Error('Connection timeout') });
    await expect(handler(request)).rejects.toThrow('Connection timeout');
    expect(calls.createTopics).toEqual([]);
    expect(calls.disconnected.sort()).toEqual(['admin', 'producer']);
  });

  test('the token provider fails without the function\'s credentials in its environment', async () => {
    const { handler, calls } = kafkajsDouble();
    await handler(request);
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const sasl = calls.config?.sasl as Extract<SASLOptions, { mechanism: 'oauthbearer' }>;
    await expect(sasl.oauthBearerProvider()).rejects.toThrow('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  });

  test('refuses a bad request with every problem at once, before connecting', async () => {
    const { handler, calls } = kafkajsDouble();
    const bad = { brokers: [], topic: 'clicks!', partitions: 0, messages: [{ key: 'k' }] } as unknown as ProduceRequest;
    await expect(handler(bad)).rejects.toThrow(
      'invalid request: brokers must be a non-empty list of host:port; topic must be 1 to 249 letters, digits, ".", "_" or "-"; ' +
        'partitions must be a whole number of at least 1; messages must be a non-empty list of { key, value } strings',
    );
    expect(calls.config).toBeUndefined();
  });
});

test('request limits at their edges: a 249-character topic and 1 partition pass, 250 characters and 0 partitions do not', () => {
  expect(requestProblems({ ...request, topic: 'x'.repeat(249), partitions: 1 })).toEqual([]);
  expect(requestProblems({ ...request, topic: 'x'.repeat(250), partitions: 0 })).toEqual([
    'topic must be 1 to 249 letters, digits, ".", "_" or "-"',
    'partitions must be a whole number of at least 1',
  ]);
  expect(requestProblems(undefined)).toHaveLength(4);
});

test.each([
  ['brokers', ['b-1.example.com:9098', 'b-2.example.com']],
  ['brokers', ['b-1.example.com:9098', 9098]],
  ['brokers', ['tls://b-1.example.com:9098']],
  ['brokers', ['b-1.example.com:9098/']],
  ['messages', []],
  ['messages', [{ key: 'k', value: 'v' }, { key: 1, value: 'v' }]],
  ['messages', [{ key: 'k', value: 'v' }, { key: 'k' }]],
  ['messages', [null]],
])('every %s entry must be valid: %j is refused', (field, value) => {
  expect(requestProblems({ ...request, [field]: value })).toEqual([
    field === 'brokers' ? 'brokers must be a non-empty list of host:port' : 'messages must be a non-empty list of { key, value } strings',
  ]);
});
