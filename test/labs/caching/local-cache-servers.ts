import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, Socket } from 'node:net';
import { WorkerServer, workerServer } from '../../support/worker-servers';

/** A cache server on a loopback port, the jest worker's one (see workerServer). */
export interface LocalCacheServer extends WorkerServer {
  readonly host: string;
  readonly port: number;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** Starts `command` (a Debian package's binary: .ci/run installs it) and waits until its port accepts connections. */
async function startServer(command: string, args: (port: number) => string[]): Promise<LocalCacheServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  child.once('error', (error: NodeJS.ErrnoException) => {
    output += error.code === 'ENOENT' ? `${command} was not found: install the Debian package (apt-get install ${command === 'memcached' ? 'memcached' : 'redis-server'})` : String(error);
  });
  const kill = () => {
    if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
  };
  const deadline = Date.now() + 10_000;
  await new Promise((resolve) => setImmediate(resolve));
  while (!(await accepts(port))) {
    if (child.exitCode !== null || child.pid === undefined || Date.now() > deadline) {
      kill();
      throw new Error(`${command} did not start on port ${port}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Kept for the worker's later files, it must not keep the process alive on its own.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket | null)?.unref();
  return { host: '127.0.0.1', port, kill };
}

/** Debian's redis-server, in memory only (no RDB snapshots, no AOF). */
export const startLocalRedis = () =>
  workerServer('redis-server', () =>
    startServer('redis-server', (port) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']),
  );

/** The user and password of the redis-server that requires authentication (startLocalRedisWithAuth). */
export const REDIS_ACL_USER = { user: 'products', password: 'products-password' };

/** A second redis-server whose default user is off: every connection must AUTH as REDIS_ACL_USER first, as ElastiCache's RBAC requires. */
export const startLocalRedisWithAuth = () =>
  workerServer('redis-server-acl', () =>
    startServer('redis-server', (port) => [
      ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      ...['--user', 'default', 'off', '--user', REDIS_ACL_USER.user, 'on', `>${REDIS_ACL_USER.password}`, '~*', '+@all'],
    ]),
  );

/** memcached refuses to run as root unless told which user to run as (CI containers run as root). */
const memcachedUser = () => (process.getuid?.() === 0 ? ['-u', 'root'] : []);

/** Debian's memcached, TCP only. */
export const startLocalMemcached = () =>
  workerServer('memcached', () => startServer('memcached', (port) => ['-l', '127.0.0.1', '-p', String(port), '-U', '0', ...memcachedUser()]));

/** A loopback port nothing listens on: a cache that is down. */
export const closedPort = freePort;
