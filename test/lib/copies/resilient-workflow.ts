import { Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { LAMBDA_SERVICE_ERRORS, ResilientTask, ResilientWorkflow, STATES_ERRORS } from '../../../lib/resilient-workflow';

/** A payment task retried on service errors and never on a declined card, whose failures are caught. */
export function build(stack: Stack): void {
  const fn = new lambda.Function(stack, 'Charge', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (event) => event;'),
  });
  const charge = new ResilientTask(stack, 'ChargePolicy', {
    state: new tasks.LambdaInvoke(stack, 'ChargeCard', { lambdaFunction: fn, retryOnServiceExceptions: false }),
    retry: [
      { errors: ['PaymentDeclinedError'], maxAttempts: 0 },
      { errors: [...LAMBDA_SERVICE_ERRORS], interval: Duration.seconds(1), maxAttempts: 3, jitter: true },
    ],
    catch: [{ errors: [STATES_ERRORS.TASK_FAILED], handler: new sfn.Fail(stack, 'ChargeFailed') }],
  });
  new ResilientWorkflow(stack, 'Orders', { definition: charge.next(new sfn.Succeed(stack, 'Done')) });
}
