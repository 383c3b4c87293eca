// jest's globalSetup: a folder for this run, shared by every test file in every worker (workers start after
// globalSetup and inherit this process's environment):
// - the lab templates synthesized in this run (`labTemplate`, test/support/lab-template.ts): a lab's default template
//   is read by its catalogue checks, its stack test, its exercise test and its handlers' tests, synthesized once;
// - the servers started once for the whole run (`runServer`, test/support/worker-servers.ts): the first worker that
//   needs one starts it and writes `<name>.server.json` here; this process kills them when the run ends.
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const SERVER_FILE = /\.server\.json$/;

function killRunServers(dir) {
  for (const file of readdirSync(dir).filter((name) => SERVER_FILE.test(name))) {
    const { pid } = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

async function makeRunFolder() {
  const dir = mkdtempSync(path.join(tmpdir(), 'jest-run-'));
  process.env.JEST_RUN_DIR = dir;
  process.once('exit', () => {
    killRunServers(dir);
    rmSync(dir, { recursive: true, force: true });
  });
}

module.exports = makeRunFolder;
module.exports.killRunServers = killRunServers;
