/**
 * The exercise's msk step: the cluster checked through the MSK API, the producer function in the cluster's VPC
 * invoked to create the topic and produce, and what the Lambda consumer recorded.
 */
import { DescribeClusterV2Command, GetBootstrapBrokersCommand, KafkaClient } from '@aws-sdk/client-kafka';
import { GetEventSourceMappingCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { kafkaItemKey } from '../../../lambda/kafka-consumer';
import type { ProduceRequest, ProduceResponse } from '../../../lambda/kafka-producer';
import { check, defineTiming, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { documentClient, runKey } from './clients';
import { KAFKA_LAB, STREAMING_LAB } from '../constants';
import { streamingLab } from '../lab';

export const kafkaTiming = defineTiming(KAFKA_LAB.exerciseTiming);

/**
 * Invokes the producer function (in the cluster's subnets: the brokers answer nowhere else) and returns what it did;
 * a function error (a refused connection, a denied Kafka action) fails the step with the function's message.
 */
async function invokeProducer(context: ExerciseContext, request: ProduceRequest): Promise<ProduceResponse> {
  const functionName = requireOutput(context.outputs, 'KafkaProducerFunctionName');
  const response = await context
    .client(LambdaClient, 'LAMBDA')
    .send(new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(request)) }));
  const payload = Buffer.from(response.Payload ?? []).toString('utf8');
  check(!response.FunctionError, `the producer function ${functionName} failed: ${payload}`);
  return JSON.parse(payload) as ProduceResponse;
}

async function serverlessCluster(context: ExerciseContext, clusterArn: string): Promise<string[]> {
  const kafka = context.client(KafkaClient, 'KAFKA');
  const { ClusterInfo: info } = await kafka.send(new DescribeClusterV2Command({ ClusterArn: clusterArn }));
  const iam = info?.Serverless?.ClientAuthentication?.Sasl?.Iam?.Enabled;
  context.log(`cluster ${info?.ClusterName}: ${info?.State}, ${info?.ClusterType}, IAM authentication ${iam ? 'on' : 'off'}`);
  check(info?.State === 'ACTIVE', `the cluster is ${info?.State}, not ACTIVE`);
  check(info.ClusterType === 'SERVERLESS', `the cluster is ${info.ClusterType}, not SERVERLESS`);
  check(iam === true, 'the cluster does not authenticate clients with IAM');
  const { BootstrapBrokerStringSaslIam: brokers } = await kafka.send(new GetBootstrapBrokersCommand({ ClusterArn: clusterArn }));
  check(brokers !== undefined && brokers !== '', 'the cluster has no SASL/IAM bootstrap brokers');
  context.log(`bootstrap brokers (SASL/IAM, port ${KAFKA_LAB.iamPort}): ${brokers}`);
  return brokers.split(',');
}

/**
 * Checks the cluster and reads its SASL/IAM brokers through the MSK API (from anywhere), then invokes the producer
 * function, which creates the topic with the Kafka admin API (MSK Serverless has no CloudFormation topic resource)
 * and produces messages keyed by partition key, then reads what the Lambda consumer recorded until every message is
 * there.
 */
export async function mskTopic(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!outputs.KafkaClusterArn) {
    const monthly = streamingLab.features.find((feature) => feature.name === 'msk')?.idleCostUsdPerMonth;
    log(`the MSK part is not deployed: npx cdk deploy StreamingLab -c streaming:msk=true ($${monthly?.toFixed(2)}/month)`);
    return;
  }
  const clusterArn = requireOutput(outputs, 'KafkaClusterArn');
  const table = requireOutput(outputs, 'ProgressTableName');
  const mappingId = requireOutput(outputs, 'KafkaMappingId');
  const brokers = await serverlessCluster(context, clusterArn);

  const keys = STREAMING_LAB.orderingKeys.map((name) => runKey(context, `kafka-${name}`));
  const messages = Array.from({ length: KAFKA_LAB.messages }, (_, i) => {
    const key = keys[i % keys.length];
    return { key, value: JSON.stringify({ key, seq: i + 1, runId: context.runId }) };
  });
  const { topicCreated, produced } = await invokeProducer(context, { brokers, topic: KAFKA_LAB.topic, partitions: KAFKA_LAB.partitions, messages });
  log(`the producer function, in the cluster's subnets: topic ${KAFKA_LAB.topic} ${topicCreated ? `created with ${KAFKA_LAB.partitions} partitions` : 'already there'}`);
  log(`produced ${produced.length} messages: ${produced.map((p) => `${p.key.slice(-5)} → partition ${p.partition} offset ${p.offset}`).join(', ')}`);
  check(
    produced.length === messages.length && produced.every((p, i) => p.key === messages[i].key),
    `the producer function reported ${JSON.stringify(produced.map((p) => p.key))}, not the ${messages.length} messages sent`,
  );
  for (const key of keys) {
    const ofKey = produced.filter((p) => p.key === key);
    const partitions = new Set(ofKey.map((p) => p.partition));
    check(partitions.size === 1, `the messages of key ${key} went to partitions ${[...partitions].join(', ')}: a key belongs to one partition`);
    const increasing = ofKey.every((p, i) => i === 0 || BigInt(p.offset) > BigInt(ofKey[i - 1].offset));
    check(increasing, `the messages of key ${key} got offsets ${ofKey.map((p) => p.offset).join(', ')}: a partition appends in the order sent`);
  }

  const expected = produced.map((p) => `${p.partition}:${p.offset}`).sort();
  const { consumerDeadlineSeconds, consumerPollSeconds } = await context.use(kafkaTiming);
  const documents = await context.use(documentClient);
  const started = Date.now();
  let received: string[] = [];
  while (Date.now() - started < consumerDeadlineSeconds * 1000) {
    const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { partitionKey: kafkaItemKey(context.runId) }, ConsistentRead: true }));
    received = [...((Item?.offsets as Set<string> | undefined) ?? [])].sort();
    if (expected.every((offset) => received.includes(offset))) break;
    await new Promise((resolve) => setTimeout(resolve, consumerPollSeconds * 1000));
  }
  log(`the Lambda consumer recorded after ${elapsedSeconds(started)} s: ${JSON.stringify(received)}`);
  const missing = expected.filter((offset) => !received.includes(offset));
  // Why the mapping has not delivered them (the new topic not found yet, the cluster unreachable) shows in its state
  // and last processing result, read only when something is missing.
  const mapping = missing.length > 0 ? await context.client(LambdaClient, 'LAMBDA').send(new GetEventSourceMappingCommand({ UUID: mappingId })) : undefined;
  check(
    missing.length === 0,
    `the consumer recorded ${expected.length - missing.length} of the ${expected.length} messages within ${consumerDeadlineSeconds} s; ` +
      `missing ${missing.join(', ')}; the mapping is ${mapping?.State}, last processing result: ${mapping?.LastProcessingResult}`,
  );
  check(received.length === expected.length, `the consumer recorded offsets this step never produced: ${JSON.stringify(received)}`);
  log('every message reached the consumer through the event source mapping, which polls the topic as consumer group ' + KAFKA_LAB.consumerGroupId);
}
