import * as path from 'node:path';
import { LABS } from '../../labs/catalogue';
import { REPO_ROOT } from '../support/synth';

test('each lab is declared in labs/<id>/lab.ts, the folder its stack, exercise and README live in', async () => {
  for (const lab of LABS) {
    const declarations = Object.values((await import(path.join(REPO_ROOT, 'labs', lab.id, 'lab'))) as Record<string, unknown>);
    expect(declarations).toContain(lab);
  }
});

test('lab ids and stack names are unique', () => {
  expect(new Set(LABS.map((l) => l.id)).size).toBe(LABS.length);
  expect(new Set(LABS.map((l) => l.stackName)).size).toBe(LABS.length);
});
