/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const GRAPHQL_LAB = {
  /**
   * API keys expire, between 1 and 365 days after creation; the lab's key leaves Expires out, so AppSync's default
   * applies (7 days after creation) and the template stays the same from one synth to the next. AppSync keeps an
   * expired key for 60 days, during which `update-api-key --expires` brings it back; after that only a new key
   * (destroy and deploy the stack) does: redeploying an unchanged stack does not touch the key.
   */
  apiKeyDefaultExpiryDays: 7,
  /** How many days AppSync keeps an expired API key before deleting it. */
  expiredApiKeyKeptDays: 60,
  /**
   * How long AppSync caches the Lambda authorizer's answer per token (0 turns caching off; at most 3,600 s), unless
   * the answer carries a ttlOverride, as the lab's authorizer's does (30 s).
   */
  authorizerResultTtl: LabDuration.seconds(60),
  /** Tokens the Lambda authorizer mode accepts before calling the function (identityValidationExpression). */
  lambdaTokenPattern: '^lab-[a-z0-9-]{1,64}$',
  /** The Cognito group allowed to write notes; viewers may only read. */
  editorsGroup: 'editors',
  viewersGroup: 'viewers',
  /** Direct Lambda resolver batching: at most this many Note.author fields in one invocation. */
  authorBatchSize: 10,
  /** Field-level logs: ERROR keeps failed fields only; retention in days. */
  logRetentionDays: 7,
  /** Where the HTTP data source points: an AWS-run endpoint that returns the caller's public IP. */
  httpEndpoint: 'https://checkip.amazonaws.com',
  /** Where the app client's managed login may redirect: a local development server. */
  localCallbackUrl: 'http://localhost:5173/callback',
  /** The Amplify Hosting branch the exercise deploys the front end to. */
  branchName: 'main',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** How long the subscription step waits for the event its mutation triggers. */
    subscriptionEventSeconds: 20,
    /** How long the subscription step waits for start_ack after connection_ack. */
    subscriptionAckSeconds: 10,
    /** How long the Amplify step waits for its deployment job to succeed. */
    deploymentSeconds: 180,
    /** Pause between two polls of the deployment job. */
    deploymentPollMs: 3000,
    /** How many times the notes step lists the byAuthor index (eventually consistent) until it holds the new notes. */
    listAttempts: 10,
    /** Pause between two of those listings. */
    listPollMs: 500,
  },
} as const;

/** The notes table's index by author, newest first (listNotesByAuthor queries it). */
export const NOTES_BY_AUTHOR_INDEX = 'byAuthor';

/** Lab parameters of the optional external OIDC provider (declared in ./lab.ts). */
export const OIDC_PARAMETERS = {
  issuerUrl: 'oidc-issuer',
  clientId: 'oidc-client-id',
} as const;
