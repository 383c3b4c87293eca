import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { runSideBySide } from '../../bin/checks';
import { REPO_ROOT } from '../support/synth';

// Each test starts Node.js processes (one through tsx): seconds on a busy machine.
jest.setTimeout(30_000);

const node = (name: string, script: string) => ({ name, file: process.execPath, args: ['-e', script] });

test('runs the commands at the same time and prints each one whole, the failed ones named in the summary', async () => {
  const printed: string[] = [];
  // The slow one writes twice with a pause, the fast one ends in between: a command's output must stay in one piece.
  const passed = await runSideBySide(
    [
      node('slow', "console.log('slow: first'); setTimeout(() => { console.error('slow: second'); process.exit(3); }, 300)"),
      node('fast', "console.log('fast: only')"),
    ],
    (text) => printed.push(text),
  );
  expect(passed).toBe(false);
  // Which ends first depends on the machine's load; each is printed in one piece, the summary last.
  expect(printed).toHaveLength(3);
  expect(printed.slice(0, 2).sort()).toEqual([
    expect.stringMatching(/^── fast: passed in \d+\.\d s\nfast: only$/),
    expect.stringMatching(/^── slow: failed \(exit 3\) in \d+\.\d s\nslow: first\nslow: second$/),
  ]);
  expect(printed[2]).toMatch(/^── checks: slow failed in \d+\.\d s \(slow \d+\.\d s, fast \d+\.\d s, side by side\)$/);
});

test('passes when every command passes, and counts a command that cannot start as failed', async () => {
  const printed: string[] = [];
  expect(await runSideBySide([node('quiet', '')], (text) => printed.push(text))).toBe(true);
  expect(printed[0]).toMatch(/^── quiet: passed in \d+\.\d s$/);
  expect(await runSideBySide([{ name: 'missing', file: path.join(REPO_ROOT, 'no-such-command'), args: [] }], () => undefined)).toBe(false);
});

test('npm run checks refuses a check it does not know, naming the ones it has', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'bin', 'checks.ts'), 'lint', 'typo'], { cwd: REPO_ROOT, encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stderr.trim()).toBe('checks: unknown check typo; the checks are build, lint, synth');
});
