// pre_build check: the AppSpec the deploy action fills in must be a Lambda AppSpec with both hooks.
// Uses the `yaml` package, installed through CodeArtifact in the install phase.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

const file = process.argv[2] ?? 'appspec.yml';
const spec = parse(readFileSync(file, 'utf8'));
const problems = [];
// YAML reads `version: 0.0` as the number 0.
if (spec?.version !== 0 && spec?.version !== '0.0') problems.push('version must be 0.0');
const resources = Array.isArray(spec?.Resources) ? spec.Resources : [];
if (resources.length !== 1) problems.push('Resources must list exactly one function');
for (const resource of resources) {
  const [body] = Object.values(resource);
  if (body?.Type !== 'AWS::Lambda::Function') problems.push('the resource Type must be AWS::Lambda::Function');
  for (const key of ['Name', 'Alias', 'CurrentVersion', 'TargetVersion']) {
    if (!body?.Properties?.[key]) problems.push(`Properties.${key} is missing`);
  }
}
const hooks = (spec?.Hooks ?? []).flatMap((hook) => Object.keys(hook));
for (const hook of ['BeforeAllowTraffic', 'AfterAllowTraffic']) if (!hooks.includes(hook)) problems.push(`Hooks lacks ${hook}`);
if (problems.length > 0) {
  console.error(`${file}:\n  - ${problems.join('\n  - ')}`);
  process.exit(1);
}
console.log(`${file}: a Lambda AppSpec with hooks ${hooks.join(', ')}`);
