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
} as const;
