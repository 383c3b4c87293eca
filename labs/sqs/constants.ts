/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

const workVisibilityTimeout = LabDuration.seconds(30);
const workMaxReceiveCount = 3;

/** Figures the exercise and README rely on; kept small so the lab's effects show within a minute or two. */
export const SQS_LAB = {
  consumerTimeout: LabDuration.seconds(5),
  workVisibilityTimeout,
  workMaxReceiveCount,
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
    /** How long a step waits for messages it just sent before failing, saying how many arrived. */
    arrivalDeadlineSeconds: 30,
    /** How long the visibility step waits for its message in the DLQ before failing, saying it is not there. */
    playgroundDlqDeadlineSeconds: 20,
    /** How long the visibility step waits for its message to reappear after ChangeMessageVisibility(1 s) before failing. */
    reappearDeadlineSeconds: 10,
    /** How long past the queue's DelaySeconds the delay step waits for the delayed message before failing. */
    delayedArrivalMarginSeconds: 15,
    /**
     * How long the poison step waits for the poison order in the DLQ before failing, saying none arrived: twice the
     * visibility timeout × maxReceiveCount it takes to get there, plus a minute.
     */
    poisonDlqDeadlineSeconds: workVisibilityTimeout.toSeconds() * workMaxReceiveCount * 2 + 60,
  },
} as const;
