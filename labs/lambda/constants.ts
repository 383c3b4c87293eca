/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const LAMBDA_LAB = {
  aliasName: 'live',
  /** Deliberately above the 3 s default and far below the 15 min maximum. */
  timeout: LabDuration.seconds(5),
  memorySize: 256,
  /** Caps the function at 5 concurrent executions (and guarantees it those 5). */
  reservedConcurrency: 5,
  retryAttempts: 2,
  maxEventAge: LabDuration.hours(1),
  /** Share of the alias's invocations sent to the newest release once there are two. */
  canaryWeight: 0.2,
  provisionedConcurrency: 1,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Lambda's delays between the attempts of a failing asynchronous invocation: 1 min, then 2 min. */
    retryDelaysSeconds: [60, 120],
    /** Slack on top of the retry delays before a missing record counts as a failure. */
    slackSeconds: 180,
    /** How long the async step waits for the on-success record of an event that succeeds at its first attempt. */
    onSuccessDeadlineSeconds: 60,
    /** How long the async-failure step waits for the failed event in the dead-letter queue, once its on-failure record is in. */
    deadLetterDeadlineSeconds: 60,
  },
} as const;

/** Lab parameters (declared in ./lab.ts): `-c lambda:release=2` publishes release 2 next to release 1 and
 * splits the alias between them; `-c lambda:reserved-concurrency=none` drops the reservation for accounts whose
 * concurrency quota is too low. */
export const RELEASE_CONTEXT = 'lambda:release';
export const RESERVED_CONCURRENCY_CONTEXT = 'lambda:reserved-concurrency';
