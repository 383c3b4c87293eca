import { App } from 'aws-cdk-lib';
import { SKIP_BUNDLING } from '../../lib/testing';
import { cdkJsonContext, LoadedLab } from './app';
import { CfnTemplate, label } from './diagram';

/**
 * Construct paths of the resources that only the lab's optional parts create: the template with every feature on
 * less the one a plain `cdk deploy` gives. Empty, and no second synth, for a lab without optional parts.
 */
export function optionalPartPaths(lab: LoadedLab, withAllFeatures: CfnTemplate): Set<string> {
  if (lab.features.length === 0) return new Set();
  const app = new App({
    context: { ...cdkJsonContext(), ...SKIP_BUNDLING, 'aws:cdk:enable-path-metadata': true },
    builtinCloudFormationValidation: false,
  });
  const stack = new lab.stack(app, { lab });
  const plain = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  const pathsOf = (template: CfnTemplate) => Object.keys(template.Resources).map((id) => label(template.Resources, id, lab.stackName));
  const inPlain = new Set(pathsOf(plain));
  return new Set(pathsOf(withAllFeatures).filter((p) => !inPlain.has(p)));
}
