import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LabDefinition, LABS } from '../catalogue';
import { LabConfigError, LabStack } from './lab-stack';

/** Refuses `-c <lab-id>:<feature>` for a feature the lab does not declare: a typo must not silently deploy less. */
function checkFeatureContext(app: App, labs: readonly LabDefinition[]): void {
  const context = app.node.getAllContext() as Record<string, unknown>;
  for (const key of Object.keys(context)) {
    const [labId, feature, ...rest] = key.split(':');
    const lab = labs.find((l) => l.id === labId);
    if (!lab || feature === undefined || rest.length > 0) continue;
    if (!lab.features.some((f) => f.name === feature)) {
      const known = lab.features.map((f) => `${lab.id}:${f.name}`).join(', ') || 'none';
      throw new LabConfigError(`unknown context flag ${key}: lab ${lab.id} has the feature flags ${known}`);
    }
  }
}

/** Adds one stack per lab to `app`, with cdk-nag's AWS Solutions checks on every one. */
export function addLabStacks(app: App, labs: readonly LabDefinition[] = LABS): LabStack[] {
  checkFeatureContext(app, labs);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return labs.map((lab) => new lab.stack(app, { lab }));
}
