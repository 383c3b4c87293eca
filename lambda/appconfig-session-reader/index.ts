/**
 * Reads a configuration through the AppConfig data plane without the agent: a session (StartConfigurationSession)
 * gives a token; each GetLatestConfiguration spends it and returns the next one, the minimum wait before the next
 * call, and the configuration only when it changed since the last call (an empty body means "what you have").
 */
import {
  AppConfigDataClient,
  BadRequestException,
  GetLatestConfigurationCommand,
  StartConfigurationSessionCommand,
} from '@aws-sdk/client-appconfigdata';

export interface SessionTarget {
  readonly application: string;
  readonly environment: string;
  readonly profile: string;
  /** The session's minimum poll interval, 15 s to 24 h: AppConfig never asks for a shorter wait. */
  readonly minimumPollIntervalSeconds: number;
}

/**
 * What one read did: `first` (a new session's configuration), `changed` (a new version arrived), `unchanged` (an
 * empty body: the cached configuration is current) or `cached` (the poll interval had not passed: no call made).
 */
export type ReadOutcome = 'first' | 'changed' | 'unchanged' | 'cached';

export interface SessionRead {
  readonly outcome: ReadOutcome;
  readonly configuration: unknown;
  readonly versionLabel?: string;
  /** The end of the token spent by this read and of the one it received (tokens are single use). */
  readonly tokens?: { readonly spent: string; readonly next: string };
  /** Seconds until the next read may call AppConfig. */
  readonly nextPollInSeconds: number;
  /** Sessions started so far by this execution environment (a second one means the token had expired). */
  readonly sessionsStarted: number;
}

const tail = (token: string) => `…${token.slice(-8)}`;

/** One execution environment's session: the token to spend next, the cached configuration and when to poll again. */
export class ConfigurationSession {
  private token?: string;
  private configuration?: unknown;
  private versionLabel?: string;
  private nextPollAt = 0;
  private sessionsStarted = 0;

  constructor(
    private readonly client: Pick<AppConfigDataClient, 'send'>,
    private readonly target: SessionTarget,
    private readonly now: () => number = Date.now,
  ) {}

  async read(): Promise<SessionRead> {
    if (this.configuration !== undefined && this.now() < this.nextPollAt) {
      return this.result('cached');
    }
    try {
      return await this.poll();
    } catch (error) {
      // A token lives 24 hours: after that (or after a token was spent twice) a new session starts over.
      if (!(error instanceof BadRequestException)) throw error;
      this.token = undefined;
      return this.poll();
    }
  }

  private async poll(): Promise<SessionRead> {
    if (!this.token) {
      const started = await this.client.send(
        new StartConfigurationSessionCommand({
          ApplicationIdentifier: this.target.application,
          EnvironmentIdentifier: this.target.environment,
          ConfigurationProfileIdentifier: this.target.profile,
          RequiredMinimumPollIntervalInSeconds: this.target.minimumPollIntervalSeconds,
        }),
      );
      this.sessionsStarted += 1;
      this.token = started.InitialConfigurationToken;
    }
    const spent = this.token ?? '';
    const latest = await this.client.send(new GetLatestConfigurationCommand({ ConfigurationToken: spent }));
    this.token = latest.NextPollConfigurationToken;
    this.nextPollAt = this.now() + (latest.NextPollIntervalInSeconds ?? this.target.minimumPollIntervalSeconds) * 1000;
    const body = latest.Configuration ?? new Uint8Array();
    let outcome: ReadOutcome = 'unchanged';
    if (body.length > 0) {
      outcome = this.configuration === undefined ? 'first' : 'changed';
      this.configuration = JSON.parse(Buffer.from(body).toString('utf8'));
      this.versionLabel = latest.VersionLabel;
    }
    return this.result(outcome, { spent: tail(spent), next: tail(this.token ?? '') });
  }

  private result(outcome: ReadOutcome, tokens?: SessionRead['tokens']): SessionRead {
    return {
      outcome,
      configuration: this.configuration,
      versionLabel: this.versionLabel,
      tokens,
      nextPollInSeconds: Math.max(0, Math.ceil((this.nextPollAt - this.now()) / 1000)),
      sessionsStarted: this.sessionsStarted,
    };
  }
}

let session: ConfigurationSession | undefined;

export async function handler(): Promise<SessionRead> {
  session ??= new ConfigurationSession(new AppConfigDataClient({}), {
    application: process.env.APPCONFIG_APPLICATION ?? '',
    environment: process.env.APPCONFIG_ENVIRONMENT ?? '',
    profile: process.env.APPCONFIG_PROFILE ?? '',
    minimumPollIntervalSeconds: Number(process.env.MINIMUM_POLL_INTERVAL_SECONDS),
  });
  return session.read();
}
