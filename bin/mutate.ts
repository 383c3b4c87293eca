#!/usr/bin/env node
/**
 * Mutation testing with Stryker (stryker.config.json): `npm run mutate` mutates lib/, lambda/, the exercises and
 * labs/support with every test; `npm run mutate -- lib/queue-consumer lambda/orders-view` only those folders or files,
 * against the test files that mirror them (test/lib/queue-consumer*.test.ts, ...), which takes minutes instead of the
 * hour the lab and catalogue tests covering a construct would; `--related` runs every test related to them instead.
 * Incremental: a run reuses the results of the last one for code and tests that did not change (reports/mutation/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const MUTABLE = /^(lib|lambda|labs)(\/|$)/;
const MUTABLE_ROOT = /^(lib|lambda|labs)$/;
const USAGE = 'usage: npm run mutate [-- [--related] [--typecheck] [--force] <folder or file under lib/, lambda/ or labs/> ...]';
const OPTIONS = ['--related', '--typecheck', '--force'];

class MutateError extends Error {}

/** The target as a path relative to the repository, checked: only code is mutated, never tests. */
function relativeTarget(root: string, target: string): string {
  const relative = path.relative(root, path.resolve(root, target)).split(path.sep).join('/').replace(/\/$/, '');
  if (!existsSync(path.join(root, relative))) throw new MutateError(`${target} does not exist`);
  if (!MUTABLE.test(relative)) throw new MutateError(`${target} is not under lib/, lambda/ or labs/: only code is mutated, not tests`);
  return relative;
}

/** A folder's files; a module's file with the folder of its name beside it, if any (labs/dynamodb-modelling/exercise.ts and exercise/). */
function mutateGlob(root: string, relative: string): string {
  if (statSync(path.join(root, relative)).isDirectory()) return `${relative}/**/*.ts`;
  const folder = relative.replace(/\.ts$/, '');
  return existsSync(path.join(root, folder)) && statSync(path.join(root, folder)).isDirectory() ? `${relative},${folder}/**/*.ts` : relative;
}

/** Test files `test/<dir>/<prefix>.test.ts` and `<prefix>-*.test.ts`, except those of a sibling module (`<prefix>-<name>`). */
function prefixMatches(root: string, stem: string, sourceDir = path.dirname(stem)): string[] {
  const dir = path.join(root, 'test', path.dirname(stem));
  if (!existsSync(dir)) return [];
  const prefix = path.basename(stem);
  const isSiblingModule = (name: string) => ['.ts', ''].some((ext) => existsSync(path.join(root, sourceDir, `${name.replace(/\.test\.ts$/, '')}${ext}`)));
  return readdirSync(dir)
    .filter((name) => name === `${prefix}.test.ts` || (name.startsWith(`${prefix}-`) && name.endsWith('.test.ts') && !isSiblingModule(name)))
    .map((name) => `test/${path.dirname(stem)}/${name}`);
}

/** Every test file under `test/<folder>/`. */
function testsUnder(root: string, folder: string): string[] {
  const dir = path.join(root, 'test', folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => path.posix.join('test', folder, name.split(path.sep).join('/')));
}

/** A module's path without .ts or /index: how imports name it. */
const stemOf = (relative: string) => relative.replace(/\.ts$/, '').replace(/\/index$/, '');

const IMPORT_SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)'(\.[^']*)'/g;

/** The test files that import the module `stem` (its path without .ts or /index) themselves. */
function testFilesImporting(root: string, stem: string): string[] {
  return testsUnder(root, '')
    .filter((file) => {
      const dir = path.dirname(path.join(root, file));
      return [...readFileSync(path.join(root, file), 'utf8').matchAll(IMPORT_SPECIFIER)].some(
        ([, specifier]) => stemOf(path.resolve(dir, specifier)) === path.join(root, stem),
      );
    })
    .sort();
}

/**
 * The test files that mirror a target: `test/<target>*.test.ts` (lib/fan-out → test/lib/fan-out.test.ts and
 * test/lib/fan-out-filter-policy.test.ts) and, for a folder, the tests under `test/<folder>/` (labs/sqs); for
 * labs/support/<file> also test/labs/<file>*.test.ts; a file in a folder with no test of its own
 * (lib/fan-out/filter-policy.ts → test/lib/fan-out-filter-policy.test.ts), else the test files that import it, else
 * the folder's.
 */
function mirroredTestFiles(root: string, relative: string): string[] {
  const stem = stemOf(relative);
  const isFolder = statSync(path.join(root, relative)).isDirectory();
  const own = [
    ...prefixMatches(root, stem),
    ...(isFolder ? testsUnder(root, stem) : []),
    ...(stem.startsWith('labs/support/') ? prefixMatches(root, stem.replace('labs/support/', 'labs/'), path.dirname(stem)) : []),
  ];
  if (own.length > 0 || isFolder) return [...new Set(own)];
  const folder = path.dirname(stem);
  const joined = MUTABLE_ROOT.test(folder) ? [] : prefixMatches(root, `${folder}-${path.basename(stem)}`);
  if (joined.length > 0) return joined;
  // A module among others in a shared folder (labs/support/docs.ts) is tested where it is used, not in the folder's tests.
  const importing = testFilesImporting(root, stem);
  if (importing.length > 0 || MUTABLE_ROOT.test(folder)) return importing;
  return mirroredTestFiles(root, folder);
}

/**
 * The test files of a target: those that mirror it, and the others beside them that import it
 * (labs/streaming/exercise.ts → test/labs/streaming/exercise.test.ts and search.test.ts).
 */
function testFilesOf(root: string, relative: string): string[] {
  const mirrored = mirroredTestFiles(root, relative);
  const folders = new Set(mirrored.map((file) => path.posix.dirname(file)));
  const stem = stemOf(relative);
  const beside = testFilesImporting(root, stem).filter((file) => folders.has(path.posix.dirname(file)));
  return [...new Set([...mirrored, ...beside])];
}

/** Stryker's arguments for the command line's targets, in the repository at `root`. */
export function strykerArguments(argv: readonly string[], root = ROOT): { args: string[]; testFiles: string[] } {
  const related = argv.includes('--related');
  const unknown = argv.filter((a) => a.startsWith('-') && !OPTIONS.includes(a));
  if (unknown.length > 0) throw new MutateError(`unknown option ${unknown.join(', ')}`);
  const targets = argv.filter((a) => !a.startsWith('-')).map((target) => relativeTarget(root, target));
  // The TypeScript checker type-checks the whole project for each group of mutants: ~10 s a mutant here, against ~1 s
  // for a test run. Without it a mutant that would not compile is run anyway; one that survives is plain to see.
  const options = [
    ...(argv.includes('--typecheck') ? [] : ['--checkers', '']),
    // Incremental runs keep the result of a mutant without per-test coverage (code run when a module loads) even
    // after its test files changed: --force tests every mutant again.
    ...(argv.includes('--force') ? ['--force'] : []),
  ];
  if (targets.length === 0) return { args: options, testFiles: [] };
  const args = ['--mutate', targets.map((target) => mutateGlob(root, target)).join(','), ...options];
  if (related) return { args, testFiles: [] };
  const unmirrored = targets.filter((t) => testFilesOf(root, t).length === 0);
  if (unmirrored.length > 0) {
    throw new MutateError(`no test file mirrors or imports ${unmirrored.join(', ')} (test/<path>*.test.ts): add --related to run every test related to it`);
  }
  // Not Stryker's --testFiles: it limits only the first run, and turns the files into a test-name filter for mutants
  // in shared set-up (a construct built in a describe block), which then run no test. jest.config.js limits every run.
  return { args, testFiles: [...new Set(targets.flatMap((target) => testFilesOf(root, target)))] };
}

function main(): void {
  let plan: ReturnType<typeof strykerArguments>;
  try {
    plan = strykerArguments(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof MutateError)) throw error;
    console.error(`mutate: ${error.message}\n${USAGE}`);
    process.exit(1);
  }
  if (plan.testFiles.length > 0) console.log(`mutate: against ${plan.testFiles.join(', ')} (--related for every related test)`);
  const env = plan.testFiles.length > 0 ? { ...process.env, MUTATE_TEST_FILES: plan.testFiles.join(',') } : process.env;
  const stryker = spawn(process.execPath, [path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', ...plan.args], { cwd: ROOT, stdio: 'inherit', env });
  stryker.on('exit', (code) => process.exit(code ?? 1));
}

if (require.main === module) main();
