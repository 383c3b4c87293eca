import { CfnParameter, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import {
  IRetryableState,
  LAMBDA_SERVICE_ERRORS,
  misspelledStatesError,
  ResilientTask,
  ResilientWorkflow,
  retryDelays,
  RetrierSpec,
  STATES_ERRORS,
} from '../../lib/resilient-workflow';
import { runLocally } from '../support/local-stepfunctions';
import { stateMachineDefinition } from '../../labs/support/state-machine-definition';
import { testApp } from '../support/synth';
import { problemMessagesOf, validationErrorOf } from '../support/validation';
import { ConstructUsageError } from '../../lib/core/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const validationError = (build: (stack: Stack) => void) => validationErrorOf(() => build(newStack()));

const task = (stack: Stack, id = 'Work') => new sfn.Pass(stack, `${id}Prep`).next(new sfn.Succeed(stack, `${id}Done`));
const customTask = (stack: Stack, id = 'Call') =>
  new sfn.CustomState(stack, id, { stateJson: { Type: 'Task', Resource: 'arn:aws:states:::dynamodb:putItem', Parameters: {} } });

describe('ResilientTask', () => {
  test('renders retriers in the given order (States.ALL last) and catchers with ResultPath $.error by default', () => {
    const stack = newStack();
    const state = customTask(stack);
    const failed = new sfn.Fail(stack, 'Failed');
    const protectedTask = new ResilientTask(stack, 'Protected', {
      state,
      retry: [
        { errors: ['Throttled'], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 1.5, maxDelay: Duration.seconds(10), jitter: true },
        { errors: ['Validation'], maxAttempts: 0 },
        { errors: [STATES_ERRORS.ALL] },
      ],
      catch: [{ errors: [STATES_ERRORS.TIMEOUT], handler: failed }, { handler: new sfn.Pass(stack, 'Cleanup'), resultPath: '$.problem' }],
    });
    expect(protectedTask.startState).toBe(state);
    new ResilientWorkflow(stack, 'Wf', { definition: protectedTask });
    const definition = stateMachineDefinition(Template.fromStack(stack), stack.getLogicalId(stack.node.findAll().find((c) => c instanceof sfn.CfnStateMachine) as sfn.CfnStateMachine));
    expect(definition.States.Call.Retry).toEqual([
      { ErrorEquals: ['Throttled'], IntervalSeconds: 2, MaxAttempts: 5, BackoffRate: 1.5, MaxDelaySeconds: 10, JitterStrategy: 'FULL' },
      { ErrorEquals: ['Validation'], MaxAttempts: 0 },
      { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2 },
    ]);
    expect(definition.States.Call.Catch).toEqual([
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.error', Next: 'Failed' },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.problem', Next: 'Cleanup' },
    ]);
  });

  test('the catcher keeps the original input beside the error when run', async () => {
    const stack = newStack();
    const state = customTask(stack);
    const failurePath = new sfn.Pass(stack, 'FailurePath');
    const wf = new ResilientWorkflow(stack, 'Wf', {
      definition: new ResilientTask(stack, 'Protected', { state, retry: [{ errors: ['Boom'], maxAttempts: 2 }], catch: [{ handler: failurePath }] }),
    });
    const definition = stateMachineDefinition(Template.fromStack(stack), stack.getLogicalId(wf.stateMachine.node.defaultChild as sfn.CfnStateMachine));
    let calls = 0;
    const run = await runLocally(definition, { orderId: 'o-1' }, {
      tasks: { Call: () => { calls += 1; throw Object.assign(new Error('it broke'), { name: 'Boom' }); } },
      retryIntervalOverrides: { Call: 0 },
    });
    expect(calls).toBe(3);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toEqual({ orderId: 'o-1', error: { Error: 'Boom', Cause: 'it broke' } });
  });

  test('lists every problem of the policy at once, each by its code and message', () => {
    const error = validationError((stack) => {
      new ResilientTask(stack, 'Bad', {
        state: customTask(stack),
        retry: [
          { errors: [STATES_ERRORS.ALL], maxAttempts: -1, backoffRate: 0.5, interval: Duration.millis(500), maxDelay: Duration.days(400) },
          { errors: ['State.ALL', 'States.Timout', 'Custom'] },
          { errors: [] },
        ],
        catch: [{ errors: [STATES_ERRORS.ALL, 'Other'], handler: new sfn.Fail(stack, 'F'), resultPath: 'error' }],
      });
    });
    expect(error.message).toBe(
      [
        'Test/Bad: 10 problems in props:',
        '  - [ResilientTask.MaxAttemptsRange] retry[0]: maxAttempts must be a whole number from 0 (never retry) to 99999999, got -1',
        '  - [ResilientTask.BackoffRateRange] retry[0]: backoffRate must be at least 1.0 (1 keeps the interval constant), got 0.5',
        '  - [ResilientTask.IntervalRange] retry[0]: interval must be whole seconds from 1 to 99999999, got 0.5 s',
        '  - [ResilientTask.MaxDelayRange] retry[0]: maxDelay must be whole seconds from 1 to 31622400, got 34560000 s',
        '  - [ResilientTask.AllNotLast] retry[0]: States.ALL must be in the last retrier; the ones after it are never reached',
        '  - [ResilientTask.UnknownStatesError] retry[1]: State.ALL is not a predefined error name; did you mean States.ALL?',
        '  - [ResilientTask.UnknownStatesError] retry[1]: States.Timout is not a predefined error name; did you mean States.Timeout?',
        '  - [ResilientTask.EmptyErrors] retry[2] lists no error names: name at least one (or States.ALL)',
        '  - [ResilientTask.AllNotAlone] catch[0]: States.ALL must be the only error name of its list',
        '  - [ResilientTask.ResultPathInvalid] catch[0]: resultPath must be a JSONPath starting with "$", got "error"',
      ].join('\n'),
    );
  });

  test('refuses an error already matched by an earlier entry, or by an earlier States.TaskFailed', () => {
    const error = validationError((stack) => {
      new ResilientTask(stack, 'Shadowed', {
        state: customTask(stack),
        retry: [{ errors: ['Throttled'] }, { errors: [STATES_ERRORS.TASK_FAILED] }, { errors: ['Throttled', 'Lambda.ServiceException'] }, { errors: [STATES_ERRORS.TIMEOUT] }],
      });
    });
    expect(error.problems).toEqual([
      { code: 'ResilientTask.ShadowedError', message: 'retry[2]: Throttled is already matched by retry[0], so this entry never matches it' },
      {
        code: 'ResilientTask.ShadowedByTaskFailed',
        message:
          'retry[2]: Throttled is already matched by States.TaskFailed in retry[1] (it matches every error of a Task except States.Timeout): list specific errors before it',
      },
      {
        code: 'ResilientTask.ShadowedByTaskFailed',
        message:
          'retry[2]: Lambda.ServiceException is already matched by States.TaskFailed in retry[1] (it matches every error of a Task except States.Timeout): list specific errors before it',
      },
    ]);
  });

  test('catchers follow the same ordering rules as retriers, each one refused with its code', () => {
    // Each problem as its code and where it is (the message up to its first colon).
    const codesOf = (catchErrors: string[][], state: (stack: Stack) => sfn.TaskStateBase | sfn.CustomState | sfn.Parallel = customTask) =>
      problemMessagesOf(() => {
        const stack = newStack();
        new ResilientTask(stack, 'Catching', {
          state: state(stack),
          retry: [],
          catch: catchErrors.map((errors, i) => ({ errors, handler: new sfn.Fail(stack, `F${i}`) })),
        });
      }).map((problem) => problem.split(':').slice(0, 2).join(''));
    const { ALL, TASK_FAILED, TIMEOUT, HEARTBEAT_TIMEOUT } = STATES_ERRORS;
    expect(codesOf([['Declined'], ['Declined']])).toEqual(['ResilientTask.ShadowedError catch[1]']);
    expect(codesOf([[TASK_FAILED], ['Declined']])).toEqual(['ResilientTask.ShadowedByTaskFailed catch[1]']);
    expect(codesOf([[ALL], ['Declined']])).toEqual(['ResilientTask.AllNotLast catch[0]']);
    expect(codesOf([[]])).toEqual(['ResilientTask.EmptyErrors catch[0] lists no error names']);
    // What States.TaskFailed does not match may follow it: the timeouts, and States.ALL last.
    expect(codesOf([[TASK_FAILED], [TIMEOUT], [HEARTBEAT_TIMEOUT], [ALL]])).toEqual([]);
    // Outside a Task (a Parallel state), States.TaskFailed shadows nothing: the branch's errors keep their names.
    const parallel = (stack: Stack) => new sfn.Parallel(stack, 'Both').branch(new sfn.Pass(stack, 'One'));
    expect(codesOf([[TASK_FAILED], ['Declined']], parallel)).toEqual([]);
  });

  test('warns when a catcher\'s ResultPath "$" replaces the input by the error; strict synth fails until acknowledged', () => {
    const stack = newStack();
    const replacing = new ResilientTask(stack, 'Replacing', {
      state: customTask(stack),
      retry: [],
      catch: [{ handler: new sfn.Fail(stack, 'F'), resultPath: '$' }],
    });
    new ResilientWorkflow(stack, 'Wf', { definition: replacing });
    expect(() => Template.fromStack(stack)).toThrow(
      /catch\[0\]: resultPath "\$" replaces the state's input by the error.*\n.*\n.*Annotation::ResilientTask.ResultPathReplacesInput/,
    );
    Validations.of(replacing).acknowledge({ id: 'Annotation::ResilientTask.ResultPathReplacesInput', reason: 'test' });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('retry helpers', () => {
  test('retryDelays: interval × backoffRate^n, capped by maxDelay', () => {
    const retrier: RetrierSpec = { errors: ['X'], interval: Duration.seconds(1), maxAttempts: 4, backoffRate: 2, maxDelay: Duration.seconds(5) };
    expect(retryDelays(retrier)).toEqual([1, 2, 4, 5]);
    expect(retryDelays({ errors: ['X'] })).toEqual([1, 2, 4]);
    expect(retryDelays({ errors: ['X'], maxAttempts: 0 })).toEqual([]);
  });

  test.each([
    ['State.ALL', 'States.ALL'],
    ['States.Timout', 'States.Timeout'],
    ['State.Permission', 'States.Permissions'],
    ['States.taskfailed', 'States.TaskFailed'],
    ['States.Nonsense', '?'],
    ['States.Timeout', undefined],
    ['MyError', undefined],
  ])('misspelledStatesError(%s) → %s', (name, expected) => {
    expect(misspelledStatesError(name)).toBe(expected);
  });
});

describe('ResilientWorkflow', () => {
  const stack = newStack();
  const topic = new sns.Topic(stack, 'Ops');
  const workflow = new ResilientWorkflow(stack, 'Orders', { definition: task(stack), alarms: { alarmTopic: topic } });
  const worker = new iam.Role(stack, 'Worker', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  workflow.grantTaskResponse(worker);
  workflow.grantStart(worker);
  workflow.grantRead(new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
  const template = Template.fromStack(stack);

  test('is STANDARD, logs ALL events with execution data to a retained log group, and is traced', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('OrdersLogs'), 'Arn'] } } }],
      },
      TracingConfiguration: { Enabled: true },
    });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Retain' });
  });

  test('keeps the log-delivery and X-Ray wildcards in a policy of their own, which the state machine waits for', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('LogDeliveryAndTracing') },
    });
    const [id] = Object.keys(policies);
    expect(policies[id].Properties.PolicyDocument.Statement.every((s: { Resource: string }) => s.Resource === '*')).toBe(true);
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(machine.DependsOn).toContain(id);
  });

  test('alarms on failed, timed-out and throttled executions, notifying the topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionThrottled']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'AWS/States',
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('Ops') }],
        OKActions: [{ Ref: Match.stringLikeRegexp('Ops') }],
      });
    }
    expect(workflow.failedAlarm).toBeDefined();
  });

  test('grants task responses and StartExecution on this state machine only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Worker') }],
      PolicyDocument: {
        Statement: [
          {
            Action: ['states:SendTaskFailure', 'states:SendTaskHeartbeat', 'states:SendTaskSuccess', 'states:StartExecution'],
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('OrdersStateMachine') },
          },
        ],
      },
    });
  });

  test('each alarm names the executions and what happened, fires on the first one, and treats no data as fine', () => {
    for (const [metric, what] of [['ExecutionsFailed', 'failed'], ['ExecutionsTimedOut', 'timed out'], ['ExecutionThrottled', 'were throttled']]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        AlarmDescription: `Executions of Test/Orders ${what}`,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    expect([workflow.timedOutAlarm, workflow.throttledAlarm].every((alarm) => alarm !== undefined)).toBe(true);
  });

  test('the log-delivery and X-Ray policy holds exactly what logging and tracing need, acknowledged with why', () => {
    const policy = workflow.node.findChild('LogDeliveryAndTracing');
    const [found] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('LogDeliveryAndTracing') } }));
    expect(found.Properties.PolicyDocument.Statement.map((statement: { Action: string[] }) => statement.Action)).toEqual([
      [
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        'logs:GetLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ],
    ]);
    expect(policy.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data)).toEqual([
      {
        'Annotation::AwsSolutions-IAM5[Resource::*]':
          'CloudWatch Logs log-delivery actions (logs:CreateLogDelivery, ...) and X-Ray (xray:PutTraceSegments, ...) support no resource-level permissions: the Step Functions docs require "*" for them.',
      },
    ]);
  });

  test('grants reading executions on this state machine', () => {
    const [readerPolicy] = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('Reader') }] } }));
    expect(JSON.stringify(readerPolicy.Properties.PolicyDocument.Statement)).toMatch(/states:ListExecutions.*states:DescribeExecution/);
    expect(JSON.stringify(readerPolicy.Properties.PolicyDocument.Statement)).toContain(stack.getLogicalId(workflow.stateMachine.node.defaultChild as sfn.CfnStateMachine));
  });

  test('EXPRESS: 5-minute timeout by default, and StartSyncExecution in its start grant', () => {
    const expressStack = newStack();
    const express = new ResilientWorkflow(expressStack, 'Quick', { definition: task(expressStack), type: sfn.StateMachineType.EXPRESS });
    express.grantStart(new iam.Role(expressStack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    const expressTemplate = Template.fromStack(expressStack);
    expect(JSON.stringify(expressTemplate.findResources('AWS::StepFunctions::StateMachine'))).toContain('\\"TimeoutSeconds\\":300');
    expressTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['states:StartExecution', 'states:StartSyncExecution'] })] },
    });
  });

  test('refuses what EXPRESS does not support (.waitForTaskToken, .sync, activities, > 5 minutes), listing all', () => {
    const error = validationError((s) => {
      const queue = new sqs.Queue(s, 'Queue');
      const callback = new tasks.SqsSendMessage(s, 'AwaitWorker', {
        queue,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        messageBody: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
      });
      const child = new sfn.StateMachine(s, 'Child', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(s, 'P')) });
      const nested = new tasks.StepFunctionsStartExecution(s, 'RunChild', { stateMachine: child, integrationPattern: sfn.IntegrationPattern.RUN_JOB });
      const activity = new tasks.StepFunctionsInvokeActivity(s, 'AskWorker', { activity: new sfn.Activity(s, 'Activity') });
      const parallel = new sfn.Parallel(s, 'Both').branch(nested).branch(activity);
      new ResilientWorkflow(s, 'Quick', {
        definition: sfn.Chain.start(callback).next(parallel),
        type: sfn.StateMachineType.EXPRESS,
        timeout: Duration.minutes(10),
      });
    });
    expect(error.message).toBe(
      [
        'Test/Quick: 4 problems in props:',
        '  - [ResilientWorkflow.TimeoutRange] timeout must be between 1 second and 5 minutes for a EXPRESS state machine, got 600 s',
        '  - [ResilientWorkflow.ExpressCallbackUnsupported] EXPRESS state machines do not support the callback pattern (.waitForTaskToken), used by AwaitWorker: use STANDARD',
        '  - [ResilientWorkflow.ExpressSyncUnsupported] EXPRESS state machines do not support the run-a-job pattern (.sync), used by RunChild: use STANDARD',
        '  - [ResilientWorkflow.ExpressActivityUnsupported] EXPRESS state machines do not support activities, used by AskWorker: use STANDARD',
      ].join('\n'),
    );
  });

  test('accepts the same definition as STANDARD, and refuses a STANDARD timeout over a year', () => {
    const s = newStack();
    const activity = new tasks.StepFunctionsInvokeActivity(s, 'AskWorker', { activity: new sfn.Activity(s, 'Activity') });
    expect(() => new ResilientWorkflow(s, 'Slow', { definition: activity })).not.toThrow();
    const error = validationError((s2) => new ResilientWorkflow(s2, 'TooLong', { definition: task(s2), timeout: Duration.days(400) }));
    expect(error.problems).toEqual([
      {
        code: 'ResilientWorkflow.TimeoutRange',
        message: 'timeout must be between 1 second and 1 year for a STANDARD state machine, got 34560000 s',
      },
    ]);
  });

  test('an existing log group or the settings of the created one, not both', () => {
    const s = newStack();
    const logGroup = new logs.LogGroup(s, 'Mine');
    const error = validationErrorOf(
      () => new ResilientWorkflow(s, 'Both', { definition: task(s), logGroup, logGroupProps: { retention: logs.RetentionDays.ONE_WEEK } }),
    );
    expect(error.problems).toEqual([
      {
        code: 'ResilientWorkflow.LogGroupAndLogGroupProps',
        message: 'give either logGroup (an existing resource) or logGroupProps (for the one to create), not both',
      },
    ]);
    const s2 = newStack();
    const created = new ResilientWorkflow(s2, 'Created', { definition: task(s2), logGroupProps: { retention: logs.RetentionDays.ONE_WEEK } });
    Template.fromStack(s2).hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Retain' });
    const s3 = newStack();
    const given = new logs.LogGroup(s3, 'Given');
    expect(new ResilientWorkflow(s3, 'WithGiven', { definition: task(s3), logGroup: given }).logGroup).toBe(given);
    expect(created.logGroup).toBeDefined();
  });

  test('durations that are not whole seconds are listed with the other problems, not thrown by CDK', () => {
    const error = validationError((s) => {
      new ResilientWorkflow(s, 'Odd', {
        definition: task(s),
        type: sfn.StateMachineType.EXPRESS,
        timeout: Duration.millis(400_500),
        alarms: { period: Duration.millis(60_500) },
      });
    });
    expect(error.message).toBe(
      [
        'Test/Odd: 3 problems in props:',
        '  - [ResilientWorkflow.NotWholeSeconds] timeout must be a whole number of seconds, got 400.5 s',
        '  - [ResilientWorkflow.TimeoutRange] timeout must be between 1 second and 5 minutes for a EXPRESS state machine, got 401 s',
        '  - [ResilientWorkflow.NotWholeSeconds] alarms.period must be a whole number of seconds, got 60.5 s',
      ].join('\n'),
    );
  });
});

describe('ResilientWorkflow alarm period', () => {
  test('a period CloudWatch refuses is AlarmPeriodRange, listed with the others, never CDK\'s own error', () => {
    const error = validationError((s) => {
      new ResilientWorkflow(s, 'Odd', { definition: task(s), timeout: Duration.seconds(0), alarms: { period: Duration.seconds(45) } });
    });
    expect(error.problems).toEqual([
      {
        code: 'ResilientWorkflow.TimeoutRange',
        message: 'timeout must be between 1 second and 1 year for a STANDARD state machine, got 0 s',
      },
      { code: 'ResilientWorkflow.AlarmPeriodRange', message: 'alarms.period must be 10 s, 30 s or a multiple of 60 s, got 45 s' },
    ]);
    for (const period of [Duration.seconds(0), Duration.seconds(1), Duration.seconds(90)]) {
      expect(validationError((s) => new ResilientWorkflow(s, 'Odd', { definition: task(s), alarms: { period } })).problems).toEqual([
        {
          code: 'ResilientWorkflow.AlarmPeriodRange',
          message: `alarms.period must be 10 s, 30 s or a multiple of 60 s, got ${period.toSeconds()} s`,
        },
      ]);
    }
  });

  test('10 s, 30 s and multiples of 60 s are accepted', () => {
    for (const period of [Duration.seconds(10), Duration.seconds(30), Duration.minutes(1), Duration.hours(1)]) {
      const s = newStack();
      new ResilientWorkflow(s, 'Wf', { definition: task(s), alarms: { period } });
      Template.fromStack(s).resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Period: period.toSeconds() }, 3);
    }
  });

  test('a token period is AlarmPeriodRange: CloudWatch periods are checked at synth', () => {
    const error = validationError((s) => {
      const seconds = new CfnParameter(s, 'Period', { type: 'Number' }).valueAsNumber;
      new ResilientWorkflow(s, 'Wf', { definition: task(s), alarms: { period: Duration.seconds(seconds) } });
    });
    expect(error.problems).toEqual([
      {
        code: 'ResilientWorkflow.AlarmPeriodRange',
        message: 'alarms.period must be known at synth (10 s, 30 s or a multiple of 60 s), got a token',
      },
    ]);
  });
});

describe('duration tokens', () => {
  test('a token in seconds is rendered as the token, as CDK renders it', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    const protectedTask = new ResilientTask(stack, 'Protected', {
      state: customTask(stack),
      retry: [{ errors: ['Boom'], interval: Duration.seconds(seconds), maxDelay: Duration.seconds(seconds) }],
    });
    const workflow = new ResilientWorkflow(stack, 'Wf', { definition: protectedTask, timeout: Duration.seconds(seconds) });
    const cfn = workflow.stateMachine.node.defaultChild as sfn.CfnStateMachine;
    const definition = JSON.stringify(Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(cfn)].Properties.DefinitionString);
    // IntervalSeconds, MaxDelaySeconds and TimeoutSeconds.
    expect(definition.match(/"Ref":"Seconds"/g)).toHaveLength(3);
  });

  test('a token in another unit than seconds is TokenNotInSeconds, never CDK\'s own error', () => {
    const stack = newStack();
    const minutes = new CfnParameter(stack, 'Minutes', { type: 'Number' }).valueAsNumber;
    const taskError = validationErrorOf(
      () =>
        new ResilientTask(stack, 'Protected', {
          state: customTask(stack),
          retry: [{ errors: ['Boom'], interval: Duration.minutes(minutes), maxDelay: Duration.hours(minutes) }],
        }),
    );
    const tokenMessage = (what: string, unit: string) =>
      `${what} is a token in ${unit}, which cannot be converted at synth: give it as Duration.seconds(token)`;
    expect(taskError.problems).toEqual([
      { code: 'ResilientTask.TokenNotInSeconds', message: tokenMessage('retry[0].interval', 'minutes') },
      { code: 'ResilientTask.TokenNotInSeconds', message: tokenMessage('retry[0].maxDelay', 'hours') },
    ]);
    const workflowError = validationErrorOf(
      () => new ResilientWorkflow(stack, 'Wf', { definition: task(stack), timeout: Duration.minutes(minutes) }),
    );
    expect(workflowError.problems).toEqual([{ code: 'ResilientWorkflow.TokenNotInSeconds', message: tokenMessage('timeout', 'minutes') }]);
  });

  test('retryDelays of a token interval or maxDelay is RetryDelaysOfToken: the waits are unknown at synth', () => {
    const stack = newStack();
    const seconds = new CfnParameter(stack, 'Seconds', { type: 'Number' }).valueAsNumber;
    expect(() => retryDelays({ errors: ['X'], interval: Duration.minutes(seconds) })).toThrow(
      'retryDelays: [ResilientTask.RetryDelaysOfToken] interval is a token, known only at deploy time: the waits cannot be computed at synth',
    );
    expect(() => retryDelays({ errors: ['X'], maxDelay: Duration.seconds(seconds) })).toThrow(
      'retryDelays: [ResilientTask.RetryDelaysOfToken] maxDelay is a token, known only at deploy time: the waits cannot be computed at synth',
    );
    expect(() => retryDelays({ errors: ['X'], interval: Duration.minutes(seconds) })).toThrow(ConstructUsageError);
  });
});

describe('ResilientTask durations', () => {
  test('an interval or maxDelay that is not whole seconds is its range problem, listed with the others', () => {
    const error = validationError((stack) => {
      new ResilientTask(stack, 'Odd', {
        state: customTask(stack),
        retry: [{ errors: ['Boom'], interval: Duration.millis(1500), maxDelay: Duration.millis(2500), maxAttempts: -1 }],
      });
    });
    expect(error.problems).toEqual([
      { code: 'ResilientTask.MaxAttemptsRange', message: 'retry[0]: maxAttempts must be a whole number from 0 (never retry) to 99999999, got -1' },
      { code: 'ResilientTask.IntervalRange', message: 'retry[0]: interval must be whole seconds from 1 to 99999999, got 1.5 s' },
      { code: 'ResilientTask.MaxDelayRange', message: 'retry[0]: maxDelay must be whole seconds from 1 to 31622400, got 2.5 s' },
    ]);
    expect(retryDelays({ errors: ['X'], interval: Duration.millis(1500), maxAttempts: 2 })).toEqual([1.5, 3]);
  });
});

describe('predefined error names', () => {
  test('every name the States language predefines is valid as written, in any case only as written', () => {
    const predefined = [
      'States.ALL', 'States.TaskFailed', 'States.Timeout', 'States.HeartbeatTimeout', 'States.Permissions', 'States.BranchFailed',
      'States.NoChoiceMatched', 'States.ParameterPathFailure', 'States.ResultPathMatchFailure', 'States.IntrinsicFailure',
      'States.DataLimitExceeded', 'States.ExceedToleratedFailureThreshold', 'States.ItemReaderFailed', 'States.ResultWriterFailed',
      'States.Http.Socket', 'States.QueryEvaluationError', 'States.Runtime',
    ];
    expect(predefined.map(misspelledStatesError)).toEqual(predefined.map(() => undefined));
    expect(Object.values(STATES_ERRORS).sort()).toEqual([...predefined].sort());
    expect(misspelledStatesError('STATES.ALL')).toBe('States.ALL');
    expect(misspelledStatesError('states.runtime')).toBe('States.Runtime');
  });

  test('the closest predefined name within 2 edits is suggested, farther ones are "?"', () => {
    expect(misspelledStatesError('States.Timeo')).toBe('States.Timeout');
    expect(misspelledStatesError('States.Timeoutxx')).toBe('States.Timeout');
    expect(misspelledStatesError('States.Timeoutxxx')).toBe('?');
    expect(misspelledStatesError('States.Http.Sockt')).toBe('States.Http.Socket');
    expect(misspelledStatesError('States.')).toBe('?');
    // "State." is one edit from "States.": only the part after the prefix is compared.
    expect(misspelledStatesError('State.Timeoutxx')).toBe('States.Timeout');
    expect(misspelledStatesError('StatesX.ALL')).toBeUndefined();
    expect(misspelledStatesError('My.States.ALL')).toBeUndefined();
  });

  test('the transient Lambda errors to retry on every Lambda task', () => {
    expect(LAMBDA_SERVICE_ERRORS).toEqual([
      'Lambda.ClientExecutionTimeoutException',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ]);
  });
});

describe('ResilientTask limits at their edges', () => {
  const problems = (retry: Omit<RetrierSpec, 'errors'>) =>
    problemMessagesOf(() => {
      const stack = newStack();
      new ResilientTask(stack, 'Edge', { state: customTask(stack), retry: [{ errors: ['Boom'], ...retry }] });
    }).map((problem) => problem.split(':')[0]);

  test('maxAttempts from 0 to 99,999,999, whole', () => {
    expect(problems({ maxAttempts: 0 })).toEqual([]);
    expect(problems({ maxAttempts: 99_999_999 })).toEqual([]);
    expect(problems({ maxAttempts: 100_000_000 })).toEqual(['ResilientTask.MaxAttemptsRange']);
    expect(problems({ maxAttempts: 1.5 })).toEqual(['ResilientTask.MaxAttemptsRange']);
  });

  test('backoffRate at least 1, and finite', () => {
    expect(problems({ backoffRate: 1 })).toEqual([]);
    expect(problems({ backoffRate: 0.99 })).toEqual(['ResilientTask.BackoffRateRange']);
    expect(problems({ backoffRate: Number.POSITIVE_INFINITY })).toEqual(['ResilientTask.BackoffRateRange']);
    expect(problems({ backoffRate: Number.NaN })).toEqual(['ResilientTask.BackoffRateRange']);
  });

  test('interval from 1 s to 99,999,999 s, maxDelay from 1 s to 31,622,400 s', () => {
    expect(problems({ interval: Duration.seconds(1), maxDelay: Duration.seconds(1) })).toEqual([]);
    expect(problems({ interval: Duration.seconds(99_999_999), maxDelay: Duration.seconds(31_622_400) })).toEqual([]);
    expect(problems({ interval: Duration.seconds(0), maxDelay: Duration.seconds(0) })).toEqual([
      'ResilientTask.IntervalRange',
      'ResilientTask.MaxDelayRange',
    ]);
    expect(problems({ interval: Duration.seconds(100_000_000), maxDelay: Duration.seconds(31_622_401) })).toEqual([
      'ResilientTask.IntervalRange',
      'ResilientTask.MaxDelayRange',
    ]);
  });
});

describe('ResilientTask error lists', () => {
  const messagesOf = (props: { retry?: string[][]; catch?: string[][] }, state: (stack: Stack) => IRetryableState = customTask) =>
    problemMessagesOf(() => {
      const stack = newStack();
      new ResilientTask(stack, 'Lists', {
        state: state(stack),
        retry: (props.retry ?? []).map((errors) => ({ errors })),
        catch: (props.catch ?? []).map((errors, i) => ({ errors, handler: new sfn.Fail(stack, `F${i}`) })),
      });
    });

  test('a repeated error names the first entry that matches it', () => {
    expect(messagesOf({ retry: [['Boom'], ['Boom'], ['Boom']] })).toEqual([
      'ResilientTask.ShadowedError: retry[1]: Boom is already matched by retry[0], so this entry never matches it',
      'ResilientTask.ShadowedError: retry[2]: Boom is already matched by retry[0], so this entry never matches it',
    ]);
  });

  test('States.TaskFailed shadows from its first entry on, in catchers too; States.ALL last names the catcher', () => {
    expect(messagesOf({ catch: [[STATES_ERRORS.TASK_FAILED], ['Boom', STATES_ERRORS.TASK_FAILED], ['Other']] })).toEqual([
      'ResilientTask.ShadowedByTaskFailed: catch[1]: Boom is already matched by States.TaskFailed in catch[0] (it matches every error of a Task except States.Timeout): list specific errors before it',
      'ResilientTask.ShadowedError: catch[1]: States.TaskFailed is already matched by catch[0], so this entry never matches it',
      'ResilientTask.ShadowedByTaskFailed: catch[1]: States.TaskFailed is already matched by States.TaskFailed in catch[0] (it matches every error of a Task except States.Timeout): list specific errors before it',
      'ResilientTask.ShadowedByTaskFailed: catch[2]: Other is already matched by States.TaskFailed in catch[0] (it matches every error of a Task except States.Timeout): list specific errors before it',
    ]);
    expect(messagesOf({ catch: [[STATES_ERRORS.ALL], ['Boom']] })).toEqual([
      'ResilientTask.AllNotLast: catch[0]: States.ALL must be in the last catcher; the ones after it are never reached',
    ]);
  });

  test('a misspelled name with nothing close says custom names must not start with "States."', () => {
    expect(messagesOf({ retry: [['States.Nonsense']] })).toEqual([
      'ResilientTask.UnknownStatesError: retry[0]: States.Nonsense is not a predefined error name; custom error names must not start with "States."',
    ]);
  });

  test('States.TaskFailed shadows on a Task of the service integrations too, not on a Map', () => {
    const sqsTask = (stack: Stack) =>
      new tasks.SqsSendMessage(stack, 'Send', { queue: new sqs.Queue(stack, 'Queue'), messageBody: sfn.TaskInput.fromText('x') });
    expect(messagesOf({ retry: [[STATES_ERRORS.TASK_FAILED], ['Boom']] }, sqsTask).map((m) => m.split(':')[0])).toEqual([
      'ResilientTask.ShadowedByTaskFailed',
    ]);
    const map = (stack: Stack) => new sfn.Map(stack, 'Each').itemProcessor(new sfn.Pass(stack, 'Item'));
    expect(messagesOf({ retry: [[STATES_ERRORS.TASK_FAILED], ['Boom']] }, map)).toEqual([]);
  });

  test('resultPath: "$", "$.x" and "$[0]" are paths, "$x" and "x" are not; a token is trusted', () => {
    const resultPathProblems = (resultPath: string) =>
      problemMessagesOf(() => {
        const stack = newStack();
        new ResilientTask(stack, 'Paths', { state: customTask(stack), retry: [], catch: [{ handler: new sfn.Fail(stack, 'F'), resultPath }] });
      });
    for (const ok of ['$', '$.x', '$[0]', Token.asString({ Ref: 'Path' })]) expect(resultPathProblems(ok)).toEqual([]);
    expect(resultPathProblems('$x')).toEqual(['ResilientTask.ResultPathInvalid: catch[0]: resultPath must be a JSONPath starting with "$", got "$x"']);
    expect(resultPathProblems('x$.y')).toEqual(['ResilientTask.ResultPathInvalid: catch[0]: resultPath must be a JSONPath starting with "$", got "x$.y"']);
  });

  test('a "$" resultPath warns with the whole message; "$.error" does not warn', () => {
    const stack = newStack();
    const replacing = new ResilientTask(stack, 'Replacing', { state: customTask(stack, 'A'), retry: [], catch: [{ handler: new sfn.Fail(stack, 'F'), resultPath: '$' }] });
    const keeping = new ResilientTask(stack, 'Keeping', { state: customTask(stack, 'B'), retry: [], catch: [{ handler: new sfn.Fail(stack, 'G') }] });
    const warnings = (construct: Construct) => construct.node.metadata.filter((e) => e.type === 'aws:cdk:warning').map((e) => String(e.data));
    expect(warnings(replacing)).toEqual([
      'catch[0]: resultPath "$" replaces the state\'s input by the error, so the failure path loses the original input; use a path such as "$.error" to keep both [ack: ResilientTask.ResultPathReplacesInput]',
    ]);
    expect(warnings(keeping)).toEqual([]);
  });

  test('exposes the retriers as given and the state\'s end states', () => {
    const stack = newStack();
    const state = customTask(stack);
    const retry = [{ errors: ['Boom'] }];
    const fragment = new ResilientTask(stack, 'Exposed', { state, retry });
    expect(fragment.retriers).toBe(retry);
    expect(fragment.endStates).toEqual(state.endStates);
  });
});

describe('ResilientWorkflow options and limits', () => {
  test('execution data can be left out of the logs, and the comment is the definition\'s Comment', () => {
    const stack = newStack();
    const wf = new ResilientWorkflow(stack, 'Quiet', { definition: task(stack), includeExecutionData: false, comment: 'Orders, quietly' });
    const machine = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(wf.stateMachine.node.defaultChild as sfn.CfnStateMachine)];
    expect(machine.Properties.LoggingConfiguration.IncludeExecutionData).toBe(false);
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('\\"Comment\\":\\"Orders, quietly\\"');
  });

  test('a timeout in minutes is rendered in seconds', () => {
    const stack = newStack();
    const wf = new ResilientWorkflow(stack, 'Wf', { definition: task(stack), timeout: Duration.minutes(10) });
    const machine = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(wf.stateMachine.node.defaultChild as sfn.CfnStateMachine)];
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('\\"TimeoutSeconds\\":600');
  });

  test('timeouts from 1 s to 5 minutes (EXPRESS) or 1 year (STANDARD)', () => {
    const codes = (timeout: Duration, type?: sfn.StateMachineType) =>
      problemMessagesOf(() => {
        const s = newStack();
        new ResilientWorkflow(s, 'Wf', { definition: task(s), timeout, type });
      }).map((problem) => problem.split(':')[0]);
    expect(codes(Duration.seconds(1))).toEqual([]);
    expect(codes(Duration.seconds(31_536_000))).toEqual([]);
    expect(codes(Duration.seconds(31_536_001))).toEqual(['ResilientWorkflow.TimeoutRange']);
    expect(codes(Duration.seconds(300), sfn.StateMachineType.EXPRESS)).toEqual([]);
    expect(codes(Duration.seconds(301), sfn.StateMachineType.EXPRESS)).toEqual(['ResilientWorkflow.TimeoutRange']);
  });

  test('EXPRESS checks Map iterations too, and finds activities and .sync by their ARN', () => {
    const error = validationError((s) => {
      const custom = (id: string, resource: string) => new sfn.CustomState(s, id, { stateJson: { Type: 'Task', Resource: resource } });
      const each = new sfn.Map(s, 'Each').itemProcessor(
        custom('Await', 'arn:aws:states:::sqs:sendMessage.waitForTaskToken')
          .next(custom('Glue', 'arn:aws:states:::glue:startJobRun.sync'))
          .next(custom('Ask', 'arn:aws:states:us-east-1:123456789012:activity:Imported'))
          .next(custom('Fine', 'arn:aws:states:::glue:startJobRun.synchronously'))
          .next(custom('Batch', 'arn:aws:states:::batch:submitJob.sync'))
          .next(custom('AskAgain', 'arn:aws:states:us-east-1:123456789012:activity:Other')),
      );
      // Reached only as a catcher's handler.
      const guarded = new ResilientTask(s, 'Guarded', {
        state: custom('Work', 'arn:aws:states:::lambda:invoke'),
        retry: [],
        catch: [{ handler: custom('Escalate', 'arn:aws:states:::sns:publish.waitForTaskToken') }],
      });
      new ResilientWorkflow(s, 'Quick', { definition: sfn.Chain.start(guarded).next(each), type: sfn.StateMachineType.EXPRESS });
    });
    expect(error.problems.map((p) => p.message)).toEqual([
      'EXPRESS state machines do not support the callback pattern (.waitForTaskToken), used by Await, Escalate: use STANDARD',
      'EXPRESS state machines do not support the run-a-job pattern (.sync), used by Glue, Batch: use STANDARD',
      'EXPRESS state machines do not support activities, used by Ask, AskAgain: use STANDARD',
    ]);
  });

  test('acknowledges the function-version wildcard of each Lambda task, and the executions wildcard of each .sync child', () => {
    const stack = newStack();
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    const child = new sfn.StateMachine(stack, 'Child', { definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'P')) });
    const definition = new tasks.LambdaInvoke(stack, 'Invoke', { lambdaFunction: fn }).next(
      new tasks.StepFunctionsStartExecution(stack, 'RunChild', { stateMachine: child, integrationPattern: sfn.IntegrationPattern.RUN_JOB }),
    );
    const wf = new ResilientWorkflow(stack, 'Wf', { definition });
    const policy = wf.stateMachine.role.node.findChild('DefaultPolicy');
    const acknowledged = policy.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => Object.keys(e.data as object)[0]);
    const childRef = stack.getLogicalId(child.node.defaultChild as sfn.CfnStateMachine);
    expect(acknowledged).toEqual([
      `Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${childRef}"}]}]}*]`,
      `Annotation::AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
    ]);
  });
});
