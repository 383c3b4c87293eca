import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { App, Stack } from 'aws-cdk-lib';
import { COPY_BEGIN, COPY_END, constructCopy, constructNames, renderCopySection, withFreshCopySection } from '../../labs/support/construct-copy';
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
    // Run from the projects' folder, so each error line starts with the project's name. One thread: the other jest
    // workers keep the cores busy, and tsc's parallel checkers cost ~20 % more CPU in all.
    compilerOutput = new Promise((resolve) => {
      execFile(process.execPath, [TSC, '-p', projects, '--singleThreaded'], { cwd: projects, encoding: 'utf8' }, (error, stdout) =>
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

describe('on a project of its own', () => {
  let root: string;
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'copy-list-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('the constructs are the folders of lib/ in order, without core, testing and files', () => {
    for (const folder of ['zeta', 'core', 'testing', 'alpha', 'mid-one']) write(`lib/${folder}/index.ts`, '');
    write('lib/README.md', '# lib');
    expect(constructNames(root)).toEqual(['alpha', 'mid-one', 'zeta']);
  });

  test('every way of importing counts, in every source file of a folder and its subfolders, but not in .d.ts or other files', () => {
    write('package.json', JSON.stringify({ dependencies: { constructs: '10.0.0', 'aws-cdk-lib': '2.0.0' }, devDependencies: { 'req-pkg': '1.0.0' } }));
    const all = ['aws-cdk-lib', 'constructs', 'req-pkg', 'dyn-pkg', 'side-pkg', 'mjs-pkg', 'cjs-pkg', 'js-pkg', '@scope/sdk', 'dts-pkg', 'json-pkg'];
    for (const pkg of [...all, 'spaced-pkg', 'spaced-req', 'spaced-dyn', 'spaced-from', 'mid-line']) {
      write(`node_modules/${pkg}/package.json`, JSON.stringify({ types: 'index.d.ts' }));
    }
    write('lib/widget/index.ts', [
      "import { Construct } from 'constructs';",
      "import {\n  Stack,\n} from 'aws-cdk-lib/core';",
      "const req = require( 'req-pkg' );",
      "const dyn = await import( 'dyn-pkg' );",
      "  import 'side-pkg';",
      "import { S3 } from '@scope/sdk/dist/client';",
      "import { readFileSync } from 'fs';",
      "export const entry = path.join(__dirname, '..', '..', 'lambda','parse-it','main.handler.ts');",
    ].join('\n'));
    write('lib/widget/deep/more/util.mjs', "import x from 'mjs-pkg';\nimport { deep } from '../../../core/sub/deep';");
    write('lib/widget/other.cjs', "require('cjs-pkg');");
    // Spacing as a formatter may leave it; an import written in a string or mid-line is no import.
    write('lib/widget/plain.js', [
      "import 'js-pkg';",
      "import  'spaced-pkg';",
      "const a = require ('spaced-req');",
      "const b = import (  'spaced-dyn');",
      "export { c } from  'spaced-from';",
      "export const hint = \"import 'mid-line'\";",
    ].join('\n'));
    write('lib/widget/types.d.ts', "import 'dts-pkg';");
    write('lib/widget/example.json', JSON.stringify({ usage: "import { Widget } from 'json-pkg';" }));
    write('lib/core/sub/deep.ts', "import { widget } from '../../widget/index';\nimport { rm } from 'node:fs/promises';");
    write('lambda/parse-it/main.handler.ts', "import { promises } from 'fs/promises';");
    expect(constructCopy('widget', root)).toEqual({
      name: 'widget',
      folders: ['lib/widget', 'lambda/parse-it', 'lib/core'],
      dependencies: ['aws-cdk-lib@2.0.0', 'constructs@10.0.0'],
      devDependencies: [
        '@scope/sdk',
        '@types/node',
        'cjs-pkg',
        'dyn-pkg',
        'js-pkg',
        'mjs-pkg',
        'req-pkg@1.0.0',
        'side-pkg',
        'spaced-dyn',
        'spaced-from',
        'spaced-pkg',
        'spaced-req',
      ],
    });
  });

  test('a built-in module imported without the node: prefix needs @types/node too', () => {
    write('package.json', JSON.stringify({}));
    write('lib/widget/index.ts', "import { readFileSync } from 'fs';\nimport { join } from 'path/posix';");
    expect(constructCopy('widget', root)).toEqual({ name: 'widget', folders: ['lib/widget'], dependencies: [], devDependencies: ['@types/node'] });
  });

  test('a package that ships its types (types, typings, exports or an index.d.ts) needs no @types package; others get theirs', () => {
    write('package.json', JSON.stringify({}));
    const pkg = (name: string, manifest: object) => {
      write(`node_modules/${name}/package.json`, JSON.stringify(manifest));
      write(`node_modules/@types/${name.replace(/^@([^/]+)\//, '$1__')}/package.json`, '{}');
    };
    pkg('with-types', { types: 'main.d.ts' });
    pkg('with-typings', { typings: 'main.d.ts' });
    pkg('with-exports', { exports: { '.': { types: './main.d.ts', default: './main.js' } } });
    pkg('with-index', { main: 'index.js' });
    write('node_modules/with-index/index.d.ts', 'export {};');
    pkg('untyped', { main: 'index.js', exports: { '.': './index.js' } });
    pkg('@scope/untyped', { main: 'index.js' });
    write('node_modules/no-types-anywhere/package.json', JSON.stringify({ main: 'index.js' }));
    const names = ['with-types', 'with-typings', 'with-exports', 'with-index', 'untyped', '@scope/untyped', 'no-types-anywhere', 'missing'];
    write('lib/widget/index.ts', names.map((name) => `import '${name}';`).join('\n'));
    write('node_modules/@types/missing/package.json', '{}');
    expect(constructCopy('widget', root).devDependencies).toEqual([
      '@scope/untyped',
      '@types/missing',
      '@types/scope__untyped',
      '@types/untyped',
      'no-types-anywhere',
      'untyped',
      'with-exports',
      'with-index',
      'with-types',
      'with-typings',
    ]);
  });
});

describe('the copy section', () => {
  const plain = { name: 'widget', folders: ['lib/widget', 'lib/core'], dependencies: ['aws-cdk-lib@2.0.0', 'constructs@10.0.0'], devDependencies: [] };
  const withHandlers = {
    name: 'parser',
    folders: ['lib/parser', 'lambda/parse', 'lib/core', 'lambda/load'],
    dependencies: ['aws-cdk-lib@2.0.0'],
    devDependencies: ['@types/node', 'js-yaml@4.3.2'],
  };
  const plainSection = [
    COPY_BEGIN,
    '## Copy it into your project',
    '',
    'Copy `lib/widget/`, `lib/core/` to the same',
    'paths in your project, then install',
    'what they import:',
    '',
    '```sh',
    'npm install aws-cdk-lib@2.0.0 constructs@10.0.0',
    '```',
    '',
    'A stack using it, compiled and synthesized in such a copy by the tests: [`test/lib/copies/widget.ts`](../../test/lib/copies/widget.ts).',
    COPY_END,
  ].join('\n');

  test('names the folders to copy and the packages to install, word for word', () => {
    expect(renderCopySection(plain)).toBe(plainSection);
    expect(renderCopySection(withHandlers)).toBe([
      COPY_BEGIN,
      '## Copy it into your project',
      '',
      'Copy `lib/parser/`, `lib/core/` and `lambda/parse/`, `lambda/load/` to the same',
      'paths in your project (`lib/` and `lambda/` side by side: the construct finds its handlers at `../../lambda/`), then install',
      'what they import:',
      '',
      '```sh',
      'npm install aws-cdk-lib@2.0.0',
      'npm install --save-dev @types/node js-yaml@4.3.2',
      '```',
      '',
      'A stack using it, compiled and synthesized in such a copy by the tests: [`test/lib/copies/parser.ts`](../../test/lib/copies/parser.ts).',
      COPY_END,
    ].join('\n'));
  });

  test('replaces the section in place, and appends it to a README without one or with its markers out of order', () => {
    expect(withFreshCopySection(`# Widget\n\nIntro.\n${COPY_BEGIN}\nold\n${COPY_END}\n\n## After\n`, plain)).toBe(
      `# Widget\n\nIntro.\n${plainSection}\n\n## After\n`,
    );
    expect(withFreshCopySection(`${COPY_BEGIN}\nold\n${COPY_END}\n# Widget\n`, plain)).toBe(`${plainSection}\n# Widget\n`);
    expect(withFreshCopySection('# Widget\n\nIntro.\n\n\n', plain)).toBe(`# Widget\n\nIntro.\n\n${plainSection}\n`);
    expect(withFreshCopySection(`# Widget\n${COPY_END}\n${COPY_BEGIN}\n`, plain)).toBe(`# Widget\n${COPY_END}\n${COPY_BEGIN}\n\n${plainSection}\n`);
  });
});
