import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { FunctionAlias } from '../../lib/function-alias';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { lambdaLab } from './lab';
import { LAMBDA_LAB as LAMBDA_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const LAMBDA_LAB = withCdkDurations(LAMBDA_LAB_SPEC);

function reservedConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return LAMBDA_LAB.reservedConcurrency;
  return value === 'none' ? undefined : Number(value);
}

/**
 * Lambda lab: one function, a version per release, an alias `live` that splits invocations between the two newest
 * releases, asynchronous invocation with bounded retries, success and failure destinations beside a dead-letter
 * queue, reserved concurrency, X-Ray and Powertools. Provisioned concurrency on the alias is an optional, billed part.
 */
export class LambdaLabStack extends LabStack<typeof lambdaLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);
    const release = Number(this.parameter('release') ?? 1);

    const deadLetterQueue = this.recordQueue(
      'DeadLetterQueue',
      'the function\'s dead-letter queue: the last stop of failed asynchronous events',
    );
    const onSuccess = this.recordQueue('OnSuccessQueue', 'the on-success destination: records of successful asynchronous invocations');
    const onFailure = this.recordQueue('OnFailureQueue', 'the on-failure destination: records of asynchronous invocations that failed every attempt');

    const fn = new SafeNodejsFunction(this, 'Greeter', {
      entry: path.join(__dirname, '../../lambda/versioned-greeter/index.ts'),
      description: 'Greets and reports which version answered (Lambda lab)',
      timeout: LAMBDA_LAB.timeout,
      memorySize: LAMBDA_LAB.memorySize,
      reservedConcurrentExecutions: reservedConcurrency(this.parameter('reserved-concurrency')),
      deadLetterQueue,
      environment: {
        RELEASE: String(release),
        GREETING: `Hello from release ${release}`,
        POWERTOOLS_SERVICE_NAME: 'greeter',
        POWERTOOLS_METRICS_NAMESPACE: 'LambdaLab',
      },
    });

    // One version per release, kept while the alias may route to it. Release n's version resource is created by
    // the deployment that introduces release n (a version is a snapshot of the code and configuration at that time).
    const current = new lambda.Version(this, `Release${release}`, { lambda: fn, description: `release ${release}` });
    const previous =
      release > 1 ? new lambda.Version(this, `Release${release - 1}`, { lambda: fn, description: `release ${release - 1}` }) : undefined;

    const live = new FunctionAlias(this, 'Live', {
      aliasName: LAMBDA_LAB.aliasName,
      description: previous
        ? `release ${release - 1}, with ${LAMBDA_LAB.canaryWeight * 100} % of invocations on release ${release}`
        : `release ${release}`,
      version: previous ?? current,
      canary: previous ? { version: current, weight: LAMBDA_LAB.canaryWeight } : undefined,
      provisionedConcurrency: this.feature('provisioned-concurrency') ? LAMBDA_LAB.provisionedConcurrency : undefined,
      retryAttempts: LAMBDA_LAB.retryAttempts,
      maxEventAge: LAMBDA_LAB.maxEventAge,
      onSuccess: new SqsDestination(onSuccess),
      onFailure: new SqsDestination(onFailure),
    });

    const outputs: Record<string, string> = {
      FunctionName: fn.functionName,
      AliasName: live.aliasName,
      AliasArn: live.alias.functionArn,
      Release: String(release),
      CurrentVersion: current.version,
      DeadLetterQueueUrl: deadLetterQueue.queueUrl,
      OnSuccessQueueUrl: onSuccess.queueUrl,
      OnFailureQueueUrl: onFailure.queueUrl,
    };
    if (previous) outputs.PreviousVersion = previous.version;
    this.addOutputs(outputs);
  }

  /** A queue that collects records for people (and the exercise) to read: encrypted, TLS only, kept 14 days. */
  private recordQueue(id: string, role: string): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is ${role}. Nothing consumes it automatically, so no failed receive can occur that a DLQ of its own would catch.`,
    });
    return queue;
  }
}
