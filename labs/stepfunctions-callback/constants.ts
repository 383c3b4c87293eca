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
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** How often a step reads an execution's status and history, and how long it waits for a state or the end. */
    pollMs: 3_000,
    timeoutMs: 120_000,
    /** How long the exercise's activity worker packs an order, and how often it sends a heartbeat meanwhile. */
    packingWorkMs: 6_000,
    packingHeartbeatMs: 5_000,
  },
} as const;
