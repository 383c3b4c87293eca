/** Names, documents and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** The feature flag the lab rolls out, and the users the exercise asks about. */
export const BETA_SEARCH = 'beta-search';

/** A feature-flag configuration (`AWS.AppConfig.FeatureFlags`): flag definitions with attribute constraints, and values. */
export interface FeatureFlagsDocument {
  readonly version: '1';
  readonly flags: Record<string, { name: string; description?: string; attributes?: Record<string, { constraints: object }> }>;
  readonly values: Record<string, { enabled: boolean } & Record<string, unknown>>;
}

/** What the beta-search flag's values may hold: on or off, and who is let in or kept out when on. */
export interface BetaSearchValue {
  readonly enabled: boolean;
  readonly allowList: readonly string[];
  readonly blockList: readonly string[];
}

const userList = { constraints: { type: 'array', elements: { type: 'string' } } };

/** The flags document with `beta-search` set to `value`: what each version the lab deploys holds. */
export function betaSearchFlags(value: BetaSearchValue): FeatureFlagsDocument {
  return {
    version: '1',
    flags: {
      [BETA_SEARCH]: {
        name: 'Beta search',
        description: 'The new search page; allowList limits it to the users named, blockList keeps users out',
        attributes: { allowList: userList, blockList: userList },
      },
    },
    values: { [BETA_SEARCH]: { enabled: value.enabled, allowList: [...value.allowList], blockList: [...value.blockList] } },
  };
}

/** The freeform checkout settings the validators guard. */
export interface CheckoutSettings {
  readonly maxItemsPerOrder: number;
  readonly discountPercent: number;
  readonly currency: string;
  readonly maintenanceWindow: { readonly start: string; readonly end: string };
}

/**
 * The JSON Schema of the checkout settings, in draft-04: the draft AppConfig's JSON Schema validators implement (a
 * `$schema` of a later draft is not what AppConfig applies). Shapes and ranges only: what a schema cannot say (the
 * window's start before its end) is the Lambda validator's job.
 */
export const CHECKOUT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: 'Checkout settings',
  type: 'object',
  additionalProperties: false,
  required: ['maxItemsPerOrder', 'discountPercent', 'currency', 'maintenanceWindow'],
  properties: {
    maxItemsPerOrder: { type: 'integer', minimum: 1, maximum: 100 },
    discountPercent: { type: 'number', minimum: 0, maximum: 50 },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
    maintenanceWindow: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: {
        start: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
        end: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' },
      },
    },
  },
} as const;

export const APPCONFIG_LAB = {
  /** Version 1 of the flags, deployed with the stack: beta search off for everyone. */
  initialFlags: { enabled: false, allowList: [], blockList: [] } satisfies BetaSearchValue,
  /** What the `rollout` step deploys: on for the allow list only, and a user on both lists stays out (block wins). */
  rolledOutFlags: { enabled: true, allowList: ['alice', 'mallory'], blockList: ['mallory'] } satisfies BetaSearchValue,
  /** What the `rollback` step tries to deploy before the alarm fires: on for everyone. */
  rolledBackFlags: { enabled: true, allowList: [], blockList: [] } satisfies BetaSearchValue,
  /** The users the exercise asks the flag reader about, with the answer after `rollout`. */
  usersAfterRollout: { alice: true, carol: false, mallory: false } as Readonly<Record<string, boolean>>,
  initialCheckout: {
    maxItemsPerOrder: 20,
    discountPercent: 10,
    currency: 'EUR',
    maintenanceWindow: { start: '02:00', end: '03:00' },
  } satisfies CheckoutSettings,
  /** The lab's deployment strategy: linear, 50 % of targets per step over 2 minutes, then 2 minutes of bake time. */
  rollout: { growthFactor: 50, deploymentDurationMinutes: 2, finalBakeTimeMinutes: 2 },
  /** How often the AppConfig agent (Lambda extension) asks AppConfig for a new version; its default is 45 s. */
  extensionPollIntervalSeconds: 15,
  /** The Lambda validator refuses a maintenance window longer than this. */
  maxMaintenanceWindowHours: 4,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Between two looks at a deployment's state and at the flag reader's answer. */
    deploymentPollSeconds: 10,
    /** How long a deployment may take to complete or roll back: duration + bake time + a margin. */
    deploymentDeadlineSeconds: 2 * 60 + 2 * 60 + 120,
    /** How long the flag reader may keep the old answer after a deployment completed: two agent poll intervals. */
    readerCatchUpSeconds: 30,
    /** Waited beyond the poll interval the data plane asked for, so the next read is sure to call it. */
    sessionPollMarginSeconds: 1,
  },
} as const;
