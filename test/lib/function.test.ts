import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { SafeNodejsFunction } from '../../lib/core/function';
import { REPO_ROOT, testApp } from '../support/synth';
import { validationErrorOf } from '../support/validation';

const FIXTURE = path.join(__dirname, 'fixtures', 'bundled-handler');
/** The fixture's ordinary dependency, which a checkout outside the repository needs in its own node_modules. */
const DEPENDENCY = 'aws-jwt-verify';

/** A stack whose assets are bundled (testApp skips bundling); no CloudFormation validation: only the code matters. */
function bundlingStack(id: string): Stack {
  return new Stack(testApp({ 'aws:cdk:bundling-stacks': ['**'] }, { builtinCloudFormationValidation: false }), id);
}

/** Bundling happens when the function is constructed: its asset is staged in the app's output directory by then. */
function bundleOf(fn: SafeNodejsFunction) {
  const asset = fn.node.findChild('Code') as Asset;
  const dir = path.resolve(Stage.of(fn)!.outdir, asset.assetPath);
  return {
    hash: asset.assetHash,
    js: readFileSync(path.join(dir, 'index.js'), 'utf8'),
    sources: (JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8')) as { sources: string[] }).sources,
  };
}

/** A copy of the fixture in a directory of its own, laid out as a checkout: lambda/<handler>/ beside node_modules/. */
function checkoutIn(parent: string): string {
  const root = mkdtempSync(path.join(parent, 'checkout-'));
  cpSync(FIXTURE, path.join(root, 'lambda', 'bundled-handler'), { recursive: true });
  cpSync(path.join(REPO_ROOT, 'node_modules', DEPENDENCY), path.join(root, 'node_modules', DEPENDENCY), { recursive: true });
  return path.join(root, 'lambda', 'bundled-handler', 'index.ts');
}

describe('SafeNodejsFunction bundles its handler with esbuild in the synth process', () => {
  const scratch = mkdtempSync(path.join(tmpdir(), 'function-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const stack = bundlingStack('Bundled');
  const fn = new SafeNodejsFunction(stack, 'Fn', { entry: path.join(FIXTURE, 'index.ts') });
  const bundle = bundleOf(fn);

  test('into minified CommonJS that Lambda calls as index.handler, with source maps on', () => {
    expect(bundle.js.trim().split('\n').length).toBeLessThanOrEqual(3);
    expect(bundle.js).not.toContain('queueNameOfTheRequestBody');
    expect(bundle.js).toContain('module.exports');
    expect(bundle.js.trim()).toMatch(/\/\/# sourceMappingURL=index\.js\.map$/);
    const cfn = fn.node.defaultChild as lambda.CfnFunction;
    expect(cfn.handler).toBe('index.handler');
    expect(stack.resolve(cfn.environment)).toEqual({ variables: { NODE_OPTIONS: '--enable-source-maps' } });
  });

  test('leaves the AWS SDK to the runtime and bundles ordinary dependencies', () => {
    expect(bundle.js).toContain('require("@aws-sdk/client-sqs")');
    expect(bundle.js).not.toContain(`require("${DEPENDENCY}`);
    expect(bundle.sources).toContain(`../../../../node_modules/${DEPENDENCY}/dist/esm/safe-json-parse.js`);
  });

  test('names sources relative to the handler folder, and holds no path of this machine', () => {
    expect(bundle.sources[0]).toBe('index.ts');
    expect(bundle.sources.filter((source) => path.isAbsolute(source))).toEqual([]);
    for (const text of [bundle.js, bundle.sources.join('\n')]) {
      expect(text).not.toContain(REPO_ROOT);
      expect(text).not.toContain(tmpdir());
    }
  });

  test('gets the same asset hash in another synth and in another checkout', () => {
    const again = bundleOf(new SafeNodejsFunction(bundlingStack('Again'), 'Fn', { entry: path.join(FIXTURE, 'index.ts') }));
    expect(again.hash).toBe(bundle.hash);

    const deeper = path.join(scratch, 'deeper', 'still');
    mkdirSync(deeper, { recursive: true });
    const checkouts = bundlingStack('Checkouts');
    const [first, second] = [checkoutIn(scratch), checkoutIn(deeper)].map((entry, i) =>
      bundleOf(new SafeNodejsFunction(checkouts, `Fn${i}`, { entry })),
    );
    expect(first.hash).toBe(second.hash);
    expect(first.sources).toContain(`../../node_modules/${DEPENDENCY}/dist/esm/safe-json-parse.js`);
  });

  test('calls the export named by handler', () => {
    const other = new SafeNodejsFunction(stack, 'Other', { entry: path.join(FIXTURE, 'index.ts'), handler: 'onRequest' });
    expect((other.node.defaultChild as lambda.CfnFunction).handler).toBe('index.onRequest');
    expect(bundle.js).toMatch(/onRequest:\(\)=>/);
  });

  test('reports a handler that does not compile with esbuild\'s file and line, as SafeNodejsFunction.EntryDoesNotCompile', () => {
    const broken = path.join(scratch, 'broken');
    mkdirSync(broken);
    writeFileSync(path.join(broken, 'index.ts'), 'export const handler = async () => {\n  return 1 +;\n};\n');
    const { constructPath, problems, message } = validationErrorOf(
      () => new SafeNodejsFunction(bundlingStack('Broken'), 'Fn', { entry: path.join(broken, 'index.ts') }),
    );
    expect(constructPath).toBe('Broken/Fn');
    expect(problems).toEqual([
      { code: 'SafeNodejsFunction.EntryDoesNotCompile', message: expect.stringMatching(/broken\/index\.ts:2:13: Unexpected ";"$/) },
    ]);
    expect(message).not.toMatch(/^\s+at /m);
  });

  test('reports a missing entry and a dotted handler together, as SafeNodejsFunction.EntryNotFound and HandlerNotAnExportName', () => {
    const error = validationErrorOf(
      () => new SafeNodejsFunction(bundlingStack('Missing'), 'Fn', { entry: path.join(scratch, 'nowhere', 'index.ts'), handler: 'index.handler' }),
    );
    expect(error.constructPath).toBe('Missing/Fn');
    expect(error.problems).toEqual([
      { code: 'SafeNodejsFunction.EntryNotFound', message: expect.stringContaining('nowhere/index.ts does not exist') },
      {
        code: 'SafeNodejsFunction.HandlerNotAnExportName',
        message: 'handler index.handler is not the name of an exported function: give the name alone (the bundle is always index.js)',
      },
    ]);
  });

  test("turns esbuild's warnings into synth warnings coded SafeNodejsFunction.EsbuildWarning, with file and line", () => {
    const warned = path.join(scratch, 'warned');
    mkdirSync(warned);
    writeFileSync(path.join(warned, 'index.ts'), 'export const handler = async () => ({ a: 1, a: 2 });\n');
    const fn = new SafeNodejsFunction(bundlingStack('Warned'), 'Fn', { entry: path.join(warned, 'index.ts') });
    const warnings = fn.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => String(entry.data));
    expect(warnings).toEqual([expect.stringMatching(/warned\/index\.ts:1:\d+: Duplicate key "a" in object literal \[ack: SafeNodejsFunction\.EsbuildWarning\]$/)]);
  });
});

describe('SafeNodejsFunction without esbuild installed', () => {
  // A module registry of its own whose esbuild cannot be found: whatever loads esbuild there fails.
  const outcome: { skippedHandler?: string; error?: unknown } = {};
  jest.isolateModules(() => {
    jest.doMock('esbuild', () => {
      throw Object.assign(new Error("Cannot find module 'esbuild'"), { code: 'MODULE_NOT_FOUND' });
    });
    /* eslint-disable @typescript-eslint/no-require-imports -- modules of the isolated registry */
    const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    const isolated = require('../../lib/core/function') as typeof import('../../lib/core/function');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const stackWith = (bundlingStacks: string[]) =>
      new cdk.Stack(new cdk.App({ context: { 'aws:cdk:bundling-stacks': bundlingStacks } }), 'NoEsbuild');
    const skipped = new isolated.SafeNodejsFunction(stackWith([]), 'Fn', { entry: path.join(FIXTURE, 'index.ts') });
    outcome.skippedHandler = (skipped.node.defaultChild as lambda.CfnFunction).handler;
    outcome.error = catchError(() => new isolated.SafeNodejsFunction(stackWith(['**']), 'Fn', { entry: path.join(FIXTURE, 'index.ts') }));
  });
  jest.dontMock('esbuild');

  test('synthesizes with bundling skipped: esbuild is never loaded', () => {
    expect(outcome.skippedHandler).toBe('index.handler');
  });

  test('says how to install it when bundling runs, as SafeNodejsFunction.EsbuildNotInstalled', () => {
    expect(outcome.error).toMatchObject({
      name: 'ConstructUsageError',
      constructPath: 'NoEsbuild/Fn',
      code: 'SafeNodejsFunction.EsbuildNotInstalled',
      message: expect.stringContaining('npm install --save-dev esbuild'),
    });
  });
});

function catchError(work: () => unknown): unknown {
  try {
    work();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
