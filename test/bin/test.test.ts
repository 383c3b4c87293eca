import { getPriority } from 'node:os';
import * as path from 'node:path';
import { failureOutputs, Phase, PhaseResult, runPhases, summary, testPhases } from '../../bin/test';

const node = (name: string, script: string, options: Partial<Phase> = {}): Phase => ({
  name,
  command: process.execPath,
  args: ['-e', script],
  live: false,
  niceness: 0,
  ...options,
});

describe('npm test: jest in the foreground, the other phases beside it', () => {
  test('jest gets the arguments and keeps its priority; build, lint and synth run at niceness 19, through package.json', () => {
    const phases = testPhases(['test/lib', '--silent']);
    expect(phases.map((p) => [p.name, p.live, p.niceness])).toEqual([
      ['jest', true, 0],
      ['tsc --noEmit', false, 19],
      ['eslint', false, 19],
      ['cdk synth --no-validation', false, 19],
    ]);
    expect(phases[0].args.slice(1)).toEqual(['test/lib', '--silent']);
    expect(path.relative(path.join(__dirname, '..', '..'), phases[0].args[0])).toBe(path.join('node_modules', 'jest', 'bin', 'jest.js'));
    expect(phases.slice(1).map((p) => p.args)).toEqual([
      ['run', '--silent', 'build', '--', '--singleThreaded'],
      ['run', '--silent', 'lint'],
      ['run', '--silent', 'synth', '--', '--no-validation'],
    ]);
    expect(testPhases([], false)[0].live).toBe(false);
  });

  test('the phases run at once, each at its niceness; a kept phase\'s output is kept, stdout and stderr in order', async () => {
    const priorityOfItself = 'process.stdout.write(String(require("os").getPriority()))';
    const [foreground, beside, both] = await runPhases([
      node('foreground', priorityOfItself),
      node('beside', priorityOfItself, { niceness: 10 }),
      node('both', 'process.stdout.write("out 1 "); process.stderr.write("err "); setTimeout(() => process.stdout.write("out 2"), 50)'),
    ]);
    expect(foreground).toMatchObject({ ok: true, output: String(getPriority()) });
    expect(beside).toMatchObject({ ok: true, output: String(Math.min(19, getPriority() + 10)) });
    expect(both).toMatchObject({ ok: true, output: 'out 1 err out 2', failure: undefined });
  });

  test('side by side: the total is the longest phase, not the sum', async () => {
    const wait = (ms: number) => `setTimeout(() => {}, ${ms})`;
    const started = Date.now();
    const results = await runPhases([node('short', wait(300)), node('long', wait(600)), node('middle', wait(450))]);
    const elapsed = Date.now() - started;
    const longest = Math.max(...results.map((r) => r.ms));
    expect(results.map((r) => r.phase.name)).toEqual(['short', 'long', 'middle']);
    // Side by side: the run took less than the phases one after another (which phase is longest depends on how fast
    // each node starts on a loaded machine: CI once saw 'middle' end last).
    expect(elapsed).toBeLessThan(results.reduce((sum, r) => sum + r.ms, 0));
    expect(summary(results).split('\n').pop()).toBe(`  total${' '.repeat(10)}${`${(longest / 1000).toFixed(1)} s`.padStart(8)}`);
  });

  test('how a phase failed: its exit code, the signal that ended it, or the missing command', async () => {
    const [exited, killed, missing, ok] = await runPhases([
      node('exits 3', 'console.error("type error in lib/x.ts"); process.exit(3)'),
      node('killed', 'process.kill(process.pid, "SIGKILL")'),
      { name: 'missing', command: 'no-such-command-here', args: [], live: false, niceness: 0 },
      node('ok', ''),
    ]);
    expect([exited, killed, missing, ok].map((r) => [r.ok, r.failure])).toEqual([
      [false, 'exit 3'],
      [false, 'signal SIGKILL'],
      [false, 'no-such-command-here was not found on PATH'],
      [true, undefined],
    ]);
    expect(exited.output).toBe('type error in lib/x.ts\n');
  });

  test('only the failed phases\' output is shown (a live phase already showed its own), and the summary says which failed', () => {
    const result = (name: string, ok: boolean, ms: number, output = '', live = false): PhaseResult => ({
      phase: node(name, '', { live }),
      ok,
      failure: ok ? undefined : 'exit 1',
      ms,
      output,
    });
    const results = [
      result('jest', false, 104_400, '', true),
      result('tsc --noEmit', false, 30_900, 'lib/x.ts(3,1): error TS2304\n'),
      result('eslint', true, 14_500, 'all fine'),
    ];
    expect(failureOutputs(results)).toBe('\n── tsc --noEmit failed (exit 1) ──\nlib/x.ts(3,1): error TS2304\n');
    expect(summary(results)).toBe(
      [
        'npm test, side by side:',
        '  jest          FAILED  104.4 s',
        '  tsc --noEmit  FAILED   30.9 s',
        '  eslint        ok       14.5 s',
        '  total                 104.4 s',
      ].join('\n'),
    );
  });
});
