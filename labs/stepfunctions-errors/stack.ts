import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../../lib/core/function';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import {
  CatcherSpec,
  ResilientTask,
  ResilientWorkflow,
  RetrierSpec,
  STATES_ERRORS,
} from '../../lib/resilient-workflow';
import { labAlarmTopic } from '../support/alarm-topic';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { stepfunctionsErrorsLab } from './lab';
import { ERRORS_LAB as ERRORS_LAB_SPEC, LAMBDA_RETRIER as LAMBDA_RETRIER_SPEC } from './constants';

const HANDLERS = path.join(__dirname, '../../lambda/sfn-order-steps/index.ts');

/** The shared constants (./constants.ts) with CDK durations. */
const LAMBDA_RETRIER: RetrierSpec = withCdkDurations(LAMBDA_RETRIER_SPEC);
const ERRORS_LAB = withCdkDurations(ERRORS_LAB_SPEC);

interface OrderWorkflowDeps {
  readonly validate: lambda.IFunction;
  readonly reserve: lambda.IFunction;
  readonly charge: lambda.IFunction;
  readonly table: dynamodb.ITable;
  readonly events: QueueWithDlq;
  /** The nested shipping workflow, started with `.sync`; the EXPRESS variant has none (it cannot wait for a job). */
  readonly shipping?: sfn.IStateMachine;
}

const lambdaTask = (scope: Construct, id: string, fn: lambda.IFunction, props: Partial<tasks.LambdaInvokeProps>) =>
  new tasks.LambdaInvoke(scope, id, { lambdaFunction: fn, retryOnServiceExceptions: false, ...props });

/**
 * The order workflow: every state type of the notes, each task protected by a retry and catch policy. Built once
 * per state machine (a state belongs to one graph), in its own scope so state names repeat across variants.
 */
function orderDefinition(scope: Construct, deps: OrderWorkflowDeps): sfn.IChainable {
  // Failure path: every catcher writes { Error, Cause } at $.error, beside the original order.
  const recordFailure = new tasks.SqsSendMessage(scope, 'RecordFailure', {
    queue: deps.events.queue,
    messageBody: sfn.TaskInput.fromObject({
      type: 'OrderFailed',
      orderId: sfn.JsonPath.stringAt('$.orderId'),
      error: sfn.JsonPath.objectAt('$.error'),
      execution: sfn.JsonPath.executionId,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  const orderFailed = new sfn.Fail(scope, 'OrderFailed', {
    errorPath: '$.error.Error',
    cause: 'The order failed; RecordFailure sent the error to the order events queue',
  });
  recordFailure.next(orderFailed);
  const toFailure = (errors: string[]): CatcherSpec => ({ errors, handler: recordFailure, resultPath: '$.error' });

  const applyDefaults = new sfn.Pass(scope, 'ApplyDefaults', {
    comment: 'Pass: injects fixed data beside the input',
    result: sfn.Result.fromObject({ currency: 'EUR', channel: 'stepfunctions-lab' }),
    resultPath: '$.defaults',
  });

  const orderRejected = new sfn.Fail(scope, 'OrderRejected', {
    errorPath: '$.error.Error',
    causePath: '$.error.Cause',
  });
  const validate = new ResilientTask(scope, 'ValidateOrderPolicy', {
    state: lambdaTask(scope, 'ValidateOrder', deps.validate, {
      resultSelector: { 'total.$': '$.Payload.total', 'itemCount.$': '$.Payload.itemCount' },
      resultPath: '$.validation',
    }),
    retry: [{ errors: ['InvalidOrderError'], maxAttempts: 0 }, LAMBDA_RETRIER],
    catch: [{ errors: ['InvalidOrderError'], handler: orderRejected, resultPath: '$.error' }],
  });

  const reserveItem = new ResilientTask(scope, 'ReserveItemPolicy', {
    state: lambdaTask(scope, 'ReserveItem', deps.reserve, {
      resultSelector: { 'sku.$': '$.Payload.sku', 'quantity.$': '$.Payload.quantity', 'lineTotal.$': '$.Payload.lineTotal' },
    }),
    retry: [LAMBDA_RETRIER],
  });
  const reserveItems = new ResilientTask(scope, 'ReserveItemsPolicy', {
    state: new sfn.Map(scope, 'ReserveItems', {
      comment: 'Map: one ReserveItem per item, two at a time; the results are collected in order',
      itemsPath: '$.items',
      maxConcurrency: 2,
      resultPath: '$.reservations',
    }).itemProcessor(reserveItem),
    retry: [],
    catch: [toFailure([STATES_ERRORS.ALL])],
  });

  const charge = new ResilientTask(scope, 'ChargePaymentPolicy', {
    state: lambdaTask(scope, 'ChargePayment', deps.charge, {
      payload: sfn.TaskInput.fromObject({
        order: sfn.JsonPath.entirePayload,
        attempt: sfn.JsonPath.numberAt('$$.State.RetryCount'),
      }),
      taskTimeout: sfn.Timeout.duration(ERRORS_LAB.chargeTimeout),
      resultSelector: {
        'chargeId.$': '$.Payload.chargeId',
        'amount.$': '$.Payload.amount',
        'attempts.$': '$.Payload.attempts',
      },
      resultPath: '$.payment',
    }),
    retry: ERRORS_LAB.chargeRetry,
    catch: [
      {
        errors: [STATES_ERRORS.TIMEOUT],
        handler: new sfn.Pass(scope, 'PaymentTimedOut', {
          comment: 'The charge may have gone through: record that it must be reconciled, not blindly retried',
          result: sfn.Result.fromObject({ reconcile: true }),
          resultPath: '$.payment',
        }).next(recordFailure),
        resultPath: '$.error',
      },
      toFailure([STATES_ERRORS.TASK_FAILED]),
    ],
  });

  const freeOrder = new sfn.Pass(scope, 'FreeOrder', {
    comment: 'Pass: nothing to charge',
    result: sfn.Result.fromObject({ chargeId: 'none', amount: 0, attempts: 0 }),
    resultPath: '$.payment',
  });
  const reviewHold = new sfn.Wait(scope, 'ReviewHold', {
    comment: 'Wait: large orders pause for a (simulated) fraud review before the charge',
    time: sfn.WaitTime.duration(ERRORS_LAB.reviewWait),
  });

  const saveOrder = new tasks.DynamoPutItem(scope, 'SaveOrder', {
    table: deps.table,
    item: {
      orderId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.orderId')),
      status: tasks.DynamoAttributeValue.fromString('ACCEPTED'),
      total: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.validation.total'))),
      chargeId: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.payment.chargeId')),
      execution: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.executionId),
    },
    conditionExpression: 'attribute_not_exists(orderId)',
    resultPath: sfn.JsonPath.DISCARD,
  });
  const notifyShipping = new tasks.SqsSendMessage(scope, 'NotifyShipping', {
    queue: deps.events.queue,
    messageBody: sfn.TaskInput.fromObject({
      type: 'OrderAccepted',
      orderId: sfn.JsonPath.stringAt('$.orderId'),
      total: sfn.JsonPath.numberAt('$.validation.total'),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  const fulfil = new ResilientTask(scope, 'FulfilPolicy', {
    state: new sfn.Parallel(scope, 'Fulfil', {
      comment: 'Parallel: save the order (DynamoDB PutItem, refused for a duplicate orderId) and notify (SQS)',
      resultPath: sfn.JsonPath.DISCARD,
    })
      .branch(saveOrder)
      .branch(notifyShipping),
    retry: [],
    catch: [toFailure([STATES_ERRORS.ALL])],
  });

  const completed = new sfn.Succeed(scope, 'OrderCompleted');
  let afterFulfil: sfn.IChainable = completed;
  if (deps.shipping) {
    afterFulfil = new ResilientTask(scope, 'ShipOrderPolicy', {
      state: new tasks.StepFunctionsStartExecution(scope, 'ShipOrder', {
        comment: 'Task: start the nested shipping workflow and wait for it (.sync)',
        stateMachine: deps.shipping,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        input: sfn.TaskInput.fromObject({ orderId: sfn.JsonPath.stringAt('$.orderId') }),
        associateWithParent: true,
        resultSelector: { 'trackingId.$': '$.Output.trackingId', 'carrier.$': '$.Output.carrier' },
        resultPath: '$.shipment',
      }),
      retry: [{ errors: ['StepFunctions.ExecutionLimitExceededException'], interval: Duration.seconds(2), maxAttempts: 3 }],
      catch: [toFailure([STATES_ERRORS.ALL])],
    }).next(completed);
  }

  const checkTotal = new sfn.Choice(scope, 'CheckTotal', { comment: 'Choice: free, large or ordinary order' })
    .when(sfn.Condition.numberEquals('$.validation.total', 0), freeOrder)
    .when(sfn.Condition.numberGreaterThanEquals('$.validation.total', ERRORS_LAB.reviewThreshold), reviewHold.next(charge))
    .otherwise(charge);
  freeOrder.next(fulfil);
  charge.next(fulfil);
  fulfil.next(afterFulfil);

  return sfn.Chain.start(applyDefaults).next(validate).next(reserveItems).next(checkTotal);
}

/** The nested workflow ShipOrder starts: a Wait, then a Pass that builds the label with an intrinsic function. */
function shippingDefinition(scope: Construct): sfn.IChainable {
  return sfn.Chain.start(
    new sfn.Wait(scope, 'PackingTime', { time: sfn.WaitTime.duration(ERRORS_LAB.packingWait) }),
  )
    .next(
      new sfn.Pass(scope, 'CreateLabel', {
        parameters: {
          'orderId.$': '$.orderId',
          carrier: 'LAB-POST',
          'trackingId.$': "States.Format('TRK-{}', $.orderId)",
        },
      }),
    )
    .next(new sfn.Succeed(scope, 'Shipped'));
}

/**
 * Step Functions error handling lab: a STANDARD order workflow (with a nested STANDARD shipping workflow started with
 * `.sync`, and an EventBridge rule that starts it) and an EXPRESS variant started synchronously.
 */
export class StepfunctionsErrorsLabStack extends LabStack<typeof stepfunctionsErrorsLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const fn = (id: string, handler: string, description: string) =>
      new SafeNodejsFunction(this, id, { entry: HANDLERS, handler, description, timeout: Duration.seconds(10) });
    const validate = fn('ValidateOrderFunction', 'validateOrder', 'Validates an order and computes its total');
    const reserve = fn('ReserveItemFunction', 'reserveItem', 'Reserves one item of an order (Map iteration)');
    const charge = fn('ChargePaymentFunction', 'chargePayment', 'Charges an order; fails on demand (simulate.payment)');

    const table = new dynamodb.Table(this, 'Orders', {
      partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    });
    const orderEvents = new QueueWithDlq(this, 'OrderEvents', { visibilityTimeout: Duration.seconds(30) });

    const alarmTopic = this.feature('alarms') ? labAlarmTopic(this) : undefined;
    const shipping = new ResilientWorkflow(this, 'ShippingWorkflow', {
      definition: shippingDefinition(new Construct(this, 'ShippingStates')),
      comment: 'Nested shipping workflow, started by ShipOrder with .sync',
      timeout: Duration.minutes(5),
    });
    const deps = { validate, reserve, charge, table, events: orderEvents };
    const standard = new ResilientWorkflow(this, 'OrderWorkflow', {
      definition: orderDefinition(new Construct(this, 'StandardStates'), { ...deps, shipping: shipping.stateMachine }),
      comment: 'Order workflow (STANDARD): retries, catchers, every state type',
      timeout: Duration.minutes(15),
      alarms: alarmTopic ? { alarmTopic } : undefined,
    });
    const express = new ResilientWorkflow(this, 'ExpressOrderWorkflow', {
      definition: orderDefinition(new Construct(this, 'ExpressStates'), deps),
      type: sfn.StateMachineType.EXPRESS,
      comment: 'Order workflow (EXPRESS): the same policy without the nested .sync workflow',
      timeout: Duration.minutes(1),
    });

    const rule = new events.Rule(this, 'OrderPlacedRule', {
      description: 'Starts the STANDARD order workflow for every OrderPlaced event on the default bus',
      eventPattern: { source: [ERRORS_LAB.eventSource], detailType: [ERRORS_LAB.eventDetailType] },
    });
    rule.addTarget(
      new targets.SfnStateMachine(standard.stateMachine, {
        input: events.RuleTargetInput.fromEventPath('$.detail'),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    );

    const outputs: Record<string, string> = {
      OrderWorkflowArn: standard.stateMachine.stateMachineArn,
      ExpressOrderWorkflowArn: express.stateMachine.stateMachineArn,
      ShippingWorkflowArn: shipping.stateMachine.stateMachineArn,
      OrderWorkflowLogGroup: standard.logGroup.logGroupName,
      ExpressOrderWorkflowLogGroup: express.logGroup.logGroupName,
      OrdersTableName: table.tableName,
      OrderEventsQueueUrl: orderEvents.queue.queueUrl,
      OrderPlacedRuleName: rule.ruleName,
      EventSource: ERRORS_LAB.eventSource,
      EventDetailType: ERRORS_LAB.eventDetailType,
      ChargePaymentFunctionName: charge.functionName,
    };
    if (alarmTopic) outputs.AlarmTopicArn = alarmTopic.topicArn;
    this.addOutputs(outputs);
  }
}
