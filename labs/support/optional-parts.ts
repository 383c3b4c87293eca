import type { LabDefinition } from './define-lab';
import { CfnTemplate, label } from './diagram';

/** A lab's template as a plain `cdk deploy` gives it and with every optional part on, both with path metadata. */
export interface FeatureTemplates {
  readonly plain: CfnTemplate;
  readonly withAllFeatures: CfnTemplate;
}

/**
 * Construct paths of the resources that only the lab's optional parts create: the template with every feature on
 * less the plain one. Empty for a lab without optional parts.
 */
export function optionalPartPaths(lab: LabDefinition, templates: FeatureTemplates): Set<string> {
  if (lab.features.length === 0) return new Set();
  const pathsOf = (template: CfnTemplate) => Object.keys(template.Resources).map((id) => label(template.Resources, id, lab.stackName));
  const inPlain = new Set(pathsOf(templates.plain));
  return new Set(pathsOf(templates.withAllFeatures).filter((p) => !inPlain.has(p)));
}
