/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const KMS_LAB = {
  /** Every cryptographic request of a key user must carry this pair: the key policy says so. */
  requiredContext: { app: 'kms-lab' } as Record<string, string>,
  rotationPeriod: LabDuration.days(180),
  pendingWindow: LabDuration.days(7),
} as const;
