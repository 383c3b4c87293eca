import {
  BadRequestException,
  GetLatestConfigurationCommand,
  GetLatestConfigurationCommandOutput,
  StartConfigurationSessionCommand,
  StartConfigurationSessionCommandOutput,
} from '@aws-sdk/client-appconfigdata';

/** How a broken data plane departs from the contract, for the negative tests. */
export interface DataPlaneFaults {
  /** Hands the spent token back instead of a new one. */
  readonly reusesTokens?: boolean;
  /** Sends the configuration on every poll, even when the session already has that version. */
  readonly resendsConfiguration?: boolean;
}

/**
 * A stand-in of the AppConfig data plane's contract: a session hands out a token; each GetLatestConfiguration spends
 * one (a spent or unknown token is a BadRequestException), returns the next, the poll interval, and the configuration
 * with its version's label (if it has one) only when the session has not received that version yet (an empty body
 * otherwise).
 */
export class DataPlaneStandIn {
  /** What the environment serves now: the version, its content and its label (the number is never sent). */
  deployed: { version: string; content: string; label?: string } = { version: '1', content: '{}' };
  readonly calls: string[] = [];
  private readonly live = new Map<string, { session: number }>();
  private readonly seen = new Map<number, string>();
  private sessions = 0;
  private tokens = 0;

  constructor(
    private readonly pollIntervalSeconds: number,
    private readonly faults: DataPlaneFaults = {},
  ) {}

  /** Forgets every token, as 24 hours would. */
  expireTokens(): void {
    this.live.clear();
  }

  private issue(session: number): string {
    const token = `token-${session}-${String(++this.tokens).padStart(8, '0')}`;
    this.live.set(token, { session });
    return token;
  }

  async send(command: unknown): Promise<StartConfigurationSessionCommandOutput | GetLatestConfigurationCommandOutput> {
    if (command instanceof StartConfigurationSessionCommand) {
      this.calls.push('StartConfigurationSession');
      return { InitialConfigurationToken: this.issue(++this.sessions), $metadata: {} };
    }
    if (command instanceof GetLatestConfigurationCommand) {
      this.calls.push('GetLatestConfiguration');
      const token = command.input.ConfigurationToken ?? '';
      const entry = this.live.get(token);
      if (!entry) throw new BadRequestException({ message: 'Request contains an invalid or expired configuration token', $metadata: {} });
      this.live.delete(token);
      const next = this.faults.reusesTokens ? token : this.issue(entry.session);
      if (this.faults.reusesTokens) this.live.set(token, entry);
      const changed = this.faults.resendsConfiguration || this.seen.get(entry.session) !== this.deployed.version;
      this.seen.set(entry.session, this.deployed.version);
      return {
        NextPollConfigurationToken: next,
        NextPollIntervalInSeconds: this.pollIntervalSeconds,
        Configuration: changed ? Buffer.from(this.deployed.content) : new Uint8Array(),
        ContentType: 'application/json',
        VersionLabel: changed ? this.deployed.label : undefined,
        $metadata: {},
      } as GetLatestConfigurationCommandOutput;
    }
    throw new Error(`the stand-in does not serve ${(command as object).constructor.name}`);
  }
}
