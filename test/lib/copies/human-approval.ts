import { Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { HumanApproval } from '../../../lib/human-approval';

/** A workflow that waits up to a day for an approver's decision by email link. */
export function build(stack: Stack): void {
  const approval = new HumanApproval(stack, 'AwaitApproval', { email: 'boss@example.com', timeout: Duration.days(1) });
  const decision = new sfn.Choice(stack, 'Decision')
    .when(sfn.Condition.stringEquals('$.approval.decision', 'approved'), new sfn.Succeed(stack, 'Ship'))
    .otherwise(new sfn.Fail(stack, 'Rejected'));
  const workflow = new sfn.StateMachine(stack, 'Orders', { definitionBody: sfn.DefinitionBody.fromChainable(approval.next(decision)) });
  approval.allowDecisionsOn(workflow);
}
