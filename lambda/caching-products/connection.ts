import { connect as connectTcp, Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { CacheTimeouts, CacheUnavailable } from './cache';

/** Where a cache listens. ElastiCache with encryption in transit takes TLS only. */
export interface CacheAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
}

/** Reads one reply from the start of `buffer`: the value and the bytes it took, or undefined until more arrives. */
export type ReplyParser<T> = (buffer: Buffer) => { value: T; length: number } | undefined;

interface Pending {
  readonly parse: ReplyParser<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * One connection to a cache node, speaking a request/reply protocol: requests are written in order and replies come
 * back in the same order (pipelining), each with a deadline. Any failure (refused, timed out, closed) fails every
 * request in flight with CacheUnavailable and drops the socket; the next request connects again. `onConnect` runs
 * the protocol's handshake (authentication) before the first request.
 */
export class CacheConnection {
  private socket?: Socket;
  private connecting?: Promise<Socket>;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];

  constructor(
    private readonly address: CacheAddress,
    private readonly timeouts: CacheTimeouts,
    private readonly onConnect?: (send: <T>(request: Buffer | string, parse: ReplyParser<T>) => Promise<T>) => Promise<void>,
  ) {}

  /** Sends `request` and resolves with the reply `parse` reads. */
  async request<T>(request: Buffer | string, parse: ReplyParser<T>): Promise<T> {
    const socket = await this.connected();
    return this.send(socket, request, parse, this.timeouts.commandTimeoutMs);
  }

  close(): void {
    this.fail(new CacheUnavailable('connection closed'));
  }

  private send<T>(socket: Socket, request: Buffer | string, parse: ReplyParser<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => this.fail(new CacheUnavailable(`no reply from ${this.address.host}:${this.address.port} within ${timeoutMs} ms`), socket),
        timeoutMs,
      );
      this.pending.push({
        parse: parse as ReplyParser<unknown>,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      socket.write(request);
    });
  }

  private connected(): Promise<Socket> {
    if (this.connecting) return this.connecting;
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting = this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<Socket> {
    const { host, port, tls } = this.address;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const opened: Socket = tls ? connectTls({ host, port, servername: host }) : connectTcp({ host, port });
      const timer = setTimeout(() => {
        opened.destroy();
        reject(new CacheUnavailable(`could not connect to ${host}:${port} within ${this.timeouts.connectTimeoutMs} ms`));
      }, this.timeouts.connectTimeoutMs);
      opened.once(tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(opened);
      });
      opened.once('error', (error) => {
        clearTimeout(timer);
        reject(new CacheUnavailable(`could not connect to ${host}:${port}: ${error.message}`, { cause: error }));
      });
    });
    socket.setNoDelay(true);
    // An idle connection kept for the next invocation must not keep a process (a script, a test) alive on its own.
    socket.unref();
    // Each handler acts only while this socket is the current one: a late event of a dropped socket must not fail or feed
    // the requests of the connection that replaced it.
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.receive(chunk);
    });
    socket.on('error', (error) => this.fail(new CacheUnavailable(`connection to ${host}:${port} failed: ${error.message}`, { cause: error }), socket));
    socket.on('close', () => this.fail(new CacheUnavailable(`connection to ${host}:${port} closed`), socket));
    this.buffer = Buffer.alloc(0);
    // Published before the handshake so that a failure destroys it; other callers wait on `connecting` until it is done.
    this.socket = socket;
    try {
      await this.onConnect?.((request, parse) => this.send(socket, request, parse, this.timeouts.handshakeTimeoutMs));
    } catch (error) {
      this.fail(error instanceof CacheUnavailable ? error : new CacheUnavailable(String(error), { cause: error }), socket);
      throw error;
    }
    return socket;
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.pending.length > 0) {
      let reply: { value: unknown; length: number } | undefined;
      try {
        reply = this.pending[0].parse(this.buffer);
      } catch (error) {
        this.fail(new CacheUnavailable(`unreadable reply: ${(error as Error).message}`));
        return;
      }
      if (!reply) return;
      this.buffer = this.buffer.subarray(reply.length);
      this.pending.shift()?.resolve(reply.value);
    }
  }

  /** Fails the requests in flight and drops the current socket; given `failed`, only if that socket is still the current one. */
  private fail(error: CacheUnavailable, failed?: Socket): void {
    if (failed && this.socket !== failed) return;
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
    for (const request of this.pending.splice(0)) request.reject(error);
  }
}
