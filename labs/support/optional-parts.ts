import type { LabDefinition } from './define-lab';
import { CfnTemplate, label } from './diagram';

/** A lab's template as a plain `cdk deploy` gives it and with every optional part on, both with path metadata. */
export interface FeatureTemplates {
  readonly plain: CfnTemplate;
  readonly withAllFeatures: CfnTemplate;
}

/** A lab's templates from `synth(allFeatures)`: one synth for a lab without optional parts. */
export function featureTemplates(lab: LabDefinition, synth: (allFeatures: boolean) => CfnTemplate): FeatureTemplates {
  const plain = synth(false);
  return { plain, withAllFeatures: lab.features.length > 0 ? synth(true) : plain };
}

/**
 * Construct paths of the resources that only the lab's optional parts create: the template with every feature on
 * less the plain one.
 */
export function optionalPartPaths(lab: LabDefinition, templates: FeatureTemplates): Set<string> {
  const pathsOf = (template: CfnTemplate) => Object.keys(template.Resources).map((id) => label(template.Resources, id, lab.stackName));
  const inPlain = new Set(pathsOf(templates.plain));
  return new Set(pathsOf(templates.withAllFeatures).filter((p) => !inPlain.has(p)));
}
