import { ConfigServiceClient, PutEvaluationsCommand } from '@aws-sdk/client-config-service';
import { mockClient } from 'aws-sdk-client-mock';
import { ConfigurationItem, evaluate, handler } from '../../lambda/observability-config-rule';

// Config has no local engine: PutEvaluations is mocked; the rule, the parsing and what it reports are real.
const config = mockClient(ConfigServiceClient);
beforeEach(() => {
  config.reset();
  config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

/** A configuration item of a Lambda function as Config records it (the fields the rule reads, and some it does not). */
const item = (mode: string | undefined, overrides: Partial<ConfigurationItem> = {}): ConfigurationItem => ({
  resourceType: 'AWS::Lambda::Function',
  resourceId: 'ObservabilityLab-Worker',
  configurationItemCaptureTime: '2026-12-03T06:00:00.000Z',
  configurationItemStatus: 'OK',
  configuration: { tracingConfig: mode ? { mode } : undefined, runtime: 'nodejs24.x' } as ConfigurationItem['configuration'],
  ...overrides,
});
const ruleEvent = (configurationItem: ConfigurationItem, extra: Record<string, unknown> = {}) => ({
  invokingEvent: JSON.stringify({ messageType: 'ConfigurationItemChangeNotification', configurationItem, notificationCreationTime: '2026-12-03T06:00:01.000Z' }),
  ruleParameters: '{}',
  resultToken: 'token-1',
  eventLeftScope: false,
  configRuleName: 'TracingActive',
  ...extra,
});
const reported = () => config.commandCalls(PutEvaluationsCommand).map((c) => c.args[0].input);

test('a function with Active tracing is COMPLIANT, reported with the item\'s capture time', async () => {
  await expect(handler(ruleEvent(item('Active')))).resolves.toEqual({ compliance: 'COMPLIANT', annotation: 'X-Ray tracing is Active' });
  expect(reported()).toEqual([
    {
      ResultToken: 'token-1',
      Evaluations: [
        {
          ComplianceResourceType: 'AWS::Lambda::Function',
          ComplianceResourceId: 'ObservabilityLab-Worker',
          ComplianceType: 'COMPLIANT',
          Annotation: 'X-Ray tracing is Active',
          OrderingTimestamp: new Date('2026-12-03T06:00:00.000Z'),
        },
      ],
    },
  ]);
});

test.each([['PassThrough'], [undefined]])('tracing %s is NON_COMPLIANT', async (mode) => {
  const verdict = await handler(ruleEvent(item(mode)));
  expect(verdict).toEqual({ compliance: 'NON_COMPLIANT', annotation: 'X-Ray tracing is PassThrough, expected Active' });
  expect(reported()[0].Evaluations?.[0].ComplianceType).toBe('NON_COMPLIANT');
});

test.each([
  ['deleted', item('PassThrough', { configurationItemStatus: 'ResourceDeleted' }), false],
  ['out of scope now', item('PassThrough'), true],
  ['not a function', item('Active', { resourceType: 'AWS::S3::Bucket' }), false],
])('a resource %s is NOT_APPLICABLE', (_name, configurationItem, leftScope) => {
  expect(evaluate(configurationItem, leftScope).compliance).toBe('NOT_APPLICABLE');
});

test('a notification without a configuration item (oversized, scheduled) is not evaluated', async () => {
  await expect(handler({ ...ruleEvent(item('Active')), invokingEvent: JSON.stringify({ messageType: 'ScheduledNotification' }) })).resolves.toBeUndefined();
  expect(reported()).toEqual([]);
});

test('logs each evaluation; an item that left the scope is reported NOT_APPLICABLE, one without the flag is evaluated', async () => {
  await handler(ruleEvent(item('Active'), { eventLeftScope: true }));
  await handler(ruleEvent(item('Active'), { eventLeftScope: undefined }));
  expect(reported().map((input) => [input.Evaluations?.[0].ComplianceType, input.Evaluations?.[0].Annotation])).toEqual([
    ['NOT_APPLICABLE', 'not a recorded Lambda function in scope'],
    ['COMPLIANT', 'X-Ray tracing is Active'],
  ]);
  expect(console.log).toHaveBeenLastCalledWith(
    JSON.stringify({ event: 'evaluated', resourceId: 'ObservabilityLab-Worker', compliance: 'COMPLIANT', annotation: 'X-Ray tracing is Active' }),
  );
});

test('evaluate: in scope unless told otherwise; an item recorded without its configuration is not traced Active', () => {
  expect(evaluate(item('Active'))).toEqual({ compliance: 'COMPLIANT', annotation: 'X-Ray tracing is Active' });
  expect(evaluate(item('Active', { configuration: null }))).toEqual({ compliance: 'NON_COMPLIANT', annotation: 'X-Ray tracing is PassThrough, expected Active' });
});

test('only a change notification is evaluated, even one that carries an item', async () => {
  const scheduled = { ...ruleEvent(item('Active')), invokingEvent: JSON.stringify({ messageType: 'ScheduledNotification', configurationItem: item('Active') }) };
  await expect(handler(scheduled)).resolves.toBeUndefined();
  expect(reported()).toEqual([]);
});
