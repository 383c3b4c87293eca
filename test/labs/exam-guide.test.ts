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

test('renders a guide word for word: a row per task and skill, each lab once per task, gaps in the tables and listed at the end', () => {
  const page = renderExamGuide(
    [
      {
        id: 7,
        title: 'Seventh domain',
        weightPercent: 12,
        source: 'https://official.example/domain7.html',
        tasks: [
          {
            id: '7.1',
            title: 'Practised task',
            skills: [
              { text: 'Skill A', practisedBy: [{ lab: 'sqs', steps: ['poison', 'fifo'] }, { lab: 'kms', steps: ['key'] }] },
              { text: 'Skill B', practisedBy: [{ lab: 'sqs', steps: ['delay'] }] },
              { text: 'Skill C', practisedBy: [] },
            ],
          },
          { id: '7.2', title: 'Unpractised task', skills: [{ text: 'Skill D', practisedBy: [] }], copiedFrom: ['https://copy.example/7'] },
        ],
      },
    ],
    { source: 'https://official.example/revised.md', readable: 'nothing more', addedSkills: [] },
  );
  expect(page).toBe(
    [
      '<!-- generated from labs/support/exam-guide.ts by `npm run docs`; do not edit -->',
      '# The DVA-C02 exam guide, mapped to the labs',
      '',
      'One row per task statement and skill of the AWS Certified Developer – Associate (DVA-C02) exam guide, in its words,',
      'with the lab exercise steps that practise it (`npm run lab -- exercise <lab> --step <id>`). The guide also lists',
      '"knowledge of" items per task; the labs\' READMEs explain those. Where a task\'s skills were read from copies of the',
      'guide because its official page could not be read when this map was made, a line under the domain\'s table names them.',
      '',
      '## Domain 7: Seventh domain (12 % of the scored content)',
      '',
      'Source: https://official.example/domain7.html',
      '',
      '| Task statement / skill | Practised by |',
      '| --- | --- |',
      '| **Task 7.1: Practised task** | [sqs](../labs/sqs/README.md), [kms](../labs/kms/README.md) |',
      '| Skill A | [sqs](../labs/sqs/README.md): `poison`, `fifo`<br>[kms](../labs/kms/README.md): `key` |',
      '| Skill B | [sqs](../labs/sqs/README.md): `delay` |',
      '| Skill C | **no lab yet** |',
      '| **Task 7.2: Unpractised task** | **no lab yet** |',
      '| Skill D | **no lab yet** |',
      '',
      'Skills of task 7.2 read from copies of the guide, not from the official page: https://copy.example/7',
      '',
      '## What the revised guide adds',
      '',
      'AWS has revised the guide (https://official.example/revised.md). Only nothing more could be read when this map was made; the',
      'tables above follow the version before it. What the revision adds, as far as it could be read:',
      '',
      '| Task | Added skill | Practised by |',
      '| --- | --- | --- |',
      '',
      '## What no lab practises yet',
      '',
      '- 7.1: Skill C',
      '- 7.2: Skill D',
      '',
    ].join('\n'),
  );
});

test('the revised guide is the one read at docs.aws.amazon.com, with the skill it adds to task 3.1', () => {
  expect(REVISED_GUIDE).toEqual({
    source: 'https://docs.aws.amazon.com/aws-certification/latest/developer-associate-02/developer-associate-02-domain3.md',
    readable: "the top of domain 3's page (task 3.1)",
    addedSkills: [
      {
        task: '3.1',
        skill: {
          text: 'Prepare application configurations for specific environments (for example, by using AWS AppConfig)',
          practisedBy: [{ lab: 'appconfig', steps: ['environments', 'rollout'] }],
        },
      },
    ],
  });
});
