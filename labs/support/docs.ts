import { LABS, LabDefinition } from '../catalogue';
import { perHour, perMonth, PRICES_CHECKED } from './cost';
import { CfnTemplate, mermaidDiagram } from './diagram';
import { featureContextKey } from './define-lab';

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

/** The lab page's generated part: diagram, outputs and resource counts of the template with every feature on. */
export function renderLabArchitecture(lab: LabDefinition, template: CfnTemplate): string {
  const counts = new Map<string, number>();
  for (const { Type } of Object.values(template.Resources)) counts.set(Type, (counts.get(Type) ?? 0) + 1);
  const resources = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([type, n]) => `${n} × \`${type}\``);
  const outputs = Object.keys(template.Outputs ?? {}).map((o) => `\`${o}\``);
  return [
    PAGE_BEGIN,
    '## Architecture',
    '',
    `Drawn from the template of \`${lab.stackName}\` with every optional part on; IAM policies, log groups and`,
    'permissions are left out of the picture, dashed arrows are failure paths and metrics.',
    '',
    '```mermaid',
    mermaidDiagram(template, lab.stackName),
    '```',
    '',
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
export function withFreshLabPage(readme: string, lab: LabDefinition, template: CfnTemplate): string {
  const block = renderLabArchitecture(lab, template);
  return replaceBetween(readme, PAGE_BEGIN, PAGE_END, block, (text) => {
    const deploy = text.indexOf('\n## Deploy');
    return deploy < 0 ? `${text.trimEnd()}\n\n${block}\n` : `${text.slice(0, deploy)}\n${block}\n${text.slice(deploy)}`;
  });
}
