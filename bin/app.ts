#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConstructUsageError, ConstructValidationError } from '../lib/core/validation';
import { addLabStacks, labsSelectedBy, loadLabs } from '../labs/support/app';
import { LabConfigError } from '../labs/support/lab-stack';

async function main(): Promise<void> {
  const app = new App();
  addLabStacks(app, await loadLabs(labsSelectedBy(app)));
  app.synth();
}

main().catch((error: unknown) => {
  if (error instanceof LabConfigError || error instanceof ConstructValidationError || error instanceof ConstructUsageError) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
});
