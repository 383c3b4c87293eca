// Jest transform: TypeScript to CommonJS with esbuild, ~50× faster than ts-jest's transpile-only mode.
// Type-checking is `tsc --noEmit`'s job in `npm test`; tsconfig's isolatedModules keeps both in agreement.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const esbuild = require('esbuild');

const OPTIONS = {
  loader: 'ts',
  format: 'cjs',
  platform: 'node',
  target: 'node22',
  sourcemap: 'external',
  // jest runs CommonJS: `await import(x)` becomes a require that jest's module registry sees.
  supported: { 'dynamic-import': false },
};
const TRANSFORM_VERSION = createHash('sha256')
  .update(esbuild.version)
  .update(JSON.stringify(OPTIONS))
  .update(readFileSync(__filename))
  .digest('hex');

module.exports = {
  process(source, filename) {
    const { code, map } = esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename });
    return { code, map };
  },
  getCacheKey(source, filename, { configString }) {
    return createHash('sha256').update(TRANSFORM_VERSION).update(configString).update(filename).update(source).digest('hex');
  },
};
