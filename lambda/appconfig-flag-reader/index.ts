/**
 * Reads a feature flag through the AWS AppConfig agent Lambda extension: the layer runs the agent beside the function,
 * which polls AppConfig every AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS and serves the latest version it has on
 * localhost, so a read costs a local HTTP call and no AppConfig request.
 */

/** What the flag's value holds in this lab: on or off, and who is let in or kept out when on. */
export interface UserListFlag {
  readonly enabled: boolean;
  readonly allowList?: readonly string[];
  readonly blockList?: readonly string[];
}

export type Reason = 'flag off' | 'on the block list' | 'not on the allow list' | 'on the allow list' | 'on for everyone';

export interface FlagDecision {
  readonly on: boolean;
  readonly reason: Reason;
}

export interface FlagReaderEvent {
  /** The users to decide the flag for. */
  readonly users: readonly string[];
}

export interface FlagReaderResponse {
  readonly flag: string;
  /** The configuration version the agent served (its `Configuration-Version` header). */
  readonly configurationVersion: string | null;
  readonly value: UserListFlag;
  readonly decisions: Readonly<Record<string, FlagDecision>>;
}

/** Off unless enabled; a blocked user stays out even when allowed; a non-empty allow list admits only its users. */
export function decide(flag: UserListFlag, user: string): FlagDecision {
  if (!flag.enabled) return { on: false, reason: 'flag off' };
  if (flag.blockList?.includes(user)) return { on: false, reason: 'on the block list' };
  if ((flag.allowList ?? []).length === 0) return { on: true, reason: 'on for everyone' };
  return flag.allowList?.includes(user) ? { on: true, reason: 'on the allow list' } : { on: false, reason: 'not on the allow list' };
}

/** The agent's URL of the configuration: names or IDs of application, environment and profile. */
export function agentUrl(env: NodeJS.ProcessEnv): string {
  const port = env.AWS_APPCONFIG_EXTENSION_HTTP_PORT ?? '2772';
  const [application, environment, profile] = ['APPCONFIG_APPLICATION', 'APPCONFIG_ENVIRONMENT', 'APPCONFIG_PROFILE'].map((name) =>
    encodeURIComponent(env[name] ?? ''),
  );
  return `http://localhost:${port}/applications/${application}/environments/${environment}/configurations/${profile}`;
}

export async function handler(event: FlagReaderEvent): Promise<FlagReaderResponse> {
  const flagName = process.env.FLAG_NAME ?? '';
  const response = await fetch(agentUrl(process.env));
  if (!response.ok) throw new Error(`the AppConfig agent answered ${response.status}: ${await response.text()}`);
  const flags = (await response.json()) as Record<string, UserListFlag | undefined>;
  const value = flags[flagName];
  if (!value) throw new Error(`the configuration has no flag ${flagName}; it has ${Object.keys(flags).join(', ') || 'none'}`);
  const decisions = Object.fromEntries(event.users.map((user) => [user, decide(value, user)]));
  return { flag: flagName, configurationVersion: response.headers.get('Configuration-Version'), value, decisions };
}
