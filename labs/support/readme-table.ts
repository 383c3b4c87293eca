import { LABS, LabDefinition } from '../catalogue';
import { featureContextKey } from './lab-stack';

export const TABLE_BEGIN = '<!-- lab table: generated from labs/catalogue.ts by `npm run readme`; do not edit -->';
export const TABLE_END = '<!-- end of lab table -->';

const usd = (amount: number) => `$${amount.toFixed(2)}/month`;

function optionalParts(lab: LabDefinition): string {
  if (lab.features.length === 0) return '—';
  return lab.features
    .map((f) => `\`-c ${featureContextKey(lab.id, f.name)}=true\`: ${f.description} (+${usd(f.idleCostUsdPerMonth)})`)
    .join('<br>');
}

export function renderLabTable(labs: readonly LabDefinition[] = LABS): string {
  const rows = labs.map(
    (lab) =>
      `| [${lab.id}](labs/${lab.id}/README.md) | ${lab.title} | \`${lab.stackName}\` | ${lab.seedTopics.join('; ')} | ` +
      `${usd(lab.idleCostUsdPerMonth)} | ${optionalParts(lab)} |`,
  );
  return [
    TABLE_BEGIN,
    '| Lab | What it teaches | Stack | Notes sections | Idle cost | Optional parts (idle cost) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}

/** The README with its lab table replaced by a fresh rendering of the catalogue. */
export function withFreshLabTable(readme: string): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the lab table markers:\n${TABLE_BEGIN}\n${TABLE_END}`);
  return readme.slice(0, begin) + renderLabTable() + readme.slice(end + TABLE_END.length);
}
