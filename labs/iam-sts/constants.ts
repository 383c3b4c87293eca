/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const IAM_STS_LAB = {
  mfaMaxAge: LabDuration.hours(1),
  labParameterValue: 'hello from the iam-sts lab',
} as const;
