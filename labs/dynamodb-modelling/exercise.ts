import type { ExerciseStep } from '../support/exercise';
import { leadingKeysStep } from './exercise/access';
import { getStep, queryStep } from './exercise/reads';
import { consistencyStep, parallelScanStep, scanVersusQueryStep } from './exercise/scans';
import { cleanupStep, protectionStep, tableSettingsStep } from './exercise/settings';
import { capacityStep, retriesStep } from './exercise/throughput';
import { optimisticLockingStep, transactionStep } from './exercise/writes';

/**
 * The DynamoDB modelling exercise. Steps live in ./exercise/, one file per theme; what several steps share is a
 * fixture of ./exercise/orders.ts (the run's seeded orders, the document client), set up by the first step that
 * asks for it, so each step also runs alone: `npm run lab -- exercise dynamodb-modelling query`.
 */
export { customersOf, seededOrders, seedOrders } from './exercise/orders';
export { timing } from './exercise/reads';
export { examCalculator } from './exercise/throughput';
export type { Order } from './exercise/orders';

export const steps: readonly ExerciseStep[] = [
  getStep,
  queryStep,
  scanVersusQueryStep,
  parallelScanStep,
  consistencyStep,
  transactionStep,
  optimisticLockingStep,
  capacityStep,
  retriesStep,
  leadingKeysStep,
  tableSettingsStep,
  protectionStep,
  cleanupStep,
];
