// What `require('@aws/cloudformation-validate')` returns under jest: the worker's shared module (shared-engine-environment.js).
module.exports = globalThis.__sharedCloudFormationValidate;
