import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LABS } from '../../labs/catalogue';
import { REPO_ROOT } from '../support/lab-template';

const HEADING = '## Exam-style questions';

/** The questions at the end of a lab page, each with the exercise steps its answer points to. */
function examQuestions(page: string): { question: string; steps: string[] }[] {
  const section = page.slice(page.indexOf(HEADING));
  return [...section.matchAll(/^\d+\. \*\*(.+?)\*\*<br>.+\*Steps? (.+)\.\*$/gm)].map(([, question, steps]) => ({
    question,
    steps: [...steps.matchAll(/`([^`]+)`/g)].map((m) => m[1]),
  }));
}

const pages = LABS.map((lab) => [lab.id, lab, readFileSync(path.join(REPO_ROOT, 'labs', lab.id, 'README.md'), 'utf8')] as const);
// Labs being written in parallel add their questions when their exercise is done; every page that has them is checked.
const withQuestions = pages.filter(([, , page]) => page.includes(HEADING));

test.each(withQuestions)('lab %s ends with at least three exam-style questions whose steps exist', async (_id, lab, page) => {
  expect(page.lastIndexOf('\n## ')).toBe(page.indexOf(`\n${HEADING}`));
  const questions = examQuestions(page);
  expect(questions.length).toBeGreaterThanOrEqual(3);
  const { steps } = await lab.loadExercise();
  const missing = questions.flatMap((q) => q.steps).filter((id) => !steps.some((step) => step.id === id));
  expect(missing).toEqual([]);
});
