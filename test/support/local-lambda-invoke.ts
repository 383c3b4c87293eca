import { createServer, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

type Handler = (event: unknown) => Promise<unknown>;

export interface LocalLambdaInvoke {
  readonly endpoint: string;
  /** Events each function received, by function name. */
  readonly events: Record<string, unknown[]>;
  stop(): Promise<void>;
}

async function body(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

/**
 * Lambda's synchronous Invoke API (POST /2015-03-31/functions/<name>/invocations) on a random loopback port, running
 * in-process handlers; points the SDK's Lambda client at it through AWS_ENDPOINT_URL_LAMBDA. A handler that throws
 * answers 200 with `X-Amz-Function-Error: Unhandled` and `{ errorType, errorMessage }`, as Lambda does.
 */
export async function startLocalLambdaInvoke(functions: Record<string, Handler>): Promise<LocalLambdaInvoke> {
  const events: Record<string, unknown[]> = {};
  const server = createServer((request, response) => {
    void (async () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(request.url ?? '');
      const name = match ? decodeURIComponent(match[1]) : '';
      const handler = functions[name];
      if (request.method !== 'POST' || !handler) {
        response.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        response.end(JSON.stringify({ message: `Function not found: ${name}` }));
        return;
      }
      const event = JSON.parse((await body(request)) || '{}') as unknown;
      (events[name] ??= []).push(event);
      try {
        const result = await handler(event);
        response.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        response.end(JSON.stringify(result ?? null));
      } catch (error) {
        const { name: errorType, message: errorMessage } = error as Error;
        response.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled' });
        response.end(JSON.stringify({ errorType, errorMessage }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_LAMBDA = endpoint;
  return {
    endpoint,
    events,
    stop: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
