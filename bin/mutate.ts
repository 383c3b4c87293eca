#!/usr/bin/env node
/**
 * Mutation testing with Stryker (stryker.config.json): `npm run mutate` mutates lib/, lambda/, the exercises and
 * labs/support with every test; `npm run mutate -- lib/queue-consumer lambda/orders-view` only those folders or files,
 * against the test files that mirror them (test/lib/queue-consumer*.test.ts, ...), which takes minutes instead of the
 * hour the lab and catalogue tests covering a construct would; `--related` runs every test related to them instead.
 * Incremental: a run reuses the results of the last one for code and tests that did not change (reports/mutation/).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const MUTABLE = /^(lib|lambda|labs)\//;
const USAGE = 'usage: npm run mutate [-- [--related] <folder or file under lib/, lambda/ or labs/> ...]';

class MutateError extends Error {}

/** The target as a path relative to the repository, checked: only code is mutated, never tests. */
function relativeTarget(target: string): string {
  const relative = path.relative(ROOT, path.resolve(target)).split(path.sep).join('/').replace(/\/$/, '');
  if (!existsSync(path.join(ROOT, relative))) throw new MutateError(`${target} does not exist`);
  if (!MUTABLE.test(relative)) throw new MutateError(`${target} is not under lib/, lambda/ or labs/: only code is mutated, not tests`);
  return relative;
}

const mutateGlob = (relative: string) => (statSync(path.join(ROOT, relative)).isDirectory() ? `${relative}/**/*.ts` : relative);

/**
 * The test files that mirror a target: `test/<target>*.test.ts` (lib/fan-out → test/lib/fan-out.test.ts and
 * test/lib/fan-out-filter-policy.test.ts), and for labs/support/<file> also test/labs/<file>*.test.ts.
 */
function mirroredTestFiles(relative: string): string[] {
  const stem = relative.replace(/\.ts$/, '').replace(/\/index$/, '');
  const stems = [stem, ...(stem.startsWith('labs/support/') ? [stem.replace('labs/support/', 'labs/')] : [])];
  return stems.flatMap((s) => {
    const dir = path.join(ROOT, 'test', path.dirname(s));
    if (!existsSync(dir)) return [];
    const prefix = path.basename(s);
    return readdirSync(dir)
      .filter((name) => name === `${prefix}.test.ts` || (name.startsWith(`${prefix}-`) && name.endsWith('.test.ts')))
      .map((name) => `test/${path.dirname(s)}/${name}`);
  });
}

/** Stryker's arguments for the command line's targets. */
export function strykerArguments(argv: readonly string[]): { args: string[]; testFiles: string[] } {
  const related = argv.includes('--related');
  const unknown = argv.filter((a) => a.startsWith('-') && a !== '--related');
  if (unknown.length > 0) throw new MutateError(`unknown option ${unknown.join(', ')}`);
  const targets = argv.filter((a) => !a.startsWith('-')).map(relativeTarget);
  if (targets.length === 0) return { args: [], testFiles: [] };
  const args = ['--mutate', targets.map(mutateGlob).join(',')];
  if (related) return { args, testFiles: [] };
  const unmirrored = targets.filter((t) => mirroredTestFiles(t).length === 0);
  if (unmirrored.length > 0) {
    throw new MutateError(`no test file mirrors ${unmirrored.join(', ')} (test/<path>*.test.ts): add --related to run every test related to it`);
  }
  const testFiles = [...new Set(targets.flatMap(mirroredTestFiles))];
  return { args: [...args, '--testFiles', testFiles.join(',')], testFiles };
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
  const stryker = spawn(process.execPath, [path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', ...plan.args], { cwd: ROOT, stdio: 'inherit' });
  stryker.on('exit', (code) => process.exit(code ?? 1));
}

if (require.main === module) main();
