import { Cache, CacheTimeouts, CacheUnavailable, DEFAULT_CACHE_TIMEOUTS } from './cache';
import { CacheAddress, CacheConnection, ReplyParser } from './connection';

/** A user and how to get its password: a fixed AUTH token, or a fresh IAM authentication token per connection. */
export interface ValkeyAuth {
  readonly user: string;
  readonly password: () => Promise<string>;
}

/** A reply of the RESP protocol that these commands get: a string, an integer, or null (no such key, not set). */
type Reply = string | number | null;

const CRLF = '\r\n';

/** A command as RESP sends it: an array of bulk strings. */
export const encodeCommand = (args: readonly string[]): string =>
  `*${args.length}${CRLF}${args.map((arg) => `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`).join('')}`;

/** Reads one RESP2 reply (simple string, error, integer, bulk string); an error reply becomes CacheUnavailable. */
export const parseReply: ReplyParser<Reply> = (buffer) => {
  const end = buffer.indexOf(CRLF);
  if (end < 0) return undefined;
  const line = buffer.toString('utf8', 1, end);
  switch (String.fromCharCode(buffer[0])) {
    case '+':
      return { value: line, length: end + 2 };
    case ':':
      return { value: Number(line), length: end + 2 };
    case '-':
      throw new CacheUnavailable(`the server answered ${line}`);
    case '$': {
      const size = Number(line);
      if (size < 0) return { value: null, length: end + 2 };
      const start = end + 2;
      if (buffer.length < start + size + 2) return undefined;
      return { value: buffer.toString('utf8', start, start + size), length: start + size + 2 };
    }
    default:
      throw new CacheUnavailable(`unexpected reply type ${buffer.toString('utf8', 0, 1)}`);
  }
};

/** Deletes KEYS[1] if it holds ARGV[1]: a script runs atomically, so no other client writes between the GET and the DEL. */
const DELETE_IF_EQUALS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/**
 * A Valkey or Redis OSS cache through a few RESP commands (GET, SET with EX and NX, DEL, EVAL), over TLS for ElastiCache.
 * A protocol client of its own rather than node-redis: node-redis bundles to about 530 KB minified, over the
 * 100 KB handler budget; this file and connection.ts bundle to a few KB.
 */
export class ValkeyCache implements Cache {
  readonly engine = 'valkey';
  private readonly connection: CacheConnection;

  constructor(address: CacheAddress, options: { auth?: ValkeyAuth; timeouts?: CacheTimeouts } = {}) {
    const { auth, timeouts = DEFAULT_CACHE_TIMEOUTS } = options;
    this.connection = new CacheConnection(
      address,
      timeouts,
      auth
        ? async (send) => {
            await send(encodeCommand(['AUTH', auth.user, await auth.password()]), parseReply);
          }
        : undefined,
    );
  }

  /** Runs one command and returns its reply: what the methods below use, and a way to run any other. */
  command(...args: string[]): Promise<Reply> {
    return this.connection.request(encodeCommand(args), parseReply);
  }

  async get(key: string): Promise<string | undefined> {
    return ((await this.command('GET', key)) as string | null) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.command('SET', key, value, 'EX', String(ttlSeconds));
  }

  async add(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.command('SET', key, value, 'EX', String(ttlSeconds), 'NX')) === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.command('DEL', key);
  }

  async deleteIfEquals(key: string, expected: string): Promise<boolean> {
    return (await this.command('EVAL', DELETE_IF_EQUALS, '1', key, expected)) === 1;
  }

  close(): void {
    this.connection.close();
  }
}
