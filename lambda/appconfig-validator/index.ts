/**
 * The Lambda validator of the checkout settings: AppConfig invokes it before a deployment of the profile starts
 * (StartDeployment) and refuses the deployment when it throws; the error's message is what AppConfig reports. It checks
 * what the profile's JSON Schema cannot say: the maintenance window's start before its end, and its length.
 */

/** What AppConfig sends a Lambda validator (the content is base64-encoded). */
export interface ValidatorEvent {
  readonly applicationId: string;
  readonly configurationProfileId: string;
  readonly configurationVersion: string;
  readonly content: string;
  readonly uri: string;
}

/** The configuration is refused: the message lists every problem. */
export class InvalidConfiguration extends Error {
  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'InvalidConfiguration';
  }
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const minutesOf = (time: string) => {
  const [, hours, minutes] = HH_MM.exec(time) ?? [];
  return Number(hours) * 60 + Number(minutes);
};

/** The problems of a checkout settings document that its JSON Schema lets through; empty when it is valid. */
export function checkoutProblems(settings: unknown, maxWindowHours: number): string[] {
  const window = (settings as { maintenanceWindow?: { start?: unknown; end?: unknown } } | null)?.maintenanceWindow;
  const { start, end } = window ?? {};
  if (typeof start !== 'string' || typeof end !== 'string' || !HH_MM.test(start) || !HH_MM.test(end)) {
    return ['maintenanceWindow needs start and end as HH:MM'];
  }
  const length = minutesOf(end) - minutesOf(start);
  if (length <= 0) return [`maintenanceWindow.start (${start}) must be before maintenanceWindow.end (${end}) on the same day`];
  if (length > maxWindowHours * 60) return [`maintenanceWindow lasts ${length} minutes, more than ${maxWindowHours} hours`];
  return [];
}

export async function handler(event: ValidatorEvent): Promise<void> {
  const maxWindowHours = Number(process.env.MAX_MAINTENANCE_WINDOW_HOURS);
  const text = Buffer.from(event.content, 'base64').toString('utf8');
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfiguration([`version ${event.configurationVersion} is not JSON: ${(error as Error).message}`]);
  }
  const problems = checkoutProblems(settings, maxWindowHours);
  if (problems.length > 0) throw new InvalidConfiguration(problems);
}
