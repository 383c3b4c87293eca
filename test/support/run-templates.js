// jest's globalSetup: a folder for the lab templates synthesized in this run, shared by every test file in every
// worker (`labTemplate` in test/support/synth.ts). A lab's default template is read by its catalogue checks, its stack
// test, its exercise test and its handlers' tests: synthesized by the first, it is read from here by the others.
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

module.exports = async function makeRunTemplatesFolder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-templates-'));
  // Workers start after globalSetup and inherit this process's environment.
  process.env.LAB_RUN_TEMPLATES_DIR = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
};
