// jest's module runtime, with V8's code cache. jest evaluates every module again for each test file, in the file's
// own context, and compiles it again each time: a test file that loads aws-cdk-lib compiles some 1,800 scripts, a
// sixth of its CPU. V8 can hand back a script's compiled code (`script.createCachedData()`) and take it again
// (`new Script(code, { cachedData })`), so a module is compiled once per worker, and once per source change across
// runs: the code goes to jest's cache directory (`npx jest --clearCache` empties it), unless jest runs with --no-cache.
// V8 checks the cached data against its version, flags and the source's length only: the key here is a hash of the
// file name and the whole source, so a change of the same length still compiles afresh.
const { hash } = require('node:crypto');
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { Script } = require('node:vm');
const Runtime = require('jest-runtime').default;

/** The compiled code of this worker's modules, by key: the next test file's modules take it from here. */
const workerCode = new Map();

// SHA-1 (a cache key, not a defence against forged sources): ~5 times as fast as SHA-256 here, where every module of
// every test file is hashed.
const codeKey = (filename, code) => hash('sha1', `${filename}\0${code}`);

class CodeCacheRuntime extends Runtime {
  constructor(config, environment, resolver, transformer, cacheFS, coverageOptions, ...rest) {
    super(config, environment, resolver, transformer, cacheFS, coverageOptions, ...rest);
    // V8's coverage counts what runs in code it compiled itself.
    this.codeCacheOn = !(coverageOptions.collectCoverage && coverageOptions.coverageProvider === 'v8');
    this.codeCacheDir = config.cache ? path.join(config.cacheDirectory, `v8-code-${process.version}-${process.arch}`) : undefined;
    /** Scripts this test file compiled without cached code: their code is kept when the file ends. */
    this.compiledHere = [];
  }

  createScriptFromCode(scriptSource, filename) {
    if (!this.codeCacheOn) return super.createScriptFromCode(scriptSource, filename);
    const code = this.wrapCodeInModuleWrapper(scriptSource);
    const key = codeKey(filename, code);
    const cachedData = workerCode.get(key) ?? this.storedCode(key);
    const scriptFilename = this._resolver.isCoreModule(filename) ? `jest-nodejs-core-${filename}` : filename;
    let script;
    try {
      script = new Script(code, {
        columnOffset: this._fileTransforms.get(filename)?.wrapperLength,
        displayErrors: true,
        filename: scriptFilename,
        cachedData,
        importModuleDynamically: async (specifier) => {
          const context = this._environment.getVmContext?.();
          if (!context) throw new Error('Test environment has been torn down');
          return this.linkAndEvaluateModule(await this.resolveModule(specifier, scriptFilename, context));
        },
      });
    } catch {
      // A syntax error: jest's own compile reports it as jest does.
      return super.createScriptFromCode(scriptSource, filename);
    }
    if (cachedData === undefined || script.cachedDataRejected) this.compiledHere.push({ key, script });
    return script;
  }

  storedCode(key) {
    if (!this.codeCacheDir) return undefined;
    try {
      const stored = readFileSync(path.join(this.codeCacheDir, key));
      workerCode.set(key, stored);
      return stored;
    } catch (error) {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    }
  }

  teardown() {
    super.teardown();
    // After the tests ran: the code then holds the functions they called, which V8 compiles only when first called.
    if (this.codeCacheDir && this.compiledHere.length > 0) mkdirSync(this.codeCacheDir, { recursive: true });
    for (const { key, script } of this.compiledHere.splice(0)) {
      const compiled = script.createCachedData();
      workerCode.set(key, compiled);
      if (!this.codeCacheDir) continue;
      // Written whole, then renamed: another worker never reads half a file.
      const file = path.join(this.codeCacheDir, key);
      writeFileSync(`${file}.${process.pid}`, compiled);
      renameSync(`${file}.${process.pid}`, file);
    }
  }
}

module.exports = CodeCacheRuntime;
