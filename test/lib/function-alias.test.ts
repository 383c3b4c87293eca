import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { FunctionAlias, FunctionAliasProps } from '../../lib/function-alias';
import { testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

function fixture(stack: Stack, id = 'Fn') {
  const fn = new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => 1'),
  });
  const v1 = new lambda.Version(stack, `${id}V1`, { lambda: fn, description: 'one' });
  const v2 = new lambda.Version(stack, `${id}V2`, { lambda: fn, description: 'two' });
  return { fn, v1, v2 };
}

function problemsOf(props: (f: ReturnType<typeof fixture>, stack: Stack) => FunctionAliasProps) {
  const stack = newStack();
  return validationErrorOf(() => new FunctionAlias(stack, 'Alias', props(fixture(stack), stack)));
}

describe('FunctionAlias defaults', () => {
  const stack = newStack();
  const { v1 } = fixture(stack);
  const alias = new FunctionAlias(stack, 'Alias', { version: v1 });
  const template = Template.fromStack(stack);

  test('creates alias "live" on the version, with all traffic and no provisioned concurrency', () => {
    expect(alias.aliasName).toBe('live');
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnV1'), 'Version'] },
      RoutingConfig: Match.absent(),
      ProvisionedConcurrencyConfig: Match.absent(),
    });
  });

  test('configures asynchronous invocation on the alias: Lambda\'s defaults made explicit (2 retries, 6 hours)', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21_600 });
    expect(alias.retryAttempts).toBe(2);
    expect(alias.maxEventAge.toHours()).toBe(6);
  });
});

test('keeps execution environments initialised on the alias when asked (provisioned concurrency)', () => {
  const stack = newStack();
  new FunctionAlias(stack, 'Alias', { version: fixture(stack).v1, provisionedConcurrency: 2 });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 } });
});

test('routes a share of the invocations to a canary version, and sets retries, age and destinations', () => {
  const stack = newStack();
  const { v1, v2 } = fixture(stack);
  const queue = new sqs.Queue(stack, 'Failures');
  new FunctionAlias(stack, 'Alias', {
    aliasName: 'prod',
    version: v1,
    canary: { version: v2, weight: 0.1 },
    retryAttempts: 0,
    maxEventAge: Duration.minutes(1),
    onFailure: new SqsDestination(queue),
  });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::Alias', {
    Name: 'prod',
    RoutingConfig: { AdditionalVersionWeights: [{ FunctionVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnV2'), 'Version'] }, FunctionWeight: 0.1 }] },
  });
  template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
    MaximumRetryAttempts: 0,
    MaximumEventAgeInSeconds: 60,
    DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Failures'), 'Arn'] } } },
  });
});

describe('FunctionAlias validation', () => {
  test.each([
    ['aliasName 42', { aliasName: '42' }, 'FunctionAlias.AliasName', 'aliasName must be 1–128 letters, digits, "-" or "_" and not only digits, got "42"'],
    ['aliasName "my alias"', { aliasName: 'my alias' }, 'FunctionAlias.AliasName', 'got "my alias"'],
    ['retryAttempts 3', { retryAttempts: 3 }, 'FunctionAlias.RetryAttemptsRange', 'retryAttempts must be 0, 1 or 2, got 3'],
    ['retryAttempts -1', { retryAttempts: -1 }, 'FunctionAlias.RetryAttemptsRange', 'got -1'],
    ['retryAttempts 1.5', { retryAttempts: 1.5 }, 'FunctionAlias.RetryAttemptsRange', 'got 1.5'],
    ['maxEventAge 59 s', { maxEventAge: Duration.seconds(59) }, 'FunctionAlias.MaxEventAgeRange', 'maxEventAge must be between 60 seconds and 6 hours (21,600 seconds), got 59'],
    ['maxEventAge 7 h', { maxEventAge: Duration.hours(7) }, 'FunctionAlias.MaxEventAgeRange', 'got 25200'],
    ['maxEventAge 90.5 s', { maxEventAge: Duration.millis(90_500) }, 'FunctionAlias.NotWholeSeconds', 'maxEventAge must be a whole number of seconds, got 90.5 s'],
    ['provisionedConcurrency 0', { provisionedConcurrency: 0 }, 'FunctionAlias.ProvisionedConcurrencyRange', 'provisionedConcurrency must be a whole number of at least 1, got 0'],
  ])('%s is refused', (_name, extra, code, message) => {
    const error = problemsOf(({ v1 }) => ({ version: v1, ...extra }));
    expect(error.problems.map((p) => p.code)).toEqual([code]);
    expect(error.message).toContain(message);
  });

  test.each([-0.1, 0, 1, 1.5, Number.NaN])('a canary weight of %d is refused: weights lie strictly between 0 and 1', (weight) => {
    const error = problemsOf(({ v1, v2 }) => ({ version: v1, canary: { version: v2, weight } }));
    expect(error.problems).toEqual([
      {
        code: 'FunctionAlias.CanaryWeightRange',
        message: `canary.weight must be between 0 and 1, exclusive (0.1 routes 10 % of invocations), got ${weight}`,
      },
    ]);
  });

  test('the canary must be another version of the same function, never $LATEST', () => {
    expect(problemsOf(({ v1 }) => ({ version: v1, canary: { version: v1, weight: 0.5 } })).message).toContain(
      '[FunctionAlias.CanaryIsPrimary] canary.version is the alias\'s own version: weighted routing needs two different versions',
    );
    expect(
      problemsOf(({ v1 }, stack) => ({ version: v1, canary: { version: fixture(stack, 'Other').v1, weight: 0.5 } })).message,
    ).toContain('[FunctionAlias.VersionsOfDifferentFunctions] canary.version belongs to another function than version');
    expect(problemsOf(({ fn, v1 }) => ({ version: v1, canary: { version: fn.latestVersion, weight: 0.5 } })).message).toContain(
      '[FunctionAlias.RoutingWithLatest] weighted routing needs two published versions; $LATEST cannot take part in it',
    );
    expect(problemsOf(({ fn }) => ({ version: fn.latestVersion, provisionedConcurrency: 1 })).message).toContain(
      '[FunctionAlias.ProvisionedConcurrencyOnLatest] provisioned concurrency needs a published version behind the alias, not $LATEST',
    );
  });

  test('versions are compared by what they render to, not by object: an imported copy is the same version or function', () => {
    expect(
      problemsOf(({ fn, v1 }, stack) => ({ version: v1, canary: { version: lambda.Version.fromVersionAttributes(stack, 'Again', { lambda: fn, version: v1.version }), weight: 0.5 } }))
        .problems.map((p) => p.code),
    ).toEqual(['FunctionAlias.CanaryIsPrimary']);
    const stack = newStack();
    const { fn, v1, v2 } = fixture(stack);
    const sameFunction = lambda.Function.fromFunctionArn(stack, 'SameFunction', fn.functionArn);
    const canary = lambda.Version.fromVersionAttributes(stack, 'Canary', { lambda: sameFunction, version: v2.version });
    // An alias name from a token is checked by Lambda at deploy time, not here.
    expect(() => new FunctionAlias(stack, 'Alias', { aliasName: Token.asString({ Ref: 'AliasName' }), version: v1, canary: { version: canary, weight: 0.1 } })).not.toThrow();
  });

  test('refuses provisioned concurrency on an alias with weighted routing, which CloudFormation rejects', () => {
    const error = problemsOf(({ v1, v2 }) => ({ version: v1, canary: { version: v2, weight: 0.2 }, provisionedConcurrency: 1 }));
    expect(error.problems).toEqual([
      {
        code: 'FunctionAlias.ProvisionedConcurrencyWithCanary',
        message:
          'CloudFormation does not accept provisioned concurrency on an alias with weighted routing: drop the canary, ' +
          'or configure provisioned concurrency on the versions instead',
      },
    ]);
  });

  test('lists every problem in one error, with the construct path', () => {
    const error = problemsOf(({ v1, v2 }) => ({
      aliasName: '7',
      version: v1,
      canary: { version: v2, weight: 2 },
      retryAttempts: 5,
      maxEventAge: Duration.days(1),
      provisionedConcurrency: 1.5,
    }));
    expect(error.constructPath).toBe('Test/Alias');
    expect(error.message).toMatch(/^Test\/Alias: 6 problems in props:/);
    expect(error.problems.map((p) => p.code)).toEqual([
      'FunctionAlias.AliasName',
      'FunctionAlias.CanaryWeightRange',
      'FunctionAlias.ProvisionedConcurrencyRange',
      'FunctionAlias.ProvisionedConcurrencyWithCanary',
      'FunctionAlias.RetryAttemptsRange',
      'FunctionAlias.MaxEventAgeRange',
    ]);
  });
});
