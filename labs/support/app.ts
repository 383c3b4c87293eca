import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SKIP_BUNDLING } from '../../lib/testing';
import { findLab, LabDefinition, LABS, LabStackClass } from '../catalogue';
import type { CfnTemplate } from './diagram';
import { ONLY_LAB_CONTEXT } from './define-lab';
import { ALL_FEATURES_CONTEXT, LabConfigError, LabStack } from './lab-stack';
import { FeatureTemplates, featureTemplates } from './optional-parts';

/** A lab whose stack class is loaded: what an app can build synchronously. */
export interface LoadedLab extends LabDefinition {
  readonly stack: LabStackClass;
}

/** The lab with the given stack class: for tests that import the stack themselves. */
export function withStack(lab: LabDefinition, stack: LabStackClass): LoadedLab {
  return { ...lab, stack };
}

/** The labs an app builds: every one, or only the one `-c labs:only=<id>` names (what `npm run lab -- deploy` asks for). */
export function labsSelectedBy(app: App): readonly LabDefinition[] {
  const only = app.node.tryGetContext(ONLY_LAB_CONTEXT) as unknown;
  if (only === undefined) return LABS;
  const lab = findLab(String(only));
  if (!lab) throw new LabConfigError(`unknown lab ${String(only)} in -c ${ONLY_LAB_CONTEXT}; labs: ${LABS.map((l) => l.id).join(', ')}`);
  return [lab];
}

/** Loads the stack class of each lab (and aws-cdk-lib with the first). */
export function loadLabs(labs: readonly LabDefinition[] = LABS): Promise<LoadedLab[]> {
  return Promise.all(labs.map(async (lab) => withStack(lab, await lab.loadStack())));
}

/** The context of cdk.json (feature flags), for apps built outside the CDK CLI: tests, docs, the benchmark. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
}

/** Refuses `-c <lab-id>:<name>` for a feature or parameter the lab does not declare: a typo must not pass silently. */
function checkLabContext(app: App, labs: readonly LabDefinition[]): void {
  const context = app.node.getAllContext() as Record<string, unknown>;
  for (const key of Object.keys(context)) {
    const [labId, name, ...rest] = key.split(':');
    const lab = labs.find((l) => l.id === labId);
    if (!lab || name === undefined || rest.length > 0) continue;
    const names = [...lab.features, ...(lab.parameters ?? [])].map((f) => f.name);
    if (!names.includes(name)) {
      const known = names.map((n) => `${lab.id}:${n}`).join(', ') || 'none';
      throw new LabConfigError(`unknown context key ${key}: lab ${lab.id} takes ${known}`);
    }
  }
}

/** Adds one stack per lab to `app`, with cdk-nag's AWS Solutions checks on every one. */
export function addLabStacks(app: App, labs: readonly LoadedLab[]): LabStack[] {
  checkLabContext(app, labs);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return labs.map((lab) => new lab.stack(app, { lab }));
}

/**
 * The lab's templates for its page, as `cdk synth` writes them (with each resource's construct path, which the diagrams
 * read), without bundling, cdk-nag or validation: plain and with every optional part on.
 */
export function labFeatureTemplates(lab: LoadedLab): FeatureTemplates {
  return featureTemplates(lab, (allFeatures) => {
    const app = new App({
      context: { ...cdkJsonContext(), ...SKIP_BUNDLING, ...(allFeatures ? { [ALL_FEATURES_CONTEXT]: true } : {}), 'aws:cdk:enable-path-metadata': true },
      builtinCloudFormationValidation: false,
    });
    const stack = new lab.stack(app, { lab });
    return app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  });
}
