/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on; kept small so the lab's effects show within a minute or two. */
export const SQS_LAB = {
  consumerTimeout: LabDuration.seconds(5),
  workVisibilityTimeout: LabDuration.seconds(30),
  workMaxReceiveCount: 3,
  playgroundVisibilityTimeout: LabDuration.seconds(10),
  playgroundMaxReceiveCount: 2,
  deliveryDelay: LabDuration.seconds(5),
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** The long poll of an empty queue, which must wait this long before returning nothing. */
    emptyPollSeconds: 2,
    /** How long the visibility step listens to show a message past maxReceiveCount is not delivered again. */
    noRedeliveryWindowSeconds: 3,
    /** How long the poison step listens for orders that reached the DLQ with the poison one. */
    batchMatesPollSeconds: 3,
  },
} as const;
