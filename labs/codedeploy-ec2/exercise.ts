import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AutoScalingClient, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, waitUntilGroupNotExists } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  CreateDeploymentCommandInput,
  CreateDeploymentGroupCommand,
  CreateDeploymentGroupCommandInput,
  DeleteDeploymentGroupCommand,
  DeploymentGroupAlreadyExistsException,
  DeploymentGroupDoesNotExistException,
  DeploymentInfo,
  GetApplicationRevisionCommand,
  GetDeploymentCommand,
  GetDeploymentConfigCommand,
  GetDeploymentGroupCommand,
  InstanceTarget,
  LifecycleEvent,
  ListDeploymentTargetsCommand,
  RegisterApplicationRevisionCommand,
  RevisionLocation,
} from '@aws-sdk/client-codedeploy';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { check, defineFixture, defineTiming, ExerciseContext, ExerciseStep, requireOutput } from '../support/exercise';
import { CODEDEPLOY_EC2_LAB as LAB } from './constants';
import { BundleFile, checkAppSpec, EC2_LIFECYCLE_ORDER, readBundle, REVISION_DIR, zipBundle } from './revision';

export const timing = defineTiming(LAB.exerciseTiming);

const codedeployOf = (context: ExerciseContext) => context.client(CodeDeployClient, 'CODEDEPLOY');
const s3Of = (context: ExerciseContext) => context.client(S3Client, 'S3');
const autoScalingOf = (context: ExerciseContext) => context.client(AutoScalingClient, 'AUTO_SCALING');
const cloudWatchOf = (context: ExerciseContext) => context.client(CloudWatchClient, 'CLOUDWATCH');

const NEEDS_INSTANCES = 'needs instances: npx cdk deploy CodedeployEc2Lab -c codedeploy-ec2:instances=true';
const TERMINAL = new Set(['Succeeded', 'Failed', 'Stopped']);
/** The three configurations every account has; the lab adds its own (output CustomConfigName). */
const PREDEFINED_CONFIGS = ['CodeDeployDefault.OneAtATime', 'CodeDeployDefault.HalfAtATime', 'CodeDeployDefault.AllAtOnce'];

/** The good revision and one whose ValidateService fails on purpose, uploaded and registered once per run. */
export interface Revisions {
  readonly good: RevisionLocation;
  readonly broken: RevisionLocation;
}

/** What `aws deploy push` does: upload the zipped bundle to S3, then register it as a revision of the application. */
async function push(context: ExerciseContext, name: string, files: readonly BundleFile[]): Promise<RevisionLocation> {
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'ApplicationName');
  const bucket = requireOutput(outputs, 'RevisionBucketName');
  const key = `${LAB.revisionPrefix}${context.runId}/${name}.zip`;
  const body = zipBundle(files);
  const { ETag } = await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/zip' }));
  const eTag = ETag?.replaceAll('"', '');
  const md5 = createHash('md5').update(body).digest('hex');
  check(eTag === md5, `S3 stored s3://${bucket}/${key} with ETag ${eTag}, not the MD5 of the bundle sent (${md5})`);
  const revision: RevisionLocation = { revisionType: 'S3', s3Location: { bucket, key, bundleType: 'zip', eTag } };
  await codedeployOf(context).send(new RegisterApplicationRevisionCommand({ applicationName, revision, description: `${name} (${context.runId})` }));
  const { revisionInfo } = await codedeployOf(context).send(new GetApplicationRevisionCommand({ applicationName, revision }));
  check(revisionInfo?.registerTime !== undefined, `s3://${bucket}/${key} is not registered as a revision of ${applicationName}`);
  log(`pushed s3://${bucket}/${key} (${body.length} bytes, ETag ${eTag}) and registered it with ${applicationName}`);
  return revision;
}

/** The folder the revision is zipped from: `revision/` beside this file (a test gives a broken copy). */
export const revisionFolder = defineFixture('the revision folder', () => REVISION_DIR);

export const revisions = defineFixture<Revisions>('the sample revisions, uploaded and registered', async (context) => {
  const folder = await context.use(revisionFolder);
  const files = readBundle(folder);
  const problems = checkAppSpec(readFileSync(path.join(folder, 'appspec.yml'), 'utf8'), files.map((f) => f.path));
  check(problems.length === 0, `revision/appspec.yml would fail the deployment: ${problems.join('; ')}`);
  const marker: BundleFile = { path: `app/www/${LAB.breakMarker}`, content: Buffer.from('ValidateService fails while this file is here\n'), mode: 0o644 };
  return { good: await push(context, 'sample', files), broken: await push(context, 'broken-validate-service', [...files, marker]) };
});

async function deploy(context: ExerciseContext, input: Omit<CreateDeploymentCommandInput, 'applicationName'>): Promise<string> {
  const applicationName = requireOutput(context.outputs, 'ApplicationName');
  const { deploymentId } = await codedeployOf(context).send(
    // OVERWRITE: a file at a destination that CodeDeploy did not install (or a half-finished Install left) must not
    // fail the deployment; files of a deployment that failed after Install are in the agent's cleanup list anyway.
    new CreateDeploymentCommand({ applicationName, fileExistsBehavior: 'OVERWRITE', ...input }),
  );
  check(deploymentId !== undefined, `CreateDeployment on ${input.deploymentGroupName} returned no deployment id`);
  return deploymentId;
}

/** Polls the deployment until it succeeded, failed or was stopped; fails the step at `deadlineSeconds`. */
async function waitForDeployment(context: ExerciseContext, deploymentId: string, deadlineSeconds: number): Promise<DeploymentInfo> {
  const { pollSeconds } = await context.use(timing);
  const deadline = Date.now() + deadlineSeconds * 1000;
  for (;;) {
    const { deploymentInfo } = await codedeployOf(context).send(new GetDeploymentCommand({ deploymentId }));
    check(deploymentInfo !== undefined, `GetDeployment ${deploymentId} returned nothing`);
    if (TERMINAL.has(deploymentInfo.status ?? '')) return deploymentInfo;
    check(Date.now() < deadline, `deployment ${deploymentId} is still ${deploymentInfo.status} after ${deadlineSeconds} s`);
    await sleep(pollSeconds * 1000);
  }
}

/** The deployment's instances with their lifecycle events (ListDeploymentTargets: ListDeploymentInstances is deprecated). */
async function instanceTargets(context: ExerciseContext, deploymentId: string): Promise<InstanceTarget[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await codedeployOf(context).send(new ListDeploymentTargetsCommand({ deploymentId, nextToken }));
    ids.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const targets: InstanceTarget[] = [];
  for (let start = 0; start < ids.length; start += 25) {
    const { deploymentTargets = [] } = await codedeployOf(context).send(
      new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(start, start + 25) }),
    );
    targets.push(...deploymentTargets.flatMap((t) => (t.instanceTarget ? [t.instanceTarget] : [])));
  }
  return targets;
}

const seconds = (event: LifecycleEvent) =>
  event.startTime && event.endTime ? `${((event.endTime.getTime() - event.startTime.getTime()) / 1000).toFixed(1)} s` : '-';

/**
 * Prints an instance's lifecycle events with their durations and checks that the ones that ran started in CodeDeploy's
 * documented order (by their start times, not by their place in the answer).
 */
function showEvents(context: ExerciseContext, target: InstanceTarget): void {
  const label = target.instanceLabel ? ` (${target.instanceLabel})` : '';
  context.log(`${target.targetId}${label}: ${target.status}`);
  for (const event of target.lifecycleEvents ?? []) {
    context.log(`  ${(event.lifecycleEventName ?? '?').padEnd(18)} ${(event.status ?? '?').padEnd(10)} ${seconds(event)}`);
  }
  const ran = (target.lifecycleEvents ?? [])
    .filter((e) => e.startTime)
    .sort((a, b) => a.startTime!.getTime() - b.startTime!.getTime())
    .map((e) => e.lifecycleEventName ?? '');
  const positions = ran.map((name) => (EC2_LIFECYCLE_ORDER as readonly string[]).indexOf(name));
  check(
    positions.every((position, index) => position >= 0 && (index === 0 || position > positions[index - 1])),
    `${target.targetId} ran its lifecycle events as ${ran.join(' → ')}, not in the documented order ${EC2_LIFECYCLE_ORDER.join(' → ')}`,
  );
}

/** When each instance was busy with the deployment: its first event's start to its last event's end. */
function busyWindow(target: InstanceTarget): { start: number; end: number } | undefined {
  const events = (target.lifecycleEvents ?? []).filter((e) => e.startTime && e.endTime);
  if (events.length === 0) return undefined;
  return { start: Math.min(...events.map((e) => e.startTime!.getTime())), end: Math.max(...events.map((e) => e.endTime!.getTime())) };
}

/** How many of `instances` a configuration lets CodeDeploy take out of service at once. */
export function maxAtOnce(type: string | undefined, value: number, instances: number): number {
  if (type === 'MOST_CONCURRENCY') return value; // what CodeDeployDefault.OneAtATime reports
  if (type === 'HOST_COUNT') return Math.max(instances - value, 0);
  return Math.max(instances - Math.ceil((instances * value) / 100), 0);
}

const withInstances = (context: ExerciseContext) => context.outputs.LoadBalancerUrl !== undefined;

async function pushRevision(context: ExerciseContext): Promise<void> {
  const { good, broken } = await context.use(revisions);
  context.log(`revision for the deployments: ${good.s3Location?.key}; the same with ${LAB.breakMarker}: ${broken.s3Location?.key}`);
  context.log('appspec.yml was checked first: hooks CodeDeploy runs on EC2, scripts present, permissions syntax, timeouts');
}

async function deploymentConfigs(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const deploymentGroupName = requireOutput(outputs, 'InPlaceGroupName');
  const configs = [...PREDEFINED_CONFIGS, requireOutput(outputs, 'CustomConfigName')];
  const { good } = await context.use(revisions);
  const { deploymentDeadlineSeconds } = await context.use(timing);

  if (!withInstances(context)) {
    const deploymentId = await deploy(context, { deploymentGroupName, revision: good });
    const deployment = await waitForDeployment(context, deploymentId, deploymentDeadlineSeconds);
    log(`deployment ${deploymentId} to the empty group: ${deployment.status} (${deployment.errorInformation?.code}: ${deployment.errorInformation?.message})`);
    check(
      deployment.status === 'Failed' && deployment.errorInformation?.code === 'NO_INSTANCES',
      `a deployment to a group without instances ended ${deployment.status} (${deployment.errorInformation?.code}), not Failed with NO_INSTANCES`,
    );
    log(`the Auto Scaling group is at capacity 0; the configurations' effect ${NEEDS_INSTANCES}`);
    return;
  }

  for (const deploymentConfigName of configs) {
    const { deploymentConfigInfo } = await codedeployOf(context).send(new GetDeploymentConfigCommand({ deploymentConfigName }));
    const healthy = deploymentConfigInfo?.minimumHealthyHosts;
    log(`\n${deploymentConfigName}: minimum healthy hosts ${healthy?.type} ${healthy?.value}`);
    const deploymentId = await deploy(context, { deploymentGroupName, revision: good, deploymentConfigName });
    const deployment = await waitForDeployment(context, deploymentId, deploymentDeadlineSeconds);
    check(deployment.status === 'Succeeded', `deployment ${deploymentId} with ${deploymentConfigName} ended ${deployment.status}: ${deployment.errorInformation?.message}`);
    const targets = await instanceTargets(context, deploymentId);
    check(targets.length === LAB.instances, `deployment ${deploymentId} reached ${targets.length} instances, expected ${LAB.instances}`);
    for (const target of targets) showEvents(context, target);
    const atOnce = maxAtOnce(healthy?.type, healthy?.value ?? 0, targets.length);
    const windows = targets.map(busyWindow).filter((w) => w !== undefined).sort((a, b) => a.start - b.start);
    const overlapped = windows.some((w, i) => i > 0 && w.start < windows[i - 1].end);
    if (atOnce === 1) {
      check(!overlapped, `${deploymentConfigName} allows one instance at a time, but the instances' deployments overlapped`);
      log(`${deploymentId}: Succeeded, one instance after the other (at most ${atOnce} out of service)`);
    } else {
      // Every instance may go at once: CodeDeploy starts them together, so their BlockTraffic…AllowTraffic overlap.
      check(overlapped, `${deploymentConfigName} lets ${atOnce} instances go at once, but the instances' deployments did not overlap`);
      log(`${deploymentId}: Succeeded, ${atOnce} instances out of service at the same time: behind the load balancer, downtime`);
    }
  }

  const unmeetable = requireOutput(outputs, 'UnmeetableConfigName');
  // Without rollback: a rollback deployment would meet the same refusal.
  const refusedId = await deploy(context, { deploymentGroupName, revision: good, deploymentConfigName: unmeetable, autoRollbackConfiguration: { enabled: false } });
  const refused = await waitForDeployment(context, refusedId, deploymentDeadlineSeconds);
  log(`\n${unmeetable} (FLEET_PERCENT ${LAB.unmeetablePercent} of ${LAB.instances} rounds up to ${LAB.instances} healthy): ${refused.status} (${refused.errorInformation?.code})`);
  check(
    refused.status === 'Failed' && refused.errorInformation?.code === 'HEALTH_CONSTRAINTS_INVALID',
    `deployment ${refusedId} with ${unmeetable} ended ${refused.status} (${refused.errorInformation?.code}), not Failed with HEALTH_CONSTRAINTS_INVALID`,
  );
}

/**
 * A rollback redeploys the group's last successful revision: on a fresh stack there is none, so the good revision is
 * deployed first (the step can run alone, or after `configs`).
 */
async function ensureLastSuccessfulDeployment(context: ExerciseContext, deploymentGroupName: string): Promise<void> {
  const applicationName = requireOutput(context.outputs, 'ApplicationName');
  const { deploymentGroupInfo } = await codedeployOf(context).send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName }));
  const last = deploymentGroupInfo?.lastSuccessfulDeployment?.deploymentId;
  if (last) {
    context.log(`${deploymentGroupName} last succeeded with ${last}: a rollback has a revision to go back to`);
    return;
  }
  const { good } = await context.use(revisions);
  const { deploymentDeadlineSeconds } = await context.use(timing);
  context.log(`${deploymentGroupName} has no successful deployment yet, so nothing to roll back to: deploying the good revision first`);
  const deploymentId = await deploy(context, { deploymentGroupName, revision: good });
  const deployment = await waitForDeployment(context, deploymentId, deploymentDeadlineSeconds);
  check(deployment.status === 'Succeeded', `the first deployment ${deploymentId} of the good revision ended ${deployment.status}: ${deployment.errorInformation?.message}`);
}

/** Waits for the automatic rollback CodeDeploy records on `deploymentId` shortly after it ended, then for its end. */
async function waitForRollback(context: ExerciseContext, deployment: DeploymentInfo, badKey?: string): Promise<void> {
  const { deploymentDeadlineSeconds, pollSeconds } = await context.use(timing);
  const deploymentId = deployment.deploymentId ?? '';
  const deadline = Date.now() + deploymentDeadlineSeconds * 1000;
  let rollbackId = deployment.rollbackInfo?.rollbackDeploymentId;
  while (!rollbackId && Date.now() < deadline) {
    await sleep(pollSeconds * 1000);
    rollbackId = (await codedeployOf(context).send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo?.rollbackInfo?.rollbackDeploymentId;
  }
  check(rollbackId !== undefined, `deployment ${deploymentId} ended ${deployment.status} but no automatic rollback was started`);
  const rolledBack = await waitForDeployment(context, rollbackId, deploymentDeadlineSeconds);
  context.log(`automatic rollback ${rollbackId} (creator ${rolledBack.creator}) redeployed ${rolledBack.revision?.s3Location?.key}: ${rolledBack.status}`);
  check(rolledBack.status === 'Succeeded', `the rollback deployment ${rollbackId} ended ${rolledBack.status}`);
  if (badKey !== undefined) check(rolledBack.revision?.s3Location?.key !== badKey, `the rollback ${rollbackId} deployed the broken revision again`);
}

/** The events of a failed ValidateService, with the tail of the script's output, on one instance of the deployment. */
async function failedValidation(context: ExerciseContext, deploymentId: string) {
  for (const target of await instanceTargets(context, deploymentId)) {
    showEvents(context, target);
    const event = target.lifecycleEvents?.find((e) => e.lifecycleEventName === 'ValidateService' && e.status === 'Failed');
    if (event) return { target, event };
  }
  return undefined;
}

async function rollback(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!withInstances(context)) {
    log(`a failed ValidateService and the automatic rollback ${NEEDS_INSTANCES}`);
    return;
  }
  const deploymentGroupName = requireOutput(outputs, 'InPlaceGroupName');
  await ensureLastSuccessfulDeployment(context, deploymentGroupName);
  const { broken } = await context.use(revisions);
  const { deploymentDeadlineSeconds } = await context.use(timing);
  const deploymentId = await deploy(context, { deploymentGroupName, revision: broken });
  const failed = await waitForDeployment(context, deploymentId, deploymentDeadlineSeconds);
  log(`deployment ${deploymentId} of the broken revision: ${failed.status} (${failed.errorInformation?.code})`);
  check(failed.status === 'Failed', `the broken revision's deployment ${deploymentId} ended ${failed.status}, not Failed`);

  const found = await failedValidation(context, deploymentId);
  check(found !== undefined, `no instance of ${deploymentId} failed in ValidateService: the break marker did not reach the hook`);
  const logTail = found.event.diagnostics?.logTail ?? '';
  log(`ValidateService on ${found.target.targetId} (${found.event.diagnostics?.errorCode}), the tail of the script's log:\n${logTail}`);
  check(logTail.includes(LAB.breakMarker), `the ValidateService log of ${found.target.targetId} does not say why it failed`);
  const identity = /\{"instanceId":"(i-[0-9a-f]+)","availabilityZone":"([a-z0-9-]+)","role":"([^"]*)","credentialsExpire":"([^"]*)"\}/.exec(logTail);
  check(identity !== null, `the hook log of ${found.target.targetId} does not show the instance metadata read with IMDSv2`);
  log(`read with IMDSv2 in the hook: instance ${identity[1]} in ${identity[2]}, role ${identity[3]}, its credentials expire ${identity[4]}`);
  await waitForRollback(context, failed, broken.s3Location?.key);
}

/**
 * The 5XX alarm stops a deployment and rolls it back. A healthy revision raises no 5XX, so the step puts the alarm in
 * ALARM itself (SetAlarmState), again at every poll: the alarm's next evaluation, every minute, sets it back to OK.
 */
async function alarmRollback(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!withInstances(context)) {
    log(`a deployment stopped by its alarm ${NEEDS_INSTANCES}`);
    return;
  }
  const deploymentGroupName = requireOutput(outputs, 'InPlaceGroupName');
  const alarmName = requireOutput(outputs, 'RollbackAlarmName');
  await ensureLastSuccessfulDeployment(context, deploymentGroupName);
  const { good } = await context.use(revisions);
  const { deploymentDeadlineSeconds, pollSeconds } = await context.use(timing);
  const deploymentId = await deploy(context, { deploymentGroupName, revision: good });
  const setAlarm = (StateValue: 'ALARM' | 'OK', StateReason: string) =>
    cloudWatchOf(context).send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue, StateReason }));
  const deadline = Date.now() + deploymentDeadlineSeconds * 1000;
  let deployment: DeploymentInfo | undefined;
  try {
    for (;;) {
      await setAlarm('ALARM', `lab exercise ${context.runId}: stop deployment ${deploymentId}`);
      ({ deploymentInfo: deployment } = await codedeployOf(context).send(new GetDeploymentCommand({ deploymentId })));
      check(deployment !== undefined, `GetDeployment ${deploymentId} returned nothing`);
      if (TERMINAL.has(deployment.status ?? '')) break;
      check(Date.now() < deadline, `deployment ${deploymentId} is still ${deployment.status} after ${deploymentDeadlineSeconds} s with ${alarmName} in ALARM`);
      await sleep(pollSeconds * 1000);
    }
  } finally {
    // Back to OK at once: the rollback deployment watches the same alarm and would be stopped too.
    await setAlarm('OK', `lab exercise ${context.runId}: deployment ${deploymentId} ended`);
  }
  log(`deployment ${deploymentId} with ${alarmName} in ALARM: ${deployment.status} (${deployment.errorInformation?.code}: ${deployment.errorInformation?.message})`);
  check(
    deployment.status !== 'Succeeded' && deployment.errorInformation?.code === 'ALARM_ACTIVE',
    `deployment ${deploymentId} ended ${deployment.status} (${deployment.errorInformation?.code}), not stopped by its alarm (ALARM_ACTIVE)`,
  );
  await waitForRollback(context, deployment);
}

async function redeployFailed(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!withInstances(context)) {
    log(`redeploying to failed instances ${NEEDS_INSTANCES}`);
    return;
  }
  const deploymentGroupName = requireOutput(outputs, 'InPlaceGroupName');
  const { good, broken } = await context.use(revisions);
  const { deploymentDeadlineSeconds } = await context.use(timing);
  // Without the rollback, the failed instance stays Failed on a half-installed revision, as the notes describe.
  const failedId = await deploy(context, { deploymentGroupName, revision: broken, autoRollbackConfiguration: { enabled: false } });
  const failed = await waitForDeployment(context, failedId, deploymentDeadlineSeconds);
  check(failed.status === 'Failed', `the broken revision's deployment ${failedId} ended ${failed.status}, not Failed`);
  const failedInstances = (await instanceTargets(context, failedId)).filter((t) => t.status === 'Failed').map((t) => t.targetId ?? '');
  log(`${failedId}: Failed without rollback; failed instances: ${failedInstances.join(', ')}`);
  check(failedInstances.length > 0, `deployment ${failedId} failed, but no instance is marked Failed`);

  const redeployId = await deploy(context, { deploymentGroupName, revision: good });
  const redeployed = await waitForDeployment(context, redeployId, deploymentDeadlineSeconds);
  check(redeployed.status === 'Succeeded', `the redeployment ${redeployId} ended ${redeployed.status}: ${redeployed.errorInformation?.message}`);
  const targets = await instanceTargets(context, redeployId);
  for (const target of targets) showEvents(context, target);
  const started = targets
    .map((target) => ({ id: target.targetId ?? '', window: busyWindow(target) }))
    .filter((t) => t.window !== undefined)
    .sort((a, b) => a.window!.start - b.window!.start)
    .map((t) => t.id);
  const first = started.slice(0, failedInstances.length);
  check(
    failedInstances.every((id) => first.includes(id)),
    `${redeployId} deployed to ${started.join(', ')} in that order: the failed instances ${failedInstances.join(', ')} were not first`,
  );
  log(`${redeployId}: deployed to the failed instance(s) first (${first.join(', ')}), then to ${started.slice(first.length).join(', ') || 'no other'}`);
}

/**
 * The blue/green group, as CreateDeploymentGroup takes it. CloudFormation cannot create it: `AWS::CodeDeploy::
 * DeploymentGroup` supports blue/green for Lambda only (README), so the step creates it and `clean-up` deletes it.
 */
export function blueGreenGroupInput(outputs: ExerciseContext['outputs']): CreateDeploymentGroupCommandInput {
  return {
    applicationName: requireOutput(outputs, 'ApplicationName'),
    deploymentGroupName: LAB.blueGreenGroupName,
    serviceRoleArn: requireOutput(outputs, 'ServiceRoleArn'),
    // Traffic moves to all replacement instances at once, once they all passed ValidateService.
    deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
    autoScalingGroups: [requireOutput(outputs, 'AutoScalingGroupName')],
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    blueGreenDeploymentConfiguration: {
      greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
      deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
      terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: LAB.terminationWaitMinutes },
    },
    loadBalancerInfo: { targetGroupInfoList: [{ name: requireOutput(outputs, 'TargetGroupName') }] },
    alarmConfiguration: { enabled: true, alarms: [{ name: requireOutput(outputs, 'RollbackAlarmName') }] },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM'] },
  };
}

async function blueGreen(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  if (!withInstances(context)) {
    log(`the blue/green group ${NEEDS_INSTANCES}`);
    return;
  }
  const input = blueGreenGroupInput(outputs);
  const { applicationName, deploymentGroupName } = input;
  try {
    await codedeployOf(context).send(new CreateDeploymentGroupCommand(input));
    log(`created the blue/green group ${deploymentGroupName} with CreateDeploymentGroup (CloudFormation cannot, for EC2)`);
  } catch (error) {
    if (!(error instanceof DeploymentGroupAlreadyExistsException)) throw error;
    log(`the blue/green group ${deploymentGroupName} exists from an earlier run: using it`);
  }
  const { deploymentGroupInfo } = await codedeployOf(context).send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName }));
  const style = deploymentGroupInfo?.deploymentStyle;
  check(
    style?.deploymentType === 'BLUE_GREEN' && deploymentGroupInfo?.blueGreenDeploymentConfiguration?.greenFleetProvisioningOption?.action === 'COPY_AUTO_SCALING_GROUP',
    `${deploymentGroupName} is ${style?.deploymentType} without COPY_AUTO_SCALING_GROUP, not a blue/green group copying the Auto Scaling group: delete it (clean-up) and run again`,
  );

  const { good } = await context.use(revisions);
  const { blueGreenDeadlineSeconds } = await context.use(timing);
  const deploymentId = await deploy(context, { deploymentGroupName, revision: good });
  log(`blue/green deployment ${deploymentId}: CodeDeploy copies the Auto Scaling group, deploys to the copy, moves the traffic, then terminates the original instances`);
  const deployment = await waitForDeployment(context, deploymentId, blueGreenDeadlineSeconds);
  check(deployment.status === 'Succeeded', `blue/green deployment ${deploymentId} ended ${deployment.status}: ${deployment.errorInformation?.message}`);
  const targets = await instanceTargets(context, deploymentId);
  for (const target of targets) showEvents(context, target);
  const ran = (label: string, event: string) =>
    targets.filter((t) => t.instanceLabel === label && t.lifecycleEvents?.some((e) => e.lifecycleEventName === event && e.status === 'Succeeded'));
  check(ran('Green', 'AllowTraffic').length > 0, `no replacement (Green) instance of ${deploymentId} was registered with the target group`);
  check(ran('Blue', 'BlockTraffic').length > 0, `no original (Blue) instance of ${deploymentId} was deregistered from the target group`);
  const copy = `CodeDeploy_${deploymentGroupName}_${deploymentId}`;
  const { AutoScalingGroups = [] } = await autoScalingOf(context).send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [copy] }));
  check(AutoScalingGroups.length === 1, `the copy ${copy} of the Auto Scaling group is not there`);
  log(`traffic now goes to ${copy} (${AutoScalingGroups[0].Instances?.length ?? 0} instances), which CloudFormation does not know about;`);
  log(`the stack's own group is deleted with the originals after ${LAB.terminationWaitMinutes} minutes: run clean-up, then cdk destroy (README, "Destroy")`);
}

/** Deletes the blue/green group, then every Auto Scaling group its deployments created, and waits until they are gone. */
async function cleanUp(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const applicationName = requireOutput(outputs, 'ApplicationName');
  const deploymentGroupName = LAB.blueGreenGroupName;
  try {
    // First the group: deleting it removes its launch lifecycle hooks from the Auto Scaling groups it names.
    const { hooksNotCleanedUp = [] } = await codedeployOf(context).send(new DeleteDeploymentGroupCommand({ applicationName, deploymentGroupName }));
    log(`deleted the blue/green group ${deploymentGroupName}`);
    for (const hook of hooksNotCleanedUp) {
      log(`CodeDeploy could not remove its lifecycle hook ${hook.hook} from ${hook.name}: aws autoscaling delete-lifecycle-hook --auto-scaling-group-name ${hook.name} --lifecycle-hook-name ${hook.hook}`);
    }
  } catch (error) {
    if (!(error instanceof DeploymentGroupDoesNotExistException)) throw error;
    log(`no blue/green group ${deploymentGroupName}: the blue-green step did not run, or clean-up already deleted it`);
  }

  const prefix = `CodeDeploy_${deploymentGroupName}_`;
  const copies: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await autoScalingOf(context).send(new DescribeAutoScalingGroupsCommand({ NextToken }));
    copies.push(...(page.AutoScalingGroups ?? []).map((g) => g.AutoScalingGroupName ?? '').filter((name) => name.startsWith(prefix)));
    NextToken = page.NextToken;
  } while (NextToken);
  if (copies.length === 0) {
    log(`no Auto Scaling group named ${prefix}*: nothing CodeDeploy created is left`);
    return;
  }
  const { pollSeconds, groupDeletionDeadlineSeconds } = await context.use(timing);
  for (const name of copies) {
    // ForceDelete terminates the group's instances with it; they would keep the stack's subnets and security group.
    await autoScalingOf(context).send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true }));
    log(`deleting ${name} and its instances`);
  }
  // DeleteAutoScalingGroup returns while the instances terminate: cdk destroy right away would find their network
  // interfaces still in the stack's subnets and security group.
  const waiting = { client: autoScalingOf(context), minDelay: pollSeconds, maxDelay: pollSeconds, maxWaitTime: groupDeletionDeadlineSeconds };
  const timedOut = await waitUntilGroupNotExists(waiting, { AutoScalingGroupNames: copies }).then(
    () => false,
    (error: Error) => {
      if (error.name !== 'TimeoutError') throw error;
      return true;
    },
  );
  check(!timedOut, `${copies.join(', ')} still exist after ${groupDeletionDeadlineSeconds} s: wait, then run clean-up again before cdk destroy`);
  log(`${copies.join(', ')} and their instances are gone: cdk destroy can delete the stack`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'push', title: 'check appspec.yml, zip the revision, upload it to S3 and register it (aws deploy push)', run: pushRevision },
  { id: 'configs', title: 'one in-place deployment per configuration: lifecycle events per instance, in order, with durations', run: deploymentConfigs },
  { id: 'rollback', title: 'a revision whose ValidateService fails: the hook log with IMDSv2 output, and the automatic rollback', run: rollback },
  { id: 'alarm-rollback', title: 'the 5XX alarm in ALARM stops a deployment, and CodeDeploy rolls it back', run: alarmRollback },
  { id: 'redeploy-failed', title: 'a failed deployment without rollback, then a redeployment that goes to the failed instance first', run: redeployFailed },
  { id: 'blue-green', title: 'blue/green: create the group with the SDK; a copy of the Auto Scaling group gets the revision and the traffic', run: blueGreen },
  { id: 'clean-up', title: 'delete the blue/green group and the Auto Scaling groups it created, and wait until they are gone, before cdk destroy', run: cleanUp },
];
