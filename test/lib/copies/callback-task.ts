import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ActivityTask, SqsCallbackTask } from '../../../lib/callback-task';

/** A workflow that waits for a warehouse's callback through a queue, then for an activity worker. */
export function build(stack: Stack): void {
  const awaitWarehouse = new SqsCallbackTask(stack, 'AwaitWarehouse', {
    queue: new sqs.Queue(stack, 'Warehouse', { enforceSSL: true }),
    heartbeat: Duration.seconds(15),
    timeout: Duration.minutes(2),
  });
  const pack = new ActivityTask(stack, 'PackOrder', { heartbeat: Duration.seconds(30), timeout: Duration.minutes(10) });
  const machine = new sfn.StateMachine(stack, 'Orders', {
    definitionBody: sfn.DefinitionBody.fromChainable(awaitWarehouse.next(pack)),
  });
  pack.grantWorker(new iam.Role(stack, 'Packer', { assumedBy: new iam.AccountRootPrincipal() }));
  machine.grantTaskResponse(new iam.Role(stack, 'Worker', { assumedBy: new iam.AccountRootPrincipal() }));
}
