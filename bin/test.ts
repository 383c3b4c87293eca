#!/usr/bin/env node
/**
 * `npm test`: jest in the foreground, and beside it, at the lowest CPU priority, package.json's `build` (tsc --noEmit),
 * `lint` (eslint) and `synth -- --no-validation` (the whole app through the CDK CLI). Jest's workers spend much of
 * their time waiting on local engines; on two cores the other phases fill that time instead of following jest, and
 * jest keeps the CPU whenever it wants it. Jest's output is live; another phase's is shown only when it fails.
 * Usage: npm test [-- <jest arguments>]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
/**
 * What the phases beside jest run at: the lowest priority, so the kernel gives them the CPU jest leaves idle and
 * little more (2 paired warm runs of the whole npm test: wall ratio 0.95 for 19 against 10).
 */
const BESIDE_JEST_NICENESS = 19;

export interface Phase {
  /** What the summary calls it. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Its output goes straight to the terminal; otherwise it is kept, to be shown if the phase fails. */
  readonly live: boolean;
  readonly niceness: number;
}

export interface PhaseResult {
  readonly phase: Phase;
  readonly ok: boolean;
  /** How it ended when not with exit code 0: `exit 2`, `signal SIGKILL`, or why it could not start. */
  readonly failure?: string;
  readonly ms: number;
  /** Its output, stdout and stderr interleaved as written; empty for a live phase. */
  readonly output: string;
}

const npmScript = (name: string, script: string, ...args: string[]): Phase => ({
  name,
  command: process.platform === 'win32' ? 'npm.cmd' : 'npm',
  args: ['run', '--silent', script, ...(args.length > 0 ? ['--', ...args] : [])],
  live: false,
  niceness: BESIDE_JEST_NICENESS,
});

/** The phases of `npm test`, jest with `jestArgs`. */
export function testPhases(jestArgs: readonly string[], live = true): Phase[] {
  return [
    { name: 'jest', command: process.execPath, args: [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), ...jestArgs], live, niceness: 0 },
    // One thread: beside jest, tsc has time to spare, and its parallel checkers cost ~20 % more CPU in all.
    npmScript('tsc --noEmit', 'build', '--singleThreaded'),
    npmScript('eslint', 'lint'),
    npmScript('cdk synth --no-validation', 'synth', '--no-validation'),
  ];
}

function runPhase(phase: Phase, cwd: string): Promise<PhaseResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
  // A kept phase writes stdout and stderr to one file: the order of its writes is kept exactly, as two pipes read by a
  // busy process would not keep it.
  const outputDir = phase.live ? undefined : mkdtempSync(path.join(tmpdir(), 'npm-test-phase-'));
  const outputFd = outputDir ? openSync(path.join(outputDir, 'output'), 'w+') : undefined;
  return new Promise((resolve) => {
    const child = spawn(phase.command, phase.args, { cwd, stdio: outputFd === undefined ? 'inherit' : ['ignore', outputFd, outputFd] });
    // Before the child's own children start (npm takes longer than this to run its script): they inherit it.
    if (phase.niceness !== 0 && child.pid !== undefined) setPriority(child.pid, phase.niceness);
    let startFailure: string | undefined;
    child.on('error', (error: NodeJS.ErrnoException) => {
      startFailure = error.code === 'ENOENT' ? `${phase.command} was not found on PATH` : error.message;
    });
    child.on('close', (code, signal) => {
      const failure = startFailure ?? (signal ? `signal ${signal}` : code !== 0 ? `exit ${code}` : undefined);
      let output = '';
      if (outputDir && outputFd !== undefined) {
        closeSync(outputFd);
        output = readFileSync(path.join(outputDir, 'output'), 'utf8');
        rmSync(outputDir, { recursive: true, force: true });
      }
      resolve({ phase, ok: failure === undefined, failure, ms: elapsed(), output });
    });
  });
}

/** Runs every phase at once, each at its niceness; resolves when all have ended, in the order given. */
export function runPhases(phases: readonly Phase[], cwd = ROOT): Promise<PhaseResult[]> {
  return Promise.all(phases.map((phase) => runPhase(phase, cwd)));
}

/** The output of each phase that failed and was not live, under its name. */
export function failureOutputs(results: readonly PhaseResult[]): string {
  return results
    .filter((r) => !r.ok && !r.phase.live)
    .map((r) => `\n── ${r.phase.name} failed (${r.failure}) ──\n${r.output.trimEnd()}\n`)
    .join('');
}

/** One line per phase with how it ended and its wall time, then the total: the longest, since they ran side by side. */
export function summary(results: readonly PhaseResult[]): string {
  const width = Math.max('total'.length, ...results.map((r) => r.phase.name.length));
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`.padStart(8);
  const lines = results.map((r) => `  ${r.phase.name.padEnd(width)}  ${(r.ok ? 'ok' : 'FAILED').padEnd(6)} ${seconds(r.ms)}`);
  const total = Math.max(0, ...results.map((r) => r.ms));
  return ['npm test, side by side:', ...lines, `  ${'total'.padEnd(width)}  ${''.padEnd(6)} ${seconds(total)}`].join('\n');
}

async function main(jestArgs: readonly string[]): Promise<void> {
  const results = await runPhases(testPhases(jestArgs));
  process.stdout.write(failureOutputs(results));
  console.log(`\n${summary(results)}`);
  const failed = results.filter((r) => !r.ok).map((r) => r.phase.name);
  if (failed.length > 0) {
    console.error(`npm test failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv.slice(2));
