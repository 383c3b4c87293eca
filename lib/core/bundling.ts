import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type * as esbuild from 'esbuild';
import { ConstructUsageError, ConstructValidationError } from './validation';

/** The module every bundle is written as (`index.js`): a function's handler is `index.<exported function>`. */
export const BUNDLE_MODULE = 'index';

/**
 * What NodejsFunction gave the esbuild CLI for this library's settings (aws-lambda-nodejs/lib/bundling.js): minified
 * CommonJS for Node.js 24 with a source map, the AWS SDK v3 and the Smithy packages it is built on left to the runtime
 * (NodejsFunction does so with the flag `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages`).
 */
const BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node24',
  minify: true,
  sourcemap: true,
  external: ['@aws-sdk/*', '@smithy/*'],
  // Kept in memory, then written by tryBundle: esbuild's messages are reported by bundleEntry instead.
  write: false,
  logLevel: 'silent',
} as const satisfies esbuild.BuildOptions;

// A required field only: tryBundle always bundles (or throws), so CDK never falls back to Docker.
const NEVER_RUN_IMAGE = DockerImage.fromRegistry('no-docker-esbuild-runs-in-process');

/**
 * The code of a Node.js function: `entry` and what it imports, bundled by esbuild's JavaScript API in the synth process
 * (one esbuild service for every function, no process per function). The asset's source is the entry's folder and its
 * hash is the hash of the bundle, which holds no absolute path: the same handler gives the same hash in any checkout.
 * Skipped bundling (context `aws:cdk:bundling-stacks`) never loads esbuild.
 */
export function bundledHandlerCode(scope: Construct, id: string, entry: string): BundledCode {
  const constructPath = `${scope.node.path}/${id}`;
  const entryFile = path.resolve(entry);
  // Bundled here rather than in tryBundle, which runs inside CDK's asset staging: CDK would wrap these coded errors.
  const bundle = Stack.of(scope).bundlingRequired ? bundleEntry(constructPath, entryFile) : { outputFiles: [], warnings: [] };
  const local = {
    // Part of CDK's asset cache key, which serializes the bundling options: two entries of one folder are two bundles.
    entry: path.basename(entryFile),
    tryBundle(outputDir: string): boolean {
      for (const file of bundle.outputFiles) fs.writeFileSync(path.join(outputDir, path.basename(file.path)), file.contents);
      return true;
    },
  };
  const code = lambda.Code.fromAsset(path.dirname(entryFile), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: { image: NEVER_RUN_IMAGE, local },
  });
  return { code, warnings: bundle.warnings.map(located) };
}

export interface BundledCode {
  readonly code: lambda.Code;
  /** esbuild's warnings, `file:line:column: text`. */
  readonly warnings: readonly string[];
}

/** Bundles of this process by entry file: a handler that several functions use (or several stacks) is built once. */
const bundles = new Map<string, { outputFiles: esbuild.OutputFile[]; warnings: esbuild.Message[] }>();

function bundleEntry(constructPath: string, entryFile: string): { outputFiles: esbuild.OutputFile[]; warnings: esbuild.Message[] } {
  const built = bundles.get(entryFile);
  if (built) return built;
  const { buildSync } = loadEsbuild(constructPath);
  try {
    const { outputFiles, warnings } = buildSync({
      ...BUILD_OPTIONS,
      entryPoints: [entryFile],
      // Beside the entry, so the source map names sources relative to the handler's folder, never the checkout path.
      outfile: path.join(path.dirname(entryFile), `${BUNDLE_MODULE}.js`),
    });
    bundles.set(entryFile, { outputFiles, warnings });
    return { outputFiles, warnings };
  } catch (error) {
    const failure = error as Partial<esbuild.BuildFailure>;
    if (!Array.isArray(failure.errors)) throw error;
    throw new ConstructValidationError(
      constructPath,
      failure.errors.map((message) => ({ code: 'SafeNodejsFunction.EntryDoesNotCompile', message: located(message) })),
    );
  }
}

/** esbuild, loaded only when a bundle is built: skipped bundling and code that never synthesizes run without it. */
function loadEsbuild(constructPath: string): typeof esbuild {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose, see above
    return require('esbuild') as typeof esbuild;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
    throw new ConstructUsageError(
      constructPath,
      'SafeNodejsFunction.EsbuildNotInstalled',
      'bundling its handler needs esbuild, which is not installed: npm install --save-dev esbuild',
    );
  }
}

/** `file:line:column: text`, as editors and terminals link it (esbuild's columns count from 0). */
function located(message: esbuild.Message): string {
  const where = message.location;
  return where ? `${where.file}:${where.line}:${where.column + 1}: ${message.text}` : message.text;
}
