// A jest environment that gives every test file of a worker the same CloudFormation validation engine.
// aws-cdk-lib validates templates with @aws/cloudformation-validate, whose engine takes ~1.6 s to build (schemas load
// inside its WebAssembly module); jest re-evaluates modules per test file, so each file would build its own, and
// aws-cdk-lib builds a new one whenever a synth brings new resource types. Here the module is loaded once per worker
// (outside jest's module registry) and engines are reused for equal configurations, which gives the same findings.
// jest.config.js maps the package to shared-cloudformation-validate.js, which hands out this instance.
const { createHash } = require('node:crypto');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const VALIDATE_PACKAGE = require.resolve('@aws/cloudformation-validate', {
  paths: [path.dirname(require.resolve('aws-cdk-lib/package.json'))],
});

let shared;
function sharedValidateModule() {
  if (shared) return shared;
  const validate = require(VALIDATE_PACKAGE);
  const engines = new Map();
  // The engine accepts only objects of its own realm (a test file's objects come from the file's vm context).
  const inThisRealm = (value) => JSON.parse(JSON.stringify(value ?? {}));
  class SharedCompositeEngine {
    constructor(config) {
      const json = JSON.stringify(config ?? {});
      const key = createHash('sha256').update(json).digest('hex');
      if (!engines.has(key)) engines.set(key, new validate.CompositeEngine(JSON.parse(json)));
      this.engine = engines.get(key);
    }
    validateTemplate(template, config) {
      return this.engine.validateTemplate(template, inThisRealm(config));
    }
    // The engine outlives the app that asked for it: the next test file's apps use it too.
    free() {}
  }
  shared = { ...validate, CompositeEngine: SharedCompositeEngine };
  return shared;
}

class SharedEngineEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.global.__sharedCloudFormationValidate = sharedValidateModule();
  }
}

module.exports = SharedEngineEnvironment;
module.exports.VALIDATE_PACKAGE = VALIDATE_PACKAGE;
