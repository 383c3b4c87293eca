#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { findLab, LabDefinition, LABS } from '../labs/catalogue';
import {
  describeLabStack,
  ExerciseCheckFailed,
  ExerciseStep,
  LabNotReady,
  loadLabOutputs,
  runExercise,
} from '../labs/support/exercise';
import { perHour, perMonth, PRICES_CHECKED } from '../labs/support/cost';
import { ALL_FEATURES_CONTEXT, featureContextKey, ONLY_LAB_CONTEXT } from '../labs/support/define-lab';

/** Where the CLI writes, how it asks and how it runs commands; tests pass their own. */
export interface Io {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Asks a yes/no question; false when nobody can answer (no terminal). */
  readonly confirm?: (question: string) => Promise<boolean>;
  /** Runs a command with inherited output and resolves with its exit code. */
  readonly run?: (command: string, args: readonly string[]) => Promise<number>;
}

const USAGE = `usage: npm run lab -- <command>

  list                       every lab: stack, idle cost, optional parts, deployed or not
  deploy <lab> [--yes] [cdk options]
                             npx cdk deploy <Stack>; asks first when the lab bills while idle
  outputs <lab>              the deployed lab stack's outputs
  exercise <lab> [step]      run the lab's exercise (or one step of it) against the deployed stack`;

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;


/** The steps of the lab's exercise; loads its module (and the SDK clients it uses) only now. */
export async function loadExerciseSteps(lab: LabDefinition): Promise<readonly ExerciseStep[]> {
  return (await lab.loadExercise()).steps;
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
    const idle = `${perMonth(lab.idleCostUsdPerMonth)} (${perHour(lab.idleCostUsdPerMonth)})`;
    io.out(`${lab.id.padEnd(22)} ${lab.stackName.padEnd(28)} idle ${idle}   deployed: ${deployed}`);
    io.out(`  ${lab.title}`);
    io.out(`  notes: ${lab.seedTopics.join('; ')}`);
    for (const feature of lab.features) {
      const flag = `-c ${featureContextKey(lab.id, feature.name)}=true`;
      io.out(`  optional: ${flag}  +${perMonth(feature.idleCostUsdPerMonth)} idle  ${feature.description}`);
    }
    for (const parameter of lab.parameters ?? []) {
      io.out(`  parameter: -c ${featureContextKey(lab.id, parameter.name)}=<${parameter.expected}>  ${parameter.description}`);
    }
  }
  io.out(`\nidle costs: us-east-1 list prices checked ${PRICES_CHECKED}`);
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
  // One run: its id marks what the steps create; its clients and fixtures are made on first use and torn down
  // (fixture clean-ups) when the steps end, passed or failed.
  await runExercise(steps, { outputs: stackOutputs, log: io.out }, stepId);
  io.out(`\nexercise ${lab.id} passed: the deployed lab behaves as its README says`);
  return EXIT.ok;
}

/** The optional parts that `-c <lab>:<feature>=true` or `-c labs:all-features=true` turn on. */
function featuresOn(lab: LabDefinition, cdkArgs: readonly string[]): LabDefinition['features'] {
  const on = (key: string) => cdkArgs.some((arg, i) => arg === `${key}=true` && ['-c', '--context'].includes(cdkArgs[i - 1]));
  const all = on(ALL_FEATURES_CONTEXT);
  return lab.features.filter((f) => all || on(featureContextKey(lab.id, f.name)));
}

/** Idle cost of the lab with the optional parts its cdk options turn on. */
export function idleCostWith(lab: LabDefinition, cdkArgs: readonly string[]): number {
  return featuresOn(lab, cdkArgs).reduce((total, f) => total + f.idleCostUsdPerMonth, lab.idleCostUsdPerMonth);
}

async function deploy(io: Io, lab: LabDefinition, args: readonly string[]): Promise<number> {
  // Region and credentials first (one sentence if either is missing), before the CDK synthesizes for nothing.
  await describeLabStack(lab);
  const cdkArgs = args.filter((a) => a !== '--yes');
  const idle = idleCostWith(lab, cdkArgs);
  if (idle > 0 && !args.includes('--yes')) {
    // Which parts bill, so a learner sees what a flag adds (the Private CA alone is $400/month).
    const billedParts = featuresOn(lab, cdkArgs).filter((f) => f.idleCostUsdPerMonth > 0).map((f) => `${f.name} +${perMonth(f.idleCostUsdPerMonth)}`);
    const parts = billedParts.length ? `: ${[...(lab.idleCostUsdPerMonth > 0 ? [`the lab ${perMonth(lab.idleCostUsdPerMonth)}`] : []), ...billedParts].join(', ')}` : '';
    const cost = `${lab.stackName} costs about ${perMonth(idle)} (${perHour(idle)}) while deployed, even idle${parts}`;
    if (!(await (io.confirm ?? confirmOnTerminal)(`${cost}. Deploy?`))) {
      io.err(`not deployed: ${cost}; to deploy without this question: npm run lab -- deploy ${lab.id} --yes`);
      return EXIT.failed;
    }
  }
  // Only this lab's stack is synthesized; the learner's cdk options follow.
  return (io.run ?? runInherited)('npx', ['cdk', 'deploy', lab.stackName, '-c', `${ONLY_LAB_CONTEXT}=${lab.id}`, ...cdkArgs]);
}

async function confirmOnTerminal(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

function runInherited(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    spawn(command, args, { stdio: 'inherit' }).once('error', reject).once('exit', (code) => resolve(code ?? EXIT.failed));
  });
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, id, step] = argv;
  try {
    switch (command) {
      case 'list':
        return await list(io);
      case 'deploy': {
        const lab = id ? findLab(id) : undefined;
        return lab ? await deploy(io, lab, argv.slice(2)) : unknownLab(io, id);
      }
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
