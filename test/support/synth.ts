import { App, AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SKIP_BUNDLING } from '../../lib/testing';
import { addLabStacks, cdkJsonContext, LoadedLab } from '../../labs/support/app';
import { LabStack } from '../../labs/support/lab-stack';
import { keepForThisRun, LabVariant, REPO_ROOT, runTemplateFile, variantContext } from './lab-template';

export { REPO_ROOT };

/** The feature flags of cdk.json, so tests synthesize exactly what `npx cdk synth` does. */
const CDK_JSON_CONTEXT = cdkJsonContext();

/**
 * Without the stack traces CDK records for every resource and annotation: they go to the cloud assembly, never the
 * template, and under jest each one is mapped through source maps (~a fifth of a lab's synth time).
 */
export const NO_STACK_TRACES = { 'aws:cdk:disable-creation-stack-traces': true, 'aws:cdk:disable-stack-trace': true };

/** An App with cdk.json's context and strict CloudFormation validation; bundling skipped (handlers have their own tests). */
export function testApp(context: Record<string, unknown> = {}, props: AppProps = {}): App {
  return new App({ ...props, context: { ...CDK_JSON_CONTEXT, ...SKIP_BUNDLING, ...NO_STACK_TRACES, ...context } });
}

export interface SynthesizedLab {
  readonly stack: LabStack;
  readonly template: Template;
  /**
   * The warnings and errors of the synth (cdk-nag findings, validation findings, construct warnings), as `path: text`.
   * Read from the synth itself: `Annotations.fromStack` would synthesize the app again, cdk-nag and validation included.
   */
  readonly findings: readonly string[];
}

/**
 * Synthesizes one lab as `bin/app.ts` does: cdk-nag's AWS Solutions pack and CloudFormation validation on.
 * Throws (listing them) on any unacknowledged finding. Its template is kept for `labTemplate` in this run.
 */
export function synthLab(lab: LoadedLab, options: LabVariant = {}): SynthesizedLab {
  const app = testApp(variantContext(options));
  const [stack] = addLabStacks(app, [lab]);
  const findings = app
    .synth()
    .getStackArtifact(stack.artifactId)
    .messages.filter((m) => m.level === 'warning' || m.level === 'error')
    .map((m) => `${m.id}: ${String(m.entry.data)}`);
  const template = Template.fromStack(stack);
  keepForThisRun(runTemplateFile(lab, options), template);
  return { stack, template, findings };
}
