// jest's globalSetup: a folder for this run, shared by every test file in every worker (workers start after
// globalSetup and inherit this process's environment):
// - the lab templates synthesized in this run (`labTemplate`, test/support/lab-template.ts): a lab's default template
//   is read by its catalogue checks, its stack test, its exercise test and its handlers' tests, synthesized once;
// - the servers started once for the whole run (`runServer`, test/support/worker-servers.ts): the first worker that
//   needs one starts it and writes its pid here; this process kills them when it exits.
// Stryker's jest runner calls jest many times in one process (once per mutant): each call gets the process's folder
// with no template in it (a template synthesized against another mutant must not be read), and keeps its servers.
// A run killed before its exit handler ran (SIGKILL, Stryker ending its runners) leaves its folder and servers: the
// next run removes them, the owner's pid being in the folder's name.
const { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

const FOLDER = /^jest-run-(\d+)$/;
const SERVER_PID_FILE = /(\.server\.json|^server\.pid)$/;

/** Every pid a server file of the folder names (`<name>.server.json`, `<name>.starting/server.pid`). */
function serverPids(dir) {
  const files = readdirSync(dir, { recursive: true }).map(String).filter((file) => SERVER_PID_FILE.test(path.basename(file)));
  return files.map((file) => {
    const text = readFileSync(path.join(dir, file), 'utf8');
    return file.endsWith('.json') ? JSON.parse(text).pid : Number(text);
  });
}

/** Kills the servers of a run folder; a pid that is not a positive integer (a failed start) is skipped. */
function killRunServers(dir) {
  for (const pid of serverPids(dir)) {
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/** Removes the folders (and kills the servers) of runs whose jest process is gone. */
function removeAbandonedRuns() {
  for (const name of readdirSync(tmpdir())) {
    const owner = FOLDER.exec(name);
    if (!owner || Number(owner[1]) === process.pid || isAlive(Number(owner[1]))) continue;
    const dir = path.join(tmpdir(), name);
    try {
      killRunServers(dir);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another run is removing it.
    }
  }
}

const runFolder = path.join(tmpdir(), `jest-run-${process.pid}`);

async function makeRunFolder() {
  if (!existsSync(runFolder)) {
    removeAbandonedRuns();
    mkdirSync(runFolder);
    // A failure here must not turn a passing run into a failing one: the next run removes what is left.
    process.once('exit', () => {
      try {
        killRunServers(runFolder);
        rmSync(runFolder, { recursive: true, force: true });
      } catch {
        // Left for the next run.
      }
    });
  }
  for (const file of readdirSync(runFolder).filter((name) => /^[0-9a-f]{64}\.json$/.test(name))) rmSync(path.join(runFolder, file));
  process.env.JEST_RUN_DIR = runFolder;
}

module.exports = makeRunFolder;
module.exports.killRunServers = killRunServers;
