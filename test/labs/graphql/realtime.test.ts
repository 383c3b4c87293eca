import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { RealtimeError, realtimeUrl, RealtimeSubscription } from '../../../labs/graphql/realtime';

/**
 * A local stand-in for AppSync's real-time endpoint that speaks the subset the exercise's client uses:
 * connection_init → connection_ack (with connectionTimeoutMs) or connection_error; start → start_ack or error;
 * data pushed by the test; stop → complete; ka every `keepAliveMs` when set.
 */
interface StandInOptions {
  connectionTimeoutMs: number;
  keepAliveMs?: number;
  refuseConnection?: boolean;
  refuseStart?: boolean;
  /** Send a ka right after connection_init and the connection_ack this many ms later. */
  kaBeforeAckMs?: number;
}

interface StandIn {
  readonly graphqlUrl: string;
  /** What the client sent: the decoded `header` query parameter, the subprotocol, every message. */
  readonly seen: { header?: Record<string, string>; protocol?: string; messages: Record<string, unknown>[] };
  /** Sends `message` to every open connection. */
  push(message: Record<string, unknown>): void;
  /** Sends a raw text frame to every open connection. */
  pushFrame(frame: string): void;
  /** Resolves when the client sent a message of this type. */
  received(type: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

async function startStandIn(options: StandInOptions): Promise<StandIn> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('graphql-ws') ? 'graphql-ws' : false) });
  await new Promise((resolve) => server.once('listening', resolve));
  const sockets = new Set<WebSocket>();
  const seen: StandIn['seen'] = { messages: [] };
  const waiting: { type: string; resolve: (m: Record<string, unknown>) => void }[] = [];
  server.on('connection', (socket, request) => {
    sockets.add(socket);
    const url = new URL(request.url ?? '/', 'ws://local');
    seen.header = JSON.parse(Buffer.from(url.searchParams.get('header') ?? '', 'base64').toString()) as Record<string, string>;
    seen.protocol = socket.protocol;
    let keepAlive: NodeJS.Timeout | undefined;
    socket.on('close', () => clearInterval(keepAlive));
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as Record<string, unknown>;
      seen.messages.push(message);
      for (const waiter of waiting.filter((w) => w.type === message.type)) waiter.resolve(message);
      const send = (reply: Record<string, unknown>) => socket.send(JSON.stringify(reply));
      if (message.type === 'connection_init') {
        if (options.refuseConnection) {
          send({ type: 'connection_error', payload: { errors: [{ errorType: 'UnauthorizedException', message: 'You are not authorized' }] } });
          return;
        }
        const ack = () => send({ type: 'connection_ack', payload: { connectionTimeoutMs: options.connectionTimeoutMs } });
        if (options.kaBeforeAckMs !== undefined) {
          send({ type: 'ka' });
          setTimeout(ack, options.kaBeforeAckMs);
        } else {
          ack();
        }
        if (options.keepAliveMs) keepAlive = setInterval(() => send({ type: 'ka' }), options.keepAliveMs);
      } else if (message.type === 'start') {
        send(
          options.refuseStart
            ? { type: 'error', id: message.id, payload: { errors: [{ errorType: 'UnauthorizedException', message: 'Not Authorized' }] } }
            : { type: 'start_ack', id: message.id },
        );
      } else if (message.type === 'stop') {
        send({ type: 'complete', id: message.id });
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    graphqlUrl: `http://127.0.0.1:${port}/graphql`,
    seen,
    push: (message) => {
      for (const socket of sockets) socket.send(JSON.stringify(message));
    },
    pushFrame: (frame) => {
      for (const socket of sockets) socket.send(frame);
    },
    received: (type) => {
      const already = seen.messages.find((m) => m.type === type);
      return already ? Promise.resolve(already) : new Promise((resolve) => waiting.push({ type, resolve }));
    },
    close: async () => {
      for (const socket of sockets) socket.terminate();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const QUERY = 'subscription { onNoteCreated { id } }';
const AUTHORIZATION = { 'x-api-key': 'da2-test' };
let standIn: StandIn | undefined;
afterEach(async () => {
  await standIn?.close();
  standIn = undefined;
});

const open = (graphqlUrl: string) =>
  RealtimeSubscription.open({ graphqlUrl, authorization: AUTHORIZATION, query: QUERY, variables: { authorId: 'a1' }, ackTimeoutMs: 2000 });

test('the real-time endpoint of an AppSync GraphQL endpoint', () => {
  expect(realtimeUrl('https://abc.appsync-api.eu-west-1.amazonaws.com/graphql')).toBe('wss://abc.appsync-realtime-api.eu-west-1.amazonaws.com/graphql');
});

test('connects with the authorization header in the URL and graphql-ws, starts, receives data, stops with complete', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000 });
  const subscription = await open(standIn.graphqlUrl);
  expect(standIn.seen.protocol).toBe('graphql-ws');
  expect(standIn.seen.header).toEqual({ host: new URL(standIn.graphqlUrl).host, 'x-api-key': 'da2-test' });
  expect(subscription.connectionTimeoutMs).toBe(300_000);
  const start = await standIn.received('start');
  expect(start).toEqual({
    id: subscription.id,
    type: 'start',
    payload: {
      data: JSON.stringify({ query: QUERY, variables: { authorId: 'a1' } }),
      extensions: { authorization: { host: new URL(standIn.graphqlUrl).host, 'x-api-key': 'da2-test' } },
    },
  });

  standIn.push({ type: 'data', id: 'another-subscription', payload: { data: { onNoteCreated: { id: 'not-ours' } } } });
  standIn.push({ type: 'data', id: subscription.id, payload: { data: { onNoteCreated: { id: 'n1' } } } });
  await expect(subscription.next(2000)).resolves.toEqual({ onNoteCreated: { id: 'n1' } });

  await subscription.close();
  expect(standIn.seen.messages.map((m) => m.type)).toEqual(['connection_init', 'start', 'stop']);
});

test('a connection without ka for connectionTimeoutMs is dead: next() fails with KeepAliveTimeout', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 150 });
  const subscription = await open(standIn.graphqlUrl);
  const failure = await subscription.next(5000).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(RealtimeError);
  expect((failure as RealtimeError).errorTypes).toEqual(['KeepAliveTimeout']);
  await subscription.close();
});

test('ka messages keep the connection alive past connectionTimeoutMs', async () => {
  // A window ten times the ka interval, so a loaded machine delaying a few ka messages does not end the connection.
  standIn = await startStandIn({ connectionTimeoutMs: 500, keepAliveMs: 50 });
  const subscription = await open(standIn.graphqlUrl);
  const stand = standIn;
  const pushed = new Promise<void>((resolve) =>
    setTimeout(() => {
      stand.push({ type: 'data', id: subscription.id, payload: { data: { onNoteCreated: { id: 'late' } } } });
      resolve();
    }, 1200),
  );
  await expect(subscription.next(5000)).resolves.toEqual({ onNoteCreated: { id: 'late' } });
  await pushed;
  await subscription.close();
});

test('an error for the subscription rejects next() with its errorType', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000 });
  const subscription = await open(standIn.graphqlUrl);
  standIn.push({ type: 'error', id: subscription.id, payload: { errors: [{ errorType: 'MaxSubscriptionsReachedError', message: 'too many' }] } });
  await expect(subscription.next(2000)).rejects.toEqual(expect.objectContaining({ errorTypes: ['MaxSubscriptionsReachedError'] }));
  await subscription.close();
});

test('a refused start (error instead of start_ack) rejects open with the errorType', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000, refuseStart: true });
  await expect(open(standIn.graphqlUrl)).rejects.toEqual(expect.objectContaining({ name: 'RealtimeError', errorTypes: ['UnauthorizedException'] }));
});

test('a connection_error rejects open before any start is sent', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000, refuseConnection: true });
  await expect(open(standIn.graphqlUrl)).rejects.toEqual(expect.objectContaining({ errorTypes: ['UnauthorizedException'] }));
  expect(standIn.seen.messages.map((m) => m.type)).toEqual(['connection_init']);
});

test('a ka before connection_ack arms no keep-alive timer: the connection stays up and opens', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000, kaBeforeAckMs: 50 });
  const subscription = await open(standIn.graphqlUrl);
  expect(subscription.connectionTimeoutMs).toBe(300_000);
  standIn.push({ type: 'data', id: subscription.id, payload: { data: { onNoteCreated: { id: 'n1' } } } });
  await expect(subscription.next(2000)).resolves.toEqual({ onNoteCreated: { id: 'n1' } });
  await subscription.close();
});

test('a frame that is not JSON fails the subscription with InvalidMessage, not the process', async () => {
  standIn = await startStandIn({ connectionTimeoutMs: 300_000 });
  const subscription = await open(standIn.graphqlUrl);
  const next = subscription.next(2000);
  standIn.pushFrame('<html>bad gateway</html>');
  await expect(next).rejects.toEqual(expect.objectContaining({ name: 'RealtimeError', errorTypes: ['InvalidMessage'] }));
  await subscription.close();
});
