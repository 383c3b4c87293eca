import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { SafeNodejsFunction } from '../core/function';
import { CreatedLogGroupProps, DEFAULT_LOG_RETENTION } from '../core/logs';
import { PropsValidator } from '../core/validation';

/** Limits these props are checked against (Step Functions "Task" state; API Gateway stage throttling). */
export const HUMAN_APPROVAL_LIMITS = {
  minTimeoutSeconds: 1,
  /** A task waits at most a year (a STANDARD execution's longest run). */
  maxTimeoutSeconds: 31_536_000,
  minThrottlingRateLimit: 1,
  /** API Gateway's default account-level throttle per Region. */
  maxThrottlingRateLimit: 10_000,
} as const;

/** Access logs of the decision API: where they go. */
export interface HumanApprovalAccessLogsOptions {
  /** An existing log group for the access logs. @default - a log group is created */
  readonly logGroup?: logs.ILogGroup;
  /** Settings of the log group created when `logGroup` is not given. @default - retention of one month, kept on stack deletion */
  readonly logGroupProps?: CreatedLogGroupProps;
}

export interface HumanApprovalProps {
  /** Email address subscribed to the approval topic (it must confirm the subscription once). @default - none: subscribe later */
  readonly email?: string;
  /** How long a request waits for a decision before the task fails with States.Timeout (1 s – 1 year). @default Duration.days(1) */
  readonly timeout?: Duration;
  /** What the approver sees as the request. @default - the state's whole input */
  readonly request?: sfn.TaskInput;
  /** Where `{ decision, decidedAt }` goes in the state's input. @default '$.approval' */
  readonly resultPath?: string;
  /**
   * Access logs of the decision API in a log group; `false` turns them off. API Gateway writes them only once the
   * account has a CloudWatch Logs role in its API Gateway settings (account-wide, per Region; see the README).
   * @default - on, to a log group created with one month's retention
   */
  readonly accessLogs?: false | HumanApprovalAccessLogsOptions;
  /** Requests per second the decision API accepts (burst: twice that). @default 5 */
  readonly throttlingRateLimit?: number;
}

/**
 * Human approval in a workflow: a Lambda task with `.waitForTaskToken` emails (SNS) an approve and a reject link; the
 * links open an API Gateway page that asks to confirm, then records the decision with SendTaskSuccess, as
 * `{ decision: 'approved' | 'rejected' }`. Follow it with a Choice on `$.approval.decision`, and let the endpoint
 * answer: `approval.allowDecisionsOn(workflow.stateMachine)`.
 */
export class HumanApproval extends sfn.StateMachineFragment {
  public readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[];
  public readonly topic: sns.ITopic;
  public readonly notifier: SafeNodejsFunction;
  public readonly endpoint: SafeNodejsFunction;
  public readonly api: apigw.RestApi;
  /**
   * Where the decision API writes its access logs: `accessLogs.logGroup`, or the log group created for them.
   * Undefined only with `accessLogs: false`.
   */
  public readonly accessLogGroup?: logs.ILogGroup;
  /** The URL the emailed links point to. */
  public readonly decisionUrl: string;
  public readonly task: tasks.LambdaInvoke;

  constructor(scope: Construct, id: string, props: HumanApprovalProps = {}) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.days(1);
    const rate = props.throttlingRateLimit ?? 5;
    const limits = HUMAN_APPROVAL_LIMITS;
    const check = new PropsValidator(this, 'HumanApproval');
    // Not whole seconds is part of TimeoutRange, so integral: false.
    const seconds = check.seconds(timeout, 'timeout', { integral: false });
    if (seconds !== undefined) {
      check.inRange(
        seconds,
        { min: limits.minTimeoutSeconds, max: limits.maxTimeoutSeconds, whole: true },
        'TimeoutRange',
        `timeout must be whole seconds from ${limits.minTimeoutSeconds} to ${limits.maxTimeoutSeconds} (1 year), got ${seconds} s`,
      );
    }
    if (props.email !== undefined && !Token.isUnresolved(props.email)) {
      check.require(/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.email), 'EmailInvalid', `email "${props.email}" is not an email address`);
    }
    check.inRange(
      rate,
      { min: limits.minThrottlingRateLimit, max: limits.maxThrottlingRateLimit },
      'ThrottlingRange',
      `throttlingRateLimit must be between ${limits.minThrottlingRateLimit} and ${limits.maxThrottlingRateLimit}, got ${rate}`,
    );
    if (props.accessLogs) {
      check.existingOrProps(props.accessLogs.logGroup, props.accessLogs.logGroupProps, {
        existing: 'logGroup',
        props: 'logGroupProps',
        who: 'accessLogs',
      });
    }
    check.throwIfInvalid();

    // The AWS managed SNS key: encrypted at rest without a customer managed key's $1/month.
    const topic = new sns.Topic(this, 'Topic', {
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (props.email) topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.topic = topic;

    this.endpoint = new SafeNodejsFunction(this, 'Endpoint', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'sfn-approval-endpoint', 'index.ts'),
      description: 'Approval page: confirms, then records the decision with SendTaskSuccess',
    });
    this.accessLogGroup = this.createAccessLogGroup(props);
    this.api = this.decisionApi(props, rate);
    this.decisionUrl = this.api.urlForPath('/decision');

    this.notifier = new SafeNodejsFunction(this, 'Notifier', {
      entry: path.join(__dirname, '..', '..', 'lambda', 'sfn-approval-notifier', 'index.ts'),
      description: 'Emails the approve and reject links of an approval request',
      environment: { TOPIC_ARN: this.topic.topicArn },
    });
    // sns:Publish only: the AWS managed key's policy already lets the account's principals use it through SNS, and
    // topic.grantPublish would add kms:GenerateDataKey* on every key of the account (the alias names no key ARN).
    this.notifier.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }));

    this.task = new tasks.LambdaInvoke(this, id, {
      comment: 'Human approval: waits until the approver\'s decision returns the task token',
      lambdaFunction: this.notifier,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        decisionUrl: this.decisionUrl,
        request: props.request?.value ?? sfn.JsonPath.entirePayload,
      }),
      taskTimeout: sfn.Timeout.duration(timeout),
      resultPath: props.resultPath ?? '$.approval',
    });
    this.startState = this.task;
    this.endStates = this.task.endStates;
  }

  /**
   * Lets the endpoint answer tasks of `stateMachine` (SendTaskSuccess). In a policy of its own: the state machine's
   * definition holds the API's URL, so a grant in the endpoint's default policy (which its function waits for) would
   * make a circular dependency.
   */
  allowDecisionsOn(stateMachine: sfn.IStateMachine): iam.Policy {
    const policy = new iam.Policy(this, 'DecisionPermission', {
      statements: [
        new iam.PolicyStatement({
          actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
    policy.attachToRole(this.endpoint.role!);
    return policy;
  }

  private createAccessLogGroup(props: HumanApprovalProps): logs.ILogGroup | undefined {
    const accessLogs = props.accessLogs ?? {};
    if (!accessLogs) return undefined;
    return (
      accessLogs.logGroup ??
      new logs.LogGroup(this, 'AccessLogs', {
        retention: accessLogs.logGroupProps?.retention ?? DEFAULT_LOG_RETENTION,
        removalPolicy: RemovalPolicy.RETAIN,
      })
    );
  }

  private decisionApi(props: HumanApprovalProps, rate: number): apigw.RestApi {
    const accessLogs = props.accessLogs ?? {};
    const accessLogGroup = this.accessLogGroup;
    const api = new apigw.RestApi(this, 'Api', {
      restApiName: `${Aws.STACK_NAME}-${this.node.id}`,
      description: 'Records approve/reject decisions of a Step Functions workflow',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: false,
      deployOptions: {
        throttlingRateLimit: rate,
        throttlingBurstLimit: rate * 2,
        tracingEnabled: true,
        ...(accessLogGroup
          ? {
              accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
              // No query string: the links carry the task token there, and it must not land in logs.
              accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
                caller: false,
                httpMethod: true,
                ip: true,
                protocol: true,
                requestTime: true,
                resourcePath: true,
                responseLength: true,
                status: true,
                user: false,
              }),
            }
          : {}),
      },
    });
    const validator = api.addRequestValidator('QueryValidator', { validateRequestParameters: true, validateRequestBody: true });
    const integration = new apigw.LambdaIntegration(this.endpoint);
    const decision = api.root.addResource('decision');
    decision.addMethod('GET', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.querystring.token': true, 'method.request.querystring.action': true },
    });
    decision.addMethod('POST', integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.header.Content-Type': true },
    });

    const reasons: [string, string][] = [
      [
        'AwsSolutions-APIG4',
        'The links are opened from an email client, which cannot sign requests or carry a login: the task token in ' +
          'the link is the bearer secret (opaque, unguessable, valid only while this one task waits, single use).',
      ],
      ['AwsSolutions-COG4', 'Same as APIG4: email links cannot carry Cognito tokens; the task token is the credential.'],
      [
        'AwsSolutions-APIG3',
        'A WAF web ACL costs $5/month plus $1 per rule while idle; the stage is throttled instead and every decision ' +
          'needs a valid, unexpired task token.',
      ],
      [
        'AwsSolutions-APIG6',
        'Execution logging needs the account-level API Gateway CloudWatch Logs role, an account-wide setting this ' +
          'construct must not change; access logs and X-Ray tracing are on, and the function logs every decision.',
      ],
    ];
    if (!accessLogs) {
      reasons.push([
        'AwsSolutions-APIG1',
        'Access logging is off (accessLogs: false) because API Gateway refuses a log destination until the account ' +
          'has its CloudWatch Logs role; the function logs every decision.',
      ]);
    }
    for (const [ruleId, reason] of reasons) Validations.of(api).acknowledge({ id: ruleId, reason });
    return api;
  }
}
