#!/usr/bin/env node
/**
 * The checks `npm test` runs before jest, at the same time: `npm run build` (tsc), `npm run lint` (eslint) and
 * `npm run synth` (every lab with cdk-nag and CloudFormation validation). Each is single-threaded, so on a machine
 * with two cores or more they take the time of the slowest instead of the sum. Each one's output is printed whole
 * when it ends (never interleaved), with its time; the exit code is non-zero when any failed.
 * Usage: npm run checks [-- build lint ...]   (default: all three)
 */
import { spawn } from 'node:child_process';

export const CHECKS = ['build', 'lint', 'synth'] as const;

export interface Command {
  readonly name: string;
  readonly file: string;
  readonly args: readonly string[];
}

export interface Outcome {
  readonly name: string;
  readonly passed: boolean;
  readonly seconds: number;
}

const secondsSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

function run(command: Command, print: (text: string) => void): Promise<Outcome> {
  const start = process.hrtime.bigint();
  const child = spawn(command.file, command.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  return new Promise((resolve) => {
    const finish = (passed: boolean, detail: string) => {
      const seconds = secondsSince(start);
      const text = Buffer.concat(output).toString().trimEnd();
      print(`── ${command.name}: ${detail} in ${seconds.toFixed(1)} s${text ? `\n${text}` : ''}`);
      resolve({ name: command.name, passed, seconds });
    };
    child.on('error', (error) => finish(false, `could not start (${error.message})`));
    child.on('close', (code, signal) => finish(code === 0, code === 0 ? 'passed' : `failed (${signal ?? `exit ${code}`})`));
  });
}

/** Runs the commands at the same time; prints each one's output when it ends, then a summary. True when all passed. */
export async function runSideBySide(commands: readonly Command[], print: (text: string) => void = console.log): Promise<boolean> {
  const start = process.hrtime.bigint();
  const outcomes = await Promise.all(commands.map((command) => run(command, print)));
  const failed = outcomes.filter((outcome) => !outcome.passed).map((outcome) => outcome.name);
  const each = outcomes.map((outcome) => `${outcome.name} ${outcome.seconds.toFixed(1)} s`).join(', ');
  const verdict = failed.length === 0 ? 'all passed' : `${failed.join(', ')} failed`;
  print(`── checks: ${verdict} in ${secondsSince(start).toFixed(1)} s (${each}, side by side)`);
  return failed.length === 0;
}

async function main(names: readonly string[]): Promise<void> {
  const unknown = names.filter((name) => !(CHECKS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(`checks: unknown check ${unknown.join(', ')}; the checks are ${CHECKS.join(', ')}`);
    process.exit(2);
  }
  const commands = (names.length > 0 ? names : CHECKS).map((name) => ({ name: `npm run ${name}`, file: 'npm', args: ['run', '--silent', name] }));
  process.exit((await runSideBySide(commands)) ? 0 : 1);
}

if (require.main === module) void main(process.argv.slice(2));
