import type { Construct } from 'constructs';
import type { LabStack, LabStackProps } from './support/lab-stack';
import { SnsFanoutLabStack } from './sns-fanout/stack';
import { StepfunctionsErrorsLabStack } from './stepfunctions-errors/stack';
import { StepfunctionsCallbackLabStack } from './stepfunctions-callback/stack';
import { CicdBluegreenLabStack } from './cicd-bluegreen/stack';
import { DynamodbStreamsLabStack } from './dynamodb-streams/stack';
import { DynamodbModellingLabStack } from './dynamodb-modelling/stack';
import { SqsLabStack } from './sqs/stack';

/** An optional part of a lab that bills while idle; off unless its context flag is set. */
export interface LabFeature {
  /** Context flag `<lab-id>:<name>`. */
  readonly name: string;
  readonly description: string;
  /** What the feature costs per month while deployed and idle, in USD (us-east-1 list prices). */
  readonly idleCostUsdPerMonth: number;
}

/** A value a learner may give a lab with `-c <lab-id>:<name>=<value>` (an address, a Region); it bills nothing. */
export interface LabParameter {
  /** Context key `<lab-id>:<name>`. */
  readonly name: string;
  readonly description: string;
  /** What a valid value looks like; any other value is refused at synth. */
  readonly pattern: RegExp;
  /** The kind of value, for the error message: "an email address". */
  readonly expected: string;
}

export interface LabDefinition {
  /** Folder under labs/ and the id the lab CLI takes. */
  readonly id: string;
  readonly title: string;
  /** What a learner types: `npx cdk deploy <stackName>`. */
  readonly stackName: string;
  /** Sections of the notes in ../shared/seeds the lab teaches, as `<seed>: <section>`. */
  readonly seedTopics: readonly string[];
  /** Cost per month while deployed and idle with every feature off, in USD. */
  readonly idleCostUsdPerMonth: number;
  readonly features: readonly LabFeature[];
  /** Values the lab reads from context; none when absent. */
  readonly parameters?: readonly LabParameter[];
  readonly stack: new (scope: Construct, props: LabStackProps) => LabStack;
}

/** Every lab, in the order the README lists them. The app, the tests and the README table all read this. */
export const LABS: readonly LabDefinition[] = [
  {
    id: 'sqs',
    title: 'SQS: standard, FIFO and delay queues with dead-letter queues and a Lambda consumer',
    stackName: 'SqsLab',
    seedTopics: ['002: SQS', '002: Serverless Computing (Lambda dead-letter queues)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'alarms',
        description: 'DLQ-depth and oldest-message alarms on the work queue, notifying an SNS topic',
        idleCostUsdPerMonth: 0.2,
      },
    ],
    stack: SqsLabStack,
  },
  {
    id: 'sns-fanout',
    title: 'SNS fan-out: one topic, filtered queue, Lambda and email subscribers, subscription DLQs, a FIFO topic',
    stackName: 'SnsFanoutLab',
    seedTopics: ['002: SNS', '002: SQS (poll vs push)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'cmk',
        description: 'a customer managed KMS key (SSE-KMS) on the orders queues, whose key policy lets SNS use it',
        idleCostUsdPerMonth: 1,
      },
    ],
    parameters: [
      {
        name: 'email',
        description: 'an email subscriber for orders of 1,000 or more (confirm the mail SNS sends)',
        pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
        expected: 'an email address',
      },
    ],
    stack: SnsFanoutLabStack,
  },
  {
    id: 'stepfunctions-errors',
    title: 'Step Functions: every state type, ordered Retry and Catch policies, Standard and Express workflows',
    stackName: 'StepfunctionsErrorsLab',
    seedTopics: [
      '000: AWS Step Functions',
      '000: Step function task states; Step function states',
      '000: Error handling in step functions (Retry, Catch, ResultPath)',
      '000: Step Functions - Standard vs Express',
    ],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'alarms',
        description: 'failed, timed-out and throttled execution alarms on the STANDARD order workflow, notifying an SNS topic',
        idleCostUsdPerMonth: 0.3,
      },
    ],
    stack: StepfunctionsErrorsLabStack,
  },
  {
    id: 'stepfunctions-callback',
    title: 'Step Functions: task-token callbacks through SQS, human approval by email link, and an activity worker',
    stackName: 'StepfunctionsCallbackLab',
    seedTopics: ['000: Step function - wait for task token', '000: Step function - activity tasks'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'api-logs',
        description:
          'access logs of the approval API; deploy only once the account has an API Gateway CloudWatch Logs role (README)',
        idleCostUsdPerMonth: 0,
      },
    ],
    stack: StepfunctionsCallbackLabStack,
  },
  {
    id: 'cicd-bluegreen',
    title: 'CI/CD: CodePipeline V2 → CodeBuild → approval → CodeDeploy blue/green to a Lambda alias, with hooks and rollback alarms',
    stackName: 'CicdBluegreenLab',
    seedTopics: [
      '000: AWS CI/CD (CodeCommit, CodePipeline, CodeBuild, CodeDeploy, CodeStar, CodeArtifact)',
      '002: CodeStar - CI / CD; Code Commit; Code Build; Code Deploy; Code Pipeline',
    ],
    // 3 CloudWatch alarms at $0.10 each (alias errors and p99 duration, which roll deployments back; FailedBuilds).
    // CodePipeline V2 bills per action-execution minute, CodeBuild per build minute, CodeArtifact per GB stored.
    idleCostUsdPerMonth: 0.3,
    features: [
      {
        name: 'secret',
        description: 'a Secrets Manager secret the build reads as a SECRETS_MANAGER environment variable',
        idleCostUsdPerMonth: 0.4,
      },
    ],
    stack: CicdBluegreenLabStack,
  },
  {
    id: 'dynamodb-streams',
    title: 'DynamoDB Streams to Lambda: a materialized view, TTL deletes, poison records, exactly-once updates',
    stackName: 'DynamodbStreamsLab',
    seedTopics: ['002: Dynamo DB Streams', '002: DynamoDB (TTL, transactions)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'alarms',
        description: 'an iterator-age alarm on the stream consumer, notifying an SNS topic',
        idleCostUsdPerMonth: 0.1,
      },
    ],
    stack: DynamodbStreamsLabStack,
  },
  {
    id: 'dynamodb-modelling',
    title: 'DynamoDB data modelling: keys, LSI and GSI, Query and Scan, capacity, transactions, fine-grained access',
    stackName: 'DynamodbModellingLab',
    seedTopics: [
      '002: DynamoDB',
      '002: Query or Scan',
      '002: Provisioned Throughput',
      '002: DyanamoDB Accellerator (DAX) or Elasticache',
      '002: Creating DynamoDB',
    ],
    // The provisioned table: 1 RCU + 1 WCU ($0.57) and the 8 alarms auto scaling creates ($0.80); free-tier eligible.
    idleCostUsdPerMonth: 1.37,
    features: [
      {
        name: 'replica',
        description: 'a global table replica of the Orders table in a second Region (us-west-2 unless replicaRegion is given)',
        idleCostUsdPerMonth: 0,
      },
      {
        name: 'cmk',
        description: 'a customer managed KMS key for the Products table instead of the AWS managed key',
        idleCostUsdPerMonth: 1,
      },
      {
        name: 'dax',
        description: 'a one-node DAX cluster (dax.t3.small) in an isolated VPC in front of the Orders table',
        idleCostUsdPerMonth: 29.2,
      },
    ],
    parameters: [
      {
        name: 'replicaRegion',
        description: 'the Region of the Orders replica, with -c dynamodb-modelling:replica=true (default us-west-2)',
        pattern: /^[a-z]{2}(-gov)?-[a-z]+-\d$/,
        expected: 'a Region name such as eu-west-1',
      },
    ],
    stack: DynamodbModellingLabStack,
  },
];

export function findLab(id: string): LabDefinition | undefined {
  return LABS.find((lab) => lab.id === id);
}
