import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ActivityTask, SqsCallbackTask } from '../../lib/callback-task';
import { SafeNodejsFunction } from '../../lib/core/function';
import { HumanApproval } from '../../lib/human-approval';
import { QueueConsumer } from '../../lib/queue-consumer';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { ResilientTask, ResilientWorkflow, STATES_ERRORS } from '../../lib/resilient-workflow';
import { LabStack, LabStackProps } from '../support/lab-stack';
import { withCdkDurations } from '../support/cdk-duration';
import type { stepfunctionsCallbackLab } from './lab';
import { CALLBACK_LAB as CALLBACK_LAB_SPEC } from './constants';

/** The shared constants (./constants.ts) with CDK durations. */
const CALLBACK_LAB = withCdkDurations(CALLBACK_LAB_SPEC);

/**
 * Step Functions callback lab: one STANDARD order workflow that waits three ways for work done outside it: a worker
 * Lambda fed by SQS (task token in the message), a person clicking an emailed link (human approval), and an activity
 * worker polling from anywhere (GetActivityTask).
 */
export class StepfunctionsCallbackLabStack extends LabStack<typeof stepfunctionsCallbackLab> {
  constructor(scope: Construct, props: LabStackProps) {
    super(scope, props);

    const warehouseQueue = new QueueWithDlq(this, 'WarehouseQueue', {
      visibilityTimeout: Duration.seconds(6 * CALLBACK_LAB.workerTimeout.toSeconds()),
    });
    const worker = new SafeNodejsFunction(this, 'WarehouseWorker', {
      entry: path.join(__dirname, '../../lambda/sfn-callback-worker/index.ts'),
      description: 'Answers the warehouse callback task: SendTaskSuccess, SendTaskFailure, heartbeats',
      timeout: CALLBACK_LAB.workerTimeout,
    });
    new QueueConsumer(this, 'WarehouseConsumer', { source: warehouseQueue, handler: worker, batchSize: 1 });

    const rejected = new sfn.Fail(this, 'WarehouseRejectedOrder', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const timedOut = (id: string) => new sfn.Fail(this, id, { error: STATES_ERRORS.TIMEOUT, cause: `${id}: nobody answered in time` });

    const awaitWarehouse = new ResilientTask(this, 'AwaitWarehousePolicy', {
      state: new SqsCallbackTask(this, 'AwaitWarehouse', {
        queue: warehouseQueue.queue,
        heartbeat: CALLBACK_LAB.warehouseHeartbeat,
        timeout: CALLBACK_LAB.warehouseTimeout,
        resultPath: '$.warehouse',
      }).task,
      retry: [],
      catch: [
        { errors: ['WarehouseRejected'], handler: rejected },
        { errors: [STATES_ERRORS.TIMEOUT], handler: timedOut('WarehouseTimedOut') },
      ],
    });

    const approval = new HumanApproval(this, 'AwaitApproval', {
      timeout: CALLBACK_LAB.approvalTimeout,
      accessLogs: this.feature('api-logs') ? {} : false,
      request: sfn.TaskInput.fromObject({
        orderId: sfn.JsonPath.stringAt('$.orderId'),
        warehouse: sfn.JsonPath.objectAt('$.warehouse'),
      }),
    });
    const awaitApproval = new ResilientTask(this, 'AwaitApprovalPolicy', {
      state: approval.task,
      retry: [],
      catch: [{ errors: [STATES_ERRORS.TIMEOUT], handler: timedOut('ApprovalExpired') }],
    });

    const packing = new ActivityTask(this, 'PackOrder', {
      heartbeat: CALLBACK_LAB.packingHeartbeat,
      timeout: CALLBACK_LAB.packingTimeout,
      input: sfn.TaskInput.fromObject({ orderId: sfn.JsonPath.stringAt('$.orderId'), items: sfn.JsonPath.objectAt('$.items') }),
      resultPath: '$.packing',
    });
    const pack = new ResilientTask(this, 'PackOrderPolicy', {
      state: packing.task,
      retry: [],
      catch: [{ errors: [STATES_ERRORS.TIMEOUT], handler: timedOut('PackingTimedOut') }],
    });

    const decision = new sfn.Choice(this, 'ApprovalDecision')
      .when(sfn.Condition.stringEquals('$.approval.decision', 'approved'), pack.next(new sfn.Succeed(this, 'OrderReady')))
      .otherwise(new sfn.Fail(this, 'OrderRejected', { error: 'OrderRejected', cause: 'The approver rejected the order' }));

    const workflow = new ResilientWorkflow(this, 'OrderWorkflow', {
      definition: sfn.Chain.start(awaitWarehouse).next(awaitApproval).next(decision),
      comment: 'Waits for a worker (SQS callback), a person (approval link) and an activity worker',
      timeout: Duration.hours(2),
    });
    workflow.grantTaskResponse(worker);
    approval.allowDecisionsOn(workflow.stateMachine);

    const outputs: Record<string, string> = {
      OrderWorkflowArn: workflow.stateMachine.stateMachineArn,
      OrderWorkflowLogGroup: workflow.logGroup.logGroupName,
      WarehouseQueueUrl: warehouseQueue.queue.queueUrl,
      WarehouseDlqUrl: warehouseQueue.deadLetterQueue.queueUrl,
      WarehouseWorkerName: worker.functionName,
      ApprovalTopicArn: approval.topic.topicArn,
      ApprovalDecisionUrl: approval.decisionUrl,
      PackingActivityArn: packing.activity.activityArn,
    };
    this.addOutputs(outputs);
  }
}
