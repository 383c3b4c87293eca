// The local engines (fauxqs 2) and the functions' runtime need Node.js 22 or newer: say how to get it, not a stack trace.
if (Number(process.versions.node.split('.')[0]) < 22) {
  console.error(`jest: Node.js ${process.version} is too old; run \`source .ci/use-node24.sh\` first (README.md, "Set up and test").`);
  process.exit(1);
}

/** @type {import('jest').Config} */
module.exports = {
  // One CloudFormation validation engine and one of each local server per worker, not per test file (the file says why).
  // An absolute path, not <rootDir>: Stryker's jest runner (npm run mutate) wraps the environment and does not expand it.
  testEnvironment: require('node:path').join(__dirname, 'test', 'support', 'worker-environment.js'),
  moduleNameMapper: { '^@aws/cloudformation-validate$': '<rootDir>/test/support/shared-cloudformation-validate.js' },
  roots: ['<rootDir>/test'],
  // `npm run mutate -- <folder>` runs only the test files that mirror the folder, for every mutant (bin/mutate.ts).
  testMatch: process.env.MUTATE_TEST_FILES ? process.env.MUTATE_TEST_FILES.split(',').map((file) => `<rootDir>/${file}`) : ['**/*.test.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-transform.js' },
  testSequencer: '<rootDir>/test/support/long-first-sequencer.js',
  setupFiles: ['<rootDir>/test/support/setup-env.ts'],
  // One folder per run for the lab templates and the servers every test file shares (the file says how).
  globalSetup: '<rootDir>/test/support/run-folder.js',
  // Many tests wait on local engines and real SQS timings rather than the CPU: 3 workers on 2 cores finish sooner.
  maxWorkers: 3,
};
