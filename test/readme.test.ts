import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LABS } from '../labs/catalogue';
import type { CfnTemplate } from '../labs/support/diagram';
import { withFreshLabPage, withFreshLabTable } from '../labs/support/docs';
import { labTemplate, REPO_ROOT } from './support/lab-template';

const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

test('the lab table in README.md matches labs/catalogue.ts (run `npm run docs` to refresh it)', () => {
  expect(readme).toBe(withFreshLabTable(readme));
});

test.each(LABS.map((lab) => [lab.id, lab] as const))(
  'the generated architecture of lab %s matches its template (run `npm run docs` to refresh it)',
  (_id, lab) => {
    const page = readFileSync(path.join(REPO_ROOT, 'labs', lab.id, 'README.md'), 'utf8');
    // The templates the catalogue's checks made earlier in this run, as `npm run docs` synthesizes them.
    const plain = labTemplate(lab).toJSON() as CfnTemplate;
    const withAllFeatures = lab.features.length > 0 ? (labTemplate(lab, { allFeatures: true }).toJSON() as CfnTemplate) : plain;
    expect(page).toBe(withFreshLabPage(page, lab, { plain, withAllFeatures }));
  },
);

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
