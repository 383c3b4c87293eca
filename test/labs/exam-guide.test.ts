import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findLab } from '../../labs/catalogue';
import { EXAM_GUIDE, renderExamGuide } from '../../labs/support/exam-guide';
import { REPO_ROOT } from '../support/lab-template';

const practices = EXAM_GUIDE.flatMap((d) => d.tasks).flatMap((t) => [...t.skills.flatMap((s) => s.practisedBy), ...(t.unreadSkills?.practisedBy ?? [])]);

test('docs/exam-guide.md matches labs/support/exam-guide.ts (run `npm run docs` to refresh it)', () => {
  expect(readFileSync(path.join(REPO_ROOT, 'docs', 'exam-guide.md'), 'utf8')).toBe(renderExamGuide());
});

test.each([...new Set(practices.map((p) => p.lab))])('every exercise step the map names for lab %s exists', async (labId) => {
  const lab = findLab(labId);
  expect(lab).toBeDefined();
  const { steps } = await lab!.loadExercise();
  const named = practices.filter((p) => p.lab === labId).flatMap((p) => p.steps);
  expect(named.filter((id) => !steps.some((step) => step.id === id))).toEqual([]);
});

test('has the four domains and twelve task statements of DVA-C02, and lists what no lab practises', () => {
  expect(EXAM_GUIDE.map((d) => d.tasks.map((t) => t.id))).toEqual([
    ['1.1', '1.2', '1.3'],
    ['2.1', '2.2', '2.3'],
    ['3.1', '3.2', '3.3', '3.4'],
    ['4.1', '4.2', '4.3'],
  ]);
  expect(renderExamGuide()).toContain('- 4.2: Adding annotations for tracing services');
});
