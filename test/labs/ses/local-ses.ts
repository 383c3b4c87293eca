import { spawn } from 'node:child_process';
import { createServer, IncomingMessage, request, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { WorkerServer, workerServer } from '../../support/worker-servers';

/** aws-ses-v2-local: SendEmail (v1 and v2), templates, GetAccount (the account it is given), and the mail it took. */
export interface LocalSesServer extends WorkerServer {
  readonly endpoint: string;
  /** What GetAccount returns from now on (the server validates its shape). */
  setAccount(account: object): Promise<void>;
}

async function startSesServer(): Promise<LocalSesServer> {
  const child = spawn(process.execPath, [path.join(__dirname, 'ses-server.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.(line));
  const first = await new Promise<string>((resolve, reject) => {
    waiting.push(resolve);
    child.once('exit', (code) => reject(new Error(`aws-ses-v2-local exited with code ${code} before it was ready`)));
  });
  const { endpoint } = JSON.parse(first) as { endpoint: string };
  // The worker kills the server when it exits; its pipes must not keep the worker (or an in-band jest run) alive.
  child.unref();
  for (const stream of [child.stdin, child.stdout]) (stream as unknown as { unref(): void }).unref();
  return {
    endpoint,
    kill: () => child.kill(),
    setAccount: (account) =>
      new Promise<void>((resolve) => {
        waiting.push(() => resolve());
        child.stdin.write(`${JSON.stringify(account)}\n`);
      }),
  };
}

/** The worker's aws-ses-v2-local, started by the first test file that asks. */
export const localSesServer = () => workerServer('aws-ses-v2-local', startSesServer);

/** A message as aws-ses-v2-local stores it (GET /store). */
export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[] };
  subject: string;
  body: { text?: string; html?: string };
}

export async function storedEmails(endpoint: string): Promise<StoredEmail[]> {
  const response = await fetch(`${endpoint}/store`);
  return ((await response.json()) as { emails: StoredEmail[] }).emails;
}

/** Answers of the SES v2 operations aws-ses-v2-local does not serve, keyed by request path (`/v2/email/identities/x`). */
export type StandInAnswers = Map<string, object>;

/**
 * An HTTP front for the SES v2 API: GET requests whose path is in `answers` (GetEmailIdentity, GetConfigurationSet,
 * GetConfigurationSetEventDestinations, which aws-ses-v2-local lacks) are answered from it, a missing one with SES's
 * NotFoundException; every other request goes to aws-ses-v2-local unchanged.
 */
export async function startSesFront(backend: string, answers: StandInAnswers): Promise<{ endpoint: string; close(): Promise<void> }> {
  const server: Server = createServer((incoming: IncomingMessage, response: ServerResponse) => {
    const pathname = decodeURIComponent(new URL(incoming.url ?? '/', 'http://local').pathname);
    const isStandIn = incoming.method === 'GET' && /^\/v2\/email\/(identities|configuration-sets)\//.test(pathname);
    if (isStandIn) {
      const answer = answers.get(pathname);
      response.writeHead(answer ? 200 : 404, { 'content-type': 'application/json', ...(answer ? {} : { 'x-amzn-errortype': 'NotFoundException' }) });
      response.end(JSON.stringify(answer ?? { message: `${pathname} does not exist` }));
      return;
    }
    const forwarded = request(`${backend}${incoming.url}`, { method: incoming.method, headers: incoming.headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // The SDK keeps its connections alive: close them, or the server waits for them and the worker keeps a handle.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
