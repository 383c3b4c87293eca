import { Match } from 'aws-cdk-lib/assertions';
import { stepfunctionsErrorsLab } from '../../../labs/stepfunctions-errors/lab';
import { ERRORS_LAB } from '../../../labs/stepfunctions-errors/constants';
import { allStates, resolveIntrinsics, stateMachineDefinition } from '../../../labs/support/state-machine-definition';
import { featureTemplate, labTemplate } from '../../support/lab-template';

const lab = stepfunctionsErrorsLab;
const template = labTemplate(lab);
const outputs = template.toJSON().Outputs as Record<string, { Value: { Ref?: string } }>;
const machineId = (output: string) => outputs[output].Value.Ref!;
const standard = stateMachineDefinition(template, machineId('OrderWorkflowArn'));
const express = stateMachineDefinition(template, machineId('ExpressOrderWorkflowArn'));
const states = allStates(standard);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;

test('the STANDARD workflow uses every state type of the notes, and each kind of task', () => {
  expect(new Set(Object.values(states).map((s) => s.Type))).toEqual(
    new Set(['Task', 'Choice', 'Pass', 'Wait', 'Map', 'Parallel', 'Succeed', 'Fail']),
  );
  const taskResources = Object.values(states).filter((s) => s.Type === 'Task').map((s) => s.Resource);
  expect(new Set(taskResources)).toEqual(
    new Set([
      'arn:aws:states:::lambda:invoke',
      'arn:aws:states:::dynamodb:putItem',
      'arn:aws:states:::sqs:sendMessage',
      'arn:aws:states:::states:startExecution.sync:2',
    ]),
  );
  expect(states.ApplyDefaults).toMatchObject({ Type: 'Pass', Result: { currency: 'EUR' }, ResultPath: '$.defaults' });
  expect(states.ReviewHold).toMatchObject({ Type: 'Wait', Seconds: ERRORS_LAB.reviewWait.toSeconds() });
  expect(states.ReserveItems).toMatchObject({ Type: 'Map', ItemsPath: '$.items', MaxConcurrency: 2, ResultPath: '$.reservations' });
  expect(states.Fulfil.Branches.map((b: { StartAt: string }) => b.StartAt)).toEqual(['SaveOrder', 'NotifyShipping']);
});

test('ChargePayment\'s retriers, in evaluation order: specific errors first, MaxAttempts 0 guards, States.ALL last', () => {
  expect(states.ChargePayment.Retry).toEqual([
    { ErrorEquals: ['PaymentDeclinedError'], MaxAttempts: 0 },
    {
      ErrorEquals: [
        'Lambda.ClientExecutionTimeoutException',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ],
      IntervalSeconds: 1,
      MaxAttempts: 3,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    },
    { ErrorEquals: ['PaymentGatewayError'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 3 },
    { ErrorEquals: ['States.Timeout'], MaxAttempts: 0 },
    { ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxAttempts: 1, BackoffRate: 2 },
  ]);
  expect(states.ChargePayment.TimeoutSeconds).toBe(ERRORS_LAB.chargeTimeout.toSeconds());
  expect(states.ChargePayment.Parameters.Payload).toEqual({ 'order.$': '$', 'attempt.$': '$$.State.RetryCount' });
});

test('States.Timeout, States.TaskFailed and States.ALL are each caught, every catcher keeping the input at $.error', () => {
  const catchers = Object.entries(states).flatMap(([name, s]) =>
    (s.Catch ?? []).map((c: { ErrorEquals: string[]; ResultPath: string; Next: string }) => [name, c.ErrorEquals.join(), c.ResultPath, c.Next]),
  );
  expect(catchers).toEqual([
    ['ValidateOrder', 'InvalidOrderError', '$.error', 'OrderRejected'],
    ['ReserveItems', 'States.ALL', '$.error', 'RecordFailure'],
    ['ChargePayment', 'States.Timeout', '$.error', 'PaymentTimedOut'],
    ['ChargePayment', 'States.TaskFailed', '$.error', 'RecordFailure'],
    ['Fulfil', 'States.ALL', '$.error', 'RecordFailure'],
    ['ShipOrder', 'States.ALL', '$.error', 'RecordFailure'],
  ]);
  expect(states.OrderFailed).toMatchObject({ Type: 'Fail', ErrorPath: '$.error.Error' });
});

test('the nested workflow is started with .sync:2 and linked to its parent execution', () => {
  expect(states.ShipOrder.Parameters).toEqual({
    StateMachineArn: resolveIntrinsics(template, { Ref: machineId('ShippingWorkflowArn') }),
    Input: { 'orderId.$': '$.orderId', 'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id' },
  });
});

test('STANDARD and EXPRESS machines: types, execution timeouts, the EXPRESS one without the .sync task', () => {
  const machine = (output: string) => resources[machineId(output)].Properties;
  expect(machine('OrderWorkflowArn').StateMachineType).toBe('STANDARD');
  expect(machine('ExpressOrderWorkflowArn').StateMachineType).toBe('EXPRESS');
  expect(standard.TimeoutSeconds).toBe(900);
  expect(express.TimeoutSeconds).toBe(60);
  expect(Object.values(allStates(express)).map((s) => s.Resource)).not.toContain('arn:aws:states:::states:startExecution.sync:2');
  expect(allStates(express).ChargePayment.Retry).toEqual(states.ChargePayment.Retry);
});

test('every state machine logs ALL events with execution data to its own log group, and is traced by X-Ray', () => {
  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  expect(machines).toHaveLength(3);
  for (const { Properties } of machines) {
    expect(Properties.LoggingConfiguration).toEqual({
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [expect.stringMatching(/Logs/), 'Arn'] } } }],
      IncludeExecutionData: true,
      Level: 'ALL',
    });
    expect(Properties.TracingConfiguration).toEqual({ Enabled: true });
  }
  const groups = new Set(machines.map((m) => m.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]));
  expect(groups.size).toBe(3);
  for (const group of groups) expect(resources[group].Properties.RetentionInDays).toBe(30);
});

test('the STANDARD workflow\'s role may call exactly the resources its tasks use', () => {
  const role = (resources[machineId('OrderWorkflowArn')].Properties.RoleArn as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: { Ref: string }) => x.Ref === role))
    .flatMap((r) => resolveIntrinsics(template, r.Properties.PolicyDocument.Statement) as { Action: string | string[]; Resource: string | string[] }[]);
  const grants = statements.map((s) => [[s.Action].flat().join(','), [s.Resource].flat().join(',')]);
  const idOf = (prefix: string, type: string) =>
    Object.keys(resources).find((id) => id.startsWith(prefix) && resources[id].Type === type)!;
  const functions = ['ChargePaymentFunction', 'ReserveItemFunction', 'ValidateOrderFunction'].map(
    (n) => `arn:aws:lambda:us-east-1:123456789012:function:${idOf(n, 'AWS::Lambda::Function')}`,
  );
  const shipping = machineId('ShippingWorkflowArn');
  expect(grants).toEqual([
    ['lambda:InvokeFunction', [...functions, ...functions.map((f) => `${f}:*`)].join(',')],
    ['states:StartExecution', `arn:aws:states:us-east-1:123456789012:stateMachine:${shipping}`],
    // .sync polls the child execution and stops it if the parent stops; the managed rule delivers its completion.
    ['states:DescribeExecution,states:StopExecution', `arn:aws:states:us-east-1:123456789012:execution:${shipping}*`],
    [
      'events:DescribeRule,events:PutRule,events:PutTargets',
      'arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
    ],
    ['sqs:SendMessage', `arn:aws:sqs:us-east-1:123456789012:${idOf('OrderEventsQueue', 'AWS::SQS::Queue')}`],
    ['dynamodb:PutItem', `arn:aws:dynamodb:us-east-1:123456789012:table/${idOf('Orders', 'AWS::DynamoDB::Table')}`],
    [expect.stringMatching(/^logs:CreateLogDelivery,.*xray:PutTraceSegments$/), '*'],
  ]);
  const wildcards = grants.filter(([, resource]) => resource === '*').map(([actions]) => actions.split(','));
  expect(wildcards.flat().every((a) => /^(logs|xray):/.test(a))).toBe(true);
  expect(statements.flatMap((s) => [s.Action].flat()).some((a) => a.endsWith(':*'))).toBe(false);
});

test('an EventBridge rule starts the STANDARD workflow with the event detail as input', () => {
  template.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: [ERRORS_LAB.eventSource], 'detail-type': [ERRORS_LAB.eventDetailType] },
    Targets: [Match.objectLike({ Arn: { Ref: machineId('OrderWorkflowArn') }, InputPath: '$.detail' })],
  });
});

test('no alarm by default; -c stepfunctions-errors:alarms=true adds failed, timed-out and throttled alarms', () => {
  template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  const withAlarms = featureTemplate(lab, 'alarms');
  const alarms = Object.values(withAlarms.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  expect(alarms.map((a) => a.MetricName).sort()).toEqual(['ExecutionThrottled', 'ExecutionsFailed', 'ExecutionsTimedOut']);
  for (const alarm of alarms) {
    expect(alarm).toMatchObject({ Namespace: 'AWS/States', Threshold: 1, AlarmActions: [{ Ref: expect.stringMatching(/AlarmTopic/) }] });
  }
});
