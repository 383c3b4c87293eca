import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A server a test file needs, which a jest worker starts once and keeps for every file it runs (worker-environment.js). */
export interface WorkerServer {
  /** Ends the server at once: called when the worker exits. */
  kill(): void;
}

interface WorkerServers {
  get<T extends WorkerServer>(name: string, start: () => Promise<T>): Promise<T>;
}

/**
 * The worker's server called `name`, started with `start` by the first test file that asks. Outside jest's worker
 * environment (a script), every call starts its own, and the caller's process exit kills it.
 */
export function workerServer<T extends WorkerServer>(name: string, start: () => Promise<T>): Promise<T> {
  const registry = (globalThis as { __workerServers?: WorkerServers }).__workerServers;
  if (registry) return registry.get(name, start);
  return start().then((server) => {
    process.once('exit', () => server.kill());
    return server;
  });
}

/** A server started once for the whole jest run, in the background: where it answers, and its process. */
export interface RunServerAddress {
  readonly endpoint: string;
  readonly pid: number;
}

/** Another worker is starting the server: how long its start may take before this one gives up. */
const RUN_SERVER_START_SECONDS = 60;

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function startedByAnotherWorker(name: string, file: string, starting: string): Promise<RunServerAddress> {
  const deadline = Date.now() + RUN_SERVER_START_SECONDS * 1000;
  const starter = () => Number(readFileSync(path.join(starting, 'starter.pid'), 'utf8'));
  while (!existsSync(file)) {
    if (existsSync(path.join(starting, 'starter.pid')) && !isAlive(starter())) {
      throw new Error(`${name}: the jest worker that was starting it (pid ${starter()}) exited before it answered; its output is in ${starting}`);
    }
    if (Date.now() > deadline) throw new Error(`${name}: the jest worker starting it gave no address within ${RUN_SERVER_START_SECONDS} s; its output is in ${starting}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const written = JSON.parse(readFileSync(file, 'utf8')) as RunServerAddress & { error?: string };
  if (written.error) throw new Error(`${name} did not start in another jest worker:\n${written.error}`);
  return written;
}

/**
 * The run's server called `name`, for servers that cost enough to start once per run rather than once per worker
 * (DynamoDB Local: a JVM). `start` runs in the first worker that asks, in a folder of the run for its output and the
 * pid file of what it spawns (`server.pid`, written at once, so that the run can kill it even if this worker dies),
 * and must leave the server running on its own; the others wait for the address it writes to the run folder
 * (test/support/run-folder.js), whose process kills the server when the run ends. Outside jest, `start` runs in this
 * process with a folder of its own, and the process's exit kills the server.
 */
export function runServer(name: string, start: (dir: string) => Promise<RunServerAddress>): Promise<RunServerAddress> {
  const runDir = process.env.JEST_RUN_DIR;
  if (!runDir) {
    return workerServer(name, async () => {
      const dir = mkdtempSync(path.join(tmpdir(), `${name}-`));
      const address = await start(dir);
      return { ...address, kill: () => killQuietly(address.pid, dir) };
    });
  }
  return workerServer(name, async () => {
    const file = path.join(runDir, `${name}.server.json`);
    const starting = path.join(runDir, `${name}.starting`);
    // mkdir either creates the folder or fails with EEXIST: exactly one worker of the run starts the server.
    try {
      mkdirSync(starting);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return { ...(await startedByAnotherWorker(name, file, starting)), kill: () => undefined };
    }
    // Written whole, then renamed, like the address: a waiter never reads an empty pid.
    writeFileSync(path.join(starting, 'starter.pid.tmp'), String(process.pid));
    renameSync(path.join(starting, 'starter.pid.tmp'), path.join(starting, 'starter.pid'));
    const written = `${file}.${process.pid}`;
    try {
      const address = await start(starting);
      writeFileSync(written, JSON.stringify(address));
      return { ...address, kill: () => undefined };
    } catch (error) {
      writeFileSync(written, JSON.stringify({ error: (error as Error).message }));
      throw error;
    } finally {
      renameSync(written, file);
    }
  });
}

function killQuietly(pid: number, dir: string): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
  rmSync(dir, { recursive: true, force: true });
}
