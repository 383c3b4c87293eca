#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { ConstructValidationError } from '../lib/core/validation';
import { addLabStacks } from '../labs/support/app';
import { LabConfigError } from '../labs/support/lab-stack';

try {
  const app = new App();
  addLabStacks(app);
  app.synth();
} catch (error) {
  if (error instanceof LabConfigError || error instanceof ConstructValidationError) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
