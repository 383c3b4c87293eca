#!/usr/bin/env node
/**
 * Figures, not a test: per lab synth time, resource and custom-resource counts; per Lambda handler the size of
 * the bundle `cdk synth` produced and its module load time (a cold-start proxy); for the project the synth time
 * of the whole app and the wall time of the test suite. Usage: npm run bench [-- --no-suite]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { LABS } from '../labs/catalogue';
import { addLabStacks, cdkJsonContext, loadLabs, LoadedLab, SKIP_BUNDLING } from '../labs/support/app';
import { ALL_FEATURES_CONTEXT } from '../labs/support/lab-stack';

const ROOT = path.join(__dirname, '..');
const LOAD_RUNS = 5;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

function timed<T>(work: () => T): { result: T; ms: number } {
  const start = process.hrtime.bigint();
  const result = work();
  return { result, ms: ms(start) };
}

interface Template {
  Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
}

function labFigures(labs: readonly LoadedLab[]): void {
  console.log('lab                        synth ms  resources  custom resources   (all features on, bundling skipped)');
  for (const lab of labs) {
    const { result: template, ms: synthMs } = timed(() => {
      const app = new App({ context: { ...cdkJsonContext(), [ALL_FEATURES_CONTEXT]: true, ...SKIP_BUNDLING } });
      const [stack] = addLabStacks(app, [lab]);
      return app.synth().getStackArtifact(stack.artifactId).template as Template;
    });
    const types = Object.values(template.Resources).map((r) => r.Type);
    const custom = types.filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource').length;
    console.log(`${lab.id.padEnd(26)} ${synthMs.toFixed(0).padStart(8)}  ${String(types.length).padStart(9)}  ${String(custom).padStart(16)}`);
  }
}

/** Loads the bundle in a fresh process; the AWS SDK it leaves external comes from the repo, as the runtime provides it. */
function loadTimeMs(file: string): number {
  const script = `const s=process.hrtime.bigint();require(${JSON.stringify(file)});console.log(Number(process.hrtime.bigint()-s)/1e6)`;
  // Lambda runs Node.js 24: the SDK's warning about this machine's Node.js says nothing about the function.
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const runs = Array.from({ length: LOAD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env })));
  return median(runs);
}

function appAndHandlerFigures(): void {
  const out = mkdtempSync(path.join(tmpdir(), 'bench-cdk-out-'));
  try {
    const start = process.hrtime.bigint();
    const synth = spawnSync('npx', ['cdk', 'synth', '--quiet', '-c', `${ALL_FEATURES_CONTEXT}=true`, '-o', out], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (synth.status !== 0) throw new Error(`cdk synth failed:\n${synth.stderr}`);
    console.log(`\nwhole app: npx cdk synth (bundling, cdk-nag, validation, all features) ${(ms(start) / 1000).toFixed(1)} s`);

    console.log(`\n${'handler (lab/function)'.padEnd(70)} bundle KB  load ms (median of 5)`);
    for (const lab of LABS) {
      const template = JSON.parse(readFileSync(path.join(out, `${lab.stackName}.template.json`), 'utf8')) as Template;
      for (const [id, resource] of Object.entries(template.Resources)) {
        const assetPath = resource.Metadata?.['aws:asset:path'];
        if (resource.Type !== 'AWS::Lambda::Function' || !assetPath) continue;
        const bundle = path.join(out, assetPath, 'index.js');
        const size = (statSync(bundle).size / 1024).toFixed(1);
        console.log(`${`${lab.id}/${id}`.padEnd(70)} ${size.padStart(9)}  ${loadTimeMs(bundle).toFixed(1).padStart(7)}`);
      }
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function suiteFigure(): void {
  const start = process.hrtime.bigint();
  const run = spawnSync('npx', ['jest', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  const summary = run.stderr.split('\n').filter((l) => /^(Tests|Test Suites):/.test(l)).join('; ');
  console.log(`\ntest suite: npx jest ${(ms(start) / 1000).toFixed(1)} s wall (${summary || `exit ${run.status}`})`);
}

async function main(): Promise<void> {
  // Loading every stack class (and aws-cdk-lib) first keeps module loading out of the first lab's synth time.
  labFigures(await loadLabs(LABS));
  appAndHandlerFigures();
  if (!process.argv.includes('--no-suite')) suiteFigure();
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).message.split('\n')[0]}`);
  process.exit(1);
});
