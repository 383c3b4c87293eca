import {
  AppConfigClient,
  BadRequestException,
  CreateHostedConfigurationVersionCommand,
  DeleteHostedConfigurationVersionCommand,
  GetDeploymentCommand,
  GetDeploymentCommandOutput,
  StartDeploymentCommand,
  ValidateConfigurationCommand,
} from '@aws-sdk/client-appconfig';
import { AppConfigDataClient } from '@aws-sdk/client-appconfigdata';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { FlagReaderResponse } from '../../lambda/appconfig-flag-reader';
import { ConfigurationSession, SessionRead } from '../../lambda/appconfig-session-reader';
import {
  check,
  defineFixture,
  defineTiming,
  ExerciseContext,
  ExerciseStep,
  expectRejection,
  LabNotReady,
  requireOutput,
} from '../support/exercise';
import { APPCONFIG_LAB, BETA_SEARCH, betaSearchFlags, CheckoutSettings } from './constants';

export const timing = defineTiming(APPCONFIG_LAB.exerciseTiming);

/** How the steps tell the time and wait: the wall clock; a test provides a virtual one, so that nothing sleeps. */
export interface ExerciseClock {
  /** Milliseconds, as Date.now(). */
  readonly now: () => number;
  readonly pause: (seconds: number) => Promise<void>;
}
export const clock = defineFixture<ExerciseClock>('clock of the steps', () => ({
  now: Date.now,
  pause: (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000)),
}));

const USERS = Object.keys(APPCONFIG_LAB.usersAfterRollout);
const TERMINAL_STATES = new Set(['COMPLETE', 'ROLLED_BACK', 'REVERTED']);
/** The states in which the environment's monitors can still roll the deployment back. */
const MONITORED_STATES = new Set(['DEPLOYING', 'BAKING']);
const appconfigOf = (context: ExerciseContext) => context.client(AppConfigClient, 'APPCONFIG');

async function invoke<T>(context: ExerciseContext, functionName: string, payload: object): Promise<T> {
  const response = await context.client(LambdaClient, 'LAMBDA').send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(payload)) }),
  );
  const body = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
  check(!response.FunctionError, `${functionName} failed: ${body}`);
  return JSON.parse(body) as T;
}

const readFlag = (context: ExerciseContext) =>
  invoke<FlagReaderResponse>(context, requireOutput(context.outputs, 'FlagReaderFunctionName'), { users: USERS });

const describeDecisions = (answer: FlagReaderResponse) =>
  Object.entries(answer.decisions)
    .map(([user, d]) => `${user}=${d.on ? 'on' : 'off'} (${d.reason})`)
    .join(', ');

/** Creates a hosted version; `versionLabel` is what the data plane returns with it (the number never is). */
async function createVersion(context: ExerciseContext, profileOutput: string, document: object, versionLabel?: string): Promise<number> {
  const { outputs } = context;
  const created = await appconfigOf(context).send(
    new CreateHostedConfigurationVersionCommand({
      ApplicationId: requireOutput(outputs, 'ApplicationId'),
      ConfigurationProfileId: requireOutput(outputs, profileOutput),
      Content: Buffer.from(JSON.stringify(document)),
      ContentType: 'application/json',
      Description: `appconfig lab exercise ${context.runId}`,
      VersionLabel: versionLabel,
    }),
  );
  return created.VersionNumber ?? 0;
}

/** Where a deployment goes and with which strategy. */
interface DeploymentTarget {
  readonly environmentOutput: 'EnvironmentId' | 'DevEnvironmentId';
  readonly strategyOutput: 'DeploymentStrategyId' | 'ImmediateStrategyId';
}
const LIVE: DeploymentTarget = { environmentOutput: 'EnvironmentId', strategyOutput: 'DeploymentStrategyId' };
const DEV: DeploymentTarget = { environmentOutput: 'DevEnvironmentId', strategyOutput: 'ImmediateStrategyId' };

/** Deploys a version: to live with the lab's linear strategy unless `target` says otherwise. */
function startDeployment(context: ExerciseContext, profileOutput: string, version: number, target = LIVE) {
  const { outputs } = context;
  return appconfigOf(context).send(
    new StartDeploymentCommand({
      ApplicationId: requireOutput(outputs, 'ApplicationId'),
      EnvironmentId: requireOutput(outputs, target.environmentOutput),
      ConfigurationProfileId: requireOutput(outputs, profileOutput),
      DeploymentStrategyId: requireOutput(outputs, target.strategyOutput),
      ConfigurationVersion: String(version),
      Description: `appconfig lab exercise ${context.runId}`,
    }),
  );
}

const secondsSince = (now: () => number, since: number) => ((now() - since) / 1000).toFixed(1);

/** Looks at the deployment every poll interval, calling `onLook` each time, until it ends or the deadline passes. */
async function followDeployment(
  context: ExerciseContext,
  deploymentNumber: number,
  onLook: (deployment: GetDeploymentCommandOutput) => Promise<void>,
  target = LIVE,
): Promise<GetDeploymentCommandOutput> {
  const { outputs } = context;
  const { deploymentPollSeconds, deploymentDeadlineSeconds } = await context.use(timing);
  const { now, pause } = await context.use(clock);
  const deadline = now() + deploymentDeadlineSeconds * 1000;
  for (;;) {
    const deployment = await appconfigOf(context).send(
      new GetDeploymentCommand({
        ApplicationId: requireOutput(outputs, 'ApplicationId'),
        EnvironmentId: requireOutput(outputs, target.environmentOutput),
        DeploymentNumber: deploymentNumber,
      }),
    );
    await onLook(deployment);
    if (TERMINAL_STATES.has(deployment.State ?? '')) return deployment;
    check(now() < deadline, `deployment ${deploymentNumber} is still ${deployment.State} after ${deploymentDeadlineSeconds} s`);
    await pause(deploymentPollSeconds);
  }
}

/** Asks the flag reader until its answer is the one awaited, for at most the catch-up time; undefined if it never is. */
async function readUntil(context: ExerciseContext, accepts: (answer: FlagReaderResponse) => boolean): Promise<FlagReaderResponse | undefined> {
  const { readerCatchUpSeconds, deploymentPollSeconds } = await context.use(timing);
  const { now, pause } = await context.use(clock);
  const deadline = now() + readerCatchUpSeconds * 1000;
  for (;;) {
    const answer = await readFlag(context);
    if (accepts(answer)) return answer;
    if (now() >= deadline) return undefined;
    await pause(deploymentPollSeconds);
  }
}

async function readBothWays(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const answer = await readFlag(context);
  check(answer.flag === BETA_SEARCH && typeof answer.value.enabled === 'boolean', `the flag reader returned no ${BETA_SEARCH} flag: ${JSON.stringify(answer)}`);
  check(USERS.every((user) => answer.decisions[user] !== undefined), `the flag reader decided for ${Object.keys(answer.decisions).join(', ')}, not for ${USERS.join(', ')}`);
  log(`through the agent extension (version ${answer.configurationVersion}): ${describeDecisions(answer)}`);

  const sessionReader = requireOutput(outputs, 'SessionReaderFunctionName');
  const first = await invoke<SessionRead>(context, sessionReader, {});
  log(`data plane, read 1: ${first.outcome}, label ${first.versionLabel ?? '(none)'}, next poll in ${first.nextPollInSeconds} s`);
  const second = await invoke<SessionRead>(context, sessionReader, {});
  check(second.outcome === 'cached' && second.tokens === undefined, `a read within the poll interval called AppConfig (${second.outcome})`);
  check(JSON.stringify(second.configuration) === JSON.stringify(first.configuration), 'the cached read returned another configuration');
  log(`data plane, read 2 at once: cached, no call (AppConfig asked for ${first.nextPollInSeconds} s between polls)`);

  const { sessionPollMarginSeconds } = await context.use(timing);
  const { pause } = await context.use(clock);
  await pause(second.nextPollInSeconds + sessionPollMarginSeconds);
  const third = await invoke<SessionRead>(context, sessionReader, {});
  check(third.outcome === 'unchanged', `after the poll interval, with no deployment running, the read was ${third.outcome}, not unchanged`);
  check(third.tokens !== undefined && third.tokens.spent !== third.tokens.next, 'GetLatestConfiguration did not hand out a new token');
  if (first.tokens) {
    check(third.tokens.spent === first.tokens.next, `read 3 spent ${third.tokens.spent}, not the token read 1 received (${first.tokens.next})`);
  }
  log(`data plane, read 3 after ${second.nextPollInSeconds + sessionPollMarginSeconds} s: empty body = unchanged, cached configuration kept;`);
  log(`  token ${third.tokens.spent} spent, ${third.tokens.next} to use next (a token is good for one call)`);
}

/**
 * The beta-search flag an environment serves now, read as a client there reads it: the session reader's own session
 * class, new for each read, so nothing is cached between the deployment and the read (the agent polls every 15 s).
 */
async function readFlagIn(context: ExerciseContext, target: DeploymentTarget): Promise<{ versionLabel?: string; enabled?: boolean }> {
  const { outputs } = context;
  const session = new ConfigurationSession(context.client(AppConfigDataClient, 'APPCONFIGDATA'), {
    application: requireOutput(outputs, 'ApplicationId'),
    environment: requireOutput(outputs, target.environmentOutput),
    profile: requireOutput(outputs, 'FlagsProfileId'),
    minimumPollIntervalSeconds: APPCONFIG_LAB.extensionPollIntervalSeconds,
  });
  // A feature-flag profile's data-plane answer: each flag's values, without the definitions.
  const { configuration, versionLabel } = await session.read();
  return { versionLabel, enabled: (configuration as Record<string, { enabled?: boolean }> | undefined)?.[BETA_SEARCH]?.enabled };
}

const describeFlag = (read: { versionLabel?: string; enabled?: boolean }) =>
  `label ${read.versionLabel ?? '(none)'}, ${read.enabled === undefined ? `no ${BETA_SEARCH} flag` : `${BETA_SEARCH} ${read.enabled ? 'on' : 'off'}`}`;

async function environments(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const liveBefore = await readFlagIn(context, LIVE);
  log(`live, through a new data-plane session: ${describeFlag(liveBefore)}`);
  const label = `dev-trial-${context.runId}`;
  const version = await createVersion(context, 'FlagsProfileId', betaSearchFlags(APPCONFIG_LAB.rolledOutFlags), label);
  const { DeploymentNumber: deploymentNumber = 0 } = await startDeployment(context, 'FlagsProfileId', version, DEV);
  log(`created flags version ${version}, label ${label} (beta search on for the allow list); deployment ${deploymentNumber} to dev started with the immediate strategy`);
  const done = await followDeployment(context, deploymentNumber, async (deployment) => log(`  dev: ${deployment.State} ${deployment.PercentageComplete ?? 0} %`), DEV);
  check(done.State === 'COMPLETE', `the deployment to dev ended ${done.State}, not COMPLETE`);

  const dev = await readFlagIn(context, DEV);
  log(`dev, through a new data-plane session: ${describeFlag(dev)}`);
  check(dev.versionLabel === label, `dev serves ${describeFlag(dev)}, not version ${version} (label ${label}) deployed there`);
  check(dev.enabled === APPCONFIG_LAB.rolledOutFlags.enabled, `dev serves ${describeFlag(dev)}: version ${version} has ${BETA_SEARCH} on`);
  const liveAfter = await readFlagIn(context, LIVE);
  log(`live, through a new data-plane session: ${describeFlag(liveAfter)}`);
  check(
    liveAfter.versionLabel === liveBefore.versionLabel && liveAfter.enabled === liveBefore.enabled,
    `live serves ${describeFlag(liveAfter)} after a deployment to dev only; before it, ${describeFlag(liveBefore)}`,
  );
  log(`one profile, a version per environment: dev serves version ${version}, live what was deployed to it; a version reaches live only by a deployment to live (step rollout, gradual)`);
}

async function rollOut(context: ExerciseContext): Promise<void> {
  const { log } = context;
  const version = await createVersion(context, 'FlagsProfileId', betaSearchFlags(APPCONFIG_LAB.rolledOutFlags));
  const { DeploymentNumber: deploymentNumber = 0 } = await startDeployment(context, 'FlagsProfileId', version);
  log(`created flags version ${version} (allowList ${APPCONFIG_LAB.rolledOutFlags.allowList.join(', ')}; blockList ${APPCONFIG_LAB.rolledOutFlags.blockList.join(', ')})`);
  log(`deployment ${deploymentNumber} started with the lab's strategy (linear, 50 % per step, 2 min, bake 2 min)`);

  const { now } = await context.use(clock);
  const started = now();
  const percentages: number[] = [];
  const done = await followDeployment(context, deploymentNumber, async (deployment) => {
    percentages.push(deployment.PercentageComplete ?? 0);
    const answer = await readFlag(context);
    log(`  ${secondsSince(now, started)} s: ${deployment.State} ${deployment.PercentageComplete ?? 0} %; the function serves version ${answer.configurationVersion}`);
  });
  check(done.State === 'COMPLETE', `deployment ${deploymentNumber} ended ${done.State}, not COMPLETE`);
  check(percentages.some((p) => p > 0 && p < 100), `the deployment never showed a step between 0 and 100 % (saw ${percentages.join(', ')}): not gradual`);
  check(percentages.every((p, i) => i === 0 || p >= percentages[i - 1]), `the percentage went back during the rollout: ${percentages.join(', ')}`);

  const answer = await readUntil(context, (a) => a.configurationVersion === String(version));
  const { readerCatchUpSeconds } = await context.use(timing);
  check(answer !== undefined, `the flag reader still did not serve version ${version} ${readerCatchUpSeconds} s after the deployment completed`);
  for (const [user, expected] of Object.entries(APPCONFIG_LAB.usersAfterRollout)) {
    check(answer.decisions[user]?.on === expected, `${user} should be ${expected ? 'on' : 'off'}, the function says ${JSON.stringify(answer.decisions[user])}`);
  }
  log(`version ${version} reached the function without a code deployment: ${describeDecisions(answer)}`);
}

/** Creates a checkout version, hands it to `use`, and deletes it: versions the validators refuse are not kept. */
async function withCheckoutVersion(context: ExerciseContext, document: CheckoutSettings, use: (version: number) => Promise<void>): Promise<void> {
  const version = await createVersion(context, 'CheckoutProfileId', document);
  try {
    await use(version);
  } finally {
    await appconfigOf(context).send(
      new DeleteHostedConfigurationVersionCommand({
        ApplicationId: requireOutput(context.outputs, 'ApplicationId'),
        ConfigurationProfileId: requireOutput(context.outputs, 'CheckoutProfileId'),
        VersionNumber: version,
      }),
    );
  }
}

const detailsOf = (error: Error) => JSON.stringify({ message: error.message, details: (error as BadRequestException).Details ?? null });

async function validators(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const good = { ...APPCONFIG_LAB.initialCheckout, discountPercent: 15 };
  await withCheckoutVersion(context, good, async (version) => {
    await appconfigOf(context).send(
      new ValidateConfigurationCommand({
        ApplicationId: requireOutput(outputs, 'ApplicationId'),
        ConfigurationProfileId: requireOutput(outputs, 'CheckoutProfileId'),
        ConfigurationVersion: String(version),
      }),
    );
    log(`version ${version} (discount 15 %) passes both validators (ValidateConfiguration)`);
  });

  const overDiscount = { ...APPCONFIG_LAB.initialCheckout, discountPercent: 80 };
  await withCheckoutVersion(context, overDiscount, async (version) => {
    const error = await expectRejection(() => startDeployment(context, 'CheckoutProfileId', version), 'BadRequestException', 'deploying a discount of 80 %');
    check(detailsOf(error).includes('discountPercent'), `the refusal does not name discountPercent: ${detailsOf(error)}`);
    log(`version ${version} (discount 80 %): StartDeployment refused by the JSON Schema (maximum 50): ${detailsOf(error)}`);
  });

  const backwardsWindow = { ...APPCONFIG_LAB.initialCheckout, maintenanceWindow: { start: '04:00', end: '03:00' } };
  await withCheckoutVersion(context, backwardsWindow, async (version) => {
    const error = await expectRejection(() => startDeployment(context, 'CheckoutProfileId', version), 'BadRequestException', 'deploying a window that ends before it starts');
    check(detailsOf(error).includes('must be before maintenanceWindow.end'), `the refusal is not the Lambda validator's: ${detailsOf(error)}`);
    log(`version ${version} (window 04:00–03:00, valid for the schema): refused by the Lambda validator: ${detailsOf(error)}`);
  });
  log('the refused versions were deleted; nothing reached the environment');
}

async function rollback(context: ExerciseContext): Promise<void> {
  const { log, outputs } = context;
  const alarmName = outputs.RollbackAlarmName;
  if (!alarmName) throw new LabNotReady('the rollback step needs the alarm: npx cdk deploy AppconfigLab -c appconfig:rollback-alarm=true');
  const before = await readFlag(context);
  const version = await createVersion(context, 'FlagsProfileId', betaSearchFlags(APPCONFIG_LAB.rolledBackFlags));
  const { DeploymentNumber: deploymentNumber = 0 } = await startDeployment(context, 'FlagsProfileId', version);
  log(`deployment ${deploymentNumber} of version ${version} (beta search for everyone) started; the function serves version ${before.configurationVersion}`);

  const cloudwatch = context.client(CloudWatchClient, 'CLOUDWATCH');
  const { now } = await context.use(clock);
  let alarmsSet = 0;
  const started = now();
  try {
    const done = await followDeployment(context, deploymentNumber, async (deployment) => {
      log(`  ${secondsSince(now, started)} s: ${deployment.State} ${deployment.PercentageComplete ?? 0} %`);
      // Set again at every look: with no errors to count, CloudWatch's next evaluation (1-minute period, missing data
      // not breaching) puts the alarm back to OK, possibly before AppConfig has looked at it.
      if (MONITORED_STATES.has(deployment.State ?? '')) {
        await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: `appconfig lab exercise ${context.runId}` }));
        alarmsSet += 1;
        log(alarmsSet === 1 ? `  set ${alarmName} to ALARM while the deployment runs` : `  set ${alarmName} to ALARM again (CloudWatch may have put it back to OK)`);
      }
    });
    check(alarmsSet > 0, `deployment ${deploymentNumber} ended ${done.State} before the exercise could set the alarm`);
    check(done.State === 'ROLLED_BACK', `deployment ${deploymentNumber} ended ${done.State}, not ROLLED_BACK, with its alarm in ALARM`);
    const byAlarm = (done.EventLog ?? []).find((e) => e.EventType === 'ROLLBACK_STARTED' && e.TriggeredBy === 'CLOUDWATCH_ALARM');
    check(byAlarm !== undefined, `the event log shows no rollback started by the alarm: ${JSON.stringify(done.EventLog)}`);
    log(`rolled back: "${byAlarm.Description}"`);
  } finally {
    // CloudWatch would put it back at its next evaluation (no errors: OK); setting it now frees the next deployment.
    if (alarmsSet > 0) await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'OK', StateReason: 'appconfig lab exercise done' }));
  }
  const answer = await readUntil(context, (a) => a.configurationVersion === before.configurationVersion);
  check(answer !== undefined, `after the rollback the function does not serve version ${before.configurationVersion} again`);
  log(`the function serves version ${answer.configurationVersion} again: ${describeDecisions(answer)}`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'read', title: 'read the flag through the agent extension and through the data-plane session', run: readBothWays },
  { id: 'environments', title: 'a version tried in dev, deployed at once, while live keeps the version it has', run: environments },
  { id: 'rollout', title: 'deploy a flag change gradually and watch it reach the function (allow and block lists)', run: rollOut },
  { id: 'validators', title: 'the JSON Schema and the Lambda validator refuse bad checkout settings', run: validators },
  { id: 'rollback', title: 'an alarm in ALARM during a deployment rolls it back (-c appconfig:rollback-alarm=true)', run: rollback },
];
