import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../node-sha256';
import { Kafka, KafkaConfig, logLevel, Partitioners } from 'kafkajs';

/** What the exercise asks for: the topic to create (unless it exists) and the messages to produce, one by one. */
export interface ProduceRequest {
  /** The cluster's SASL/IAM bootstrap brokers (`GetBootstrapBrokers`, which this function cannot call from the VPC). */
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly partitions: number;
  readonly messages: readonly { readonly key: string; readonly value: string }[];
}

/** Where a produced message landed. */
export interface Produced {
  readonly key: string;
  readonly partition: number;
  readonly offset: string;
}

/** What the function did: whether it created the topic (false: it existed), and each message's partition and offset. */
export interface ProduceResponse {
  readonly topicCreated: boolean;
  readonly produced: readonly Produced[];
}

/** The Kafka calls the function makes: create the topic, produce messages one by one, disconnect. */
export interface KafkaProducerPort {
  /** True when the topic was created, false when it existed already. */
  createTopic(topic: string, partitions: number): Promise<boolean>;
  send(topic: string, message: { key: string; value: string }): Promise<{ partition: number; offset: string }>;
  disconnect(): Promise<void>;
}

/** The part of kafkajs's Kafka client the function uses: what a test double implements. */
export type KafkaClient = Pick<Kafka, 'admin' | 'producer'>;

/** Every problem of a request, at once; an empty list for a valid one. */
export function requestProblems(request: Partial<ProduceRequest> | null | undefined): string[] {
  const problems: string[] = [];
  const { brokers, topic, partitions, messages } = request ?? {};
  if (!Array.isArray(brokers) || brokers.length === 0 || !brokers.every((b) => typeof b === 'string' && /^[^:\s]+:\d+$/.test(b))) {
    problems.push('brokers must be a non-empty list of host:port');
  }
  if (typeof topic !== 'string' || !/^[A-Za-z0-9._-]{1,249}$/.test(topic)) problems.push('topic must be 1 to 249 letters, digits, ".", "_" or "-"');
  if (!Number.isInteger(partitions) || (partitions as number) < 1) problems.push('partitions must be a whole number of at least 1');
  if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => typeof m?.key === 'string' && typeof m?.value === 'string')) {
    problems.push('messages must be a non-empty list of { key, value } strings');
  }
  return problems;
}

/** Creates the topic unless it exists, then sends each message on its own, so that each gets its own offset. */
export async function produce(kafka: KafkaProducerPort, request: ProduceRequest): Promise<ProduceResponse> {
  const topicCreated = await kafka.createTopic(request.topic, request.partitions);
  const produced: Produced[] = [];
  for (const message of request.messages) {
    const { partition, offset } = await kafka.send(request.topic, { key: message.key, value: message.value });
    produced.push({ key: message.key, partition, offset });
  }
  return { topicCreated, produced };
}

/** How long a token is valid: what aws-msk-iam-sasl-signer-js gives, and the broker's maximum. */
const MSK_TOKEN_EXPIRES_SECONDS = 900;
/** Sent in the token, as the MSK signers do, so that the broker's logs say which client connected. */
const TOKEN_USER_AGENT = 'streaming-lab-kafka-producer';

/** RFC 3986 escaping of a query name or value, as the AWS SDK's query strings do it. */
const escape = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The SASL OAUTHBEARER token of MSK IAM authentication, as aws-msk-iam-sasl-signer-js makes it: a SigV4-presigned
 * `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect` for the service `kafka-cluster`, its query
 * sorted, base64url-encoded. Signed here with the credentials given (the function's role, from its environment):
 * no call to STS or anything else. The signer package itself loads @aws-sdk/credential-providers at start, which the
 * bundle leaves to the Lambda runtime and the runtime does not promise.
 */
export async function mskIamToken(
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  signingDate = new Date(),
): Promise<string> {
  const hostname = `kafka.${region}.amazonaws.com`;
  const signer = new SignatureV4({ service: 'kafka-cluster', region, credentials, sha256: NodeSha256, applyChecksum: false });
  const presigned = await signer.presign(
    { method: 'GET', protocol: 'https:', hostname, path: '/', query: { Action: 'kafka-cluster:Connect' }, headers: { host: hostname } },
    { expiresIn: MSK_TOKEN_EXPIRES_SECONDS, signingDate },
  );
  const query: Record<string, string> = { ...(presigned.query as Record<string, string>), 'User-Agent': TOKEN_USER_AGENT };
  const queryString = Object.keys(query)
    .sort()
    .map((name) => `${escape(name)}=${escape(query[name])}`)
    .join('&');
  return Buffer.from(`https://${hostname}/?${queryString}`, 'utf8').toString('base64url');
}

/** The function's own credentials, which the Lambda runtime puts in its environment. */
function environmentCredentials() {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
  if (!accessKeyId || !secretAccessKey) throw new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set');
  return { accessKeyId, secretAccessKey, sessionToken };
}

/**
 * kafkajs's timeouts, longer than its defaults (1 s to connect, 5 s to create a topic): a cold function opens its first
 * TLS connections, and the creation waits until each new partition has a leader. Both stay well inside the function's
 * 60 s.
 */
const KAFKA_TIMEOUTS_MS = { connection: 5_000, topicCreation: 30_000 } as const;

/** kafkajs's settings: TLS, SASL OAUTHBEARER with a fresh IAM token at each authentication. */
function kafkaConfig(brokers: readonly string[], region: string): KafkaConfig {
  return {
    clientId: 'streaming-lab-kafka-producer',
    brokers: [...brokers],
    ssl: true,
    connectionTimeout: KAFKA_TIMEOUTS_MS.connection,
    sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: await mskIamToken(region, environmentCredentials()) }) },
    logLevel: logLevel.ERROR,
  };
}

/** kafkajs behind the port: an admin client for the topic, a producer whose partitioner is murmur2 of the key (Java's). */
async function connect(kafka: KafkaClient): Promise<KafkaProducerPort> {
  const admin = kafka.admin();
  // Named, although it is kafkajs's default: without it kafkajs warns that its default changed in 2.0.
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const disconnect = async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  };
  try {
    await Promise.all([admin.connect(), producer.connect()]);
  } catch (error) {
    await disconnect();
    throw error;
  }
  return {
    createTopic: (topic, numPartitions) =>
      admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true, timeout: KAFKA_TIMEOUTS_MS.topicCreation }),
    send: async (topic, message) => {
      const [metadata] = await producer.send({ topic, messages: [message] });
      return { partition: metadata.partition, offset: metadata.baseOffset ?? '' };
    },
    disconnect,
  };
}

/** A handler over the given Kafka client: the tests give a double of kafkajs. */
export function producerHandler(kafkaOf: (config: KafkaConfig) => KafkaClient) {
  return async (request: ProduceRequest): Promise<ProduceResponse> => {
    const problems = requestProblems(request);
    if (problems.length > 0) throw new Error(`invalid request: ${problems.join('; ')}`);
    const region = process.env.AWS_REGION;
    if (!region) throw new Error('AWS_REGION is not set');
    const kafka = await connect(kafkaOf(kafkaConfig(request.brokers, region)));
    try {
      const response = await produce(kafka, request);
      console.log(JSON.stringify({ message: 'produced', topic: request.topic, ...response }));
      return response;
    } finally {
      await kafka.disconnect();
    }
  };
}

/**
 * Creates the exercise's topic and produces its messages from inside the cluster's VPC (MSK Serverless has no public
 * endpoint), authenticated with IAM as the function's role. With kafkajs the bundle is about 267 KB minified, over
 * the library's 100 KB handler budget (it loads in about 45 ms), and no lighter Kafka client is installed: this
 * function is the lab's one exception, deployed only with -c streaming:msk=true.
 */
export const handler = producerHandler((config) => new Kafka(config));
