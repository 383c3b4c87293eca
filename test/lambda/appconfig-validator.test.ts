import Ajv from 'ajv-draft-04';
import { checkoutProblems, handler, InvalidConfiguration, ValidatorEvent } from '../../lambda/appconfig-validator';
import { APPCONFIG_LAB, CHECKOUT_SCHEMA } from '../../labs/appconfig/constants';

// AppConfig's JSON Schema validators apply draft-04: ajv-draft-04 checks the lab's schema as AppConfig would.
const validate = new Ajv({ allErrors: true }).compile(CHECKOUT_SCHEMA);
const good = APPCONFIG_LAB.initialCheckout;
const eventOf = (document: unknown, raw?: string): ValidatorEvent => ({
  applicationId: 'app',
  configurationProfileId: 'profile',
  configurationVersion: '7',
  content: Buffer.from(raw ?? JSON.stringify(document)).toString('base64'),
  uri: 'hosted',
});

beforeAll(() => (process.env.MAX_MAINTENANCE_WINDOW_HOURS = String(APPCONFIG_LAB.maxMaintenanceWindowHours)));

describe('the JSON Schema (draft-04)', () => {
  test('accepts the settings the stack deploys', () => {
    expect(validate(good)).toBe(true);
  });

  test.each([
    ['a discount above 50 %', { ...good, discountPercent: 80 }, '/discountPercent', 'maximum'],
    ['a fractional item limit', { ...good, maxItemsPerOrder: 2.5 }, '/maxItemsPerOrder', 'type'],
    ['an unknown currency', { ...good, currency: 'JPY' }, '/currency', 'enum'],
    ['a time that is not HH:MM', { ...good, maintenanceWindow: { start: '2am', end: '03:00' } }, '/maintenanceWindow/start', 'pattern'],
    ['an unknown setting', { ...good, freeShipping: true }, '', 'additionalProperties'],
  ])('refuses %s', (_name, document, path, keyword) => {
    expect(validate(document)).toBe(false);
    expect(validate.errors).toContainEqual(expect.objectContaining({ instancePath: path, keyword }));
  });

  test('refuses a missing setting, and lists every problem at once', () => {
    const withoutCurrency: Record<string, unknown> = { ...good, discountPercent: -1 };
    delete withoutCurrency.currency;
    expect(validate(withoutCurrency)).toBe(false);
    expect(validate.errors?.map((e) => e.keyword).sort()).toEqual(['minimum', 'required']);
  });

  test('lets through a window that ends before it starts: the Lambda validator\'s job', () => {
    expect(validate({ ...good, maintenanceWindow: { start: '04:00', end: '03:00' } })).toBe(true);
  });
});

describe('the Lambda validator', () => {
  test('accepts the settings the stack deploys and a window of exactly 4 hours', async () => {
    await expect(handler(eventOf(good))).resolves.toBeUndefined();
    await expect(handler(eventOf({ ...good, maintenanceWindow: { start: '01:00', end: '05:00' } }))).resolves.toBeUndefined();
  });

  test('throws InvalidConfiguration, whose message AppConfig reports, for a window that ends before it starts', async () => {
    const error = await handler(eventOf({ ...good, maintenanceWindow: { start: '04:00', end: '03:00' } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfiguration);
    expect((error as Error).name).toBe('InvalidConfiguration');
    expect((error as Error).message).toBe('maintenanceWindow.start (04:00) must be before maintenanceWindow.end (03:00) on the same day');
  });

  test('refuses an empty window and one longer than 4 hours', () => {
    expect(checkoutProblems({ maintenanceWindow: { start: '03:00', end: '03:00' } }, 4)).toEqual([
      'maintenanceWindow.start (03:00) must be before maintenanceWindow.end (03:00) on the same day',
    ]);
    expect(checkoutProblems({ maintenanceWindow: { start: '01:00', end: '05:01' } }, 4)).toEqual(['maintenanceWindow lasts 241 minutes, more than 4 hours']);
  });

  test('refuses content that is not JSON, and a document without a window, naming the problem', async () => {
    await expect(handler(eventOf(undefined, '{"maxItemsPerOrder": 2'))).rejects.toThrow(/^version 7 is not JSON: /);
    await expect(handler(eventOf({ ...good, maintenanceWindow: undefined }))).rejects.toThrow('maintenanceWindow needs start and end as HH:MM');
    await expect(handler(eventOf(null))).rejects.toThrow('maintenanceWindow needs start and end as HH:MM');
  });

  // An array of one time reads as that time once made a string: only a string is a time.
  test.each([
    ['a start that is not a string', { start: ['01:00'], end: '03:00' }],
    ['an end that is not a string', { start: '01:00', end: ['03:00'] }],
    ['a start that is not HH:MM', { start: '1:00', end: '03:00' }],
    ['an end that is not HH:MM', { start: '01:00', end: '24:00' }],
  ])('refuses %s', (_name, maintenanceWindow) => {
    expect(checkoutProblems({ maintenanceWindow }, 4)).toEqual(['maintenanceWindow needs start and end as HH:MM']);
  });

  test('the error lists every problem it is given, separated by semicolons', () => {
    expect(new InvalidConfiguration(['first', 'second']).message).toBe('first; second');
  });
});
