#!/usr/bin/env node
/**
 * Mutation testing with Stryker (stryker.config.json): `npm run mutate` mutates lib/, lambda/, the exercises and
 * labs/support; `npm run mutate -- lib/queue-consumer lambda/orders-view` only those folders or files. Incremental:
 * a run reuses the results of the last one for code and tests that did not change (reports/mutation/).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const MUTABLE = /^(lib|lambda|labs)\//;

function mutateGlob(target: string): string {
  const relative = path.relative(ROOT, path.resolve(target)).split(path.sep).join('/');
  if (!existsSync(path.join(ROOT, relative))) throw new Error(`${target} does not exist`);
  if (!MUTABLE.test(relative)) throw new Error(`${target} is not under lib/, lambda/ or labs/: only code is mutated, not tests`);
  return statSync(path.join(ROOT, relative)).isDirectory() ? `${relative.replace(/\/$/, '')}/**/*.ts` : relative;
}

function main(): void {
  const targets = process.argv.slice(2);
  let args: string[];
  try {
    args = targets.length > 0 ? ['--mutate', targets.map(mutateGlob).join(',')] : [];
  } catch (error) {
    console.error(`mutate: ${(error as Error).message}\nusage: npm run mutate [-- <folder or file under lib/, lambda/ or labs/> ...]`);
    process.exit(1);
  }
  const stryker = spawn(process.execPath, [path.join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', ...args], { cwd: ROOT, stdio: 'inherit' });
  stryker.on('exit', (code) => process.exit(code ?? 1));
}

main();
