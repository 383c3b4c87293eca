import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  ConfigurationOptionSetting,
  CreateApplicationVersionCommand,
  CreateEnvironmentCommand,
  DeleteApplicationVersionCommand,
  DescribeAccountAttributesCommand,
  DescribeApplicationsCommand,
  DescribeApplicationVersionsCommand,
  DescribeConfigurationSettingsCommand,
  DescribeEnvironmentsCommand,
  DescribeEventsCommand,
  ElasticBeanstalkClient,
  EnvironmentDescription,
  EventDescription,
  SwapEnvironmentCNAMEsCommand,
  TerminateEnvironmentCommand,
  UpdateEnvironmentCommand,
  UpdateEnvironmentCommandInput,
} from '@aws-sdk/client-elastic-beanstalk';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { BEANSTALK_LAB } from './constants';

export const timing = defineTiming(BEANSTALK_LAB.exerciseTiming);

const { precedence } = BEANSTALK_LAB;
const beanstalkOf = (context: ExerciseContext) => context.client(ElasticBeanstalkClient, 'ELASTIC_BEANSTALK');
const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
const FLAG_NEEDED = `needs the environment: deploy with -c beanstalk:environment=true ($${BEANSTALK_LAB.environmentUsdPerMonth.toFixed(2)}/month while it exists)`;
const WORKER_FLAG_NEEDED = `needs the worker: deploy with -c beanstalk:worker=true ($${BEANSTALK_LAB.environmentUsdPerMonth.toFixed(2)}/month while it exists)`;

/**
 * Whether the swap step may create (and then terminate) a green environment: only when the learner says so with
 * BEANSTALK_GREEN=create, as it bills an instance for the ten minutes or so it lives.
 */
export const greenConsent = defineFixture('consent to create a green environment', () => process.env.BEANSTALK_GREEN === 'create');

/** The web environment's name, or undefined (after saying what the step needs) when the lab was deployed without it. */
function webEnvironment(context: ExerciseContext): string | undefined {
  const name = context.outputs.WebEnvironmentName;
  if (!name) context.log(`skipped: this step ${FLAG_NEEDED}`);
  return name;
}

async function describeEnvironment(context: ExerciseContext, environmentName: string): Promise<EnvironmentDescription> {
  const applicationName = requireOutput(context.outputs, 'ApplicationName');
  const { Environments } = await beanstalkOf(context).send(new DescribeEnvironmentsCommand({ ApplicationName: applicationName, EnvironmentNames: [environmentName] }));
  const environment = Environments?.[0];
  check(environment !== undefined, `environment ${environmentName} does not exist`);
  return environment;
}

/**
 * Polls until the environment is Ready and, given `started` (what the UpdateEnvironment or CreateEnvironment call
 * answered), has finished that operation: it is asynchronous, and a read right after the call may still show the
 * environment as it was. Finished means a status other than Ready was seen since, or a DateUpdated later than the
 * call's: both are the service's clock, never this machine's.
 */
async function waitUntilReady(context: ExerciseContext, environmentName: string, started?: EnvironmentDescription): Promise<EnvironmentDescription> {
  const { pollSeconds, updateDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + updateDeadlineSeconds * 1000;
  let sawItWork = false;
  for (;;) {
    const environment = await describeEnvironment(context, environmentName);
    sawItWork ||= environment.Status !== 'Ready';
    const finished = !started || sawItWork || (environment.DateUpdated?.getTime() ?? 0) > (started.DateUpdated?.getTime() ?? Infinity);
    if (environment.Status === 'Ready' && finished) return environment;
    check(Date.now() < deadline,
      `${environmentName} is still ${environment.Status}${finished ? '' : ' without a finished update'} after ${updateDeadlineSeconds} s`);
    await sleep(pollSeconds);
  }
}

/** The resource types of a CloudFormation stack, every page. */
async function stackResourceTypes(context: ExerciseContext, stackName: string): Promise<string[]> {
  const cloudformation = context.client(CloudFormationClient, 'CLOUDFORMATION');
  const types: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await cloudformation.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: nextToken }));
    types.push(...(page.StackResourceSummaries ?? []).map((r) => r.ResourceType ?? ''));
    nextToken = page.NextToken;
  } while (nextToken);
  return types;
}

/** Every version label of the application, newest first (every page). */
async function versionLabels(context: ExerciseContext, applicationName: string): Promise<string[]> {
  const labels: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await beanstalkOf(context).send(new DescribeApplicationVersionsCommand({ ApplicationName: applicationName, NextToken: nextToken }));
    labels.push(...(page.ApplicationVersions ?? []).map((v) => v.VersionLabel ?? ''));
    nextToken = page.NextToken;
  } while (nextToken);
  return labels;
}

/** Every event since `since` for the application (and the environment, given one), oldest first, every page. */
async function eventsSince(context: ExerciseContext, since: Date, environmentName?: string): Promise<EventDescription[]> {
  const events: EventDescription[] = [];
  let nextToken: string | undefined;
  do {
    const page = await beanstalkOf(context).send(new DescribeEventsCommand({
      ApplicationName: requireOutput(context.outputs, 'ApplicationName'), EnvironmentName: environmentName, StartTime: since, NextToken: nextToken,
    }));
    events.push(...(page.Events ?? []));
    nextToken = page.NextToken;
  } while (nextToken);
  // The API answers newest first; events of the same millisecond keep that order, reversed.
  return events.reverse().sort((a, b) => (a.EventDate?.getTime() ?? 0) - (b.EventDate?.getTime() ?? 0));
}

/** The value of one option in a configuration set: a saved configuration, or the settings of an environment. */
async function optionValue(
  context: ExerciseContext,
  target: { TemplateName: string } | { EnvironmentName: string },
  namespace: string,
  optionName: string,
): Promise<string | undefined> {
  const ApplicationName = requireOutput(context.outputs, 'ApplicationName');
  const { ConfigurationSettings } = await beanstalkOf(context).send(new DescribeConfigurationSettingsCommand({ ApplicationName, ...target }));
  // An environment may also have a draft configuration (being deployed, or a failed deployment's): read the deployed one.
  const settings = 'EnvironmentName' in target ? ConfigurationSettings?.find((c) => c.DeploymentStatus === 'deployed') : ConfigurationSettings?.[0];
  const options: ConfigurationOptionSetting[] = settings?.OptionSettings ?? [];
  return options.find((o) => o.Namespace === namespace && o.OptionName === optionName)?.Value;
}

async function application(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'ApplicationName');
  const { Applications } = await beanstalkOf(context).send(new DescribeApplicationsCommand({ ApplicationNames: [applicationName] }));
  const lifecycle = Applications?.[0]?.ResourceLifecycleConfig?.VersionLifecycleConfig?.MaxCountRule;
  check(lifecycle?.Enabled === true && lifecycle.MaxCount === BEANSTALK_LAB.maxVersions,
    `expected a lifecycle rule keeping ${BEANSTALK_LAB.maxVersions} versions on ${applicationName}, found ${JSON.stringify(lifecycle)}`);
  log(`application ${applicationName}: lifecycle keeps the ${lifecycle.MaxCount} newest versions, DeleteSourceFromS3=${lifecycle.DeleteSourceFromS3}`);

  const labels = await versionLabels(context, applicationName);
  const deployed = requireOutput(outputs, 'VersionLabel');
  check(labels.includes(deployed), `the stack's version ${deployed} is not among the application's versions (${labels.join(', ')})`);
  const { ResourceQuotas } = await beanstalkOf(context).send(new DescribeAccountAttributesCommand({}));
  log(`${labels.length} version(s), newest first: ${labels.join(', ')}; the stack's is ${deployed}`);
  log(`this account may keep ${ResourceQuotas?.ApplicationVersionQuota?.Maximum ?? 'an unknown number of'} versions across all its applications: the lifecycle policy keeps this one well below`);

  const templateName = requireOutput(outputs, 'SavedConfigurationName');
  const saved = await optionValue(context, { TemplateName: templateName }, precedence.namespace, precedence.optionName);
  check(saved === precedence.savedConfiguration,
    `the saved configuration ${templateName} sets ${precedence.optionName}=${JSON.stringify(saved)}, expected ${JSON.stringify(precedence.savedConfiguration)}`);
  log(`saved configuration ${templateName}: ${precedence.optionName}=${saved} (the bundle's .ebextensions say "${precedence.ebextensions}")`);
  if (!outputs.WebEnvironmentName) log(`the steps deploy, precedence, environment stack and swap ${FLAG_NEEDED}`);
}

async function deploy(context: ExerciseContext): Promise<void> {
  const environmentName = webEnvironment(context);
  if (!environmentName) return;
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'ApplicationName');
  const stackVersion = requireOutput(outputs, 'VersionLabel');
  await waitUntilReady(context, environmentName);
  const policy = await optionValue(context, { EnvironmentName: environmentName }, 'aws:elasticbeanstalk:command', 'DeploymentPolicy');
  log(`${environmentName} deploys with DeploymentPolicy=${policy} (set with -c beanstalk:deployment-policy=...)`);

  const label = `${context.runId}`;
  const created = await beanstalkOf(context).send(new CreateApplicationVersionCommand({
    ApplicationName: applicationName,
    VersionLabel: label,
    Description: 'created by the beanstalk lab exercise',
    SourceBundle: { S3Bucket: requireOutput(outputs, 'SourceBundleBucket'), S3Key: requireOutput(outputs, 'SourceBundleKey') },
    Process: true,
  }));
  const createdAt = created.ApplicationVersion?.DateCreated ?? new Date(0);
  const { pollSeconds, updateDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + updateDeadlineSeconds * 1000;
  for (;;) {
    const { ApplicationVersions } = await beanstalkOf(context).send(new DescribeApplicationVersionsCommand({ ApplicationName: applicationName, VersionLabels: [label] }));
    const status = ApplicationVersions?.[0]?.Status;
    check(status !== 'Failed', `version ${label} failed validation (Process=true checks the bundle and its .ebextensions)`);
    if (status === 'Processed') break;
    check(Date.now() < deadline, `version ${label} is still ${status} after ${updateDeadlineSeconds} s`);
    await sleep(pollSeconds);
  }
  log(`created version ${label} from the same bundle and validated it (Process=true)`);

  // The lifecycle policy runs when a version is created: the count comes back within the limit (the versions in use
  // by an environment are never deleted, so the new one may be one over).
  const limit = BEANSTALK_LAB.maxVersions + 1;
  for (;;) {
    const labels = await versionLabels(context, applicationName);
    const lifecycleErrors = (await eventsSince(context, createdAt)).filter((e) => /lifecycle/i.test(e.Message ?? '') && e.Severity !== 'INFO' && e.Severity !== 'DEBUG' && e.Severity !== 'TRACE');
    check(lifecycleErrors.length === 0, `the version lifecycle reported: ${lifecycleErrors.map((e) => e.Message).join(' | ')}`);
    if (labels.length <= limit) {
      log(`${labels.length} version(s) after the lifecycle policy ran (it keeps ${BEANSTALK_LAB.maxVersions}, never one an environment runs)`);
      break;
    }
    check(Date.now() < deadline, `${labels.length} versions ${updateDeadlineSeconds} s after creating one: the lifecycle policy keeping ${BEANSTALK_LAB.maxVersions} deleted none`);
    await sleep(pollSeconds);
  }

  const started = await beanstalkOf(context).send(new UpdateEnvironmentCommand({ EnvironmentName: environmentName, VersionLabel: label }));
  const updated = await waitUntilReady(context, environmentName, started);
  check(updated.VersionLabel === label, `${environmentName} runs ${updated.VersionLabel} after the deployment, not ${label}: it failed and rolled back`);

  // Since the version was created (the service's clock): the update's events, none of an earlier run's.
  const events = await eventsSince(context, createdAt, environmentName);
  for (const event of events) log(`  ${event.EventDate?.toISOString()} ${event.Severity} ${event.Message}`);
  const errors = events.filter((e) => e.Severity === 'ERROR' || e.Severity === 'FATAL');
  check(errors.length === 0, `the deployment logged ${errors.length} error event(s): ${errors.map((e) => e.Message).join(' | ')}`);
  check(events.some((e) => /update completed successfully/i.test(e.Message ?? '')), 'no "update completed successfully" event since the deployment started');
  log(`${environmentName} ran ${label} (${policy})`);

  // Back to the stack's version, so the stack's next update finds the environment as it left it and the lifecycle
  // policy (which never deletes a version in use) keeps the stack's; then the run's version goes, its bundle stays
  // (it is the stack's asset).
  const restoring = await beanstalkOf(context).send(new UpdateEnvironmentCommand({ EnvironmentName: environmentName, VersionLabel: stackVersion }));
  const restored = await waitUntilReady(context, environmentName, restoring);
  check(restored.VersionLabel === stackVersion, `${environmentName} runs ${restored.VersionLabel} after going back, not the stack's ${stackVersion}`);
  await beanstalkOf(context).send(new DeleteApplicationVersionCommand({ ApplicationName: applicationName, VersionLabel: label, DeleteSourceBundle: false }));
  log(`${environmentName} runs the stack's ${stackVersion} again; deleted version ${label} (DeleteSourceBundle=false)`);
}

/** What the web app answers at `/`: its GREETING, as the environment of its process has it. */
export const appGreeting = defineFixture('the web app\'s greeting', () => async (url: string): Promise<string | undefined> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
  return ((await response.json()) as { greeting?: string }).greeting;
});

/**
 * Waits for the environment to be Ready, then asks the app for its greeting until it is `expected` or the deadline
 * passes (the app restarts with new environment properties): the effective value is what the app sees. Checks that
 * what `DescribeConfigurationSettings` lists for the environment is that value too.
 */
async function greetingAfterUpdate(context: ExerciseContext, environmentName: string, expected: string, started?: EnvironmentDescription) {
  const environment = await waitUntilReady(context, environmentName, started);
  const ask = await context.use(appGreeting);
  const { pollSeconds, appDeadlineSeconds } = await context.use(timing);
  const url = `http://${environment.CNAME}/`;
  const deadline = Date.now() + appDeadlineSeconds * 1000;
  let served: string | undefined;
  for (;;) {
    served = await ask(url).catch((error: Error) => `(no answer: ${error.message})`);
    if (served === expected || Date.now() >= deadline) break;
    await sleep(pollSeconds);
  }
  const listed = await optionValue(context, { EnvironmentName: environmentName }, precedence.namespace, precedence.optionName);
  context.log(`  ${url} answers GREETING=${JSON.stringify(served)}; the environment's settings list ${JSON.stringify(listed)}`);
  if (served === expected) {
    check(listed === served, `${environmentName} serves GREETING=${JSON.stringify(served)} but its configuration settings list ${JSON.stringify(listed)}`);
  }
  return served;
}

async function configurationPrecedence(context: ExerciseContext): Promise<void> {
  const environmentName = webEnvironment(context);
  if (!environmentName) return;
  const { log } = context;
  const option = { Namespace: precedence.namespace, OptionName: precedence.optionName };
  const update = (input: Omit<UpdateEnvironmentCommandInput, 'EnvironmentName'>) =>
    beanstalkOf(context).send(new UpdateEnvironmentCommand({ EnvironmentName: environmentName, ...input }));

  const before = await greetingAfterUpdate(context, environmentName, precedence.savedConfiguration);
  check(before === precedence.savedConfiguration,
    `${environmentName} serves GREETING=${JSON.stringify(before)}: the saved configuration ("${precedence.savedConfiguration}") should win over .ebextensions ("${precedence.ebextensions}")`);
  log(`the saved configuration's "${before}" beats the bundle's .ebextensions ("${precedence.ebextensions}")`);

  const directSent = await update({ OptionSettings: [{ ...option, Value: precedence.direct }] });
  const direct = await greetingAfterUpdate(context, environmentName, precedence.direct, directSent);
  check(direct === precedence.direct, `after UpdateEnvironment set GREETING, ${environmentName} serves ${JSON.stringify(direct)}, expected "${precedence.direct}"`);
  log(`UpdateEnvironment set it directly: "${direct}", above the saved configuration`);

  // The saved configuration's values were copied into the environment's own settings when it was created: removing
  // the option there lets the next level down, the bundle's .ebextensions, show.
  const removalSent = await update({ OptionsToRemove: [option] });
  const fromBundle = await greetingAfterUpdate(context, environmentName, precedence.ebextensions, removalSent);
  check(fromBundle === precedence.ebextensions,
    `after OptionsToRemove, ${environmentName} serves ${JSON.stringify(fromBundle)}, expected the bundle's .ebextensions value "${precedence.ebextensions}"`);
  log(`OptionsToRemove took it out of the environment's settings: the bundle's .ebextensions value "${fromBundle}" shows`);

  // Setting the saved value directly again, rather than reapplying the saved configuration (TemplateName), which
  // would also bring back its platform version over a managed update's newer one.
  const restoreSent = await update({ OptionSettings: [{ ...option, Value: precedence.savedConfiguration }] });
  const restored = await greetingAfterUpdate(context, environmentName, precedence.savedConfiguration, restoreSent);
  check(restored === precedence.savedConfiguration,
    `after setting it back, ${environmentName} serves ${JSON.stringify(restored)}, expected "${precedence.savedConfiguration}"`);
  log(`set back to the saved configuration's value "${restored}", as the environment was created`);
}

async function environmentStack(context: ExerciseContext): Promise<void> {
  const environmentName = webEnvironment(context);
  if (!environmentName) return;
  const { log } = context;
  const environment = await describeEnvironment(context, environmentName);
  const stackName = `awseb-${environment.EnvironmentId}-stack`;
  const status = await stackStatus(context, stackName);
  // A stack after a rollback runs what it ran before the failed update: not the state the environment says it is in.
  check(/_COMPLETE$/.test(status) && !/^DELETE|ROLLBACK/.test(status), `the environment's stack ${stackName} is ${status}`);
  const types = await stackResourceTypes(context, stackName);
  check(types.includes('AWS::AutoScaling::AutoScalingGroup'), `${stackName} holds no Auto Scaling group: ${types.join(', ')}`);
  log(`${environmentName} (${environment.EnvironmentId}) runs from its own stack ${stackName} (${status}): ${[...new Set(types)].sort().join(', ')}`);
  log('terminating an environment deletes that stack with everything in it (the swap step shows it on its green environment); this step only reads it');
}

/** A stack's status by name or id, `missing` when there is none (DescribeStacks refuses a name that does not exist). */
async function stackStatus(context: ExerciseContext, stackNameOrId: string): Promise<string> {
  try {
    const { Stacks } = await context.client(CloudFormationClient, 'CLOUDFORMATION').send(new DescribeStacksCommand({ StackName: stackNameOrId }));
    return Stacks?.[0]?.StackStatus ?? 'missing';
  } catch (error) {
    if (!/does not exist/.test((error as Error).message)) throw error;
    return 'missing';
  }
}

async function queueCounts(context: ExerciseContext, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await context.client(SQSClient, 'SQS').send(new GetQueueAttributesCommand({
    QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
  }));
  return { visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

async function worker(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const environmentName = outputs.WorkerEnvironmentName;
  if (!environmentName) {
    log(`skipped: this step ${WORKER_FLAG_NEEDED}`);
    return;
  }
  const queueUrl = requireOutput(outputs, 'WorkerQueueUrl');
  const dlqUrl = requireOutput(outputs, 'WorkerDlqUrl');
  const environment = await waitUntilReady(context, environmentName);
  const { MessageId } = await context.client(SQSClient, 'SQS').send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ job: 'exercise', runId: context.runId }) }));
  log(`sent message ${MessageId} to the worker queue: the SQS daemon on ${environmentName} POSTs it to /jobs and deletes it on the app's 200`);

  // The counts are approximate and lag a send: the queue must read empty several times in a row.
  const { pollSeconds, workerDeadlineSeconds, emptyReadsInARow } = await context.use(timing);
  const deadline = Date.now() + workerDeadlineSeconds * 1000;
  for (let emptyReads = 0; ;) {
    const { visible, inFlight } = await queueCounts(context, queueUrl);
    const empty = visible === 0 && inFlight === 0;
    emptyReads = empty ? emptyReads + 1 : 0;
    if (emptyReads >= emptyReadsInARow) break;
    // An empty read past the deadline still gets its confirming reads: only a queue that still holds the job fails.
    check(empty || Date.now() < deadline,
      `${workerDeadlineSeconds} s after the send the worker queue holds ${visible} waiting and ${inFlight} in-flight message(s): the daemon got no 200 from the app`);
    await sleep(pollSeconds);
  }
  const dead = await queueCounts(context, dlqUrl);
  check(dead.visible + dead.inFlight === 0, `the worker's dead-letter queue holds ${dead.visible + dead.inFlight} message(s): jobs failed 3 times`);
  log(`the worker queue read empty ${emptyReadsInARow} times in a row and its dead-letter queue is empty: the app answered 200`);

  const stackName = `awseb-${environment.EnvironmentId}-stack`;
  const types = await stackResourceTypes(context, stackName);
  check(types.includes('AWS::DynamoDB::Table'),
    `${stackName} holds no DynamoDB table (${[...new Set(types)].sort().join(', ')}): the worker did not read the bundle's cron.yaml, whose leader election needs it`);
  log(`${stackName} holds the cron leader table (AWS::DynamoDB::Table): the worker read cron.yaml, and its leader sends each job to the same queue`);
}

/** The options a green environment copies from the blue one: where and how its instance runs. */
const GREEN_COPIED_OPTIONS: readonly (readonly [string, string])[] = [
  ['aws:elasticbeanstalk:environment', 'ServiceRole'],
  ['aws:autoscaling:launchconfiguration', 'IamInstanceProfile'],
  ['aws:autoscaling:launchconfiguration', 'DisableIMDSv1'],
  ['aws:autoscaling:launchconfiguration', 'RootVolumeType'],
  ['aws:autoscaling:launchconfiguration', 'RootVolumeSize'],
  ['aws:ec2:instances', 'InstanceTypes'],
  ['aws:ec2:instances', 'SupportedArchitectures'],
  ['aws:ec2:vpc', 'VPCId'],
  ['aws:ec2:vpc', 'Subnets'],
  ['aws:ec2:vpc', 'AssociatePublicIpAddress'],
  ['aws:elasticbeanstalk:healthreporting:system', 'SystemType'],
];

/**
 * Creates a single-instance green environment beside `blueName` from the saved configuration and the stack's version,
 * with the blue one's instance and network options, and waits for it to be Ready.
 */
async function createGreen(context: ExerciseContext, blueName: string): Promise<EnvironmentDescription> {
  const ApplicationName = requireOutput(context.outputs, 'ApplicationName');
  const { ConfigurationSettings } = await beanstalkOf(context).send(new DescribeConfigurationSettingsCommand({ ApplicationName, EnvironmentName: blueName }));
  const blueOptions = ConfigurationSettings?.find((c) => c.DeploymentStatus === 'deployed')?.OptionSettings ?? [];
  const copied = GREEN_COPIED_OPTIONS.map(([namespace, name]) => blueOptions.find((o) => o.Namespace === namespace && o.OptionName === name));
  const missing = GREEN_COPIED_OPTIONS.filter((_, index) => copied[index]?.Value === undefined).map(([namespace, name]) => `${namespace} ${name}`);
  check(missing.length === 0, `${blueName}'s settings lack ${missing.join(', ')}: a green environment without them would not run like it`);
  const greenName = `green-${context.runId}`.slice(0, 40);
  const created = await beanstalkOf(context).send(new CreateEnvironmentCommand({
    ApplicationName,
    EnvironmentName: greenName,
    TemplateName: requireOutput(context.outputs, 'SavedConfigurationName'),
    VersionLabel: requireOutput(context.outputs, 'VersionLabel'),
    OptionSettings: [
      { Namespace: 'aws:elasticbeanstalk:environment', OptionName: 'EnvironmentType', Value: 'SingleInstance' },
      ...copied.map((o) => ({ Namespace: o?.Namespace, OptionName: o?.OptionName, Value: o?.Value })),
    ],
    Tags: [{ Key: 'lab', Value: 'beanstalk' }],
    Description: 'green environment of the beanstalk lab exercise: terminated by the swap step',
  }));
  context.log(`created ${greenName} (${created.EnvironmentId}): a single instance from the saved configuration and the stack's version, with ${blueName}'s instance and network options`);
  return waitUntilReady(context, greenName, created);
}

/** Terminates the green environment, waits until it is Terminated and its stack (found by id) is deleted. */
async function terminateGreen(context: ExerciseContext, green: EnvironmentDescription): Promise<void> {
  const stackName = `awseb-${green.EnvironmentId}-stack`;
  const { Stacks } = await context.client(CloudFormationClient, 'CLOUDFORMATION').send(new DescribeStacksCommand({ StackName: stackName }));
  const stackId = Stacks?.[0]?.StackId;
  check(stackId !== undefined, `${green.EnvironmentName} has no stack ${stackName}`);
  await beanstalkOf(context).send(new TerminateEnvironmentCommand({ EnvironmentId: green.EnvironmentId }));
  const { pollSeconds, updateDeadlineSeconds } = await context.use(timing);
  const deadline = Date.now() + updateDeadlineSeconds * 1000;
  for (;;) {
    const { Environments } = await beanstalkOf(context).send(new DescribeEnvironmentsCommand({ EnvironmentIds: [green.EnvironmentId ?? ''], IncludeDeleted: true }));
    const status = Environments?.[0]?.Status;
    // A deleted stack is found by its id only.
    const stack = status === 'Terminated' ? await stackStatus(context, stackId) : 'not read yet';
    if (stack === 'DELETE_COMPLETE') {
      context.log(`terminated ${green.EnvironmentName}: its stack ${stackName} is DELETE_COMPLETE with everything it held`);
      return;
    }
    check(Date.now() < deadline, `${updateDeadlineSeconds} s after TerminateEnvironment, ${green.EnvironmentName} is ${status} and its stack ${stack}`);
    await sleep(pollSeconds);
  }
}

async function swap(context: ExerciseContext): Promise<void> {
  const blueName = webEnvironment(context);
  if (!blueName) return;
  const { outputs, log } = context;
  const { Environments } = await beanstalkOf(context).send(
    new DescribeEnvironmentsCommand({ ApplicationName: requireOutput(outputs, 'ApplicationName'), IncludeDeleted: false }),
  );
  const web = (Environments ?? []).filter((e) => e.Tier?.Name === 'WebServer' && e.Status === 'Ready');
  let green = web.find((e) => e.EnvironmentName !== blueName);
  const created = !green;
  if (!green) {
    if (!(await context.use(greenConsent))) {
      log(`only ${blueName} serves web traffic: blue/green needs a second environment. Run this step with BEANSTALK_GREEN=create to let it create one`);
      log(`(a single ${BEANSTALK_LAB.instanceType}, about $${BEANSTALK_LAB.greenUsdPerHour} an hour, for the ten minutes or so until the step terminates it), or make one yourself (eb clone ${blueName})`);
      return;
    }
    green = await createGreen(context, blueName);
  }
  const greenName = green.EnvironmentName ?? '';
  const blueBefore = (await describeEnvironment(context, blueName)).CNAME;
  const greenBefore = green.CNAME;
  log(`blue ${blueName} answers ${blueBefore}, green ${greenName} answers ${greenBefore}`);
  const { pollSeconds, updateDeadlineSeconds } = await context.use(timing);
  // Polled until both are Ready with the CNAMEs exchanged: the swap is asynchronous and reads may lag behind it.
  const swapAndCheck = async (expectedBlue: string | undefined, expectedGreen: string | undefined, what: string) => {
    await beanstalkOf(context).send(new SwapEnvironmentCNAMEsCommand({ SourceEnvironmentName: blueName, DestinationEnvironmentName: greenName }));
    const deadline = Date.now() + updateDeadlineSeconds * 1000;
    for (;;) {
      const [blue, greenNow] = [await describeEnvironment(context, blueName), await describeEnvironment(context, greenName)];
      const done = blue.Status === 'Ready' && greenNow.Status === 'Ready' && blue.CNAME === expectedBlue && greenNow.CNAME === expectedGreen;
      if (done) {
        log(`${what}: ${blueName} → ${blue.CNAME}, ${greenName} → ${greenNow.CNAME} (DNS caches keep the old answer for its TTL)`);
        return;
      }
      check(Date.now() < deadline,
        `${updateDeadlineSeconds} s after the ${what}, ${blueName} (${blue.Status}) answers ${blue.CNAME} and ${greenName} (${greenNow.Status}) ${greenNow.CNAME}`);
      await sleep(pollSeconds);
    }
  };
  try {
    await swapAndCheck(greenBefore, blueBefore, 'swap');
    await swapAndCheck(blueBefore, greenBefore, 'swap back');
  } catch (error) {
    if (created) log(`${greenName} is left running (it may hold ${blueName}'s CNAME): swap back if needed (eb swap), then eb terminate ${greenName}`);
    throw error;
  }
  if (created) await terminateGreen(context, green);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'application', title: 'the application, its versions, lifecycle policy and saved configuration', run: application },
  { id: 'deploy', title: 'deploy a new version with the environment\'s deployment policy and print its events', run: deploy },
  { id: 'precedence', title: 'one option at three levels: applied directly > saved configuration > .ebextensions', run: configurationPrecedence },
  { id: 'environment-stack', title: 'the environment\'s own CloudFormation stack', run: environmentStack },
  { id: 'worker', title: 'the worker: a message through the SQS daemon, and the cron leader table from cron.yaml', run: worker },
  { id: 'swap', title: 'blue/green: SwapEnvironmentCNAMEs between two web environments; a green one created and terminated with its stack', run: swap },
];
