/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the README, the exercise and the tests rely on. */
export const CALLBACK_LAB = {
  workerTimeout: LabDuration.seconds(30),
  warehouseHeartbeat: LabDuration.seconds(15),
  warehouseTimeout: LabDuration.minutes(2),
  approvalTimeout: LabDuration.hours(1),
  packingHeartbeat: LabDuration.seconds(30),
  packingTimeout: LabDuration.minutes(10),
} as const;
