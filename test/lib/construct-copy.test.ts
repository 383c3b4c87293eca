import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { App, Stack } from 'aws-cdk-lib';
import { COPY_BEGIN, COPY_END, constructCopy, constructNames, withFreshCopySection } from '../../labs/support/construct-copy';
import { NO_STACK_TRACES, REPO_ROOT } from '../support/synth';

const readmeOf = (name: string) => path.join(REPO_ROOT, 'lib', name, 'README.md');
const example = (name: string) => path.join(REPO_ROOT, 'test', 'lib', 'copies', `${name}.ts`);

/** What a construct README tells a user to copy and install, read back from its copy section. */
function readmeCopy(name: string): { folders: string[]; packages: string[] } {
  const readme = readFileSync(readmeOf(name), 'utf8');
  const section = readme.slice(readme.indexOf(COPY_BEGIN), readme.indexOf(COPY_END));
  const copyLine = section.slice(section.indexOf('Copy '), section.indexOf('```sh'));
  const installs = section.split('\n').filter((line) => line.startsWith('npm install '));
  return {
    folders: [...copyLine.matchAll(/`((?:lib|lambda)\/[\w-]+)\/`/g)].map(([, folder]) => folder),
    packages: installs
      .flatMap((line) => line.split(/\s+/).slice(2))
      .filter((word) => !word.startsWith('--'))
      .map((pinned) => pinned.slice(0, pinned.lastIndexOf('@') > 0 ? pinned.lastIndexOf('@') : undefined)),
  };
}

const names = constructNames();
/** The project's compiler (TypeScript 7, native): its package exports no `bin/` path, so it is found from its folder. */
const TSC = path.join(path.dirname(require.resolve('typescript-native/package.json')), 'bin', 'tsc');

test.each(names)('the README of %s says what to copy as the imports need it (run `npm run docs` to refresh it)', (name) => {
  const readme = readFileSync(readmeOf(name), 'utf8');
  expect(readme).toContain(COPY_BEGIN);
  expect(readme).toBe(withFreshCopySection(readme, constructCopy(name)));
});

/**
 * One temporary folder holds one project per construct, each made only of what its README says: the folders, the
 * example stack test/lib/copies/<name>.ts at the same path, and a node_modules with only the listed packages (linked
 * to this checkout's). One `tsc` compiles them all; a folder or package the README forgets is a compile error in that
 * project (or, for a handler's package, esbuild's "Could not resolve" at synth). Only @types/node is shared, at the
 * root, since a program has one set of global types.
 */
describe('each construct copied into a project of its own, as its README says', () => {
  let projects: string;
  /** The compiler's output ('' when it found nothing); it runs in a process of its own while the copies synthesize. */
  let compilerOutput: Promise<string>;
  beforeAll(() => {
    projects = mkdtempSync(path.join(tmpdir(), 'construct-copies-'));
    const link = (project: string, pkg: string) => {
      mkdirSync(path.dirname(path.join(project, 'node_modules', pkg)), { recursive: true });
      symlinkSync(path.join(REPO_ROOT, 'node_modules', pkg), path.join(project, 'node_modules', pkg));
    };
    link(projects, '@types/node');
    const ready = (n: string) => existsSync(example(n)) && existsSync(readmeOf(n)) && readFileSync(readmeOf(n), 'utf8').includes(COPY_BEGIN);
    for (const name of names.filter(ready)) {
      const project = path.join(projects, name);
      const { folders, packages } = readmeCopy(name);
      for (const folder of folders) cpSync(path.join(REPO_ROOT, folder), path.join(project, folder), { recursive: true });
      cpSync(example(name), path.join(project, 'test', 'lib', 'copies', `${name}.ts`));
      for (const pkg of packages.filter((p) => p !== '@types/node')) link(project, pkg);
    }
    const { compilerOptions } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions: object };
    writeFileSync(
      path.join(projects, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { ...compilerOptions, types: ['node'] }, include: ['*/lib', '*/lambda', '*/test'] }),
    );
    // Run from the projects' folder, so each error line starts with the project's name.
    compilerOutput = new Promise((resolve) => {
      execFile(process.execPath, [TSC, '-p', projects], { cwd: projects, encoding: 'utf8' }, (error, stdout) =>
        resolve(error ? stdout : ''),
      );
    });
  });
  afterAll(async () => {
    await compilerOutput;
    rmSync(projects, { recursive: true, force: true });
  });

  test.each(names)('%s has a stack using it in test/lib/copies/', (name) => {
    expect(existsSync(example(name))).toBe(true);
  });

  test.each(names)('%s synthesizes, bundling its handlers from the copy, with no feature flag set', (name) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the copied project's own module
    const { build } = require(path.join(projects, name, 'test', 'lib', 'copies', `${name}.ts`)) as { build: (stack: Stack) => void };
    // Without CloudFormation validation (~0.4 CPU-s per template: the catalogue checks validate every construct as the
    // labs use it) or stack traces: this test is about what a copy needs to compile, bundle and synthesize.
    const stack = new Stack(new App({ builtinCloudFormationValidation: false, context: NO_STACK_TRACES }), 'UserStack');
    build(stack);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  });

  // Whichever test reads the compiler's output first waits for it (`-t` may pick any one): ~8 s alone, longer beside
  // other test files.
  const COMPILER_WAIT_MS = 120_000;
  test('the compiler ran on every project', async () => {
    expect(await compilerOutput).not.toMatch(/error TS(5|6)\d{3}/);
  }, COMPILER_WAIT_MS);

  test.each(names)('%s compiles', async (name) => {
    expect((await compilerOutput).split('\n').filter((line) => line.startsWith(`${name}/`))).toEqual([]);
  }, COMPILER_WAIT_MS);
});

test('the copy list follows relative imports and handler entries, and names the types packages the compiler needs', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'copy-list-'));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  try {
    write('package.json', JSON.stringify({ dependencies: { 'aws-cdk-lib': '2.0.0' }, devDependencies: { 'js-yaml': '4.3.2', '@types/js-yaml': '4.0.9' } }));
    write('node_modules/aws-cdk-lib/package.json', JSON.stringify({ types: 'index.d.ts' }));
    write('node_modules/js-yaml/package.json', JSON.stringify({ main: 'index.js' }));
    write('node_modules/@types/js-yaml/package.json', '{}');
    write('node_modules/@types/aws-lambda/package.json', '{}');
    write('lib/widget/index.ts', [
      "import * as path from 'node:path';",
      "import { Stack } from 'aws-cdk-lib';",
      "import { helper } from '../core/helper';",
      "export const entry = path.join(__dirname, '..', '..', 'lambda', 'parse', 'index.ts');",
    ].join('\n'));
    write('lib/core/helper.ts', 'export const helper = 1;');
    write('lib/unrelated/index.ts', "import 'never-copied';");
    write('lambda/parse/index.ts', "import { load } from 'js-yaml';\nimport type { Handler } from 'aws-lambda';");
    expect(constructCopy('widget', root)).toEqual({
      name: 'widget',
      folders: ['lib/widget', 'lambda/parse', 'lib/core'],
      dependencies: ['aws-cdk-lib@2.0.0'],
      devDependencies: ['@types/aws-lambda', '@types/js-yaml@4.0.9', '@types/node', 'js-yaml@4.3.2'],
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
