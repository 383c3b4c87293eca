/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LAMBDA_SERVICE_ERRORS, STATES_ERRORS } from '../../lib/resilient-workflow/errors';
import { LabDuration } from '../support/duration';

/** Transient Lambda service errors: retried on every Lambda task, as AWS recommends. */
export const LAMBDA_RETRIER = {
  errors: LAMBDA_SERVICE_ERRORS,
  interval: LabDuration.seconds(1),
  maxAttempts: 3,
  backoffRate: 2,
  jitter: true,
} as const;

/** Figures the README, the exercise and the tests rely on. */
export const ERRORS_LAB = {
  /** ChargePayment gives up after this long: States.Timeout. */
  chargeTimeout: LabDuration.seconds(3),
  /** ChargePayment's retriers, evaluated top to bottom. */
  chargeRetry: [
    { errors: ['PaymentDeclinedError'], maxAttempts: 0 },
    LAMBDA_RETRIER,
    { errors: ['PaymentGatewayError'], interval: LabDuration.seconds(1), maxAttempts: 3, backoffRate: 2, maxDelay: LabDuration.seconds(3) },
    { errors: [STATES_ERRORS.TIMEOUT], maxAttempts: 0 },
    { errors: [STATES_ERRORS.ALL], interval: LabDuration.seconds(2), maxAttempts: 1 },
  ],
  /** Orders at or above this total wait in ReviewHold before they are charged. */
  reviewThreshold: 1000,
  reviewWait: LabDuration.seconds(3),
  packingWait: LabDuration.seconds(2),
  eventSource: 'stepfunctions-lab.orders',
  eventDetailType: 'OrderPlaced',
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** How often the exercise polls DescribeExecution, and for how long. */
    pollMs: 2_000,
    timeoutMs: 120_000,
    /** How long a step waits for the workflow's message (OrderAccepted, OrderFailed) in the order events queue. */
    eventDeadlineSeconds: 30,
  },
} as const;
