import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findLab, LabDefinition, LABS } from '../labs/catalogue';
import { labFeatureTemplates, loadLabs } from '../labs/support/app';
import type { CfnTemplate } from '../labs/support/diagram';
import { withFreshLabPage, withFreshLabTable } from '../labs/support/docs';
import { featureTemplates } from '../labs/support/optional-parts';
import { labTemplate, REPO_ROOT } from './support/lab-template';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** The lab's templates as this run keeps them: made by whichever test file synthesized them first (the catalogue's, mostly). */
const runTemplates = (lab: LabDefinition) =>
  featureTemplates(lab, (allFeatures) => labTemplate(lab, { allFeatures }).toJSON() as CfnTemplate);

test('the lab table in README.md matches labs/catalogue.ts (run `npm run docs` to refresh it)', () => {
  expect(readme).toBe(withFreshLabTable(readme));
});

test.each(LABS.map((lab) => [lab.id, lab] as const))(
  'the generated architecture of lab %s matches its template (run `npm run docs` to refresh it)',
  (_id, lab) => {
    const page = readFileSync(path.join(REPO_ROOT, 'labs', lab.id, 'README.md'), 'utf8');
    expect(page).toBe(withFreshLabPage(page, lab, runTemplates(lab)));
  },
);

test('npm run docs draws the pages from the same templates as this file checks them against', async () => {
  const [sqs] = await loadLabs([findLab('sqs')!]);
  expect(labFeatureTemplates(sqs)).toEqual(runTemplates(sqs));
});

test('README.md gives the set-up and test commands that .ci/run runs, Node.js 24 first', () => {
  const ci = readFileSync(path.join(REPO_ROOT, '.ci', 'run'), 'utf8');
  expect(ci).toMatch(/^source \.ci\/use-node24\.sh$/m);
  expect(ci).toMatch(/^npm ci\b/m);
  expect(ci).toMatch(/^npm test$/m);
  expect(readme).toContain('source .ci/use-node24.sh');
  expect(readme).toContain('npm ci');
  expect(readme).toContain('npm test');
});

test('a README without the table markers gets a message saying what is missing', () => {
  expect(() => withFreshLabTable('# no table')).toThrow('README.md lacks the lab table markers');
});

/** The relative link targets of a Markdown page, outside code (a regex in a code block is not a link). */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target).filter((target) => !/^([a-z]+:|#)/.test(target));
}

test('relative links are read outside code, without web addresses and anchors', () => {
  const page = ['[`stack.ts`](stack.ts), [docs](https://docs.aws.amazon.com/x), [below](#cost), [page](../x/README.md#cost)', '```', "'([0-9]*)'", '```', '`a](b)`'].join('\n');
  expect(relativeLinks(page)).toEqual(['stack.ts', '../x/README.md#cost']);
});

test('every relative link of README.md, the docs and each lab and construct README names a file that exists', () => {
  const pages = [
    'README.md',
    ...readdirSync(path.join(REPO_ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => path.join('docs', name)),
    ...['labs', 'lib'].flatMap((root) => readdirSync(path.join(REPO_ROOT, root)).map((dir) => path.join(root, dir, 'README.md'))),
  ].filter((page) => existsSync(path.join(REPO_ROOT, page)));
  const broken = pages.flatMap((page) =>
    relativeLinks(readFileSync(path.join(REPO_ROOT, page), 'utf8'))
      .filter((target) => !existsSync(path.join(REPO_ROOT, path.dirname(page), decodeURI(target.split('#')[0]))))
      .map((target) => `${page} → ${target}`),
  );
  expect(pages.length).toBeGreaterThan(LABS.length);
  expect(broken).toEqual([]);
});
