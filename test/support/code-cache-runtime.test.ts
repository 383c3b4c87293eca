import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// jest.config.js runs every test file in code-cache-runtime.js: these runs of jest on a project of their own check
// that compiled code is reused only for the very source it was compiled from.

const RUNTIME = path.join(__dirname, 'code-cache-runtime.js');
const JEST = path.join(path.dirname(require.resolve('jest/package.json')), 'bin', 'jest.js');

// Three runs of jest on a loaded machine.
jest.setTimeout(30_000);

let work: string;
let project: string;
let cacheDir: string;
let codeDir: string;
beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'code-cache-runtime-'));
  project = path.join(work, 'project');
  cacheDir = path.join(work, 'cache');
  codeDir = path.join(cacheDir, `v8-code-${process.version}-${process.arch}`);
  mkdirSync(project);
  writeFileSync(path.join(project, 'jest.config.js'), `module.exports = ${JSON.stringify({ rootDir: project, runtime: RUNTIME, cacheDirectory: cacheDir, testEnvironment: 'node', transform: {} })};\n`);
  writeFileSync(path.join(project, 'word.js'), "module.exports = 'one';\n");
  // Two test files in one process: the second takes the first one's compiled word.js from the worker.
  for (const name of ['first', 'second']) {
    writeFileSync(path.join(project, `${name}.test.js`), "test('reads the word', () => expect(require('./word')).toBe(process.env.EXPECTED_WORD));\n");
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function runJest(expectedWord: string, ...args: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [JEST, '--runInBand', '--ci', ...args], { cwd: project, env: { ...process.env, EXPECTED_WORD: expectedWord }, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ ok: !error, output: stdout + stderr }),
    );
  });
}
const stored = () => readdirSync(codeDir).sort();

test('the project\'s jest config runs its test files in this runtime', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the project's own jest config, plain CommonJS
  expect((require('../../jest.config.js') as { runtime: string }).runtime).toBe(RUNTIME);
});

const PASSED = { ok: true, output: expect.stringContaining('Tests:       2 passed, 2 total') };
let firstRun: string[];

test('a first run stores the compiled code of the modules it ran under jest\'s cache directory', async () => {
  expect(await runJest('one')).toMatchObject(PASSED);
  // The test files, word.js and jest's own modules that run in each test file's context.
  firstRun = stored();
  expect(firstRun.length).toBeGreaterThanOrEqual(3);
});

test('a source changed to another of the same length runs as changed; every other module runs from stored code', async () => {
  const mtimes = firstRun.map((key) => statSync(path.join(codeDir, key)).mtimeMs);
  writeFileSync(path.join(project, 'word.js'), "module.exports = 'two';\n");
  expect(await runJest('two')).toMatchObject(PASSED);
  // One new entry, the new word.js's; the others were read, not written again.
  expect(stored().filter((key) => !firstRun.includes(key))).toHaveLength(1);
  expect(firstRun.map((key) => statSync(path.join(codeDir, key)).mtimeMs)).toEqual(mtimes);
});

test('stored code V8 rejects (another Node.js, a damaged file) is compiled afresh and stored again', async () => {
  for (const key of stored()) writeFileSync(path.join(codeDir, key), 'not code');
  expect(await runJest('two')).toMatchObject(PASSED);
  // All but the old word.js's entry, which no module asks for any more.
  const damaged = stored().filter((key) => readFileSync(path.join(codeDir, key), 'utf8') === 'not code');
  expect(damaged).toHaveLength(1);
});

test('with --no-cache nothing is stored', async () => {
  rmSync(cacheDir, { recursive: true, force: true });
  const run = await runJest('two', '--no-cache');
  expect(run).toMatchObject({ ok: true, output: expect.stringContaining('Tests:       2 passed, 2 total') });
  expect(existsSync(codeDir)).toBe(false);
});
