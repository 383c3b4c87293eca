import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SKIP_BUNDLING } from '../../lib/testing';
import { addLabStacks, cdkJsonContext, LoadedLab } from '../../labs/support/app';
import { ALL_FEATURES_CONTEXT, LabStack } from '../../labs/support/lab-stack';

export const REPO_ROOT = path.join(__dirname, '..', '..');

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

interface LabVariant {
  allFeatures?: boolean;
  context?: Record<string, unknown>;
}

const variantContext = (options: LabVariant): Record<string, unknown> => ({
  ...(options.allFeatures ? { [ALL_FEATURES_CONTEXT]: true } : {}),
  ...options.context,
});

/**
 * Where this jest run keeps the template of a lab variant (test/support/run-templates.js makes the folder), or
 * undefined outside jest. Keyed by the lab, its stack class and the context: tests pass a lab's own stack class.
 */
function runTemplateFile(lab: LoadedLab, options: LabVariant): string | undefined {
  const dir = process.env.LAB_RUN_TEMPLATES_DIR;
  if (!dir) return undefined;
  const context = variantContext(options);
  const key = JSON.stringify([lab.id, lab.stack.name, Object.keys(context).sort().map((k) => [k, context[k]])]);
  return path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
}

function keepForThisRun(file: string | undefined, template: Template): void {
  if (!file) return;
  // Written whole, then renamed: another worker never reads half a file.
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(template.toJSON()));
  renameSync(`${file}.${process.pid}`, file);
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

/**
 * The lab's template without cdk-nag or CloudFormation validation, for tests about what it contains (the catalogue
 * checks synthesize every lab with both, optional parts off and all on). Synthesized once per run: another test file
 * that synthesized the same variant earlier in this run hands it over.
 */
export function labTemplate(lab: LoadedLab, options: LabVariant = {}): Template {
  const file = runTemplateFile(lab, options);
  if (file && existsSync(file)) return Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
  const app = testApp(variantContext(options), { builtinCloudFormationValidation: false });
  const template = Template.fromStack(new lab.stack(app, { lab }));
  keepForThisRun(file, template);
  return template;
}
