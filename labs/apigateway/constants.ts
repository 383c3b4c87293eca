/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const APIGATEWAY_LAB = {
  /** The one origin a browser app may call the API from (CORS). */
  allowedOrigin: 'http://localhost:5173',
  stageVariable: 'lambdaAlias',
  stages: {
    prod: { lambdaAlias: 'live', throttle: { rateLimit: 50, burstLimit: 100 } },
    dev: { lambdaAlias: 'dev', throttle: { rateLimit: 10, burstLimit: 20 } },
  },
  /** Share of prod requests that use the canary's stage variables (the dev alias). */
  canaryPercent: 10,
  /** Per API key, across both stages. */
  usagePlan: { throttle: { rateLimit: 5, burstLimit: 10 }, quotaPerDay: 1000 },
  cache: { sizeGb: '0.5', ttl: LabDuration.seconds(60) },
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pauses that keep the exercise within the usage plan's 5 requests per second. */
    batchPauseMs: 1_000,
    refillPauseMs: 2_000,
  },
} as const;
