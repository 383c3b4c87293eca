import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { strykerArguments as strykerArgumentsIn } from '../../bin/mutate';

// A repository of its own, so the expectations do not change when a test file is added to this one.
const REPOSITORY = [
  'lib/fan-out/index.ts', 'lib/fan-out/filter-policy.ts', 'test/lib/fan-out.test.ts', 'test/lib/fan-out-filter-policy.test.ts',
  'lib/beanstalk-app/index.ts', 'lib/beanstalk-app/options.ts', 'test/lib/beanstalk-app.test.ts',
  'lib/queue-consumer/index.ts', 'test/lib/queue-consumer.test.ts',
  'lambda/deploy-hooks/index.ts', 'lambda/deploy-hooks/ecs.ts', 'test/lambda/deploy-hooks.test.ts', 'test/lambda/deploy-hooks-ecs.test.ts',
  'lambda/versioned-greeter/index.ts', 'test/lambda/versioned-greeter.test.ts', 'test/lambda/versioned-greeter-logs.test.ts',
  'lambda/sfn-approval-notifier/index.ts',
  'labs/sqs/exercise.ts', 'labs/sqs/stack.ts', 'labs/modelling/exercise.ts', 'labs/modelling/exercise/patterns.ts', 'test/labs/modelling/exercise.test.ts', 'test/labs/sqs/exercise.test.ts', 'test/labs/sqs/stack.test.ts',
  'labs/support/cost.ts', 'test/labs/cost.test.ts',
  'labs/support/exercise.ts', 'test/labs/support/exercise.test.ts',
  'labs/support/diagram.ts', 'labs/support/diagram-check.ts', 'test/labs/diagram-render.test.ts', 'test/labs/diagram-check.test.ts',
  'labs/support/docs.ts', 'labs/support/readme-only.ts', 'labs/support/unused.ts',
];
/** Test files that import modules (the rest of the repository's files are empty). */
const IMPORTS: Record<string, string> = {
  'test/labs/diagram.test.ts': "import { render } from '../../labs/support/diagram';\nimport { lessons } from '../../labs/support/docs.ts';\n",
  'test/readme.test.ts': "const docs = require('../labs/support/docs');\nconst guide = await import('../labs/support/readme-only');\n",
  // Named in text, not imported: 'labs/support/unused' and from '../labs/support/unused-too'.
  'test/lib/queue-consumer-settings.test.ts': "import { settings } from '../../lib/queue-consumer/settings';\n// see '../labs/support/unused'\n",
  'lib/queue-consumer/settings.ts': '',
  'labs/streaming/exercise.ts': '',
  'test/labs/streaming/exercise.test.ts': "import { steps } from '../../../labs/streaming/exercise';\n",
  'test/labs/streaming/search.test.ts': "import { steps } from '../../../labs/streaming/exercise';\n",
  'test/labs/streaming/stack.test.ts': '',
  'test/labs/far-away.test.ts': "import { steps } from '../../labs/streaming/exercise';\n",
};
let root: string;
beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'mutate-'));
  for (const [file, content] of [...REPOSITORY.map((name) => [name, ''] as const), ...Object.entries(IMPORTS)]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
const strykerArguments = (argv: string[]) => strykerArgumentsIn(argv, root);

describe('npm run mutate: what Stryker is asked to mutate and with which tests', () => {
  test('without targets, everything stryker.config.json names, with every test', () => {
    expect(strykerArguments([])).toEqual({ args: ['--checkers', ''], testFiles: [] });
    expect(strykerArguments(['--typecheck'])).toEqual({ args: [], testFiles: [] });
    expect(strykerArguments(['--force', 'lib/fan-out/filter-policy.ts'])).toEqual({
      args: ['--mutate', 'lib/fan-out/filter-policy.ts', '--checkers', '', '--force'],
      testFiles: ['test/lib/fan-out-filter-policy.test.ts'],
    });
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

  test('a module is mutated with the folder of its name beside it, against the module\'s tests', () => {
    expect(strykerArguments(['labs/modelling/exercise.ts'])).toEqual({
      args: ['--mutate', 'labs/modelling/exercise.ts,labs/modelling/exercise/**/*.ts', '--checkers', ''],
      testFiles: ['test/labs/modelling/exercise.test.ts'],
    });
    expect(strykerArguments(['labs/sqs/exercise.ts']).args).toEqual(['--mutate', 'labs/sqs/exercise.ts', '--checkers', '']);
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
    expect(strykerArguments(['lib/']).testFiles).toHaveLength(5);
  });

  test('a module of a shared folder with no test of its own: the test files that import it, not the folder\'s', () => {
    expect(strykerArguments(['labs/support/docs.ts']).testFiles).toEqual(['test/labs/diagram.test.ts', 'test/readme.test.ts']);
    expect(strykerArguments(['labs/support/readme-only.ts']).testFiles).toEqual(['test/readme.test.ts']);
    // Its own test (<folder>-<file>) first; only then those that import it.
    expect(strykerArguments(['lib/queue-consumer/settings.ts']).testFiles).toEqual(['test/lib/queue-consumer-settings.test.ts']);
    // Named in a test file's text but imported by none: the folder's tests, the last resort.
    expect(strykerArguments(['labs/support/unused.ts']).testFiles).toEqual(['test/labs/support/exercise.test.ts']);
  });

  test('the test files beside the mirrored ones that import the target are its tests too; those elsewhere are not', () => {
    expect(strykerArguments(['labs/streaming/exercise.ts']).testFiles).toEqual(['test/labs/streaming/exercise.test.ts', 'test/labs/streaming/search.test.ts']);
  });

  test('--related leaves the choice of tests to Stryker: every test related to the target', () => {
    expect(strykerArguments(['--related', 'lambda/sfn-approval-notifier'])).toEqual({
      args: ['--mutate', 'lambda/sfn-approval-notifier/**/*.ts', '--checkers', ''],
      testFiles: [],
    });
  });

  test.each([
    [['lambda/sfn-approval-notifier'], 'no test file mirrors or imports lambda/sfn-approval-notifier (test/<path>*.test.ts): add --related to run every test related to it'],
    [['lib/no-such-construct'], 'lib/no-such-construct does not exist'],
    [['test/lib'], 'test/lib is not under lib/, lambda/ or labs/: only code is mutated, not tests'],
    [['--fast', 'lib/fan-out'], 'unknown option --fast'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => strykerArguments(argv)).toThrow(message);
  });
});

test('Stryker\'s jest sees every folder it mutates: findRelatedTests follows imports only through files under jest\'s roots', () => {
  const config = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'stryker.config.json'), 'utf8'));
  expect(config.jest.enableFindRelatedTests).toBe(true);
  const mutatedFolders = new Set((config.mutate as string[]).map((glob) => glob.split('/')[0]));
  expect([...mutatedFolders].sort()).toEqual(['labs', 'lambda', 'lib']);
  const roots = ['test', ...mutatedFolders].map((folder) => `<rootDir>/${folder}`);
  expect([...config.jest.config.roots].sort()).toEqual(roots.sort());
});
