#!/usr/bin/env node
/**
 * Figures, not a test. Per lab: synth time, resource and custom-resource counts. For the whole app: synth with and
 * without bundling, measured alternately in this run, and their ratio. Per Lambda handler: the size of its bundle and
 * its module load time (a cold-start proxy) and the share of it that loads the AWS SDK the runtime provides, against the
 * library's limits (100 KB; 100 ms besides the SDK). For `npm test`: the wall time of each of
 * its phases, run side by side as `npm test` runs them, and the ten slowest test files.
 * Usage: npm run bench -- [--no-suite] [--runs <n>]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { LABS } from '../labs/catalogue';
import { SKIP_BUNDLING } from '../lib/testing';
import { addLabStacks, cdkJsonContext, loadLabs, LoadedLab } from '../labs/support/app';
import { ALL_FEATURES_CONTEXT } from '../labs/support/lab-stack';
import { runPhases, summary, testPhases } from './test';

const ROOT = path.join(__dirname, '..');
const LOAD_RUNS = 5;
/** What a handler may weigh and take to load besides the AWS SDK the runtime provides (issue 14). */
const HANDLER_LIMITS = { bundleKb: 100, loadMs: 100 };

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const seconds = (milliseconds: number) => `${(milliseconds / 1000).toFixed(1)} s`;

class BenchError extends Error {}

function timed<T>(work: () => T): { result: T; ms: number } {
  const start = process.hrtime.bigint();
  const result = work();
  return { result, ms: ms(start) };
}

interface Template {
  Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
}

function synthLab(lab: LoadedLab): Template {
  const app = new App({ context: { ...cdkJsonContext(), [ALL_FEATURES_CONTEXT]: true, ...SKIP_BUNDLING } });
  const [stack] = addLabStacks(app, [lab]);
  return app.synth().getStackArtifact(stack.artifactId).template as Template;
}

function labFigures(labs: readonly LoadedLab[]): void {
  // The validation engine starts with the first synth of a process (~2 s): not a figure of any one lab.
  synthLab(labs[0]);
  console.log('lab                        synth ms  resources  custom resources   (all features on, bundling skipped)');
  for (const lab of labs) {
    const { result: template, ms: synthMs } = timed(() => synthLab(lab));
    const types = Object.values(template.Resources).map((r) => r.Type);
    const custom = types.filter((t) => t.startsWith('Custom::') || t === 'AWS::CloudFormation::CustomResource').length;
    console.log(`${lab.id.padEnd(26)} ${synthMs.toFixed(0).padStart(8)}  ${String(types.length).padStart(9)}  ${String(custom).padStart(16)}`);
  }
}

/**
 * Runs the app (`cdk.json`'s command, as the CDK CLI would, without the CLI's own start-up) into `outDir`: every lab
 * with every optional part, cdk-nag and validation on; with bundling or without.
 */
function synthApp(outDir: string, bundling: boolean): number {
  const context = {
    ...cdkJsonContext(),
    // What the CLI adds by default: the handler table reads each function's asset path from this metadata.
    'aws:cdk:enable-asset-metadata': true,
    'aws:cdk:enable-path-metadata': true,
    [ALL_FEATURES_CONTEXT]: true,
    ...(bundling ? {} : SKIP_BUNDLING),
  };
  const command = (JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app;
  const start = process.hrtime.bigint();
  const run = spawnSync(command, {
    cwd: ROOT,
    shell: true,
    encoding: 'utf8',
    env: { ...process.env, CDK_OUTDIR: outDir, CDK_CONTEXT_JSON: JSON.stringify(context) },
  });
  if (run.status !== 0) throw new BenchError(`the app failed to synthesize:\n${run.stderr}`);
  return ms(start);
}

/** Synth with and without bundling, alternately, so that both see the same machine; returns the last bundled output. */
function synthFigures(runs: number, outDir: string): void {
  const withBundling: number[] = [];
  const withoutBundling: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const bundling of [true, false]) {
      const dir = path.join(outDir, bundling ? 'bundled' : 'skipped');
      rmSync(dir, { recursive: true, force: true });
      (bundling ? withBundling : withoutBundling).push(synthApp(dir, bundling));
    }
  }
  const [bundled, skipped] = [median(withBundling), median(withoutBundling)];
  console.log(`\nwhole app (every lab, all features, cdk-nag and validation), median of ${runs} alternating runs:`);
  console.log(`  synth with bundling      ${seconds(bundled).padStart(8)}   (${withBundling.map(seconds).join(', ')})`);
  console.log(`  synth, bundling skipped  ${seconds(skipped).padStart(8)}   (${withoutBundling.map(seconds).join(', ')})`);
  console.log(`  ratio                    ${(bundled / skipped).toFixed(2).padStart(6)} ×`);
}

/** Median time to `require` each of `modules` in a fresh process; the AWS SDK comes from the repo, as the runtime provides it. */
function loadTimeMs(modules: readonly string[]): number {
  if (modules.length === 0) return 0;
  const script = `const s=process.hrtime.bigint();${modules.map((m) => `require(${JSON.stringify(m)});`).join('')}console.log(Number(process.hrtime.bigint()-s)/1e6)`;
  const env = { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') };
  return median(Array.from({ length: LOAD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env }))));
}

/** The packages a bundle leaves to the runtime (the AWS SDK v3 and Smithy), which it requires when it loads. */
function runtimeProvidedModules(bundle: string): string[] {
  const required = readFileSync(bundle, 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+|@smithy\/[^"]+)"\)/g);
  return [...new Set([...required].map((match) => match[1]))];
}

/**
 * aws-cdk-lib's own functions, not this library's code: the custom resource provider singletons (auto-delete objects,
 * default security group...), AwsCustomResource's singleton and the provider framework's (framework.js, not a bundle).
 */
const isCdkProvider = (resource: Template['Resources'][string]) =>
  /(CustomResourceProvider\/Handler|\/framework-on(Event|Timeout|IsComplete)\/Resource|\/AWS679f53fac002430cb0da5b7982bd22872\/Resource)$/.test(
    resource.Metadata?.['aws:cdk:path'] ?? '',
  );

function handlerFigures(outDir: string): void {
  console.log(`\n${'handler (lab/function)'.padEnd(58)} bundle KB  load ms  of which AWS SDK ms   (median of ${LOAD_RUNS})`);
  const seen = new Set<string>();
  const over: string[] = [];
  const slowWithSdk: string[] = [];
  for (const lab of LABS) {
    const template = JSON.parse(readFileSync(path.join(outDir, `${lab.stackName}.template.json`), 'utf8')) as Template;
    for (const [id, resource] of Object.entries(template.Resources)) {
      const assetPath = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || !assetPath || seen.has(assetPath) || isCdkProvider(resource)) continue;
      seen.add(assetPath);
      const bundle = path.join(outDir, assetPath, 'index.js');
      const kb = statSync(bundle).size / 1024;
      const [loadMs, sdkMs] = [loadTimeMs([bundle]), loadTimeMs(runtimeProvidedModules(bundle))];
      if (kb > HANDLER_LIMITS.bundleKb) over.push(`${lab.id}/${id} weighs ${kb.toFixed(1)} KB`);
      if (loadMs - sdkMs > HANDLER_LIMITS.loadMs) over.push(`${lab.id}/${id} takes ${(loadMs - sdkMs).toFixed(0)} ms to load besides the SDK`);
      else if (loadMs > HANDLER_LIMITS.loadMs) slowWithSdk.push(`${lab.id}/${id} (${sdkMs.toFixed(0)} of ${loadMs.toFixed(0)} ms)`);
      console.log(`${`${lab.id}/${id}`.padEnd(58)} ${kb.toFixed(1).padStart(9)}  ${loadMs.toFixed(1).padStart(7)}  ${sdkMs.toFixed(1).padStart(19)}`);
    }
  }
  const limits = `${HANDLER_LIMITS.bundleKb} KB, ${HANDLER_LIMITS.loadMs} ms of its own`;
  console.log(over.length === 0 ? `every handler within ${limits}` : `over the limits (${limits}):\n  ${over.join('\n  ')}`);
  if (slowWithSdk.length > 0) console.log(`over ${HANDLER_LIMITS.loadMs} ms only with the AWS SDK clients they call: ${slowWithSdk.join(', ')}`);
}

interface JestReport {
  numTotalTests: number;
  numFailedTests: number;
  testResults: { name: string; startTime: number; endTime: number; message: string; assertionResults: { fullName: string; status: string }[] }[];
}

/** Runs the phases of `npm test` side by side as `npm test` does (bin/test.ts), every output kept, and times each. */
async function npmTestFigures(outDir: string): Promise<void> {
  const reportFile = path.join(outDir, 'jest-report.json');
  const results = await runPhases(testPhases(['--silent', '--json', `--outputFile=${reportFile}`], false));
  console.log(`\n${summary(results)}`);
  for (const failed of results.filter((r) => !r.ok && r.phase.name !== 'jest')) {
    console.log(`\n${failed.phase.name} failed (${failed.failure}):\n${failed.output.split('\n').slice(0, 12).join('\n')}`);
  }

  if (!existsSync(reportFile)) throw new BenchError('jest wrote no report: run `npx jest` to see why');
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JestReport;
  console.log(`\nslowest test files (of ${report.testResults.length}; ${report.numTotalTests} tests, ${report.numFailedTests} failed):`);
  report.testResults
    .map((r) => ({ file: path.relative(ROOT, r.name), ms: r.endTime - r.startTime }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 10)
    .forEach((r) => console.log(`  ${seconds(r.ms).padStart(8)}  ${r.file}`));
  // A failure in a timed run is named: a test that fails only under the benchmark's load is a flaky one to fix.
  for (const file of report.testResults) {
    const failed = file.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName);
    if (failed.length === 0 && !file.message) continue;
    console.log(`
failed in ${path.relative(ROOT, file.name)}: ${failed.join('; ') || 'the file itself'}\n${file.message.split('\n').slice(0, 12).join('\n')}`);
  }
}

function runsOption(argv: readonly string[]): number {
  const index = argv.indexOf('--runs');
  if (index < 0) return 3;
  const runs = Number(argv[index + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new BenchError(`--runs takes a whole number of runs (1 or more), not ${argv[index + 1]}`);
  return runs;
}

async function main(argv: readonly string[]): Promise<void> {
  const runs = runsOption(argv);
  console.log(`Node.js ${process.version}\n`);
  // Loading every stack class (and aws-cdk-lib) first keeps module loading out of the first lab's synth time.
  labFigures(await loadLabs(LABS));
  const outDir = mkdtempSync(path.join(tmpdir(), 'bench-'));
  try {
    synthFigures(runs, outDir);
    handlerFigures(path.join(outDir, 'bundled'));
    if (!argv.includes('--no-suite')) await npmTestFigures(outDir);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof BenchError ? error.message : (error as Error).message.split('\n')[0];
  console.error(`bench failed: ${message}`);
  process.exit(1);
});
