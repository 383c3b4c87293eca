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
