/**
 * A client of AppSync's real-time WebSocket protocol for GraphQL subscriptions (not MQTT: that was the deprecated
 * AppSync SDK's transport). The subset it speaks:
 * - connect to `wss://<id>.appsync-realtime-api.<region>.amazonaws.com/graphql?header=<base64 JSON>&payload=e30=`
 *   with the subprotocol `graphql-ws`; `header` carries the authorization (the `host` of the GraphQL endpoint and,
 *   for an API key, `x-api-key`; for a token, `Authorization`);
 * - send `connection_init`, wait for `connection_ack`, whose `connectionTimeoutMs` is how long the connection may go
 *   without a `ka` (keep-alive) before the client must consider it dead;
 * - send `start` with an id, the operation as a JSON string and the authorization again in `extensions`; wait for
 *   `start_ack` (or `error`); then each `data` message carries one event;
 * - send `stop`, wait for `complete`.
 */
import { WebSocket } from 'ws';

/** AppSync refused the connection or the subscription, or the connection went silent. */
export class RealtimeError extends Error {
  constructor(
    message: string,
    /** The errorTypes AppSync sent, or `KeepAliveTimeout`, `Closed`, `Timeout`, `InvalidMessage`. */
    readonly errorTypes: readonly string[],
  ) {
    super(message);
    this.name = 'RealtimeError';
  }
}

/**
 * What authorizes the connection and the subscription: an API key, or a token (user pools, OIDC, Lambda). IAM is not
 * offered: it needs a SigV4 signature of the connection and of each `start`, each over its own payload.
 */
export type RealtimeAuthorization = { readonly 'x-api-key': string } | { readonly authorization: string };

export interface SubscriptionOptions {
  /** The GraphQL endpoint (`https://<id>.appsync-api.<region>.amazonaws.com/graphql`). */
  readonly graphqlUrl: string;
  /** The authorization header for the mode used, without `host` (added here). */
  readonly authorization: RealtimeAuthorization;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  /** How long to wait for connection_ack and for start_ack, each. */
  readonly ackTimeoutMs: number;
}

interface ProtocolMessage {
  readonly type: string;
  readonly id?: string;
  readonly payload?: { connectionTimeoutMs?: number; data?: unknown; errors?: { errorType?: string; message?: string }[] };
}

/** The real-time endpoint of a GraphQL endpoint: `appsync-api` becomes `appsync-realtime-api`, https becomes wss. */
export function realtimeUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.hostname = url.hostname.replace('.appsync-api.', '.appsync-realtime-api.');
  return url.toString();
}

const describeErrors = (errors: readonly { errorType?: string; message?: string }[] | undefined) =>
  (errors ?? []).map((error) => `${error.errorType ?? 'Error'}: ${error.message ?? ''}`).join('; ');

/** One subscription on its own connection: `open`, then `next()` for each event, then `close()`. */
export class RealtimeSubscription {
  /** Connects, initializes and starts the subscription; rejects with RealtimeError when AppSync refuses either. */
  static async open(options: SubscriptionOptions): Promise<RealtimeSubscription> {
    const host = new URL(options.graphqlUrl).host;
    const header = { host, ...options.authorization };
    const url = new URL(realtimeUrl(options.graphqlUrl));
    url.searchParams.set('header', Buffer.from(JSON.stringify(header)).toString('base64'));
    url.searchParams.set('payload', Buffer.from('{}').toString('base64'));
    const socket = new WebSocket(url, 'graphql-ws');
    const subscription = new RealtimeSubscription(socket, options, header);
    try {
      await subscription.start();
    } catch (error) {
      socket.terminate();
      throw error;
    }
    return subscription;
  }

  readonly id = `sub-${Math.random().toString(36).slice(2, 10)}`;
  /** The keep-alive window AppSync announced in connection_ack; undefined before it. */
  connectionTimeoutMs?: number;
  private readonly events: unknown[] = [];
  private waiter?: { resolve: (message: ProtocolMessage) => void; reject: (error: Error) => void; accepts: (m: ProtocolMessage) => boolean };
  private failure?: RealtimeError;
  private keepAliveTimer?: NodeJS.Timeout;

  private constructor(
    private readonly socket: WebSocket,
    private readonly options: SubscriptionOptions,
    private readonly header: Readonly<Record<string, string>>,
  ) {
    socket.on('message', (raw) => this.receiveFrame(raw.toString()));
    socket.on('error', (error) => this.fail(new RealtimeError(`WebSocket error: ${error.message}`, ['Closed'])));
    socket.on('close', () => this.fail(new RealtimeError('the connection closed', ['Closed'])));
  }

  private async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.send({ type: 'connection_init' });
    const ack = await this.expect((m) => m.type === 'connection_ack' || m.type === 'connection_error', 'connection_ack');
    if (ack.type === 'connection_error') {
      throw this.fail(new RealtimeError(`connection refused: ${describeErrors(ack.payload?.errors)}`, errorTypesOf(ack)));
    }
    this.connectionTimeoutMs = ack.payload?.connectionTimeoutMs ?? 300_000;
    this.armKeepAlive(this.connectionTimeoutMs);
    this.send({
      id: this.id,
      type: 'start',
      payload: {
        data: JSON.stringify({ query: this.options.query, variables: this.options.variables ?? {} }),
        extensions: { authorization: this.header },
      },
    });
    const started = await this.expect((m) => m.id === this.id && (m.type === 'start_ack' || m.type === 'error'), 'start_ack');
    if (started.type === 'error') {
      throw this.fail(new RealtimeError(`subscription refused: ${describeErrors(started.payload?.errors)}`, errorTypesOf(started)));
    }
  }

  /** The next event's `data`, or a RealtimeError: AppSync sent an error, the connection died, or `timeoutMs` passed. */
  async next(timeoutMs: number): Promise<unknown> {
    const queued = this.events.shift();
    if (queued !== undefined) return queued;
    const message = await this.expect((m) => m.id === this.id && (m.type === 'data' || m.type === 'error'), 'data', timeoutMs);
    if (message.type === 'error') throw new RealtimeError(`subscription error: ${describeErrors(message.payload?.errors)}`, errorTypesOf(message));
    return message.payload?.data;
  }

  /** Stops the subscription (waits for `complete`) and closes the connection. */
  async close(): Promise<void> {
    if (!this.failure && this.socket.readyState === WebSocket.OPEN) {
      this.send({ type: 'stop', id: this.id });
      await this.expect((m) => m.id === this.id && m.type === 'complete', 'complete').catch(() => undefined);
    }
    clearTimeout(this.keepAliveTimer);
    this.failure ??= new RealtimeError('closed by the client', ['Closed']);
    this.socket.close();
  }

  private send(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  /** A frame that is not a JSON message breaks the protocol: the subscription fails rather than the process. */
  private receiveFrame(frame: string): void {
    let message: ProtocolMessage;
    try {
      message = JSON.parse(frame) as ProtocolMessage;
    } catch {
      this.fail(new RealtimeError(`AppSync sent a frame that is not JSON: ${frame.slice(0, 100)}`, ['InvalidMessage']));
      this.socket.terminate();
      return;
    }
    this.receive(message);
  }

  private receive(message: ProtocolMessage): void {
    if (message.type === 'ka') {
      // Before connection_ack there is no window to measure against yet.
      if (this.connectionTimeoutMs !== undefined) this.armKeepAlive(this.connectionTimeoutMs);
      return;
    }
    if (this.waiter?.accepts(message)) {
      const { resolve } = this.waiter;
      this.waiter = undefined;
      resolve(message);
    } else if (message.type === 'data' && message.id === this.id) {
      this.events.push(message.payload?.data);
    }
  }

  /** A connection without a `ka` for connectionTimeoutMs is dead, even if the socket still looks open. */
  private armKeepAlive(windowMs: number): void {
    clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = setTimeout(() => {
      this.fail(new RealtimeError(`no keep-alive (ka) within ${windowMs} ms: the connection is dead`, ['KeepAliveTimeout']));
      this.socket.terminate();
    }, windowMs);
  }

  private expect(accepts: (m: ProtocolMessage) => boolean, what: string, timeoutMs = this.options.ackTimeoutMs): Promise<ProtocolMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new RealtimeError(`no ${what} within ${timeoutMs} ms`, ['Timeout']));
      }, timeoutMs);
      this.waiter = {
        accepts,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private fail(error: RealtimeError): RealtimeError {
    if (this.failure) return this.failure;
    this.failure = error;
    clearTimeout(this.keepAliveTimer);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
    return error;
  }
}

const errorTypesOf = (message: ProtocolMessage): string[] => (message.payload?.errors ?? []).map((e) => e.errorType ?? 'Error');
