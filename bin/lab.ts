#!/usr/bin/env node
import * as path from 'node:path';
import { findLab, LabDefinition, LABS } from '../labs/catalogue';
import {
  describeLabStack,
  ExerciseCheckFailed,
  ExerciseStep,
  LabNotReady,
  loadLabOutputs,
  runSteps,
} from '../labs/support/exercise';
import { featureContextKey } from '../labs/support/lab-stack';

/** Where the CLI writes; tests pass their own. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = `usage: npm run lab -- <command>

  list                       every lab: stack, idle cost, optional parts, deployed or not
  outputs <lab>              the deployed lab stack's outputs
  exercise <lab> [step]      run the lab's exercise (or one step of it) against the deployed stack`;

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const usd = (amount: number) => `$${amount.toFixed(2)}/month`;

export async function loadExerciseSteps(lab: LabDefinition): Promise<readonly ExerciseStep[]> {
  const module = (await import(path.join(__dirname, '..', 'labs', lab.id, 'exercise'))) as {
    steps?: readonly ExerciseStep[];
  };
  return module.steps ?? [];
}

async function list(io: Io): Promise<number> {
  let deployedUnknown: string | undefined;
  for (const lab of LABS) {
    let deployed = 'unknown';
    if (!deployedUnknown) {
      try {
        const stack = await describeLabStack(lab);
        deployed = stack ? stack.status : 'not deployed';
      } catch (error) {
        deployedUnknown = (error as Error).message;
      }
    }
    io.out(`${lab.id.padEnd(22)} ${lab.stackName.padEnd(28)} idle ${usd(lab.idleCostUsdPerMonth)}   deployed: ${deployed}`);
    io.out(`  ${lab.title}`);
    io.out(`  notes: ${lab.seedTopics.join('; ')}`);
    for (const feature of lab.features) {
      const flag = `-c ${featureContextKey(lab.id, feature.name)}=true`;
      io.out(`  optional: ${flag}  +${usd(feature.idleCostUsdPerMonth)} idle  ${feature.description}`);
    }
  }
  if (deployedUnknown) io.err(`deployment status unknown: ${deployedUnknown}`);
  return EXIT.ok;
}

function unknownLab(io: Io, id: string | undefined): number {
  io.err(`${id ? `unknown lab "${id}"` : 'which lab?'}; labs: ${LABS.map((l) => l.id).join(', ')}`);
  return EXIT.usage;
}

async function outputs(io: Io, lab: LabDefinition): Promise<number> {
  for (const [key, value] of Object.entries(await loadLabOutputs(lab))) io.out(`${key} = ${value}`);
  return EXIT.ok;
}

async function exercise(io: Io, lab: LabDefinition, stepId: string | undefined): Promise<number> {
  const steps = await loadExerciseSteps(lab);
  if (stepId && !steps.some((s) => s.id === stepId)) {
    io.err(`lab ${lab.id} has no step "${stepId}"; steps: ${steps.map((s) => s.id).join(', ')}`);
    return EXIT.usage;
  }
  const stackOutputs = await loadLabOutputs(lab);
  await runSteps(steps, { outputs: stackOutputs, log: io.out }, stepId);
  io.out(`\nexercise ${lab.id} passed: the deployed lab behaves as its README says`);
  return EXIT.ok;
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, id, step] = argv;
  try {
    switch (command) {
      case 'list':
        return await list(io);
      case 'outputs':
      case 'exercise': {
        const lab = id ? findLab(id) : undefined;
        if (!lab) return unknownLab(io, id);
        return command === 'outputs' ? await outputs(io, lab) : await exercise(io, lab, step);
      }
      case undefined:
      case 'help':
      case '--help':
        io.out(USAGE);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        io.err(`unknown command "${command}"\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (error) {
    if (error instanceof ExerciseCheckFailed) io.err(`FAILED: ${error.message}`);
    else if (error instanceof LabNotReady) io.err(`error: ${error.message}`);
    else io.err(`error: ${(error as Error).name}: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then((code) => {
    process.exitCode = code;
  });
}
