import * as path from 'node:path';
import { App, AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SKIP_BUNDLING } from '../../lib/testing';
import { addLabStacks, cdkJsonContext, LoadedLab } from '../../labs/support/app';
import { ALL_FEATURES_CONTEXT, LabStack } from '../../labs/support/lab-stack';

export const REPO_ROOT = path.join(__dirname, '..', '..');

/** The feature flags of cdk.json, so tests synthesize exactly what `npx cdk synth` does. */
const CDK_JSON_CONTEXT = cdkJsonContext();

/** An App with cdk.json's context and strict CloudFormation validation; bundling skipped (handlers have their own tests). */
export function testApp(context: Record<string, unknown> = {}, props: AppProps = {}): App {
  return new App({ ...props, context: { ...CDK_JSON_CONTEXT, ...SKIP_BUNDLING, ...context } });
}

export interface SynthesizedLab {
  readonly stack: LabStack;
  readonly template: Template;
}

/**
 * Synthesizes one lab as `bin/app.ts` does: cdk-nag's AWS Solutions pack and CloudFormation validation on.
 * Throws (listing them) on any unacknowledged finding.
 */
export function synthLab(lab: LoadedLab, options: { allFeatures?: boolean; context?: Record<string, unknown> } = {}): SynthesizedLab {
  const app = testApp({ ...(options.allFeatures ? { [ALL_FEATURES_CONTEXT]: true } : {}), ...options.context });
  const [stack] = addLabStacks(app, [lab]);
  app.synth();
  return { stack, template: Template.fromStack(stack) };
}

/**
 * The lab's template without cdk-nag or CloudFormation validation, for tests about what it contains (the catalogue
 * checks synthesize every lab with both, optional parts off and all on).
 */
export function labTemplate(lab: LoadedLab, options: { allFeatures?: boolean; context?: Record<string, unknown> } = {}): Template {
  const context = { ...(options.allFeatures ? { [ALL_FEATURES_CONTEXT]: true } : {}), ...options.context };
  const app = testApp(context, { builtinCloudFormationValidation: false });
  return Template.fromStack(new lab.stack(app, { lab }));
}
