/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // Many tests wait on local engines and real SQS timings rather than the CPU: 3 workers on 2 cores finish sooner.
  maxWorkers: 3,
};
