/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import type { FilterPolicy } from '../../lib/fan-out';
import { LabDuration } from '../support/duration';

/** The filter policies the README and the exercise explain; the exercise reads the deployed ones back from SNS. */
export const SNS_FANOUT_POLICIES = {
  /** Attributes: placed orders of 100 or more. */
  highValue: { eventType: ['order.placed'], total: [{ numeric: ['>=', 100] }] },
  /** Body: express shipping, unless the order is cancelled. */
  express: { shipping: { method: ['express'] }, status: [{ 'anything-but': ['cancelled'] }] },
  /** Attributes: every order event (eventType order.*), not refunds. */
  audit: { eventType: [{ prefix: 'order.' }] },
  /** Attributes: messages that name a warehouse. */
  warehouse: { warehouse: [{ exists: true }] },
  /** Attributes: orders of 1,000 or more, mailed to the address given with -c sns-fanout:email=... */
  email: { total: [{ numeric: ['>=', 1000] }] },
} as const satisfies Record<string, FilterPolicy>;

export const SNS_FANOUT_LAB = {
  auditTimeout: LabDuration.seconds(5),
  /** Lambda's async retries of a failed invocation (default 2); 0 sends a failure to the destination at once. */
  auditRetryAttempts: 0,
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** How long a queue is listened to after the expected messages, to show that nothing else arrives. */
    settleSeconds: 3,
    /** How long a step waits for the messages it expects in a queue before failing, saying what arrived. */
    deliveryDeadlineSeconds: 30,
    /** How long the subscription-dlq step waits for w1 in the Warehouse subscription DLQ before failing, saying it is not there. */
    subscriptionDlqDeadlineSeconds: 60,
    /** How long the lambda step waits for l1's on-success record before failing, saying none arrived. */
    onSuccessRecordDeadlineSeconds: 60,
    /** How long the lambda step waits for l2's on-failure record before failing, saying none arrived. */
    onFailureRecordDeadlineSeconds: 90,
  },
} as const;
