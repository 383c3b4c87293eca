/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import * as path from 'node:path';
import { LabDuration } from '../support/duration';

/** The sample application the pipeline builds and deploys; its files seed the CodeCommit repository. */
export const SAMPLE_APP_DIR = path.join(__dirname, 'app');

export const CICD_LAB = {
  aliasName: 'live',
  functionTimeout: LabDuration.seconds(5),
  initialGreeting: 'Hello from Parameter Store',
} as const;
