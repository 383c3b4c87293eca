import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { findLab } from '../../labs/catalogue';
import { EXAM_GUIDE, REVISED_GUIDE, renderExamGuide } from '../../labs/support/exam-guide';
import { REPO_ROOT } from '../support/lab-template';

const tasks = EXAM_GUIDE.flatMap((d) => d.tasks);
const practices = [...tasks.flatMap((t) => t.skills), ...REVISED_GUIDE.addedSkills.map((a) => a.skill)].flatMap((s) => s.practisedBy);

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
  expect(tasks.filter((t) => t.skills.length === 0).map((t) => t.id)).toEqual([]);
});

test('says under a domain\'s table which tasks\' skills were read from copies of the guide, and names the copies', () => {
  const page = renderExamGuide([
    {
      id: 9,
      title: 'Domain',
      weightPercent: 1,
      source: 'https://official.example/domain9.html',
      tasks: [
        { id: '9.1', title: 'Read from the official page', skills: [{ text: 'Skill one', practisedBy: [] }] },
        { id: '9.2', title: 'Read from copies', skills: [{ text: 'Skill two', practisedBy: [] }], copiedFrom: ['https://a.example/copy', 'https://b.example/copy'] },
      ],
    },
  ]);
  const afterTable = page.slice(page.indexOf('| Skill two |'));
  expect(afterTable).toContain('\n\nSkills of task 9.2 read from copies of the guide, not from the official page: https://a.example/copy, https://b.example/copy\n');
  expect(page).not.toContain('task 9.1 read from copies');
});

test('says what the revised guide adds, how much of it could be read, and lists an added skill no lab practises as a gap', () => {
  const page = renderExamGuide([], {
    source: 'https://official.example/revised/domain9.md',
    readable: 'the top of domain 9',
    addedSkills: [
      { task: '9.1', skill: { text: 'Practised skill', practisedBy: [{ lab: 'appconfig', steps: ['rollout'] }] } },
      { task: '9.2', skill: { text: 'Unpractised skill', practisedBy: [] } },
    ],
  });
  expect(page).toContain('AWS has revised the guide (https://official.example/revised/domain9.md). Only the top of domain 9 could be read');
  expect(page).toContain('| 9.1 | Practised skill | [appconfig](../labs/appconfig/README.md): `rollout` |');
  expect(page).toContain('| 9.2 | Unpractised skill | **no lab yet** |');
  expect(page.slice(page.indexOf('## What no lab practises yet'))).toContain('- 9.2 (revised guide): Unpractised skill');
  expect(page).not.toContain('- 9.1 (revised guide)');
});
