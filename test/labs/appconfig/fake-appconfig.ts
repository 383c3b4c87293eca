import { BadRequestException, DeploymentEvent, GetDeploymentCommandOutput, InvalidConfigurationDetail, ResourceNotFoundException } from '@aws-sdk/client-appconfig';
import Ajv from 'ajv-draft-04';
import { handler as lambdaValidator } from '../../../lambda/appconfig-validator';
import { CHECKOUT_SCHEMA } from '../../../labs/appconfig/constants';

export const IDS = {
  application: 'app1',
  liveEnvironment: 'env1',
  devEnvironment: 'env2',
  flags: 'flagsprofile',
  checkout: 'checkoutprofile',
  strategy: 'strat1',
  immediateStrategy: 'strat0',
};

/** How the double departs from AppConfig, for the negative tests: each one a lab that misbehaves. */
export interface FakeFaults {
  /** The strategy hands the version to every target at once. */
  readonly allAtOnce?: boolean;
  /** The environment has no monitor: an alarm changes nothing. */
  readonly noMonitor?: boolean;
  /** The profile has no validators / only the JSON Schema one. */
  readonly validators?: 'none' | 'schema only';
  /** Who the event log says started a rollback. @default 'CLOUDWATCH_ALARM' */
  readonly rollbackTrigger?: 'CLOUDWATCH_ALARM' | 'USER';
}

interface Deployment {
  readonly environment: string;
  /** Numbered per environment, from 1, as AppConfig numbers them. */
  readonly number: number;
  /** The immediate strategy: 100 % at the first look, no bake. */
  readonly immediate: boolean;
  readonly profile: string;
  readonly version: number;
  /** The version the targets had before: what a rollback puts back. */
  readonly previous: number;
  percentage: number;
  state: string;
  readonly events: DeploymentEvent[];
}

const validateSchema = new Ajv({ allErrors: true }).compile(CHECKOUT_SCHEMA);

/**
 * A double of the AppConfig control plane for the lab's exercise: hosted versions, validators (the lab's own schema
 * with ajv-draft-04, the lab's own Lambda validator), the lab's two environments, each with its own deployments and
 * what its targets have, deployments that grow 50 % per look and bake one look (the immediate strategy: done at the
 * first look), rollback
 * when the alarm is in ALARM during a deployment, and profiles that cannot be deleted while they hold versions. Its
 * CloudWatch alarm, like the lab's (1-minute period, missing data not breaching), is put back to OK by the first
 * evaluation after it was set to ALARM, which comes before AppConfig's next look; later ALARMs last until a look.
 */
export class FakeAppConfig {
  readonly versions = new Map<string, Map<number, string>>([
    [IDS.flags, new Map()],
    [IDS.checkout, new Map()],
  ]);
  /** The label of each version that was given one, by `profile/version`. */
  private readonly labels = new Map<string, string>();
  /** The version each profile's targets have, by environment. */
  readonly deployed = new Map<string, Map<string, number>>([
    [IDS.liveEnvironment, new Map()],
    [IDS.devEnvironment, new Map()],
  ]);
  readonly deployments: Deployment[] = [];
  alarm: 'OK' | 'ALARM' = 'OK';
  /** How many times the alarm was set to ALARM. */
  alarmsSet = 0;
  /** Whether CloudWatch has evaluated the alarm since it was first set to ALARM. */
  private alarmEvaluated = false;

  constructor(private readonly faults: FakeFaults = {}) {}

  createVersion(profile: string, content: string, label?: string): number {
    const versions = this.versions.get(profile) ?? new Map<number, string>();
    const number = Math.max(0, ...versions.keys()) + 1;
    versions.set(number, content);
    if (label !== undefined) this.labels.set(`${profile}/${number}`, label);
    this.versions.set(profile, versions);
    return number;
  }

  labelOf(profile: string, version: number): string | undefined {
    return this.labels.get(`${profile}/${version}`);
  }

  setAlarm(state: 'OK' | 'ALARM'): void {
    this.alarm = state;
    if (state === 'ALARM') this.alarmsSet += 1;
  }

  /** The hosted versions of a profile, as ListHostedConfigurationVersions returns them. */
  listVersions(profile: string): number[] {
    return [...(this.versions.get(profile)?.keys() ?? [])];
  }

  deleteVersion(profile: string, version: number): void {
    this.versions.get(profile)?.delete(version);
  }

  /** Deletes a profile as AppConfig does: refused while it still holds hosted versions. */
  deleteProfile(profile: string): void {
    if (this.listVersions(profile).length > 0) {
      throw new BadRequestException({
        message: `Cannot delete configuration profile ${profile} because there are still hosted configuration versions existing under it`,
        $metadata: {},
      });
    }
    this.versions.delete(profile);
  }

  private targets(environment: string): Map<string, number> {
    const targets = this.deployed.get(environment);
    if (!targets) throw new ResourceNotFoundException({ message: `Environment ${environment} not found`, $metadata: {} });
    return targets;
  }

  private deliver(environment: string, profile: string, version: number): void {
    this.targets(environment).set(profile, version);
  }

  /** What the stack's own deployments do: version `version` of the profile to every environment, at once. */
  deployEverywhere(profile: string, version: number): void {
    for (const environment of this.deployed.keys()) {
      const number = this.deployments.filter((d) => d.environment === environment).length + 1;
      const events: DeploymentEvent[] = [{ EventType: 'DEPLOYMENT_STARTED', TriggeredBy: 'USER' }, { EventType: 'DEPLOYMENT_COMPLETED', TriggeredBy: 'APPCONFIG' }];
      this.deployments.push({ environment, number, immediate: true, profile, version, previous: 0, percentage: 100, state: 'COMPLETE', events });
      this.deliver(environment, profile, version);
    }
  }

  /** The content an environment (live by default) serves for a profile, its version and the version's label. */
  served(profile: string, environment = IDS.liveEnvironment): { version: number; content: string; label?: string } {
    const version = this.targets(environment).get(profile) ?? 0;
    return { version, content: this.versions.get(profile)?.get(version) ?? '{}', label: this.labelOf(profile, version) };
  }

  async validate(profile: string, version: number): Promise<void> {
    if (profile !== IDS.checkout || this.faults.validators === 'none') return;
    const content = this.versions.get(profile)?.get(version) ?? '';
    const details: InvalidConfigurationDetail[] = [];
    if (!validateSchema(JSON.parse(content))) {
      for (const e of validateSchema.errors ?? []) details.push({ Type: 'JSON_SCHEMA', Location: e.instancePath, Constraint: e.keyword, Reason: e.message });
    }
    if (this.faults.validators !== 'schema only') {
      const event = { applicationId: IDS.application, configurationProfileId: profile, configurationVersion: String(version), content: Buffer.from(content).toString('base64'), uri: 'hosted' };
      await lambdaValidator(event).catch((error: Error) => details.push({ Type: 'LAMBDA', Reason: error.message }));
    }
    if (details.length > 0) {
      throw new BadRequestException({
        message: 'Validation failed for the configuration',
        Reason: 'InvalidConfiguration',
        Details: { InvalidConfiguration: details },
        $metadata: {},
      });
    }
  }

  async startDeployment(environment: string, profile: string, version: number, strategy: string): Promise<number> {
    await this.validate(profile, version);
    const previous = this.targets(environment).get(profile) ?? 0;
    const number = this.deployments.filter((d) => d.environment === environment).length + 1;
    const events = [{ EventType: 'DEPLOYMENT_STARTED' as const, TriggeredBy: 'USER' as const }];
    this.deployments.push({ environment, number, immediate: strategy === IDS.immediateStrategy, profile, version, previous, percentage: 0, state: 'DEPLOYING', events });
    return number;
  }

  /** One look at a deployment of an environment: it moves one step first. */
  look(environment: string, number: number): GetDeploymentCommandOutput {
    const d = this.deployments.find((x) => x.environment === environment && x.number === number);
    if (!d) throw new ResourceNotFoundException({ message: `Deployment ${number} of environment ${environment} not found`, $metadata: {} });
    if (this.alarm === 'ALARM' && !this.alarmEvaluated) {
      this.alarmEvaluated = true;
      this.alarm = 'OK';
    }
    // Only live has the alarm as monitor.
    const monitored = d.environment === IDS.liveEnvironment && !this.faults.noMonitor;
    if (this.alarm === 'ALARM' && monitored && (d.state === 'DEPLOYING' || d.state === 'BAKING')) {
      d.state = 'ROLLED_BACK';
      d.percentage = 0;
      this.deliver(d.environment, d.profile, d.previous);
      d.events.push(
        { EventType: 'ROLLBACK_STARTED', TriggeredBy: this.faults.rollbackTrigger ?? 'CLOUDWATCH_ALARM', Description: 'Rollback initiated' },
        { EventType: 'ROLLBACK_COMPLETED', TriggeredBy: 'APPCONFIG' },
      );
    } else if (d.state === 'DEPLOYING') {
      d.percentage = this.faults.allAtOnce || d.immediate ? 100 : Math.min(100, d.percentage + 50);
      if (d.percentage === 100) {
        d.state = d.immediate ? 'COMPLETE' : 'BAKING';
        this.deliver(d.environment, d.profile, d.version);
        if (d.immediate) d.events.push({ EventType: 'DEPLOYMENT_COMPLETED', TriggeredBy: 'APPCONFIG' });
      }
    } else if (d.state === 'BAKING') {
      d.state = 'COMPLETE';
      d.events.push({ EventType: 'DEPLOYMENT_COMPLETED', TriggeredBy: 'APPCONFIG' });
    }
    return { DeploymentNumber: d.number, State: d.state as never, PercentageComplete: d.percentage, EventLog: [...d.events].reverse(), $metadata: {} };
  }
}
