import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { Aws, CfnElement, Duration, Fn, Stack, Stage, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { QueueWithDlq } from '../../lib/queue-with-dlq';
import { bundledHandlerCode } from '../../lib/core/bundling';
import { SafeNodejsFunction } from '../../lib/core/function';
import { findingResource, findingText, logicalIdOf } from '../../lib/core/nag-ids';
import { notifyOnAlarmAndOk } from '../../lib/core/alarms';
import { createFailureQueue, queueEncryption } from '../../lib/core/queues';
import { ConstructUsageError, ConstructValidationError, PropsValidator, tokenInSeconds } from '../../lib/core/validation';
import { problemMessagesOf, validationErrorOf } from '../support/validation';
import { testApp } from '../support/synth';

const CONSUMER_ENTRY = path.join(__dirname, '../../lambda/sqs-consumer/index.ts');

describe('SafeNodejsFunction', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');
  new SafeNodejsFunction(stack, 'Fn', { entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts') });
  const template = Template.fromStack(stack);

  test('runs on the latest Node.js runtime, arm64, with active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 10,
    });
  });

  test('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const tuned = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Tuned');
    new SafeNodejsFunction(tuned, 'Fn', {
      entry: path.join(__dirname, '../../lambda/sqs-consumer/index.ts'),
      logGroupProps: { retention: logs.RetentionDays.ONE_WEEK },
    });
    Template.fromStack(tuned).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('FnLogs') } },
    });
  });

  test('has a role without AWS managed policies that may write only to its log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnLogs'), 'Arn'] },
          },
        ],
      },
    });
  });

  test('keeps the X-Ray wildcard in a policy of its own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('XRayWrite'),
      PolicyDocument: {
        Statement: [{ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' }],
      },
    });
  });
});

describe('PropsValidator', () => {
  test('throws nothing when every requirement holds', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.require(true, 'Fine', 'never shown');
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('throws one error with every problem, its code and the construct path', () => {
    const stack = new Stack(undefined, 'Owner');
    const check = new PropsValidator(stack, 'Thing');
    check.require(false, 'First', 'first problem');
    check.require(false, 'Second', 'second problem');
    let thrown: unknown;
    try {
      check.throwIfInvalid();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConstructValidationError);
    expect((thrown as ConstructValidationError).constructPath).toBe('Owner');
    expect((thrown as Error).message).toBe(
      'Owner: 2 problems in props:\n  - [Thing.First] first problem\n  - [Thing.Second] second problem',
    );
  });
});

describe('PropsValidator.inRange', () => {
  const codes = (value: number | undefined, range: { min?: number; max?: number; whole?: boolean }) =>
    problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      check.inRange(value, range, 'Range', 'out of range');
      check.throwIfInvalid();
    });
  test('accepts both ends and refuses one unit beyond each', () => {
    expect([0, 1, 10, 11].map((v) => codes(v, { min: 1, max: 10, whole: true }).length)).toEqual([1, 0, 0, 1]);
    expect([0.99, 1, 10, 10.01].map((v) => codes(v, { min: 1, max: 10 }).length)).toEqual([1, 0, 0, 1]);
  });
  test('refuses a fraction when whole, NaN always; an open end has no limit; undefined is not checked', () => {
    expect(codes(1.5, { min: 1, max: 10, whole: true })).toEqual(['Thing.Range: out of range']);
    expect(codes(1.5, { min: 1, max: 10 })).toEqual([]);
    expect(codes(Number.NaN, {})).toEqual(['Thing.Range: out of range']);
    expect(codes(-1e12, { max: 0 })).toEqual([]);
    expect(codes(1e12, { min: 0 })).toEqual([]);
    expect(codes(undefined, { min: 1 })).toEqual([]);
  });
});

describe('PropsValidator.seconds', () => {
  const validate = (build: (check: PropsValidator) => void) =>
    problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      build(check);
      check.throwIfInvalid();
    });

  test('converts a whole number of seconds', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.minutes(2), 'timeout')).toBe(120);
    expect(check.seconds(undefined, 'timeout')).toBeUndefined();
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('lists a duration that is not whole seconds with the other problems, instead of throwing CDK\'s error', () => {
    expect(
      validate((check) => {
        check.seconds(Duration.millis(1500), 'timeout');
        check.require(false, 'Other', 'another problem');
      }),
    ).toEqual([
      'Thing.NotWholeSeconds: timeout must be a whole number of seconds, got 1.5 s',
      'Thing.Other: another problem',
    ]);
  });

  test('keeps fractions where the property takes them', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.millis(1500), 'interval', { integral: false })).toBe(1.5);
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('lists a token in another unit than the property takes, since it cannot be converted at synth', () => {
    const token = Token.asNumber({ Ref: 'Timeout' });
    expect(
      validate((check) => {
        check.seconds(Duration.minutes(token), 'timeout');
        check.seconds(Duration.seconds(token), 'interval', { tokenUnit: 'minutes' });
        check.seconds(Duration.millis(token), 'age', { tokenUnit: 'millis' });
      }),
    ).toEqual([
      'Thing.TokenNotInSeconds: timeout is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)',
      'Thing.TokenNotInMinutes: interval is a token in seconds, which cannot be converted at synth: give it as Duration.minutes(token)',
    ]);
    expect(tokenInSeconds(Duration.seconds(token))).toBe(token);
    expect(tokenInSeconds(Duration.minutes(token))).toBeUndefined();
    expect(tokenInSeconds(Duration.seconds(5))).toBeUndefined();
  });

  test('skips a token, whose value is known only at deploy time', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.seconds(Token.asNumber({ Ref: 'Timeout' })), 'timeout')).toBeUndefined();
    expect(() => check.throwIfInvalid()).not.toThrow();
  });
});

describe('PropsValidator.existingOrProps', () => {
  test('refuses an existing resource together with settings for a new one, with a code naming both', () => {
    const messages = problemMessagesOf(() => {
      const check = new PropsValidator(new Stack(), 'Thing');
      check.existingOrProps('a log group', { retention: 7 }, { existing: 'logGroup', props: 'logGroupProps', who: 'workflow' });
      check.throwIfInvalid();
    });
    expect(messages).toEqual([
      'Thing.LogGroupAndLogGroupProps: workflow: give either logGroup (an existing resource) or logGroupProps (for the one to create), not both',
    ]);
  });

  test('accepts either one alone, or neither', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.existingOrProps('a queue', undefined, { existing: 'queue', props: 'queueProps' });
    check.existingOrProps(undefined, {}, { existing: 'queue', props: 'queueProps' });
    check.existingOrProps(undefined, undefined, { existing: 'queue', props: 'queueProps' });
    expect(() => check.throwIfInvalid()).not.toThrow();
  });
});

describe('what a user reads in their own app', () => {
  const thisFile = path.basename(__filename);
  const libraryFrame = new RegExp(`${path.sep}lib${path.sep}(core|queue-with-dlq)${path.sep}`);

  test('an uncaught props error prints the coded list once, then only the frames of the code that wrote the construct', () => {
    let thrown: unknown;
    try {
      new QueueWithDlq(new Stack(undefined, 'Orders'), 'Bad', { visibilityTimeout: Duration.hours(13), maxReceiveCount: 0 });
    } catch (error) {
      thrown = error;
    }
    // What Node.js prints for an uncaught error.
    const printed = inspect(thrown);
    const [heading, ...rest] = printed.split('\n');
    expect(heading).toBe('ConstructValidationError: Orders/Bad: 2 problems in props:');
    expect(rest.slice(0, 2)).toEqual([
      expect.stringContaining('[QueueWithDlq.VisibilityTimeoutRange]'),
      expect.stringContaining('[QueueWithDlq.MaxReceiveCountRange]'),
    ]);
    const frames = rest.slice(2);
    expect(frames[0]).toContain(thisFile);
    expect(frames.filter((frame) => libraryFrame.test(frame) || frame.includes('node_modules'))).toEqual([]);
    expect(printed.match(/VisibilityTimeoutRange/g)).toHaveLength(1);
    expect((thrown as ConstructValidationError).problems).toHaveLength(2);
  });

  test('an uncaught usage error prints its message without its fields as an object', () => {
    const printed = inspect(new ConstructUsageError('Lab/Orders', 'FanOut.UnknownSubscriber', 'no subscriber "audit"'));
    expect(printed.split('\n')[0]).toBe('ConstructUsageError: Lab/Orders: [FanOut.UnknownSubscriber] no subscriber "audit"');
    expect(printed).not.toMatch(/code:|constructPath:/);
  });

  test('a warning is traced to the code that wrote the construct, where the CLI shows it', () => {
    const stack = new Stack();
    const queue = new QueueWithDlq(stack, 'Kept', { visibilityTimeout: Duration.seconds(30), retentionPeriod: Duration.days(14) });
    const [warning] = queue.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning');
    expect(warning.data).toContain('[ack: QueueWithDlq.DlqRetentionNotLonger]');
    expect(warning.trace?.[0]).toContain(thisFile);
    expect((warning.trace ?? []).filter((frame) => libraryFrame.test(frame))).toEqual([]);
  });
});

test('ConstructUsageError names the construct path and the code', () => {
  const error = new ConstructUsageError('Lab/Orders', 'FanOut.UnknownSubscriber', 'no subscriber "audit"');
  expect(error.message).toBe('Lab/Orders: [FanOut.UnknownSubscriber] no subscriber "audit"');
  expect(error.code).toBe('FanOut.UnknownSubscriber');
});

describe('shared alarm and queue pieces', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Pieces');
  const topic = new sns.Topic(stack, 'Topic');
  const metric = new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' });
  notifyOnAlarmAndOk(topic, [metric.createAlarm(stack, 'Notified', { threshold: 1, evaluationPeriods: 1 })]);
  notifyOnAlarmAndOk(undefined, [metric.createAlarm(stack, 'Silent', { threshold: 1, evaluationPeriods: 1 })]);
  const key = new kms.Key(stack, 'Key');
  createFailureQueue(stack, 'Failures', { encryptionKey: key, fifo: true, endOfFailurePath: 'test' });
  createFailureQueue(stack, 'Plain', { endOfFailurePath: 'test' });
  const template = Template.fromStack(stack);

  test('an alarm with a topic notifies it on ALARM and on OK; without one, nobody', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const notified = Object.entries(alarms).find(([id]) => id.startsWith('Notified'))![1].Properties;
    const silent = Object.entries(alarms).find(([id]) => id.startsWith('Silent'))![1].Properties;
    expect(notified.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }]);
    expect(notified.OKActions).toEqual(notified.AlarmActions);
    expect(silent.AlarmActions).toBeUndefined();
    expect(silent.OKActions).toBeUndefined();
  });

  test('a failure queue keeps messages 14 days, encrypted with the given key or SSE-SQS', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: Match.absent(),
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
  });

  test('a failure queue refuses plain HTTP', () => {
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      { PolicyDocument: { Statement: [Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny' })] } },
      2,
    );
  });

  test('queueEncryption chooses SSE-KMS for a key and SSE-SQS without one', () => {
    expect(queueEncryption(key)).toEqual({ encryption: 'KMS', encryptionMasterKey: key });
    expect(queueEncryption(undefined)).toEqual({ encryption: 'SQS_MANAGED' });
  });
});

describe('SafeNodejsFunction settings', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Settings');
  const plain = new SafeNodejsFunction(stack, 'Plain', { entry: CONSUMER_ENTRY });
  const tuned = new SafeNodejsFunction(stack, 'Tuned', {
    entry: CONSUMER_ENTRY,
    handler: 'onMessage',
    memorySize: 512,
    timeout: Duration.seconds(30),
    environment: { TABLE: 'orders' },
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: Record<string, unknown>; DependsOn?: string[] }>;
  const functionOf = (fn: SafeNodejsFunction) => resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)];

  test('defaults to 256 MB, 10 s, index.handler and source maps on', () => {
    expect(functionOf(plain).Properties).toMatchObject({
      MemorySize: 256,
      Timeout: 10,
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps' } },
    });
  });

  test('takes memory, timeout and environment from its props, and calls the export named by handler', () => {
    expect(functionOf(tuned).Properties).toMatchObject({
      MemorySize: 512,
      Timeout: 30,
      Handler: 'index.onMessage',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', TABLE: 'orders' } },
    });
  });

  test('its role says whose it is, and the function waits for its X-Ray policy', () => {
    const role = Object.values(resources).find((r) => r.Properties?.Description === 'Execution role of Settings/Plain');
    expect(role).toBeDefined();
    const xray = plain.node.findChild('XRayWrite');
    expect(functionOf(plain).DependsOn).toContain(stack.getLogicalId(xray.node.defaultChild as CfnElement));
    expect(xray.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data)).toEqual([
      {
        'Annotation::AwsSolutions-IAM5[Resource::*]':
          'xray:PutTraceSegments and xray:PutTelemetryRecords have no resource ARN; the X-Ray docs require "*".',
      },
    ]);
    expect((role!.Properties.AssumeRolePolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  test('keeps its log group when the stack is deleted', () => {
    const logGroup = plain.node.scope!.node.findChild('PlainLogs').node.defaultChild as CfnElement;
    expect((resources[stack.getLogicalId(logGroup)] as { DeletionPolicy?: string }).DeletionPolicy).toBe('Retain');
  });

  test('a handler must be a JavaScript identifier, and the entry must exist, both listed at once', () => {
    const problems = (entry: string, handler: string) =>
      problemMessagesOf(() => new SafeNodejsFunction(new Stack(testApp(), 'Checked'), 'Fn', { entry, handler }));
    for (const handler of ['handler', '$h', '_h1', 'A']) expect(problems(CONSUMER_ENTRY, handler)).toEqual([]);
    for (const handler of ['1h', 'on-message', 'index.handler', 'h ', '']) {
      expect(problems(CONSUMER_ENTRY, handler)).toEqual([
        `SafeNodejsFunction.HandlerNotAnExportName: handler ${handler} is not the name of an exported function: give the name alone (the bundle is always index.js)`,
      ]);
    }
    expect(validationErrorOf(() => new SafeNodejsFunction(new Stack(testApp(), 'Checked'), 'Fn', { entry: '/nowhere/index.ts' })).constructPath).toBe(
      'Checked/Fn',
    );
    expect(problems('/nowhere/index.ts', 'x-y')).toEqual([
      'SafeNodejsFunction.EntryNotFound: entry /nowhere/index.ts does not exist',
      'SafeNodejsFunction.HandlerNotAnExportName: handler x-y is not the name of an exported function: give the name alone (the bundle is always index.js)',
    ]);
  });
});

describe('bundledHandlerCode', () => {
  // Handlers of a few bytes in a scratch folder: esbuild takes milliseconds for each.
  const scratch = mkdtempSync(path.join(tmpdir(), 'core-bundling-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const handlerFile = (name: string, source: string) => {
    mkdirSync(path.join(scratch, name));
    writeFileSync(path.join(scratch, name, 'index.ts'), source);
    return path.join(scratch, name, 'index.ts');
  };
  const bundlingStack = (id: string) => new Stack(testApp({ 'aws:cdk:bundling-stacks': ['**'] }, { builtinCloudFormationValidation: false }), id);

  const entry = handlerFile(
    'ok',
    "import { SQSClient } from '@aws-sdk/client-sqs';\nexport const handler = async (event: { n?: number }) => {\n  const longVariableName = event.n ?? 1;\n  return { client: typeof SQSClient, value: longVariableName * 2 };\n};\n",
  );
  const stack = bundlingStack('Bundled');
  const bundled = bundledHandlerCode(stack, 'Fn', entry);

  test('minified CommonJS for Node.js with a source map, the AWS SDK left to the runtime', () => {
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: bundled.code });
    const asset = fn.node.findChild('Code') as unknown as { assetPath: string };
    const dir = path.resolve(Stage.of(stack)!.outdir, asset.assetPath);
    const js = readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(js.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(js).not.toContain('longVariableName');
    expect(js).toContain('module.exports');
    expect(js).toContain('require("@aws-sdk/client-sqs")');
    expect(js).toContain('??');
    expect(JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8')).sources).toEqual(['index.ts']);
    expect(bundled.warnings).toEqual([]);
  });

  test('esbuild\'s warnings are returned as file:line:column: text, its columns counted from 1, by every build of that entry', () => {
    const warned = handlerFile('warned', 'export const handler = async () => ({ a: 1, a: 2 });\n');
    const expected = [`${path.relative(process.cwd(), warned)}:1:45: Duplicate key "a" in object literal`];
    expect(bundledHandlerCode(bundlingStack('Warned'), 'Fn', warned).warnings).toEqual(expected);
    // The second build of an entry comes from the bundle kept in this process.
    expect(bundledHandlerCode(bundlingStack('WarnedAgain'), 'Fn', warned).warnings).toEqual(expected);
  });

  test('a handler that does not compile is SafeNodejsFunction.EntryDoesNotCompile, naming the construct', () => {
    const broken = handlerFile('broken', 'export const handler = async () => {\n  return 1 +;\n};\n');
    const error = validationErrorOf(() => bundledHandlerCode(bundlingStack('Broken'), 'Fn', broken));
    expect(error.constructPath).toBe('Broken/Fn');
    expect(error.problems).toEqual([
      { code: 'SafeNodejsFunction.EntryDoesNotCompile', message: `${path.relative(process.cwd(), broken)}:2:13: Unexpected ";"` },
    ]);
  });

  test('with bundling skipped, nothing is built and nothing is reported', () => {
    const broken = handlerFile('skipped', 'export const handler = (;\n');
    expect(bundledHandlerCode(new Stack(testApp(), 'Skipped'), 'Fn', broken).warnings).toEqual([]);
  });
});

describe('cdk-nag finding ids', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Nag');
  const topic = new sns.Topic(stack, 'Topic');
  const key = new kms.Key(stack, 'Key');
  const topicId = stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic);
  const keyId = stack.getLogicalId(key.node.defaultChild as kms.CfnKey);

  test('findingText: a literal as is, a Ref as <Id>, a GetAtt as <Id.Attr>, another token undefined', () => {
    expect(findingText(stack, 'plain')).toBe('plain');
    expect(findingText(stack, topic.topicArn)).toBe(`<${topicId}>`);
    expect(findingText(stack, key.keyArn)).toBe(`<${keyId}.Arn>`);
    expect(findingText(stack, Fn.join('-', ['a', topic.topicArn]))).toBeUndefined();
  });

  test('logicalIdOf: the id of a construct\'s resource, or of the resource itself', () => {
    expect(logicalIdOf(topic)).toBe(topicId);
    expect(logicalIdOf(topic.node.defaultChild as sns.CfnTopic)).toBe(topicId);
  });

  test('findingResource: references in <>, joins concatenated, Sub flattened, anything else as JSON', () => {
    expect(findingResource(stack, 'arn:aws:s3:::bucket/*')).toBe('arn:aws:s3:::bucket/*');
    expect(findingResource(stack, `${key.keyArn}/*`)).toBe(`<${keyId}.Arn>/*`);
    expect(findingResource(stack, Fn.join(':', ['arn', Aws.PARTITION, topic.topicArn]))).toBe(`arn:<AWS::Partition>:<${topicId}>`);
    expect(findingResource(stack, Fn.sub('arn:${AWS::Partition}:sns:${AWS::Region}:x'))).toBe('arn:<AWS::Partition>:sns:<AWS::Region>:x');
    expect(findingResource(stack, topic.topicArn)).toBe(`<${topicId}>`);
    expect(findingResource(stack, Fn.select(0, ['a', 'b']))).toBe('a');
    expect(findingResource(stack, Fn.select(0, Fn.split(',', topic.topicArn)))).toBe(
      JSON.stringify({ 'Fn::Select': [0, { 'Fn::Split': [',', { Ref: topicId }] }] }),
    );
  });
});

describe('validation errors at their edges', () => {
  test('one problem is "1 problem"; the fields do not print again', () => {
    const error = new ConstructValidationError('Lab/Thing', [{ code: 'Thing.Bad', message: 'bad' }]);
    expect(error.message).toBe('Lab/Thing: 1 problem in props:\n  - [Thing.Bad] bad');
    expect(error.name).toBe('ConstructValidationError');
    expect(Object.keys(error)).toEqual(['name']);
    expect(error.problems).toEqual([{ code: 'Thing.Bad', message: 'bad' }]);
    expect(error.stack?.split('\n')[0]).toBe(`ConstructValidationError: ${error.message.split('\n')[0]}`);
  });

  test('a usage error is named, keeps its code and path out of the printed object, and its stack starts with its message', () => {
    const error = new ConstructUsageError('Lab/Orders', 'FanOut.UnknownSubscriber', 'no subscriber');
    expect(error.name).toBe('ConstructUsageError');
    expect(error.constructPath).toBe('Lab/Orders');
    expect(Object.keys(error)).toEqual(['name']);
    expect(error.stack?.split('\n')[0]).toBe('ConstructUsageError: Lab/Orders: [FanOut.UnknownSubscriber] no subscriber');
    expect(error.stack?.split('\n').slice(1).every((frame) => /^\s+at /.test(frame) && !frame.includes('node_modules') && !/node:/.test(frame))).toBe(true);
  });

  test('seconds rounds a fraction up after recording it; days and millis tokens name their factory', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    expect(check.seconds(Duration.millis(1500), 'timeout')).toBe(2);
    expect(check.seconds(Duration.millis(2000), 'timeout')).toBe(2);
    const token = Token.asNumber({ Ref: 'Age' });
    check.seconds(Duration.seconds(token), 'age', { tokenUnit: 'days' });
    check.seconds(Duration.seconds(token), 'wait', { tokenUnit: 'millis' });
    expect(problemMessagesOf(() => check.throwIfInvalid())).toEqual([
      'Thing.NotWholeSeconds: timeout must be a whole number of seconds, got 1.5 s',
      'Thing.TokenNotInDays: age is a token in seconds, which cannot be converted at synth: give it as Duration.days(token)',
      'Thing.TokenNotInMillis: wait is a token in seconds, which cannot be converted at synth: give it as Duration.millis(token)',
    ]);
  });

  test('inRange without whole accepts fractions inside, and records nothing for a value inside', () => {
    const check = new PropsValidator(new Stack(), 'Thing');
    check.inRange(5.5, { min: 1, max: 10, whole: false }, 'Range', 'out');
    check.inRange(10, { max: 10 }, 'Range', 'out');
    check.inRange(1, { min: 1 }, 'Range', 'out');
    expect(() => check.throwIfInvalid()).not.toThrow();
  });

  test('existingOrProps without who starts the message with "give"', () => {
    expect(
      problemMessagesOf(() => {
        const check = new PropsValidator(new Stack(undefined, 'S'), 'Thing');
        check.existingOrProps(1, 2, { existing: 'role', props: 'roleProps' });
        check.throwIfInvalid();
      }),
    ).toEqual(['Thing.RoleAndRoleProps: give either role (an existing resource) or roleProps (for the one to create), not both']);
  });

  test('a message that reads like a stack frame is printed once, in the heading only', () => {
    const error = new ConstructValidationError('Lab/Thing', [{ code: 'Thing.Min', message: 'must be at least 1' }]);
    expect(error.stack?.match(/must be at least 1/g)).toHaveLength(1);
  });

  test('tokenInSeconds of no duration is undefined', () => {
    expect(tokenInSeconds(undefined)).toBeUndefined();
  });

  test('a warning is recorded even when CDK records no stack traces', () => {
    const stack = new Stack(testApp(), 'NoTraces');
    new PropsValidator(stack, 'Thing').warnUnless(false, 'Odd', 'odd but allowed');
    expect(stack.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => entry.data)).toEqual(['odd but allowed [ack: Thing.Odd]']);
  });

  test('a warning that holds records nothing', () => {
    const stack = new Stack();
    new PropsValidator(stack, 'Thing').warnUnless(true, 'Fine', 'never shown');
    expect(stack.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning')).toEqual([]);
  });
});

test('a failure queue is acknowledged as the end of its failure path, with the reason given', () => {
  const stack = new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Ack');
  const queue = createFailureQueue(stack, 'Dlq', { endOfFailurePath: 'SNS puts undeliverable messages here' });
  expect(queue.node.metadata.filter((e) => e.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((e) => e.data)).toEqual([
    { 'Annotation::AwsSolutions-SQS3': 'SNS puts undeliverable messages here' },
  ]);
});
