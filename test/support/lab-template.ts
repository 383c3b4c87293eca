import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { LabDefinition, LabStackClass } from '../../labs/support/define-lab';
import { ALL_FEATURES_CONTEXT, featureContextKey } from '../../labs/support/define-lab';

// Kept apart from ./synth, which loads cdk-nag: a test file that reads a template this run already made loads neither
// cdk-nag nor the lab's stack modules (~0.7 CPU-s a file under jest).

export const REPO_ROOT = path.join(__dirname, '..', '..');

export interface LabVariant {
  allFeatures?: boolean;
  context?: Record<string, unknown>;
}

/**
 * A lab variant's context. With path metadata, as `cdk synth` writes templates: the README diagrams read each
 * resource's construct path, so test/readme.test.ts checks the pages against the templates the catalogue made.
 */
export const variantContext = (options: LabVariant): Record<string, unknown> => ({
  'aws:cdk:enable-path-metadata': true,
  ...(options.allFeatures ? { [ALL_FEATURES_CONTEXT]: true } : {}),
  ...options.context,
});

/**
 * Where this jest run keeps the template of a lab variant (test/support/run-folder.js makes the folder), or
 * undefined outside jest. Keyed by the lab, its stack and the context.
 */
export function runTemplateFile(lab: LabDefinition, options: LabVariant): string | undefined {
  const dir = process.env.JEST_RUN_DIR;
  // Under Stryker the file that synthesizes a template is the one its coverage credits: every file synthesizes its own.
  if (!dir || process.env.STRYKER_MUTATOR_WORKER) return undefined;
  const context = variantContext(options);
  const key = JSON.stringify([lab.id, lab.stackName, Object.keys(context).sort().map((k) => [k, context[k]])]);
  return path.join(dir, `${createHash('sha256').update(key).digest('hex')}.json`);
}

export function keepForThisRun(file: string | undefined, template: Template): void {
  if (!file) return;
  // Written whole, then renamed: another worker never reads half a file.
  writeFileSync(`${file}.${process.pid}`, JSON.stringify(template.toJSON()));
  renameSync(`${file}.${process.pid}`, file);
}

/**
 * The lab's stack class, loaded synchronously where `lab.loadStack` is async: every lab's `stack.ts` exports
 * `<stackName>Stack` (the catalogue checks that it is the class `loadStack` gives).
 */
export function stackClassOf(lab: LabDefinition): LabStackClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- synchronous, where lab.loadStack is async
  const exports = require(path.join(REPO_ROOT, 'labs', lab.id, 'stack')) as Record<string, LabStackClass | undefined>;
  const stack = exports[`${lab.stackName}Stack`];
  if (!stack) throw new Error(`labs/${lab.id}/stack.ts exports no ${lab.stackName}Stack`);
  return stack;
}

/**
 * The lab's template without cdk-nag or CloudFormation validation, for tests about what it contains (the catalogue
 * checks synthesize every lab with both, optional parts off and all on). Synthesized once per run: another test file
 * that synthesized the same variant earlier in this run hands it over.
 */
export function labTemplate(lab: LabDefinition, options: LabVariant = {}): Template {
  // The key names the lab, not a class: a test's own subclass would be handed the lab's template.
  if ('stack' in lab && lab.stack !== stackClassOf(lab)) throw new Error(`labTemplate synthesizes ${lab.id}'s own ${lab.stackName}Stack, not ${String((lab.stack as { name?: string }).name)}`);
  const file = runTemplateFile(lab, options);
  if (file && existsSync(file)) return Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- cdk-nag and the CDK app only when synthesizing
  const { testApp } = require('./synth') as typeof import('./synth');
  const app = testApp(variantContext(options), { builtinCloudFormationValidation: false });
  const template = Template.fromStack(new (stackClassOf(lab))(app, { lab }));
  keepForThisRun(file, template);
  return template;
}

/**
 * The lab's template with one optional part on (`-c <lab>:<name>=true`). For a lab whose only optional part it is,
 * that is the all-on template, which the catalogue's checks synthesize in every run.
 */
export function featureTemplate(lab: LabDefinition, name: string): Template {
  if (!lab.features.some((f) => f.name === name)) throw new Error(`lab ${lab.id} declares no feature ${name}`);
  return lab.features.length === 1 ? labTemplate(lab, { allFeatures: true }) : labTemplate(lab, { context: { [featureContextKey(lab.id, name)]: true } });
}
