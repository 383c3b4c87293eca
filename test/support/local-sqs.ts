import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  stop(): Promise<void>;
}

/** Starts fauxqs in a child process on a random port and resolves with the endpoint it prints. */
async function startFauxqs(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'fauxqs-server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const firstLine = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`fauxqs exited with code ${code} before it was ready`)));
  });
  const { address } = JSON.parse(firstLine) as { address: string };
  return {
    endpoint: address,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * Starts fauxqs (SQS's wire protocol: visibility timeout, redrive, FIFO groups and deduplication) on a random
 * port and points the AWS SDK at it through AWS_ENDPOINT_URL, the variable the lab exercises honour.
 */
export async function startLocalSqs(): Promise<LocalSqs> {
  const server = await startFauxqs();
  const { endpoint } = server;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  const client = new SQSClient({ endpoint });
  return {
    endpoint,
    client,
    stop: async () => {
      client.destroy();
      await server.stop();
    },
  };
}

interface CfnQueue {
  readonly Properties?: Record<string, unknown>;
}

/** Queue properties without effect on the local engine's behaviour (it does not encrypt). */
const IGNORED_PROPERTIES = new Set(['SqsManagedSseEnabled', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'Tags']);
const ATTRIBUTE_PROPERTIES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'DelaySeconds',
  'MaximumMessageSize',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
];

export interface LocallyDeployedQueues {
  /** Queue URL and ARN per logical id. */
  readonly queues: Record<string, { url: string; arn: string }>;
  /** The stack's outputs that resolve to queue URLs, ARNs or names. */
  readonly outputs: Record<string, string>;
}

/**
 * "Deploys" the SQS queues of a synthesized template to the local engine with their real attributes
 * (visibility timeout, delay, FIFO, redrive policy), so tests exercise what the lab declares. Each queue is named
 * after its logical id and `nameSuffix`: tests that run at once deploy the template each with its own suffix.
 */
export async function deployQueuesLocally(template: Template, client: SQSClient, nameSuffix = ''): Promise<LocallyDeployedQueues> {
  const declared = template.findResources('AWS::SQS::Queue') as Record<string, CfnQueue>;
  const queues: Record<string, { url: string; arn: string }> = {};
  const arnOf = (ref: unknown): string => {
    const logicalId = (ref as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? '';
    const queue = queues[logicalId];
    if (!queue) throw new Error(`cannot resolve ${JSON.stringify(ref)} to a queue created so far`);
    return queue.arn;
  };
  // A DLQ must exist before the queue whose redrive policy names it.
  const order = Object.keys(declared).sort(
    (a, b) => Number(Boolean(declared[a].Properties?.RedrivePolicy)) - Number(Boolean(declared[b].Properties?.RedrivePolicy)),
  );
  for (const logicalId of order) {
    const properties = declared[logicalId].Properties ?? {};
    const attributes: Record<string, string> = {};
    for (const [key, value] of Object.entries(properties)) {
      if (ATTRIBUTE_PROPERTIES.includes(key)) attributes[key] = String(value);
      else if (key === 'RedrivePolicy') {
        const policy = value as { deadLetterTargetArn: unknown; maxReceiveCount: number };
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: arnOf(policy.deadLetterTargetArn),
          maxReceiveCount: policy.maxReceiveCount,
        });
      } else if (key === 'RedriveAllowPolicy') attributes.RedriveAllowPolicy = JSON.stringify(value);
      else if (!IGNORED_PROPERTIES.has(key)) throw new Error(`${logicalId}: queue property ${key} has no local equivalent`);
    }
    const name = `${logicalId.slice(0, 70)}${nameSuffix}${properties.FifoQueue ? '.fifo' : ''}`;
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    queues[logicalId] = { url: QueueUrl ?? '', arn: Attributes?.QueueArn ?? '' };
  }

  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.toJSON().Outputs ?? {}) as [string, { Value: unknown }][]) {
    const value = output.Value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
    const refQueue = value.Ref ? queues[value.Ref] : undefined;
    const [attId, attribute] = value['Fn::GetAtt'] ?? [];
    const attQueue = attId ? queues[attId] : undefined;
    if (refQueue) outputs[name] = refQueue.url;
    else if (attQueue && attribute === 'Arn') outputs[name] = attQueue.arn;
    else if (attQueue && attribute === 'QueueName') outputs[name] = attQueue.url.split('/').pop() ?? '';
  }
  return { queues, outputs };
}
