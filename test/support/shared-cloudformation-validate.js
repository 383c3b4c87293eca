// What `require('@aws/cloudformation-validate')` returns under jest: the worker's shared module (worker-environment.js).
module.exports = globalThis.__sharedCloudFormationValidate;
