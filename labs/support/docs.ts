import { LABS, LabDefinition } from '../catalogue';
import { perHour, perMonth, PRICES_CHECKED } from './cost';
import { ArchitectureView, CfnTemplate, label, mermaidDiagram } from './diagram';
import { featureContextKey } from './define-lab';
import { FeatureTemplates, optionalPartPaths } from './optional-parts';
import { pipelineDiagrams } from './pipeline-diagram';
import { NamedDiagram, stateMachineDiagrams } from './workflow-diagram';

export const TABLE_BEGIN = '<!-- lab table: generated from labs/catalogue.ts by `npm run docs`; do not edit -->';
export const TABLE_END = '<!-- end of lab table -->';
export const PAGE_BEGIN = '<!-- architecture: generated from the synthesized template by `npm run docs`; do not edit -->';
export const PAGE_END = '<!-- end of generated architecture -->';


function optionalParts(lab: LabDefinition): string {
  const parts = [
    ...lab.features.map((f) => `\`-c ${featureContextKey(lab.id, f.name)}=true\`: ${f.description} (+${perMonth(f.idleCostUsdPerMonth)})`),
    ...lab.parameters.map((p) => `\`-c ${featureContextKey(lab.id, p.name)}=<${p.expected}>\`: ${p.description}`),
  ];
  return parts.join('<br>') || '—';
}

export function renderLabTable(labs: readonly LabDefinition[] = LABS): string {
  const rows = labs.map(
    (lab) =>
      `| [${lab.id}](labs/${lab.id}/README.md) | ${lab.title} | \`${lab.stackName}\` | ${lab.seedTopics.join('; ')} | ` +
      `${perMonth(lab.idleCostUsdPerMonth)}<br>${perHour(lab.idleCostUsdPerMonth)} | ${optionalParts(lab)} |`,
  );
  return [
    TABLE_BEGIN,
    `| Lab | What it teaches | Stack | Notes sections | Idle cost (us-east-1, ${PRICES_CHECKED}) | Optional parts (idle cost) |`,
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}

const WORKFLOW_CAPTION = [
  'Drawn from the synthesized definition. Solid arrows are `Next`, `End` and the Choice rules; a dashed loop is the',
  "state's Retry policy (its retriers in order: the first whose errors match applies, `never` stops retrying those",
  "errors), a dashed arrow a Catch (errors → next state, and the ResultPath where the error lands in the state's output).",
].join('\n');

const PIPELINE_CAPTION = [
  'Drawn from the synthesized pipeline: stages top-down, actions in run order, thick arrows from one stage to the next;',
  'the deployment group shows its deployment configuration and rollback alarms, dashed arrows its lifecycle hooks.',
].join('\n');

/** A section per diagram; a diagram identical to an earlier one is named, not drawn again. */
function diagramSections(heading: string, caption: string, diagrams: readonly NamedDiagram[]): string[] {
  const drawn = new Map<string, string>();
  return diagrams.flatMap(({ name, mermaid }) => {
    const twin = drawn.get(mermaid);
    if (twin) return [`### ${heading}: \`${name}\``, '', `The same definition as \`${twin}\`.`, ''];
    drawn.set(mermaid, name);
    return [`### ${heading}: \`${name}\``, '', caption, '', '```mermaid', mermaid, '```', ''];
  });
}

/** The picture of a view after its caption, which names the boxes without an arrow and says why they have none. */
function viewBlock(caption: string, view: ArchitectureView): string[] {
  const standalone = view.standalone.length
    ? ` Without an arrow, as nothing in the template joins them to the rest: ${view.standalone.map((n) => `\`${n}\``).join(', ')}.`
    : '';
  return [`${caption}${standalone}`, '', '```mermaid', view.mermaid, '```', ''];
}

/**
 * The lab page's generated part: the architecture without the optional parts, then the optional parts as their own
 * view, the workflow and pipeline diagrams, outputs and resource counts of the template with every feature on.
 */
export function renderLabArchitecture(lab: LabDefinition, template: CfnTemplate, optionalPaths: ReadonlySet<string>): string {
  const counts = new Map<string, number>();
  for (const { Type } of Object.values(template.Resources)) counts.set(Type, (counts.get(Type) ?? 0) + 1);
  const resources = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `${n} × \`${type}\``);
  const outputs = Object.keys(template.Outputs ?? {}).map((o) => `\`${o}\``);
  const pathsOf = (t: CfnTemplate) => new Set(Object.keys(t.Resources).map((id) => label(t.Resources, id, lab.stackName)));
  const inScope = (path: string, scope: string) => path === scope || path.startsWith(`${scope}/`);
  const apart = Object.entries(lab.separateViews ?? {});
  const required = [...pathsOf(template)].filter((p) => !optionalPaths.has(p) && !apart.some(([scope]) => inScope(p, scope)));
  // Drawn from the default stack: the optional parts have their own picture.
  const defaultStack = {
    ...template,
    Resources: Object.fromEntries(Object.entries(template.Resources).filter(([id]) => !optionalPaths.has(label(template.Resources, id, lab.stackName)))),
  };
  const separateViews = apart.flatMap(([scope, heading]) => {
    const paths = new Set([...pathsOf(defaultStack)].filter((p) => inScope(p, scope)));
    const view = mermaidDiagram(defaultStack, lab.stackName, { paths, withContext: true });
    const caption = `The resources under \`${scope}\`; grey dashed boxes are the resources of the picture above that they join.`;
    return [`### ${heading}`, '', ...viewBlock(caption, view)];
  });
  const apartNote = apart.length ? ` and ${apart.map(([scope]) => `\`${scope}\``).join(', ')} drawn apart below` : '';
  const switches = lab.features.map((f) => `\`-c ${featureContextKey(lab.id, f.name)}=true\``).join(', ');
  const adds = `${switches} add${lab.features.length === 1 ? 's' : ''}`;
  const optional = mermaidDiagram(template, lab.stackName, { paths: optionalPaths, withContext: true });
  const optionalView = !optionalPaths.size
    ? []
    : optional.nodeCount
      ? ['### With the optional parts', '', ...viewBlock(`What ${adds}; grey dashed boxes are the resources of the default stack they join.`, optional)]
      : ['### With the optional parts', '', `What ${adds} is left out of the pictures (IAM, log groups, permissions).`, ''];
  return [
    PAGE_BEGIN,
    '## Architecture',
    '',
    ...viewBlock(
      [
        `Drawn from the template of \`${lab.stackName}\`${optionalPaths.size ? ' with the optional parts off' : ''}${apartNote}; IAM policies, log groups,`,
        'permissions and the network under a VPC are left out of the picture, dashed arrows are failure paths, metrics and',
        'events; resources of one kind with the same arrows are folded into one box ("3 × Function").',
      ].join('\n'),
      mermaidDiagram(template, lab.stackName, { paths: new Set(required), withContext: false }),
    ),
    ...separateViews,
    ...optionalView,
    ...diagramSections('Workflow', WORKFLOW_CAPTION, stateMachineDiagrams(template, lab.stackName)),
    ...diagramSections('Pipeline', PIPELINE_CAPTION, pipelineDiagrams(template, lab.stackName)),
    `**Idle cost** (us-east-1 list prices, ${PRICES_CHECKED}): ${perMonth(lab.idleCostUsdPerMonth)} ` +
      `(${perHour(lab.idleCostUsdPerMonth)}) with the optional parts off${lab.features.length ? '; ' : '.'}` +
      lab.features.map((f) => `\`-c ${featureContextKey(lab.id, f.name)}=true\` adds ${perMonth(f.idleCostUsdPerMonth)}`).join('; ') +
      (lab.features.length ? '.' : ''),
    '',
    `**Outputs:** ${outputs.join(', ') || 'none'}`,
    '',
    `**Resources (${Object.keys(template.Resources).length}):** ${resources.join(', ')}`,
    PAGE_END,
  ].join('\n');
}

function replaceBetween(text: string, begin: string, end: string, content: string, fallback: (text: string) => string): string {
  const from = text.indexOf(begin);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return fallback(text);
  return text.slice(0, from) + content + text.slice(to + end.length);
}

/** The README with its lab table replaced by a fresh rendering of the catalogue. */
export function withFreshLabTable(readme: string): string {
  return replaceBetween(readme, TABLE_BEGIN, TABLE_END, renderLabTable(), () => {
    throw new Error(`README.md lacks the lab table markers:\n${TABLE_BEGIN}\n${TABLE_END}`);
  });
}

/** A lab README with its generated architecture refreshed; placed before "## Deploy" the first time. */
export function withFreshLabPage(readme: string, lab: LabDefinition, templates: FeatureTemplates): string {
  const block = renderLabArchitecture(lab, templates.withAllFeatures, optionalPartPaths(lab, templates));
  return replaceBetween(readme, PAGE_BEGIN, PAGE_END, block, (text) => {
    const deploy = text.indexOf('\n## Deploy');
    return deploy < 0 ? `${text.trimEnd()}\n\n${block}\n` : `${text.slice(0, deploy)}\n${block}\n${text.slice(deploy)}`;
  });
}
