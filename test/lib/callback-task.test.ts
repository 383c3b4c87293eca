import { CfnParameter, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { ActivityTask, SqsCallbackTask } from '../../lib/callback-task';
import { HumanApproval } from '../../lib/human-approval';
import { ResilientWorkflow } from '../../lib/resilient-workflow';
import { stateMachineDefinition } from '../../labs/support/state-machine-definition';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const validationError = (build: (stack: Stack) => void) => validationErrorOf(() => build(newStack()));

function definitionOf(stack: Stack, workflow: ResilientWorkflow) {
  return stateMachineDefinition(Template.fromStack(stack), stack.getLogicalId(workflow.stateMachine.node.defaultChild as sfn.CfnStateMachine));
}

describe('SqsCallbackTask', () => {
  test('sends the token, the input and the heartbeat it expects; waits with HeartbeatSeconds and TimeoutSeconds', () => {
    const stack = newStack();
    const queue = new sqs.Queue(stack, 'Work');
    const callback = new SqsCallbackTask(stack, 'AwaitWorker', { queue, heartbeat: Duration.seconds(30), timeout: Duration.minutes(10) });
    const workflow = new ResilientWorkflow(stack, 'Wf', { definition: callback });
    expect(definitionOf(stack, workflow).States.AwaitWorker).toMatchObject({
      Type: 'Task',
      Comment: 'Callback: waits until a worker returns the task token with SendTaskSuccess or SendTaskFailure',
      Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
      HeartbeatSeconds: 30,
      TimeoutSeconds: 600,
      ResultPath: '$.callback',
      Parameters: { MessageBody: { 'taskToken.$': '$$.Task.Token', 'input.$': '$', heartbeatSeconds: 30 } },
    });
  });

  test('waits at most an hour by default', () => {
    const stack = newStack();
    const workflow = new ResilientWorkflow(stack, 'Wf', { definition: new SqsCallbackTask(stack, 'Await', { queue: new sqs.Queue(stack, 'Q') }) });
    expect(definitionOf(stack, workflow).States.Await.TimeoutSeconds).toBe(3600);
    expect(definitionOf(stack, workflow).States.Await.HeartbeatSeconds).toBeUndefined();
  });

  test('refuses a heartbeat not shorter than the timeout, bad ranges and a FIFO queue, all at once', () => {
    const error = validationError((stack) => {
      const queue = new sqs.Queue(stack, 'Q', { fifo: true });
      new SqsCallbackTask(stack, 'Bad', { queue, heartbeat: Duration.minutes(5), timeout: Duration.minutes(5) });
    });
    expect(error.message).toBe(
      [
        'Test/Bad: 2 problems in props:',
        '  - [SqsCallbackTask.HeartbeatNotBelowTimeout] heartbeat (300 s) must be shorter than timeout (300 s), or it never fires',
        '  - [SqsCallbackTask.FifoQueueUnsupported] queue is FIFO: a callback message has no message group to order by; use a standard queue',
      ].join('\n'),
    );
    const other = validationError((stack) => {
      new SqsCallbackTask(stack, 'Other', { queue: new sqs.Queue(stack, 'Std'), heartbeat: Duration.millis(500), timeout: Duration.days(400) });
    });
    expect(other.problems.map((p) => p.message)).toEqual([
      'timeout must be whole seconds from 1 to 31536000 (1 year), got 34560000 s',
      'heartbeat must be whole seconds of at least 1, got 0.5 s',
    ]);
  });

  test('an EXPRESS workflow refuses it', () => {
    const error = validationError((stack) => {
      new ResilientWorkflow(stack, 'Quick', {
        definition: new SqsCallbackTask(stack, 'Await', { queue: new sqs.Queue(stack, 'Q') }),
        type: sfn.StateMachineType.EXPRESS,
      });
    });
    expect(error.problems.map((p) => p.code)).toEqual(['ResilientWorkflow.ExpressCallbackUnsupported']);
  });
});

describe('ActivityTask', () => {
  test('creates an activity; the task waits with heartbeat and timeout; grantWorker is scoped to the activity', () => {
    const stack = newStack();
    const packing = new ActivityTask(stack, 'Pack', { heartbeat: Duration.seconds(20), timeout: Duration.minutes(5) });
    const workflow = new ResilientWorkflow(stack, 'Wf', { definition: packing });
    packing.grantWorker(new iam.User(stack, 'Worker'));
    const template = Template.fromStack(stack);
    // Activity names are unique per account and Region: the stack name keeps two deployments apart.
    template.resourcePropertiesCountIs('AWS::StepFunctions::Activity', { Name: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-Pack']] } }, 1);
    template.resourceCountIs('AWS::StepFunctions::Activity', 1);
    expect(definitionOf(stack, workflow).States.Pack).toMatchObject({
      Comment: 'Activity: waits until a worker polls GetActivityTask and answers with the task token',
      HeartbeatSeconds: 20,
      TimeoutSeconds: 300,
      ResultPath: '$.activity',
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Users: [{ Ref: Match.stringLikeRegexp('Worker') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['states:GetActivityTask', 'states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess'],
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('PackActivity') },
          },
        ],
      },
    });
  });

  test('refuses a heartbeat not shorter than the timeout', () => {
    const error = validationError((stack) => new ActivityTask(stack, 'Pack', { heartbeat: Duration.hours(2) }));
    expect(error.problems).toEqual([
      { code: 'ActivityTask.HeartbeatNotBelowTimeout', message: 'heartbeat (7200 s) must be shorter than timeout (3600 s), or it never fires' },
    ]);
  });

  test('a heartbeat of 1 s is the shortest accepted, also below a timeout that is a token; 0 s is refused', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    expect(() => new ActivityTask(stack, 'Shortest', { heartbeat: Duration.seconds(1) })).not.toThrow();
    expect(() => new ActivityTask(stack, 'TokenTimeout', { heartbeat: Duration.seconds(30), timeout: Duration.seconds(seconds) })).not.toThrow();
    expect(validationError((other) => new ActivityTask(other, 'Pack', { heartbeat: Duration.seconds(0) })).problems).toEqual([
      { code: 'ActivityTask.HeartbeatRange', message: 'heartbeat must be whole seconds of at least 1, got 0 s' },
    ]);
  });

  test('an EXPRESS workflow refuses it', () => {
    const error = validationError((stack) => {
      new ResilientWorkflow(stack, 'Quick', { definition: new ActivityTask(stack, 'Pack'), type: sfn.StateMachineType.EXPRESS });
    });
    expect(error.problems.map((p) => p.code)).toEqual(['ResilientWorkflow.ExpressActivityUnsupported']);
  });
});

describe('durations that are not whole seconds', () => {
  test('a wait that is not whole seconds is its range problem, listed with the others, never CDK\'s own error', () => {
    const error = validationError((stack) => {
      new ActivityTask(stack, 'Odd', { timeout: Duration.millis(90_500), heartbeat: Duration.millis(1500) });
    });
    expect(error.problems).toEqual([
      { code: 'ActivityTask.TimeoutRange', message: 'timeout must be whole seconds from 1 to 31536000 (1 year), got 90.5 s' },
      { code: 'ActivityTask.HeartbeatRange', message: 'heartbeat must be whole seconds of at least 1, got 1.5 s' },
    ]);
  });
});

describe('durations that are tokens', () => {
  test('a wait given as Duration.seconds(token) is rendered as the token, as CDK renders it', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    const callback = new SqsCallbackTask(stack, 'AwaitWorker', {
      queue: new sqs.Queue(stack, 'Work'),
      heartbeat: Duration.seconds(seconds),
      timeout: Duration.seconds(seconds),
    });
    const activity = new ActivityTask(stack, 'Pack', { heartbeat: Duration.seconds(seconds) });
    const workflow = new ResilientWorkflow(stack, 'Wf', { definition: callback.next(activity) });
    const definition = JSON.stringify(Template.fromStack(stack).toJSON().Resources[
      stack.getLogicalId(workflow.stateMachine.node.defaultChild as sfn.CfnStateMachine)
    ].Properties.DefinitionString);
    // The parameter's Ref is joined into the definition for HeartbeatSeconds, TimeoutSeconds and heartbeatSeconds.
    expect(definition.match(/"Ref":"Seconds"/g)).toHaveLength(4);
  });

  test('a token in another unit than seconds is TokenNotInSeconds, never CDK\'s own error', () => {
    const error = validationError((stack) => {
      const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
      new ActivityTask(stack, 'Pack', { timeout: Duration.hours(minutes), heartbeat: Duration.minutes(minutes) });
    });
    expect(error.problems).toEqual([
      {
        code: 'ActivityTask.TokenNotInSeconds',
        message: 'timeout is a token in hours, which cannot be converted at synth: give it as Duration.seconds(token)',
      },
      {
        code: 'ActivityTask.TokenNotInSeconds',
        message: 'heartbeat is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)',
      },
    ]);
    const sqsError = validationError((stack) => {
      const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
      new SqsCallbackTask(stack, 'Await', { queue: new sqs.Queue(stack, 'Q'), heartbeat: Duration.minutes(minutes) });
    });
    expect(sqsError.problems.map((p) => p.code)).toEqual(['SqsCallbackTask.TokenNotInSeconds']);
  });
});

describe('HumanApproval', () => {
  const stack = newStack();
  const approval = new HumanApproval(stack, 'Approve', { email: 'boss@example.com', timeout: Duration.hours(4) });
  const workflow = new ResilientWorkflow(stack, 'Wf', { definition: approval });
  approval.allowDecisionsOn(workflow.stateMachine);
  const template = Template.fromStack(stack);

  test('a Lambda task with .waitForTaskToken gets the token, the decision URL and the request', () => {
    const state = definitionOf(stack, workflow).States.Approve;
    expect(state).toMatchObject({ Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 14_400, ResultPath: '$.approval' });
    expect(state.Parameters.Payload).toEqual({
      'taskToken.$': '$$.Task.Token',
      decisionUrl: expect.stringMatching(/^https:\/\/.*\/decision$/),
      'request.$': '$',
    });
  });

  test('an encrypted, TLS-only topic with the email subscription; the notifier may publish to it only', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'boss@example.com' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('NotifierRole') }],
      PolicyDocument: { Statement: Match.arrayWith([{ Action: 'sns:Publish', Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('ApproveTopic') } }]) },
    });
  });

  test('GET and POST /decision, GET requiring token and action; the stage is throttled, traced and access-logged', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      RequestParameters: { 'method.request.querystring.token': true, 'method.request.querystring.action': true },
      RequestValidatorId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST' });
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })],
    });
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
  });

  test('each part says what it is: task comment, function descriptions, the notifier\'s topic, a regional API named after the stack', () => {
    expect(definitionOf(stack, workflow).States.Approve.Comment).toBe('Human approval: waits until the approver\'s decision returns the task token');
    template.hasResourceProperties('AWS::Lambda::Function', { Description: 'Approval page: confirms, then records the decision with SendTaskSuccess' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Emails the approve and reject links of an approval request',
      Environment: { Variables: Match.objectLike({ TOPIC_ARN: { Ref: Match.stringLikeRegexp('^ApproveTopic') } }) },
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: { 'Fn::Join': ['', [{ Ref: 'AWS::StackName' }, '-Approve']] },
      Description: 'Records approve/reject decisions of a Step Functions workflow',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alias/aws/sns']] },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('requests are validated (parameters and body), POST needs a Content-Type; access logs hold no query string, caller or user', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestParameters: { 'method.request.header.Content-Type': true }, RequestValidatorId: Match.anyValue() });
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(Object.keys(JSON.parse(stage.Properties.AccessLogSetting.Format as string))).toEqual([
      'requestId', 'ip', 'requestTime', 'httpMethod', 'resourcePath', 'status', 'protocol', 'responseLength',
    ]);
  });

  test('acknowledges the cdk-nag findings an emailed link cannot avoid, each with why', () => {
    const acknowledged = approval.api.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data);
    expect(acknowledged).toEqual([
      { 'Annotation::AwsSolutions-APIG4': expect.stringMatching(/^The links are opened from an email client.*single use\)\.$/) },
      { 'Annotation::AwsSolutions-COG4': 'Same as APIG4: email links cannot carry Cognito tokens; the task token is the credential.' },
      { 'Annotation::AwsSolutions-APIG3': expect.stringMatching(/^A WAF web ACL costs.*needs a valid, unexpired task token\.$/) },
      { 'Annotation::AwsSolutions-APIG6': expect.stringMatching(/^Execution logging needs the account-level.*logs every decision\.$/) },
    ]);
  });

  test('the endpoint may answer tasks of that state machine only, from a policy its function does not wait for', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('DecisionPermission') } });
    const [[policyId, policy]] = Object.entries(policies);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      {
        Action: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        Effect: 'Allow',
        Resource: { Ref: stack.getLogicalId(workflow.stateMachine.node.defaultChild as sfn.CfnStateMachine) },
      },
    ]);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions.every((f) => !(f.DependsOn ?? []).includes(policyId))).toBe(true);
  });

  test('refuses an email with a display name around it, and a timeout of 0 s', () => {
    for (const email of ['Boss <boss@example.com>', 'boss@example.com (Boss)']) {
      expect(validationError((s) => new HumanApproval(s, 'Bad', { email })).problems.map((p) => p.code)).toEqual(['HumanApproval.EmailInvalid']);
    }
    expect(validationError((s) => new HumanApproval(s, 'Bad', { timeout: Duration.seconds(0) })).problems).toEqual([
      { code: 'HumanApproval.TimeoutRange', message: 'timeout must be whole seconds from 1 to 31536000 (1 year), got 0 s' },
    ]);
  });

  test('refuses a bad email, timeout and throttling at once', () => {
    const error = validationError((s) => new HumanApproval(s, 'Bad', { email: 'nobody', timeout: Duration.days(400), throttlingRateLimit: 0 }));
    expect(error.problems).toEqual([
      { code: 'HumanApproval.TimeoutRange', message: 'timeout must be whole seconds from 1 to 31536000 (1 year), got 34560000 s' },
      { code: 'HumanApproval.EmailInvalid', message: 'email "nobody" is not an email address' },
      { code: 'HumanApproval.ThrottlingRange', message: 'throttlingRateLimit must be between 1 and 10000, got 0' },
    ]);
  });
  test('a timeout that is not whole seconds is TimeoutRange, listed with the others', () => {
    const error = validationError((s) => new HumanApproval(s, 'Odd', { timeout: Duration.millis(1500), throttlingRateLimit: 10_001 }));
    expect(error.problems).toEqual([
      { code: 'HumanApproval.TimeoutRange', message: 'timeout must be whole seconds from 1 to 31536000 (1 year), got 1.5 s' },
      { code: 'HumanApproval.ThrottlingRange', message: 'throttlingRateLimit must be between 1 and 10000, got 10001' },
    ]);
  });

  test('exposes the access-log group: the one created by default, or yours', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    expect(approval.accessLogGroup).toBeDefined();
    expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toContain(
      stack.getLogicalId(approval.accessLogGroup?.node.defaultChild as logs.CfnLogGroup),
    );
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });

    const mine = newStack();
    const logGroup = new logs.LogGroup(mine, 'Mine');
    expect(new HumanApproval(mine, 'Approve', { accessLogs: { logGroup } }).accessLogGroup).toBe(logGroup);
  });

  test('access logs: an existing log group or the settings of the created one, not both', () => {
    const error = validationError((s) => {
      const logGroup = new logs.LogGroup(s, 'Mine');
      new HumanApproval(s, 'Both', { accessLogs: { logGroup, logGroupProps: { retention: logs.RetentionDays.ONE_WEEK } } });
    });
    expect(error.problems).toEqual([
      {
        code: 'HumanApproval.LogGroupAndLogGroupProps',
        message: 'accessLogs: give either logGroup (an existing resource) or logGroupProps (for the one to create), not both',
      },
    ]);
  });

  test('access logs go to a log group you bring, or one created with your retention, or nowhere with false', () => {
    const mine = newStack();
    const logGroup = new logs.LogGroup(mine, 'Mine');
    new HumanApproval(mine, 'Approve', { accessLogs: { logGroup } });
    const withMine = Template.fromStack(mine);
    const [stage] = Object.values(withMine.findResources('AWS::ApiGateway::Stage'));
    expect(JSON.stringify(stage.Properties.AccessLogSetting.DestinationArn)).toContain(
      mine.getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup),
    );
    withMine.resourceCountIs('AWS::Logs::LogGroup', 3); // yours + the two functions' own

    const week = newStack();
    new HumanApproval(week, 'Approve', { accessLogs: { logGroupProps: { retention: logs.RetentionDays.ONE_WEEK } } });
    Template.fromStack(week).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });

    const off = newStack();
    const withoutAccessLogs = new HumanApproval(off, 'Approve', { accessLogs: false });
    expect(withoutAccessLogs.accessLogGroup).toBeUndefined();
    expect(withoutAccessLogs.api.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data).at(-1)).toEqual({
      'Annotation::AwsSolutions-APIG1': expect.stringMatching(/^Access logging is off \(accessLogs: false\) because API Gateway refuses.*logs every decision\.$/),
    });
    expect(approval.api.node.metadata.some((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && 'Annotation::AwsSolutions-APIG1' in entry.data)).toBe(false);
    const withoutLogs = Template.fromStack(off);
    withoutLogs.hasResourceProperties('AWS::ApiGateway::Stage', { AccessLogSetting: Match.absent() });
    withoutLogs.resourceCountIs('AWS::Logs::LogGroup', 2);
  });
});
