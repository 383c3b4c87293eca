import { strykerArguments } from '../../bin/mutate';

describe('npm run mutate: what Stryker is asked to mutate and with which tests', () => {
  test('without targets, everything stryker.config.json names, with every test', () => {
    expect(strykerArguments([])).toEqual({ args: ['--checkers', ''], testFiles: [] });
    expect(strykerArguments(['--typecheck'])).toEqual({ args: [], testFiles: [] });
  });

  test('a folder is mutated against the test files that mirror it, its variants included', () => {
    expect(strykerArguments(['lib/fan-out/', 'lambda/deploy-hooks'])).toEqual({
      args: ['--mutate', 'lib/fan-out/**/*.ts,lambda/deploy-hooks/**/*.ts', '--checkers', ''],
      testFiles: [
        'test/lib/fan-out-filter-policy.test.ts',
        'test/lib/fan-out.test.ts',
        'test/lambda/deploy-hooks-ecs.test.ts',
        'test/lambda/deploy-hooks.test.ts',
      ],
    });
  });

  test('a file is mutated alone; a labs/support file is mirrored under test/labs/ too', () => {
    expect(strykerArguments(['labs/sqs/exercise.ts']).testFiles).toEqual(['test/labs/sqs/exercise.test.ts']);
    expect(strykerArguments(['labs/support/cost.ts']).testFiles).toEqual(['test/labs/cost.test.ts']);
    expect(strykerArguments(['labs/support/exercise.ts']).testFiles).toEqual(['test/labs/support/exercise.test.ts']);
  });

  test('<target>-<name>.test.ts mirrors the target, unless <target>-<name> is a module of its own', () => {
    expect(strykerArguments(['lambda/versioned-greeter']).testFiles).toEqual([
      'test/lambda/versioned-greeter-logs.test.ts',
      'test/lambda/versioned-greeter.test.ts',
    ]);
    // labs/support/diagram-check.ts is a module of its own: its test is not diagram.ts's.
    expect(strykerArguments(['labs/support/diagram.ts']).testFiles).toEqual(['test/labs/diagram-render.test.ts', 'test/labs/diagram.test.ts']);
  });

  test('a file in a folder: its own test (<folder>-<file>), else the folder\'s; a folder: the tests under it too', () => {
    expect(strykerArguments(['lib/fan-out/filter-policy.ts']).testFiles).toEqual(['test/lib/fan-out-filter-policy.test.ts']);
    expect(strykerArguments(['lambda/deploy-hooks/ecs.ts']).testFiles).toEqual(['test/lambda/deploy-hooks-ecs.test.ts']);
    expect(strykerArguments(['lib/beanstalk-app/options.ts']).testFiles).toEqual(['test/lib/beanstalk-app.test.ts']);
    expect(strykerArguments(['labs/sqs']).testFiles).toEqual(['test/labs/sqs/exercise.test.ts', 'test/labs/sqs/stack.test.ts']);
    expect(strykerArguments(['lib/']).testFiles).toContain('test/lib/queue-consumer.test.ts');
  });

  test('--related leaves the choice of tests to Stryker: every test related to the target', () => {
    expect(strykerArguments(['--related', 'lambda/sfn-approval-notifier'])).toEqual({
      args: ['--mutate', 'lambda/sfn-approval-notifier/**/*.ts', '--checkers', ''],
      testFiles: [],
    });
  });

  test.each([
    [['lambda/sfn-approval-notifier'], 'no test file mirrors lambda/sfn-approval-notifier (test/<path>*.test.ts): add --related to run every test related to it'],
    [['lib/no-such-construct'], 'lib/no-such-construct does not exist'],
    [['test/lib'], 'test/lib is not under lib/, lambda/ or labs/: only code is mutated, not tests'],
    [['--fast', 'lib/fan-out'], 'unknown option --fast'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => strykerArguments(argv)).toThrow(message);
  });
});
