/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const STREAMS_LAB = {
  /** Sort key prefix of orders; the event filter passes only these. */
  orderPrefix: 'ORDER#',
  batchSize: 10,
  retryAttempts: 2,
  maxRecordAge: LabDuration.hours(1),
  handlerTimeout: LabDuration.seconds(10),
  iteratorAgeThreshold: LabDuration.minutes(5),
  ttlAttribute: 'expiresAt',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Pause between two reads of the view while the stream's records are being applied. */
    viewPollSeconds: 0.5,
    /** How long a step waits for the view to show its writes before it fails, saying what the view holds. */
    viewDeadlineSeconds: 60,
    /** How long the poison step waits for the good orders in the view before failing, saying what it holds (bisect takes retries). */
    poisonViewDeadlineSeconds: 120,
    /** How long the poison step waits for this run's failure record in the on-failure queue before failing, saying none arrived. */
    failureRecordDeadlineSeconds: 240,
    /**
     * How long the ttl step watches for TTL to delete the expired order. DynamoDB typically takes up to two days, so the
     * step says it has not happened yet and goes on; DynamoDB Local deletes within seconds.
     */
    ttlDeleteWaitSeconds: 10,
  },
} as const;
