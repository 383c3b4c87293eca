/**
 * What a user copies to use one construct in their own project, found from the imports (not written by hand): the
 * folders (`lib/<construct>/`, the `lib/` folders it imports, the `lambda/<handler>/` folders it bundles, and theirs in
 * turn) and the npm packages every file of those folders imports, at this project's versions. `npm run docs` writes it
 * into each construct README; test/lib/construct-copy.test.ts copies a project exactly as it says and compiles it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

export const REPO_ROOT = path.join(__dirname, '..', '..');

export const COPY_BEGIN = '<!-- copy: generated from the imports by `npm run docs`; do not edit -->';
export const COPY_END = '<!-- end of copy -->';

/** What the CDK app itself needs; a `cdk init` app already has them. */
const APP_PACKAGES = new Set(['aws-cdk-lib', 'constructs']);

export interface ConstructCopy {
  /** The construct's folder name under `lib/`. */
  readonly name: string;
  /** Folders to copy, relative to the project root, the construct's own first: `lib/queue-consumer`, `lib/core`, `lambda/x`. */
  readonly folders: readonly string[];
  /** `aws-cdk-lib` and `constructs`, pinned: `aws-cdk-lib@2.276.0`. */
  readonly dependencies: readonly string[];
  /** Everything else the copied files import (types included), pinned. */
  readonly devDependencies: readonly string[];
}

/** Every construct folder of `lib/` (the shared `core` and the test helpers in `testing` are copied with others). */
export function constructNames(root = REPO_ROOT): string[] {
  return readdirSync(path.join(root, 'lib'))
    .filter((name) => !['core', 'testing'].includes(name) && statSync(path.join(root, 'lib', name)).isDirectory())
    .sort();
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)'([^']+)'/gm;
/** How lib/ names a handler: `path.join(__dirname, '..', '..', 'lambda', '<handler>', '<file>')`. */
const HANDLER_ENTRY = /'lambda',\s*'([\w-]+)',\s*'[\w.-]+'/g;

const sourceFiles = (root: string, folder: string): string[] =>
  readdirSync(path.join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.(ts|js|mjs|cjs)$/.test(file) && !file.endsWith('.d.ts'))
    .map((file) => path.join(root, folder, file));

/** `lib/core` for `<root>/lib/core/validation`: the copied folder a relative import lands in. */
function folderOf(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).slice(0, 2).join('/');
}

function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);
}

/** Whether a package ships its own types; if not, its `@types/` package is what the compiler needs. */
function shipsTypes(root: string, name: string): boolean {
  const manifest = path.join(root, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return false;
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { types?: string; typings?: string; exports?: unknown };
  return Boolean(pkg.types || pkg.typings || JSON.stringify(pkg.exports ?? {}).includes('"types"') ||
    existsSync(path.join(root, 'node_modules', name, 'index.d.ts')));
}

/** The folders and packages one construct needs, following imports and handler entries from its folder. */
export function constructCopy(name: string, root = REPO_ROOT): ConstructCopy {
  const folders: string[] = [];
  const packages = new Set<string>();
  const visit = (folder: string) => {
    if (folders.includes(folder)) return;
    folders.push(folder);
    for (const file of sourceFiles(root, folder)) {
      const text = readFileSync(file, 'utf8');
      for (const [, handler] of text.matchAll(HANDLER_ENTRY)) visit(`lambda/${handler}`);
      for (const [, specifier] of text.matchAll(IMPORT)) {
        if (specifier.startsWith('.')) visit(folderOf(root, path.resolve(path.dirname(file), specifier)));
        else if (isBuiltin(specifier)) packages.add('@types/node');
        else packages.add(packageOf(specifier));
      }
    }
  };
  visit(`lib/${name}`);
  for (const pkg of [...packages]) {
    if (pkg.startsWith('@types/') || shipsTypes(root, pkg)) continue;
    const typesPackage = `@types/${pkg.replace(/^@([^/]+)\//, '$1__')}`;
    if (existsSync(path.join(root, 'node_modules', typesPackage))) packages.add(typesPackage);
    // A types-only import (`import type ... from 'aws-lambda'`) needs no runtime package.
    if (!existsSync(path.join(root, 'node_modules', pkg))) packages.delete(pkg);
  }
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
  const pinned = (pkg: string) => {
    const version = manifest.dependencies?.[pkg] ?? manifest.devDependencies?.[pkg];
    return version ? `${pkg}@${version}` : pkg;
  };
  const sorted = [...packages].sort();
  return {
    name,
    folders,
    dependencies: sorted.filter((p) => APP_PACKAGES.has(p)).map(pinned),
    devDependencies: sorted.filter((p) => !APP_PACKAGES.has(p)).map(pinned),
  };
}

/** The README section a user follows to copy the construct. */
export function renderCopySection(copy: ConstructCopy): string {
  const list = (items: readonly string[]) => items.map((item) => `\`${item}/\``).join(', ');
  const lambdas = copy.folders.filter((f) => f.startsWith('lambda/'));
  return [
    COPY_BEGIN,
    '## Copy it into your project',
    '',
    `Copy ${list(copy.folders.filter((f) => f.startsWith('lib/')))}${lambdas.length ? ` and ${list(lambdas)}` : ''} to the same`,
    `paths in your project${lambdas.length ? ' (`lib/` and `lambda/` side by side: the construct finds its handlers at `../../lambda/`)' : ''}, then install`,
    'what they import:',
    '',
    '```sh',
    `npm install ${copy.dependencies.join(' ')}`,
    ...(copy.devDependencies.length ? [`npm install --save-dev ${copy.devDependencies.join(' ')}`] : []),
    '```',
    '',
    `A stack using it, compiled and synthesized in such a copy by the tests: [\`test/lib/copies/${copy.name}.ts\`](../../test/lib/copies/${copy.name}.ts).`,
    COPY_END,
  ].join('\n');
}

/** A construct README with its copy section regenerated; a README without one gets it appended. */
export function withFreshCopySection(readme: string, copy: ConstructCopy): string {
  const begin = readme.indexOf(COPY_BEGIN);
  const end = readme.indexOf(COPY_END);
  if (begin < 0 || end < begin) return `${readme.trimEnd()}\n\n${renderCopySection(copy)}\n`;
  return readme.slice(0, begin) + renderCopySection(copy) + readme.slice(end + COPY_END.length);
}
