// The jest environment of every test file: what a worker starts once and shares with all the files it runs.
// jest re-evaluates modules for each test file, so anything expensive a file starts is started again by the next one.
// 1. The CloudFormation validation engine. aws-cdk-lib validates templates with @aws/cloudformation-validate, whose
//    engine takes ~1.6 s to build (schemas load inside its WebAssembly module), and aws-cdk-lib builds a new one
//    whenever a synth brings new resource types. Here the module is loaded once per worker (outside jest's module
//    registry) and engines are reused for equal configurations (today's rules give every synth the same one), which
//    gives the same findings. jest.config.js maps the package to shared-cloudformation-validate.js, which hands out
//    this instance. A template validated in an earlier run is not validated again (validation-cache.js).
// 2. Servers (kinesalite, redis-server, ...): `workerServer` in worker-servers.ts starts one on the
//    first request of the worker, later files get the same one, and it is killed when the worker exits. DynamoDB
//    Local is one per run (`runServer`, run-folder.js).
const { createHash } = require('node:crypto');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');
const { validateWithCache } = require('./validation-cache');

const VALIDATE_PACKAGE = require.resolve('@aws/cloudformation-validate', {
  paths: [path.dirname(require.resolve('aws-cdk-lib/package.json'))],
});

/** Engines kept per worker; aws-cdk-lib's rules depend on the resource types, so configurations could differ. */
const MAX_ENGINES = 4;
let shared;
function sharedValidateModule() {
  if (shared) return shared;
  const validate = require(VALIDATE_PACKAGE);
  const engines = new Map();
  /** The engine of a configuration, built on first use; the least recently used is freed beyond MAX_ENGINES. */
  function engineFor(json) {
    const key = createHash('sha256').update(json).digest('hex');
    const engine = engines.get(key) ?? new validate.CompositeEngine(JSON.parse(json));
    engines.delete(key);
    engines.set(key, engine);
    if (engines.size > MAX_ENGINES) {
      const [oldestKey, oldest] = engines.entries().next().value;
      engines.delete(oldestKey);
      oldest.free();
    }
    return engine;
  }
  // The engine accepts only objects of its own realm (a test file's objects come from the file's vm context).
  const inThisRealm = (value) => JSON.parse(JSON.stringify(value ?? {}));
  class SharedCompositeEngine {
    // Built on the first template not in the cache: a run whose templates are all cached builds none.
    constructor(config) {
      this.json = JSON.stringify(config ?? {});
    }
    validateTemplate(template, config) {
      const options = inThisRealm(config);
      const validateNow = (t, o) => engineFor(this.json).validateTemplate(t, o);
      return validateWithCache({ version: validate.version(), engineJson: this.json, template, options, validate: validateNow });
    }
    // The engine outlives the app that asked for it: the next test file's apps use it too.
    free() {}
  }
  shared = { ...validate, CompositeEngine: SharedCompositeEngine };
  return shared;
}

const servers = new Map();
const running = [];
const workerServers = {
  /** The server named `name`, started by `start` (which resolves with `{ kill }` and more) on the first request. */
  get(name, start) {
    if (!servers.has(name)) servers.set(name, start().then((server) => (running.push(server), server)));
    return servers.get(name);
  },
};
const stopServers = () => running.splice(0).forEach((server) => server.kill());
process.once('exit', stopServers);
// Once a worker's loop is empty at the end of the run, Node tears its heap down before the process ends: ~0.5 s for
// a worker that ran synths, as long as jest waits before it force-exits the worker and prints "A worker process has
// failed to exit gracefully". process.exit() still runs every 'exit' listener, and skips that teardown.
process.once('beforeExit', () => process.exit());
// A worker that does not exit by itself within 500 ms of the end of the run (its servers' pipes keep it alive) gets
// SIGTERM from jest, which skips 'exit': without this the servers (a DynamoDB Local JVM, redis-server, ...) outlive it.
process.once('SIGTERM', () => {
  stopServers();
  process.exit(143);
});

class WorkerEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__sharedCloudFormationValidate = sharedValidateModule();
    this.global.__workerServers = workerServers;
  }
}

module.exports = WorkerEnvironment;
