import type { Construct } from 'constructs';
import type { LabStack, LabStackProps } from './support/lab-stack';
import { IamStsLabStack } from './iam-sts/stack';
import { S3LabStack } from './s3/stack';
import { KmsLabStack } from './kms/stack';
import { SqsLabStack } from './sqs/stack';
import { StepfunctionsCallbackLabStack } from './stepfunctions-callback/stack';
import { StepfunctionsErrorsLabStack } from './stepfunctions-errors/stack';
import { LambdaLabStack } from './lambda/stack';
import { ApigatewayLabStack } from './apigateway/stack';
import { CognitoLabStack } from './cognito/stack';
import { SnsFanoutLabStack } from './sns-fanout/stack';
import { DynamodbStreamsLabStack } from './dynamodb-streams/stack';
import { CicdBluegreenLabStack } from './cicd-bluegreen/stack';
import { DynamodbModellingLabStack } from './dynamodb-modelling/stack';

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
    id: 'kms',
    title: 'KMS: a customer managed key with rotation and a key policy that separates admins from users; envelope encryption',
    stackName: 'KmsLab',
    seedTopics: ['002: KMS', '002: S3 (KMS as a bottleneck)'],
    // A customer managed key costs $1/month (prorated hourly) from creation until it is scheduled for deletion.
    idleCostUsdPerMonth: 1,
    features: [],
    stack: KmsLabStack,
  },
  {
    id: 'lambda',
    title: 'Lambda: versions, a weighted alias, asynchronous retries with destinations and a DLQ, concurrency, Powertools',
    stackName: 'LambdaLab',
    seedTopics: ['002: Serverless Computing', '002: Lambda ALIAS', '002: Monitoring (X-Ray Lambda environment variables)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'provisioned-concurrency',
        description: '1 provisioned execution environment (256 MB, arm64) on the live alias, billed every second it exists',
        // 0.25 GB × 2,628,000 s (730 h) × $0.0000033334 per GB-s (arm64, us-east-1), checked 2026-11-22.
        idleCostUsdPerMonth: 2.19,
      },
    ],
    parameters: [
      {
        name: 'release',
        description: 'the release to publish; 2 publishes a second version and splits the alias 80/20 between them',
        pattern: /^[1-9]\d*$/,
        expected: 'a whole number of at least 1',
      },
      {
        name: 'reserved-concurrency',
        description: 'reserved concurrency of the function (default 5); none for accounts with a concurrency quota of 10',
        pattern: /^([1-9]\d*|none)$/,
        expected: 'a whole number of at least 1 or "none"',
      },
    ],
    stack: LambdaLabStack,
  },
  {
    id: 'apigateway',
    title: 'API Gateway REST: proxy, mapping templates, mock, validation, stages and canary, usage plan, Cognito authorizer',
    stackName: 'ApigatewayLab',
    seedTopics: ['002: API Gateway', '002: Lambda ALIAS (stage variables select the alias)', '002: Web Identity Federation (user pool authorizer)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'cache',
        description: 'a 0.5 GB cache cluster on the prod stage, caching GET /hello for 60 s per name',
        // $0.020 per hour for 0.5 GB (us-east-1) × 730 h, checked 2026-11-22.
        idleCostUsdPerMonth: 14.6,
      },
    ],
    stack: ApigatewayLabStack,
  },
  {
    id: 'cognito',
    title: 'Cognito: a user pool with MFA, groups and managed login; an identity pool that hands out AWS credentials by group',
    stackName: 'CognitoLab',
    seedTopics: ['002: Web Identity Federation', '000: AWS AppSync (Cognito user pools as an authorization mode)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'threat-protection',
        description:
          'threat protection (compromised credentials, adaptive authentication) on the Plus plan: $0.02 per monthly active user, no free tier, nothing while no one signs in',
        // Plus bills per monthly active user only ($0.020/MAU, no free tier; checked 2026-11-22): $0 while idle.
        idleCostUsdPerMonth: 0,
      },
    ],
    parameters: [
      { name: 'oidc-issuer', description: 'issuer URL of an OIDC identity provider to federate', pattern: /^\S+$/, expected: 'a URL' },
      { name: 'oidc-client-id', description: 'client id registered at that provider', pattern: /^\S+$/, expected: 'a client id' },
      {
        name: 'oidc-client-secret-name',
        description: 'name of the Secrets Manager secret holding the client secret',
        pattern: /^[\w/+=.@-]+$/,
        expected: 'a Secrets Manager secret name',
      },
      { name: 'oidc-name', description: 'provider name shown on the login page (default Corporate)', pattern: /^[\w .-]{1,32}$/, expected: 'a name of up to 32 characters' },
    ],
    stack: CognitoLabStack,
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
    id: 's3',
    title: 'S3: SSE-KMS and TLS enforced by bucket policy, presigned URLs, multipart uploads, events, CloudFront with OAC',
    stackName: 'S3Lab',
    seedTopics: ['002: S3 (encryption policy, request rates, multipart, versions and inventory, CloudFront TTL)', '002: KMS (request quotas)'],
    // aws/s3 (AWS managed key) instead of a customer managed key keeps SSE-KMS at $0 idle; CloudFront bills per request.
    idleCostUsdPerMonth: 0,
    features: [],
    stack: S3LabStack,
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
      {
        name: 'ecs',
        description:
          'ECS blue/green: a second pipeline deploying a Fargate service (arm64, 0.25 vCPU, 0.5 GB, 1 task) behind an ALB ' +
          'with production (80) and test (8080) listeners; public IPv4 addresses (~$0.005/hour each) come on top',
        // ALB $0.0225/h + Fargate arm64 (0.25 vCPU x $0.03238 + 0.5 GB x $0.00356)/h, over 730 h; FailedBuilds alarm $0.10.
        idleCostUsdPerMonth: 23.73,
      },
    ],
    stack: CicdBluegreenLabStack,
  },
  {
    id: 'iam-sts',
    title: 'IAM and STS: MFA and external-id roles, boundaries, decoded denials, the credential chain, retries and SigV4',
    stackName: 'IamStsLab',
    seedTopics: ['002: IAM', '000: AWS CLI, SDK and CDK (STS decode, profiles, MFA, limits and backoff, credential chain, signing)', '000: CodeBuild (SSM or Secrets Manager)'],
    idleCostUsdPerMonth: 0,
    features: [
      {
        name: 'secret',
        description: 'a Secrets Manager secret read by the function beside the Parameter Store SecureString',
        idleCostUsdPerMonth: 0.4,
      },
    ],
    stack: IamStsLabStack,
  },
];

export function findLab(id: string): LabDefinition | undefined {
  return LABS.find((lab) => lab.id === id);
}
