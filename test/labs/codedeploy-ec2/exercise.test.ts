import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AutoScalingClient, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
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
} from '@aws-sdk/client-codedeploy';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { blueGreenGroupInput, maxAtOnce, revisionFolder, steps, timing } from '../../../labs/codedeploy-ec2/exercise';
import { EC2_LIFECYCLE_ORDER, REVISION_DIR } from '../../../labs/codedeploy-ec2/revision';
import { ExerciseCheckFailed, provide, runExercise } from '../../../labs/support/exercise';

// No local engine runs CodeDeploy: the SDK answers are faked as a deployed lab answers them (a deployment is InProgress
// once, then ends as its revision and group decide), then broken one way at a time to show each check catches it.
const codedeploy = mockClient(CodeDeployClient);
const s3 = mockClient(S3Client);
const autoScaling = mockClient(AutoScalingClient);
const cloudWatch = mockClient(CloudWatchClient);

const BASE_OUTPUTS = {
  ApplicationName: 'app', InPlaceGroupName: 'in-place', CustomConfigName: 'custom-one-healthy', UnmeetableConfigName: 'custom-three-quarters',
  RevisionBucketName: 'revisions', AutoScalingGroupName: 'fleet',
};
const WITH_INSTANCES = {
  ...BASE_OUTPUTS, LoadBalancerUrl: 'http://alb.example/', TargetGroupName: 'lab-tg', RollbackAlarmName: 'lab-5xx', ServiceRoleArn: 'arn:aws:iam::111122223333:role/lab-codedeploy',
};
const IDENTITY = '{"instanceId":"i-0aaa1111bbb22222c","availabilityZone":"us-east-1a","role":"lab-InstanceRole","credentialsExpire":"2026-12-03T18:00:00Z"}';
const CONFIGS: Record<string, { type: string; value: number }> = {
  'CodeDeployDefault.OneAtATime': { type: 'MOST_CONCURRENCY', value: 1 },
  'CodeDeployDefault.HalfAtATime': { type: 'FLEET_PERCENT', value: 50 },
  'CodeDeployDefault.AllAtOnce': { type: 'HOST_COUNT', value: 0 },
  'custom-one-healthy': { type: 'HOST_COUNT', value: 1 },
};

const T0 = Date.parse('2026-12-03T10:00:00Z');
/** Lifecycle events from `names`, one second each from `startSecond`; `failAt` fails that one and skips the rest. */
function events(names: readonly string[], startSecond: number, failAt?: string, logTail = ''): LifecycleEvent[] {
  let failed = false;
  return names.map((name, i) => {
    if (failed) return { lifecycleEventName: name, status: 'Skipped' };
    failed = name === failAt;
    return {
      lifecycleEventName: name,
      status: failed ? 'Failed' : 'Succeeded',
      startTime: new Date(T0 + (startSecond + i) * 1000),
      endTime: new Date(T0 + (startSecond + i + 1) * 1000),
      diagnostics: failed ? { errorCode: 'ScriptFailed', logTail } : undefined,
    };
  });
}
const target = (targetId: string, status: string, lifecycleEvents: LifecycleEvent[], instanceLabel?: 'Blue' | 'Green'): InstanceTarget =>
  ({ targetId, status: status as InstanceTarget['status'], lifecycleEvents, instanceLabel });
const ALL = EC2_LIFECYCLE_ORDER;
const BLOCK = ALL.slice(0, 3);
const REPLACE = ALL.slice(3);

interface World {
  deployments: Map<string, { info: DeploymentInfo; targets: InstanceTarget[]; reads: number; group?: string }>;
  /** The in-place group's last successful deployment, which a rollback goes back to. */
  lastSuccessful?: string;
  /** The blue/green group once CreateDeploymentGroup made it. */
  blueGreenGroup?: CreateDeploymentGroupCommandInput;
  /** The 5XX alarm's state; a running in-place deployment stops while it is ALARM. */
  alarm: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** Why CodeDeploy says it stopped a deployment while the alarm was in ALARM. */
  alarmStopCode: string;
  /** Decides how a new deployment ends; tests replace parts of it to break the lab. */
  outcome: (input: CreateDeploymentCommandInput, id: string) => { info: DeploymentInfo; targets: InstanceTarget[] };
}
let world: World;
const lines: string[] = [];
// pollSeconds above 0: the Auto Scaling waiter refuses a delay of 0; 1 ms keeps the polls without a real wait.
const SHORT = { pollSeconds: 0.001, deploymentDeadlineSeconds: 5, blueGreenDeadlineSeconds: 5, groupDeletionDeadlineSeconds: 5 };
const run = (id: string, outputs: Record<string, string> = WITH_INSTANCES, figures = SHORT, runId?: string) =>
  runExercise(steps.filter((s) => s.id === id), { outputs, log: (l) => lines.push(l), provide: [provide(timing, figures)], runId });
/**
 * The first test of each step's block runs it with this run id: the steps pass in the order of `steps` with one run
 * id, as in a learner's run. Only the revisions' keys and descriptions and the alarm's reason carry it, and the fake
 * CodeDeploy starts afresh in each test: nothing here is found by run id.
 */
const RUN_ID = 'run-t';
const learnerRun = (id: string) => run(id, WITH_INSTANCES, SHORT, RUN_ID);
const failure = async (id: string, outputs: Record<string, string> = WITH_INSTANCES) => {
  const error = await run(id, outputs).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  return (error as Error).message;
};

/** What the push prints for each revision it uploaded: its size and the MD5 of the bytes sent, which S3 answered as ETag. */
const pushed = () =>
  s3.commandCalls(PutObjectCommand).map((c) => {
    const body = c.args[0].input.Body as Buffer;
    return `pushed s3://revisions/${c.args[0].input.Key} (${body.length} bytes, ETag ${createHash('md5').update(body).digest('hex')}) and registered it with app`;
  });
/** An instance's line and its lifecycle events as the steps print them, every event of the lab's outcome succeeded in 1 s. */
const EVENT_LINES: Record<string, string> = {
  BeforeBlockTraffic: '  BeforeBlockTraffic Succeeded  1.0 s',
  BlockTraffic: '  BlockTraffic       Succeeded  1.0 s',
  AfterBlockTraffic: '  AfterBlockTraffic  Succeeded  1.0 s',
  ApplicationStop: '  ApplicationStop    Succeeded  1.0 s',
  DownloadBundle: '  DownloadBundle     Succeeded  1.0 s',
  BeforeInstall: '  BeforeInstall      Succeeded  1.0 s',
  Install: '  Install            Succeeded  1.0 s',
  AfterInstall: '  AfterInstall       Succeeded  1.0 s',
  ApplicationStart: '  ApplicationStart   Succeeded  1.0 s',
  ValidateService: '  ValidateService    Succeeded  1.0 s',
  BeforeAllowTraffic: '  BeforeAllowTraffic Succeeded  1.0 s',
  AllowTraffic: '  AllowTraffic       Succeeded  1.0 s',
  AfterAllowTraffic: '  AfterAllowTraffic  Succeeded  1.0 s',
};
const printedInstance = (heading: string, names: readonly string[]) => [heading, ...names.map((name) => EVENT_LINES[name])];
const NEEDS = 'needs instances: npx cdk deploy CodedeployEc2Lab -c codedeploy-ec2:instances=true';

/** The lab as its README describes it. */
function labOutcome(input: CreateDeploymentCommandInput, id: string): { info: DeploymentInfo; targets: InstanceTarget[] } {
  const key = input.revision?.s3Location?.key ?? '';
  const base: DeploymentInfo = { deploymentId: id, revision: input.revision, creator: 'user' };
  if (input.deploymentGroupName === 'BlueGreen') {
    return {
      info: { ...base, status: 'Succeeded' },
      targets: [
        target('i-3', 'Succeeded', events(REPLACE, 0), 'Green'), target('i-4', 'Succeeded', events(REPLACE, 0), 'Green'),
        target('i-1', 'Succeeded', events(BLOCK, 20), 'Blue'), target('i-2', 'Succeeded', events(BLOCK, 20), 'Blue'),
      ],
    };
  }
  if (key.includes('broken')) {
    const rollback = input.autoRollbackConfiguration?.enabled === false ? undefined : { rollbackDeploymentId: `${id}-rollback` };
    if (rollback) {
      world.deployments.set(rollback.rollbackDeploymentId, {
        info: { deploymentId: rollback.rollbackDeploymentId, status: 'Succeeded', creator: 'codeDeployRollback', revision: { s3Location: { key: 'revisions/earlier/sample.zip' } } },
        targets: [],
        reads: 0,
      });
    }
    const logTail = `[stdout]${IDENTITY}\n[stderr]ValidateService: this revision carries BREAK_VALIDATE_SERVICE, failing on purpose`;
    return {
      info: { ...base, status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too many individual instances failed' }, rollbackInfo: rollback },
      targets: [target('i-1', 'Failed', events(ALL, 0, 'ValidateService', logTail)), target('i-2', 'Skipped', [])],
    };
  }
  if (input.deploymentConfigName === 'custom-three-quarters') {
    return { info: { ...base, status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS_INVALID', message: 'the minimum healthy hosts cannot be met' } }, targets: [] };
  }
  // After a failure CodeDeploy deploys to the failed instance (i-1) first; windows overlap only when allowed.
  const healthy = CONFIGS[input.deploymentConfigName ?? 'CodeDeployDefault.OneAtATime'];
  const second = maxAtOnce(healthy.type, healthy.value, 2) > 1 ? 5 : ALL.length;
  return { info: { ...base, status: 'Succeeded' }, targets: [target('i-1', 'Succeeded', events(ALL, 0)), target('i-2', 'Succeeded', events(ALL, second))] };
}

beforeEach(() => {
  codedeploy.reset();
  s3.reset();
  autoScaling.reset();
  cloudWatch.reset();
  lines.length = 0;
  world = { deployments: new Map(), outcome: labOutcome, lastSuccessful: 'd-0', alarm: 'OK', alarmStopCode: 'ALARM_ACTIVE' };
  s3.on(PutObjectCommand).callsFake((input: { Body: Buffer }) => ({ ETag: `"${createHash('md5').update(input.Body).digest('hex')}"` }));
  codedeploy.on(RegisterApplicationRevisionCommand).resolves({});
  codedeploy.on(GetApplicationRevisionCommand).resolves({ revisionInfo: { registerTime: new Date(T0) } });
  codedeploy.on(GetDeploymentConfigCommand).callsFake(({ deploymentConfigName }) => ({ deploymentConfigInfo: { deploymentConfigName, minimumHealthyHosts: CONFIGS[deploymentConfigName] } }));
  codedeploy.on(CreateDeploymentCommand).callsFake((input: CreateDeploymentCommandInput) => {
    const id = `d-${world.deployments.size + 1}`;
    if (input.deploymentGroupName === 'in-place' && !('LoadBalancerUrl' in currentOutputs)) {
      world.deployments.set(id, { info: { deploymentId: id, status: 'Failed', errorInformation: { code: 'NO_INSTANCES', message: 'no instances found' } }, targets: [], reads: 0 });
    } else {
      world.deployments.set(id, { ...world.outcome(input, id), reads: 0, group: input.deploymentGroupName });
    }
    return { deploymentId: id };
  });
  codedeploy.on(GetDeploymentCommand).callsFake(({ deploymentId }) => {
    const deployment = world.deployments.get(deploymentId)!;
    deployment.reads += 1;
    // CodeDeploy notices the alarm while the deployment runs, stops it and rolls it back.
    if (deployment.reads > 1 && world.alarm === 'ALARM' && deployment.group === 'in-place' && deployment.info.status === 'Succeeded') {
      const rollbackDeploymentId = `${deploymentId}-rollback`;
      deployment.info = { ...deployment.info, status: 'Stopped', errorInformation: { code: world.alarmStopCode as never, message: 'lab-5xx is in ALARM' }, rollbackInfo: { rollbackDeploymentId } };
      world.deployments.set(rollbackDeploymentId, { info: { deploymentId: rollbackDeploymentId, status: 'Succeeded', creator: 'codeDeployRollback', revision: deployment.info.revision }, targets: [], reads: 1 });
    }
    // The first read finds it running, without the rollback CodeDeploy records a moment after the failure.
    return { deploymentInfo: deployment.reads === 1 ? { ...deployment.info, status: 'InProgress', rollbackInfo: undefined } : deployment.info };
  });
  codedeploy.on(ListDeploymentTargetsCommand).callsFake(({ deploymentId, nextToken }) => {
    const ids = world.deployments.get(deploymentId)!.targets.map((t) => t.targetId!);
    // Two pages, as ListDeploymentTargets pages its answers.
    return nextToken ? { targetIds: ids.slice(1) } : { targetIds: ids.slice(0, 1), nextToken: ids.length > 1 ? 'page-2' : undefined };
  });
  codedeploy.on(BatchGetDeploymentTargetsCommand).callsFake(({ deploymentId, targetIds }: { deploymentId: string; targetIds: string[] }) => {
    // As CodeDeploy answers: 1 to 25 ids, each one a target of the deployment.
    const targets = world.deployments.get(deploymentId)!.targets;
    if (targetIds.length === 0) throw Object.assign(new Error('A deployment target ID must be specified.'), { name: 'DeploymentTargetIdRequiredException' });
    if (targetIds.length > 25) throw Object.assign(new Error('The maximum number of targets that can be specified is 25.'), { name: 'DeploymentTargetListSizeExceededException' });
    const unknown = targetIds.find((id) => !targets.some((t) => t.targetId === id));
    if (unknown) throw Object.assign(new Error(`The deployment target ${unknown} does not exist.`), { name: 'DeploymentTargetDoesNotExistException' });
    return { deploymentTargets: targets.filter((t) => targetIds.includes(t.targetId!)).map((instanceTarget) => ({ deploymentTargetType: 'InstanceTarget', instanceTarget })) };
  });
  codedeploy.on(GetDeploymentGroupCommand).callsFake(({ deploymentGroupName }) => ({
    deploymentGroupInfo: deploymentGroupName === 'BlueGreen'
      ? { deploymentGroupName, deploymentStyle: world.blueGreenGroup?.deploymentStyle, blueGreenDeploymentConfiguration: world.blueGreenGroup?.blueGreenDeploymentConfiguration }
      : { deploymentGroupName, lastSuccessfulDeployment: world.lastSuccessful ? { deploymentId: world.lastSuccessful, status: 'Succeeded' } : undefined },
  }));
  codedeploy.on(CreateDeploymentGroupCommand).callsFake((input: CreateDeploymentGroupCommandInput) => {
    if (world.blueGreenGroup) throw new DeploymentGroupAlreadyExistsException({ message: 'exists', $metadata: {} });
    world.blueGreenGroup = input;
    return { deploymentGroupId: 'dg-1' };
  });
  cloudWatch.on(SetAlarmStateCommand).callsFake(({ StateValue }) => {
    world.alarm = StateValue;
    return {};
  });
  autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(({ AutoScalingGroupNames }) => ({
    AutoScalingGroups: (AutoScalingGroupNames ?? []).map((name: string) => ({ AutoScalingGroupName: name, Instances: [{}, {}] })),
  }));
  currentOutputs = WITH_INSTANCES;
});
let currentOutputs: Record<string, string> = WITH_INSTANCES;
const runWithout = (id: string) => {
  currentOutputs = BASE_OUTPUTS;
  return run(id, BASE_OUTPUTS);
};

test('maxAtOnce: how many of 2 instances each configuration takes out of service at once', () => {
  expect(Object.values(CONFIGS).map((c) => maxAtOnce(c.type, c.value, 2))).toEqual([1, 1, 2, 1]);
  expect(maxAtOnce('FLEET_PERCENT', 95, 10)).toBe(0); // the docs' example: 95 % of 10 rounds up to 10, nothing can go
  expect(maxAtOnce('MOST_CONCURRENCY', 3, 10)).toBe(3);
  expect(maxAtOnce('HOST_COUNT', 3, 10)).toBe(7);
  expect(maxAtOnce('HOST_COUNT', 12, 10)).toBe(0);
});

describe('push', () => {
  test('uploads both revisions under the prefix and registers them', async () => {
    await learnerRun('push');
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual(['revisions/run-t/sample.zip', 'revisions/run-t/broken-validate-service.zip']);
    const registered = codedeploy.commandCalls(RegisterApplicationRevisionCommand).map((c) => c.args[0].input.revision?.s3Location);
    expect(registered.map((l) => [l?.bundleType, l?.key])).toEqual([['zip', keys[0]], ['zip', keys[1]]]);
    const bodies = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    // The broken revision is the sample with the break marker added (a zip lists its names uncompressed).
    expect((bodies[0].Body as Buffer).includes('app/www/BREAK_VALIDATE_SERVICE')).toBe(false);
    expect((bodies[1].Body as Buffer).includes('app/www/BREAK_VALIDATE_SERVICE')).toBe(true);
    expect((bodies[1].Body as Buffer).length).toBeGreaterThan((bodies[0].Body as Buffer).length);
    expect(codedeploy.commandCalls(GetApplicationRevisionCommand).map((c) => c.args[0].input)).toEqual(
      codedeploy.commandCalls(RegisterApplicationRevisionCommand).map((c) => ({ applicationName: 'app', revision: c.args[0].input.revision })),
    );
    expect(bodies.map((b) => [b.Bucket, b.ContentType])).toEqual([['revisions', 'application/zip'], ['revisions', 'application/zip']]);
    expect(codedeploy.commandCalls(RegisterApplicationRevisionCommand).map((c) => c.args[0].input)).toEqual([
      { applicationName: 'app', description: 'sample (run-t)', revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: keys[0], bundleType: 'zip', eTag: createHash('md5').update(bodies[0].Body as Buffer).digest('hex') } } },
      { applicationName: 'app', description: 'broken-validate-service (run-t)', revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: keys[1], bundleType: 'zip', eTag: createHash('md5').update(bodies[1].Body as Buffer).digest('hex') } } },
    ]);
    expect(lines).toEqual([
      '\n== 1/1 push: check appspec.yml, zip the revision, upload it to S3 and register it (aws deploy push)',
      ...pushed(),
      'revision for the deployments: revisions/run-t/sample.zip; the same with BREAK_VALIDATE_SERVICE: revisions/run-t/broken-validate-service.zip',
      'appspec.yml was checked first: hooks CodeDeploy runs on EC2, scripts present, permissions syntax, timeouts',
    ]);
    expect(lines[1]).toMatch(/^pushed s3:\/\/revisions\/revisions\/run-t\/sample\.zip \(\d+ bytes, ETag [0-9a-f]{32}\) and registered it with app$/);
  });

  test('fails when S3 stored other bytes than the bundle sent', async () => {
    s3.on(PutObjectCommand).resolves({ ETag: '"0123"' });
    expect(await failure('push')).toMatch(/with ETag 0123, not the MD5 of the bundle sent/);
  });

  test('refuses to upload a revision whose appspec.yml would fail the deployment', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'codedeploy-revision-'));
    try {
      cpSync(REVISION_DIR, copy, { recursive: true });
      writeFileSync(path.join(copy, 'appspec.yml'), 'version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: scripts/before_install.sh\n');
      const error = await runExercise(steps.filter((s) => s.id === 'push'), { outputs: WITH_INSTANCES, log: () => undefined, provide: [provide(revisionFolder, copy)] }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('revision/appspec.yml would fail the deployment: hooks.Install: CodeDeploy runs this event itself; it takes no scripts');
      expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('fails when CodeDeploy knows no such revision', async () => {
    codedeploy.on(GetApplicationRevisionCommand).resolves({});
    expect(await failure('push')).toMatch(/^s3:\/\/revisions\/revisions\/run-[0-9a-z]+\/sample\.zip is not registered as a revision of app$/);
  });

  test('fails when the revision is not registered', async () => {
    codedeploy.on(GetApplicationRevisionCommand).resolves({ revisionInfo: {} });
    expect(await failure('push')).toMatch(/is not registered as a revision of app/);
  });
});

describe('configs', () => {
  test('deploys once per configuration and prints each instance\'s events in order with durations', async () => {
    await learnerRun('configs');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).map((c) => c.args[0].input.deploymentConfigName)).toEqual([...Object.keys(CONFIGS), 'custom-three-quarters']);
    expect(lines).toContain('  ValidateService    Succeeded  1.0 s');
    expect(lines).toContain('d-1: Succeeded, one instance after the other (at most 1 out of service)');
    expect(lines).toContain('d-3: Succeeded, 2 instances out of service at the same time: behind the load balancer, downtime');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).map((c) => c.args[0].input.fileExistsBehavior)).toEqual(['OVERWRITE', 'OVERWRITE', 'OVERWRITE', 'OVERWRITE', 'OVERWRITE']);
    const bothInstances = [...printedInstance('i-1: Succeeded', ALL), ...printedInstance('i-2: Succeeded', ALL)];
    expect(lines).toEqual([
      '\n== 1/1 configs: one in-place deployment per configuration: lifecycle events per instance, in order, with durations',
      ...pushed(),
      '\nCodeDeployDefault.OneAtATime: minimum healthy hosts MOST_CONCURRENCY 1',
      ...bothInstances,
      'd-1: Succeeded, one instance after the other (at most 1 out of service)',
      '\nCodeDeployDefault.HalfAtATime: minimum healthy hosts FLEET_PERCENT 50',
      ...bothInstances,
      'd-2: Succeeded, one instance after the other (at most 1 out of service)',
      '\nCodeDeployDefault.AllAtOnce: minimum healthy hosts HOST_COUNT 0',
      ...bothInstances,
      'd-3: Succeeded, 2 instances out of service at the same time: behind the load balancer, downtime',
      '\ncustom-one-healthy: minimum healthy hosts HOST_COUNT 1',
      ...bothInstances,
      'd-4: Succeeded, one instance after the other (at most 1 out of service)',
      '\ncustom-three-quarters (FLEET_PERCENT 75 of 2 rounds up to 2 healthy): Failed (HEALTH_CONSTRAINTS_INVALID)',
    ]);
  });

  test('a configuration 2 instances cannot meet fails at once with HEALTH_CONSTRAINTS_INVALID, without a rollback', async () => {
    await run('configs');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).at(-1)!.args[0].input.autoRollbackConfiguration).toEqual({ enabled: false });
    expect(lines.at(-1)).toBe('\ncustom-three-quarters (FLEET_PERCENT 75 of 2 rounds up to 2 healthy): Failed (HEALTH_CONSTRAINTS_INVALID)');
  });

  test('without instances, shows the deployment to the empty group failing with NO_INSTANCES', async () => {
    await runWithout('configs');
    expect(lines.at(-1)).toMatch(/^the Auto Scaling group is at capacity 0; .* -c codedeploy-ec2:instances=true/);
    expect(lines.slice(-2)).toEqual([
      'deployment d-1 to the empty group: Failed (NO_INSTANCES: no instances found)',
      `the Auto Scaling group is at capacity 0; the configurations' effect ${NEEDS}`,
    ]);
  });

  test.each<[string, () => void, string]>([
    ['an empty group that does not report NO_INSTANCES', () => (world.outcome = (_i, id) => ({ info: { deploymentId: id, status: 'Succeeded' }, targets: [] })), 'not Failed with NO_INSTANCES'],
    [
      'an empty group failing for another reason',
      () => (world.outcome = (_i, id) => ({ info: { deploymentId: id, status: 'Failed', errorInformation: { code: 'HEALTH_CONSTRAINTS' } }, targets: [] })),
      'a deployment to a group without instances ended Failed (HEALTH_CONSTRAINTS), not Failed with NO_INSTANCES',
    ],
    [
      'an empty group failing without error information',
      () => (world.outcome = (_i, id) => ({ info: { deploymentId: id, status: 'Failed' }, targets: [] })),
      'a deployment to a group without instances ended Failed (undefined), not Failed with NO_INSTANCES',
    ],
  ])('without instances, fails on %s', async (_name, breakIt, message) => {
    breakIt();
    codedeploy.on(CreateDeploymentCommand).callsFake((input: CreateDeploymentCommandInput) => {
      world.deployments.set('d-9', { ...world.outcome(input, 'd-9'), reads: 0 });
      return { deploymentId: 'd-9' };
    });
    currentOutputs = BASE_OUTPUTS;
    const error = await run('configs', BASE_OUTPUTS).catch((e: unknown) => e);
    expect((error as Error).message).toContain(message);
  });

  const succeeded = (targets: InstanceTarget[]) => (input: CreateDeploymentCommandInput, id: string) => ({ info: { deploymentId: id, revision: input.revision, status: 'Succeeded' as const }, targets });
  test.each<[string, () => void, RegExp]>([
    ['a failed deployment', () => (world.outcome = (input, id) => ({ ...labOutcome(input, id), info: { deploymentId: id, status: 'Failed', errorInformation: { message: 'agent down' } } })), /with CodeDeployDefault.OneAtATime ended Failed: agent down/],
    ['one instance missing', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(ALL, 0))])), /reached 1 instances, expected 2/],
    ['events out of order', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(['ApplicationStart', 'BeforeInstall'], 0)), target('i-2', 'Succeeded', events(ALL, 20))])), /ran its lifecycle events as ApplicationStart → BeforeInstall/],
    ['an unknown event', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(['ApplicationStop', 'Reboot'], 0)), target('i-2', 'Succeeded', events(ALL, 20))])), /ran its lifecycle events as ApplicationStop → Reboot/],
    [
      'an unknown event first',
      () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(['Reboot', 'ApplicationStop'], 0)), target('i-2', 'Succeeded', events(ALL, 20))])),
      /^i-1 ran its lifecycle events as Reboot → ApplicationStop, not in the documented order BeforeBlockTraffic → BlockTraffic → AfterBlockTraffic → ApplicationStop → DownloadBundle → BeforeInstall → Install → AfterInstall → ApplicationStart → ValidateService → BeforeAllowTraffic → AllowTraffic → AfterAllowTraffic$/,
    ],
    ['an event run twice', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(['Install', 'Install'], 0)), target('i-2', 'Succeeded', events(ALL, 20))])), /^i-1 ran its lifecycle events as Install → Install, not in the documented order/],
    [
      'an unmeetable configuration failing without error information',
      () => (world.outcome = (input, id) => (input.deploymentConfigName === 'custom-three-quarters' ? { info: { deploymentId: id, status: 'Failed' }, targets: [] } : labOutcome(input, id))),
      /^deployment d-5 with custom-three-quarters ended Failed \(undefined\), not Failed with HEALTH_CONSTRAINTS_INVALID$/,
    ],
    ['one at a time, overlapping', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(ALL, 0)), target('i-2', 'Succeeded', events(ALL, 3))])), /allows one instance at a time, but the instances' deployments overlapped/],
    ['all at once, one after the other', () => (world.outcome = succeeded([target('i-1', 'Succeeded', events(ALL, 0)), target('i-2', 'Succeeded', events(ALL, 20))])), /AllAtOnce lets 2 instances go at once, but the instances' deployments did not overlap/],
    ['an unmeetable configuration that succeeds', () => (world.outcome = (input, id) => (input.deploymentConfigName === 'custom-three-quarters' ? succeeded([])(input, id) : labOutcome(input, id))), /custom-three-quarters ended Succeeded \(undefined\), not Failed with HEALTH_CONSTRAINTS_INVALID/],
    ['an unmeetable configuration failing for another reason', () => (world.outcome = (input, id) => (input.deploymentConfigName === 'custom-three-quarters' ? { info: { deploymentId: id, status: 'Failed', errorInformation: { code: 'AGENT_ISSUE' } }, targets: [] } : labOutcome(input, id))), /ended Failed \(AGENT_ISSUE\), not Failed with HEALTH_CONSTRAINTS_INVALID/],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    expect(await failure('configs')).toMatch(message);
  });

  test('judges the order by start times, not by the order of the answer', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      result.targets[0]?.lifecycleEvents?.reverse();
      return result;
    };
    await run('configs');
    expect(lines).toContain('d-4: Succeeded, one instance after the other (at most 1 out of service)');
  });

  test('fails when a deployment is still running at the deadline', async () => {
    const error = await run('configs', WITH_INSTANCES, { ...SHORT, deploymentDeadlineSeconds: 0 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('deployment d-1 is still InProgress after 0 s');
  });

  test('judges one at a time by when each instance started, whatever order the answer lists them in', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      result.targets.reverse();
      return result;
    };
    await run('configs');
    expect(lines).toContain('d-1: Succeeded, one instance after the other (at most 1 out of service)');
    expect(lines).toContain('d-4: Succeeded, one instance after the other (at most 1 out of service)');
  });

  test('judges the overlap by the events that ran: skipped ones (no load balancer) have no times', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      for (const t of result.targets) t.lifecycleEvents = t.lifecycleEvents?.map((e) => (e.lifecycleEventName?.includes('Traffic') ? { lifecycleEventName: e.lifecycleEventName, status: 'Skipped' } : e));
      return result;
    };
    await run('configs');
    expect(lines).toContain('  BlockTraffic       Skipped    -');
    expect(lines).toContain('d-3: Succeeded, 2 instances out of service at the same time: behind the load balancer, downtime');
  });

  test('fails when CreateDeployment answers without a deployment id', async () => {
    codedeploy.on(CreateDeploymentCommand).resolves({});
    expect(await failure('configs')).toBe('CreateDeployment on in-place returned no deployment id');
  });

  test('fails when GetDeployment answers without the deployment', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({});
    expect(await failure('configs')).toBe('GetDeployment d-1 returned nothing');
  });
});

describe('rollback', () => {
  test('shows the failed ValidateService log with the IMDSv2 identity, then the automatic rollback', async () => {
    await learnerRun('rollback');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).map((c) => c.args[0].input.revision?.s3Location?.key)).toEqual(['revisions/run-t/broken-validate-service.zip']);
    expect(codedeploy.commandCalls(GetDeploymentGroupCommand).map((c) => c.args[0].input)).toEqual([{ applicationName: 'app', deploymentGroupName: 'in-place' }]);
    expect(lines).toContain('read with IMDSv2 in the hook: instance i-0aaa1111bbb22222c in us-east-1a, role lab-InstanceRole, its credentials expire 2026-12-03T18:00:00Z');
    expect(lines.at(-1)).toBe('automatic rollback d-1-rollback (creator codeDeployRollback) redeployed revisions/earlier/sample.zip: Succeeded');
    expect(lines).toEqual([
      '\n== 1/1 rollback: a revision whose ValidateService fails: the hook log with IMDSv2 output, and the automatic rollback',
      'in-place last succeeded with d-0: a rollback has a revision to go back to',
      ...pushed(),
      'deployment d-1 of the broken revision: Failed (HEALTH_CONSTRAINTS)',
      ...printedInstance('i-1: Failed', ALL.slice(0, 9)),
      '  ValidateService    Failed     1.0 s',
      '  BeforeAllowTraffic Skipped    -',
      '  AllowTraffic       Skipped    -',
      '  AfterAllowTraffic  Skipped    -',
      `ValidateService on i-1 (ScriptFailed), the tail of the script's log:\n[stdout]${IDENTITY}\n[stderr]ValidateService: this revision carries BREAK_VALIDATE_SERVICE, failing on purpose`,
      'read with IMDSv2 in the hook: instance i-0aaa1111bbb22222c in us-east-1a, role lab-InstanceRole, its credentials expire 2026-12-03T18:00:00Z',
      'automatic rollback d-1-rollback (creator codeDeployRollback) redeployed revisions/earlier/sample.zip: Succeeded',
    ]);
  });

  test('waits for the rollback CodeDeploy records only after the failed deployment\'s end was read', async () => {
    broken(() => undefined)();
    codedeploy.on(GetDeploymentCommand).callsFake(({ deploymentId }) => {
      const deployment = world.deployments.get(deploymentId)!;
      deployment.reads += 1;
      // Read 1: running; read 2: failed, no rollback yet; read 3 on: the rollback.
      const info = deployment.reads === 1 ? { ...deployment.info, status: 'InProgress' } : deployment.info;
      return { deploymentInfo: deployment.reads <= 2 ? { ...info, rollbackInfo: undefined } : info };
    });
    await run('rollback');
    expect(codedeploy.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input.deploymentId)).toEqual(['d-1', 'd-1', 'd-1', 'd-1-rollback', 'd-1-rollback']);
    expect(lines.at(-1)).toBe('automatic rollback d-1-rollback (creator codeDeployRollback) redeployed revisions/earlier/sample.zip: Succeeded');
  });

  test('on a fresh stack (no successful deployment to go back to), deploys the good revision first', async () => {
    world.lastSuccessful = undefined;
    await run('rollback');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).map((c) => c.args[0].input.revision?.s3Location?.key)).toEqual([
      expect.stringMatching(/sample\.zip$/), expect.stringMatching(/broken-validate-service\.zip$/),
    ]);
    expect(lines).toContain('in-place has no successful deployment yet, so nothing to roll back to: deploying the good revision first');
  });

  test('on a fresh stack, fails when the first deployment of the good revision fails', async () => {
    world.lastSuccessful = undefined;
    world.outcome = (_input, id) => ({ info: { deploymentId: id, status: 'Failed', errorInformation: { message: 'agent down' } }, targets: [] });
    expect(await failure('rollback')).toBe('the first deployment d-1 of the good revision ended Failed: agent down');
  });

  test('without instances, says what it needs', async () => {
    await runWithout('rollback');
    expect(lines.at(-1)).toBe(`a failed ValidateService and the automatic rollback ${NEEDS}`);
    expect(codedeploy.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  const broken = (change: (result: ReturnType<typeof labOutcome>) => void) => () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      change(result);
      return result;
    };
  };
  const failedEvent = (result: ReturnType<typeof labOutcome>) => result.targets[0].lifecycleEvents!.find((e) => e.status === 'Failed')!;
  test.each<[string, () => void, RegExp]>([
    ['a broken revision that succeeds', broken((r) => (r.info.status = 'Succeeded')), /ended Succeeded, not Failed/],
    ['a broken revision that succeeds, without error information', broken((r) => (r.info = { deploymentId: r.info.deploymentId, status: 'Succeeded' })), /^the broken revision's deployment d-1 ended Succeeded, not Failed$/],
    ['a failed hook without diagnostics', broken((r) => (failedEvent(r).diagnostics = undefined)), /^the ValidateService log of i-1 does not say why it failed$/],
    ['a failure outside ValidateService', broken((r) => (r.targets[0].lifecycleEvents = events(ALL, 0, 'AfterInstall', IDENTITY))), /no instance of d-1 failed in ValidateService/],
    ['a log that does not say why', broken((r) => (failedEvent(r).diagnostics = { logTail: IDENTITY })), /does not say why it failed/],
    ['a log without the instance metadata', broken((r) => (failedEvent(r).diagnostics = { logTail: 'BREAK_VALIDATE_SERVICE' })), /does not show the instance metadata read with IMDSv2/],
    ['a failed rollback', broken((r) => (world.deployments.get(r.info.rollbackInfo!.rollbackDeploymentId!)!.info.status = 'Failed')), /the rollback deployment d-1-rollback ended Failed/],
    ['a rollback to the broken revision', broken((r) => (world.deployments.get(r.info.rollbackInfo!.rollbackDeploymentId!)!.info.revision = r.info.revision)), /deployed the broken revision again/],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    expect(await failure('rollback')).toMatch(message);
  });

  test('fails when no automatic rollback starts before the deadline', async () => {
    broken((r) => (r.info.rollbackInfo = undefined))();
    // Ended at the first read, so a deadline of 0 s reaches the wait for the rollback without polling.
    codedeploy.on(GetDeploymentCommand).callsFake(({ deploymentId }) => ({ deploymentInfo: world.deployments.get(deploymentId)!.info }));
    const error = await run('rollback', WITH_INSTANCES, { ...SHORT, deploymentDeadlineSeconds: 0 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('deployment d-1 ended Failed but no automatic rollback was started');
  });
});

describe('alarm-rollback', () => {
  const alarmStates = () => cloudWatch.commandCalls(SetAlarmStateCommand).map((c) => `${c.args[0].input.AlarmName}=${c.args[0].input.StateValue}`);

  test('keeps the alarm in ALARM until CodeDeploy stops the deployment, sets it back to OK, then sees the rollback succeed', async () => {
    await learnerRun('alarm-rollback');
    expect(alarmStates()).toEqual(['lab-5xx=ALARM', 'lab-5xx=ALARM', 'lab-5xx=OK']);
    expect(lines).toContain('deployment d-1 with lab-5xx in ALARM: Stopped (ALARM_ACTIVE: lab-5xx is in ALARM)');
    expect(lines.at(-1)).toBe('automatic rollback d-1-rollback (creator codeDeployRollback) redeployed revisions/run-t/sample.zip: Succeeded');
    expect(cloudWatch.commandCalls(SetAlarmStateCommand).map((c) => c.args[0].input.StateReason)).toEqual([
      'lab exercise run-t: stop deployment d-1', 'lab exercise run-t: stop deployment d-1', 'lab exercise run-t: deployment d-1 ended',
    ]);
    expect(lines).toEqual([
      '\n== 1/1 alarm-rollback: the 5XX alarm in ALARM stops a deployment, and CodeDeploy rolls it back',
      'in-place last succeeded with d-0: a rollback has a revision to go back to',
      ...pushed(),
      'deployment d-1 with lab-5xx in ALARM: Stopped (ALARM_ACTIVE: lab-5xx is in ALARM)',
      'automatic rollback d-1-rollback (creator codeDeployRollback) redeployed revisions/run-t/sample.zip: Succeeded',
    ]);
  });

  test('fails when GetDeployment answers without the deployment, and still sets the alarm back to OK', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({});
    expect(await failure('alarm-rollback')).toBe('GetDeployment d-1 returned nothing');
    expect(alarmStates()).toEqual(['lab-5xx=ALARM', 'lab-5xx=OK']);
  });

  test('without instances, says what it needs', async () => {
    await runWithout('alarm-rollback');
    expect(lines.at(-1)).toBe(`a deployment stopped by its alarm ${NEEDS}`);
    expect(alarmStates()).toEqual([]);
  });

  test('fails when the alarm does not stop the deployment, and still sets the alarm back to OK', async () => {
    cloudWatch.on(SetAlarmStateCommand).resolves({});
    expect(await failure('alarm-rollback')).toBe('deployment d-1 ended Succeeded (undefined), not stopped by its alarm (ALARM_ACTIVE)');
    expect(alarmStates().at(-1)).toBe('lab-5xx=OK');
  });

  test('fails when the deployment stopped without saying why', async () => {
    codedeploy.on(GetDeploymentCommand).callsFake(({ deploymentId }) => {
      world.deployments.get(deploymentId)!.reads += 1;
      return { deploymentInfo: { deploymentId, status: 'Stopped' } };
    });
    expect(await failure('alarm-rollback')).toBe('deployment d-1 ended Stopped (undefined), not stopped by its alarm (ALARM_ACTIVE)');
  });

  test('fails when the deployment stopped for another reason', async () => {
    world.alarmStopCode = 'MANUAL_STOP';
    expect(await failure('alarm-rollback')).toBe('deployment d-1 ended Stopped (MANUAL_STOP), not stopped by its alarm (ALARM_ACTIVE)');
  });

  test('fails when the stopped deployment is not rolled back', async () => {
    const answer = codedeploy.on(GetDeploymentCommand);
    // Stopped at the first read, so only the wait for a rollback meets the short deadline (even on a loaded machine).
    answer.callsFake(({ deploymentId }) => {
      const stopped = world.alarm === 'ALARM';
      return { deploymentInfo: { ...world.deployments.get(deploymentId)!.info, status: stopped ? 'Stopped' : 'InProgress', errorInformation: stopped ? { code: 'ALARM_ACTIVE' } : undefined } };
    });
    const error = await run('alarm-rollback', WITH_INSTANCES, { ...SHORT, deploymentDeadlineSeconds: 0.05 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('deployment d-1 ended Stopped but no automatic rollback was started');
  });

  test('fails at the deadline when the deployment never ends', async () => {
    const error = await run('alarm-rollback', WITH_INSTANCES, { ...SHORT, deploymentDeadlineSeconds: 0 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('deployment d-1 is still InProgress after 0 s with lab-5xx in ALARM');
    expect(alarmStates().at(-1)).toBe('lab-5xx=OK');
  });
});

describe('redeploy-failed', () => {
  test('fails a deployment without rollback, then redeploys to the failed instance first', async () => {
    await learnerRun('redeploy-failed');
    expect(codedeploy.commandCalls(CreateDeploymentCommand)[0].args[0].input.autoRollbackConfiguration).toEqual({ enabled: false });
    expect(lines.at(-1)).toBe('d-2: deployed to the failed instance(s) first (i-1), then to i-2');
    expect(lines).toEqual([
      '\n== 1/1 redeploy-failed: a failed deployment without rollback, then a redeployment that goes to the failed instance first',
      ...pushed(),
      'd-1: Failed without rollback; failed instances: i-1',
      ...printedInstance('i-1: Succeeded', ALL),
      ...printedInstance('i-2: Succeeded', ALL),
      'd-2: deployed to the failed instance(s) first (i-1), then to i-2',
    ]);
  });

  test('when every instance failed, the redeployment has no other to go to after them', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      if (result.info.status === 'Failed') result.targets = [target('i-1', 'Failed', []), target('i-2', 'Failed', [])];
      return result;
    };
    await run('redeploy-failed');
    expect(lines.at(-1)).toBe('d-2: deployed to the failed instance(s) first (i-1, i-2), then to no other');
    expect(lines).toContain('d-1: Failed without rollback; failed instances: i-1, i-2');
  });

  test('fails when the broken revision\'s deployment succeeds', async () => {
    world.outcome = (input, id) => ({ ...labOutcome(input, id), info: { deploymentId: id, status: 'Succeeded' } });
    expect(await failure('redeploy-failed')).toBe('the broken revision\'s deployment d-1 ended Succeeded, not Failed');
  });

  test('fails when the redeployment fails', async () => {
    world.outcome = (input, id) => (id === 'd-2' ? { info: { deploymentId: id, status: 'Failed', errorInformation: { message: 'agent down' } }, targets: [] } : labOutcome(input, id));
    expect(await failure('redeploy-failed')).toBe('the redeployment d-2 ended Failed: agent down');
  });

  test('without instances, says what it needs', async () => {
    await runWithout('redeploy-failed');
    expect(lines.at(-1)).toBe(`redeploying to failed instances ${NEEDS}`);
  });

  test('fails when no instance is marked Failed', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      if (result.info.status === 'Failed') result.targets = [target('i-1', 'Skipped', []), target('i-2', 'Skipped', [])];
      return result;
    };
    expect(await failure('redeploy-failed')).toMatch(/failed, but no instance is marked Failed/);
  });

  test('an instance the redeployment skipped is not counted among those it deployed to', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      if (result.info.status === 'Succeeded') result.targets.push(target('i-3', 'Skipped', []));
      return result;
    };
    await run('redeploy-failed');
    expect(codedeploy.commandCalls(CreateDeploymentCommand)[1].args[0].input).toEqual({ applicationName: 'app', fileExistsBehavior: 'OVERWRITE', deploymentGroupName: 'in-place', revision: codedeploy.commandCalls(RegisterApplicationRevisionCommand)[0].args[0].input.revision });
    expect(lines.at(-1)).toBe('d-2: deployed to the failed instance(s) first (i-1), then to i-2');
  });

  test('fails when only some of the failed instances went first', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      result.targets = result.info.status === 'Failed'
        ? [target('i-1', 'Failed', []), target('i-2', 'Succeeded', []), target('i-3', 'Failed', [])]
        : [target('i-1', 'Succeeded', events(ALL, 0)), target('i-2', 'Succeeded', events(ALL, 20)), target('i-3', 'Succeeded', events(ALL, 40))];
      return result;
    };
    expect(await failure('redeploy-failed')).toBe('d-2 deployed to i-1, i-2, i-3 in that order: the failed instances i-1, i-3 were not first');
  });

  test('fails when the redeployment starts with the healthy instance', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      if (result.info.status === 'Succeeded') result.targets = [target('i-1', 'Succeeded', events(ALL, 20)), target('i-2', 'Succeeded', events(ALL, 0))];
      return result;
    };
    expect(await failure('redeploy-failed')).toMatch(/deployed to i-2, i-1 in that order: the failed instances i-1 were not first/);
  });
});

describe('blue-green', () => {
  test('creates the blue/green group with the SDK: a copy of the stack\'s group behind its target group, watching the alarm', async () => {
    await learnerRun('blue-green');
    const created = codedeploy.commandCalls(CreateDeploymentGroupCommand).map((c) => c.args[0].input);
    expect(created).toEqual([blueGreenGroupInput(WITH_INSTANCES)]);
    expect(created[0]).toMatchObject({
      applicationName: 'app',
      deploymentGroupName: 'BlueGreen',
      serviceRoleArn: WITH_INSTANCES.ServiceRoleArn,
      autoScalingGroups: ['fleet'],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 },
      },
      loadBalancerInfo: { targetGroupInfoList: [{ name: 'lab-tg' }] },
      alarmConfiguration: { enabled: true, alarms: [{ name: 'lab-5xx' }] },
      autoRollbackConfiguration: { enabled: true, events: expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM']) },
    });
    expect(created[0].deploymentConfigName).toBe('CodeDeployDefault.AllAtOnce');
    expect(created[0].autoRollbackConfiguration?.events).toEqual(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']);
    expect(codedeploy.commandCalls(CreateDeploymentCommand)[0].args[0].input.deploymentGroupName).toBe('BlueGreen');
    expect(lines).toEqual([
      '\n== 1/1 blue-green: blue/green: create the group with the SDK; a copy of the Auto Scaling group gets the revision and the traffic',
      'created the blue/green group BlueGreen with CreateDeploymentGroup (CloudFormation cannot, for EC2)',
      ...pushed(),
      'blue/green deployment d-1: CodeDeploy copies the Auto Scaling group, deploys to the copy, moves the traffic, then terminates the original instances',
      ...printedInstance('i-3 (Green): Succeeded', REPLACE),
      ...printedInstance('i-4 (Green): Succeeded', REPLACE),
      ...printedInstance('i-1 (Blue): Succeeded', BLOCK),
      ...printedInstance('i-2 (Blue): Succeeded', BLOCK),
      'traffic now goes to CodeDeploy_BlueGreen_d-1 (2 instances), which CloudFormation does not know about;',
      'the stack\'s own group is deleted with the originals after 5 minutes: run clean-up, then cdk destroy (README, "Destroy")',
    ]);
  });

  test('reads the targets of a large deployment 25 at a time', async () => {
    world.outcome = (input, id) => ({
      ...labOutcome(input, id),
      targets: [...Array.from({ length: 26 }, (_, i) => target(`i-g${i}`, 'Succeeded', events(REPLACE, 0), 'Green')), target('i-1', 'Succeeded', events(BLOCK, 20), 'Blue')],
    });
    await run('blue-green');
    expect(codedeploy.commandCalls(BatchGetDeploymentTargetsCommand).map((c) => c.args[0].input.targetIds?.length)).toEqual([25, 2]);
  });

  test('says how many instances the copy has, none when it lists none', async () => {
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(({ AutoScalingGroupNames }) => ({ AutoScalingGroups: AutoScalingGroupNames.map((name: string) => ({ AutoScalingGroupName: name })) }));
    await run('blue-green');
    expect(lines.at(-2)).toBe('traffic now goes to CodeDeploy_BlueGreen_d-1 (0 instances), which CloudFormation does not know about;');
  });

  test('fails with CodeDeploy\'s own error when it refuses to create the group for another reason', async () => {
    codedeploy.on(CreateDeploymentGroupCommand).rejects(Object.assign(new Error('the service role cannot be assumed'), { name: 'InvalidRoleException' }));
    const error = await run('blue-green').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe('the service role cannot be assumed');
  });

  test('replacement instances get the revision and the traffic; the copy of the group is found', async () => {
    await run('blue-green');
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input.AutoScalingGroupNames).toEqual(['CodeDeploy_BlueGreen_d-1']);
    expect(lines).toContain('i-3 (Green): Succeeded');
    expect(lines).toContain('i-1 (Blue): Succeeded');
  });

  test('uses the group an earlier run created', async () => {
    world.blueGreenGroup = blueGreenGroupInput(WITH_INSTANCES);
    await run('blue-green');
    expect(lines).toContain('the blue/green group BlueGreen exists from an earlier run: using it');
  });

  test('without instances, says what it needs and creates nothing', async () => {
    await runWithout('blue-green');
    expect(lines.at(-1)).toBe(`the blue/green group ${NEEDS}`);
    expect(codedeploy.commandCalls(CreateDeploymentGroupCommand)).toHaveLength(0);
  });

  const only = (labels: ('Blue' | 'Green')[]) => () =>
    (world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      result.targets = result.targets.filter((t) => labels.includes(t.instanceLabel!));
      return result;
    });
  test.each<[string, () => void, RegExp]>([
    ['an existing group of the same name that is in place', () => (world.blueGreenGroup = { applicationName: 'app', deploymentGroupName: 'BlueGreen', serviceRoleArn: 'r', deploymentStyle: { deploymentType: 'IN_PLACE' } }), /BlueGreen is IN_PLACE without COPY_AUTO_SCALING_GROUP/],
    ['no replacement instance', only(['Blue']), /no replacement \(Green\) instance of d-1 was registered/],
    [
      'an existing blue/green group that does not copy the Auto Scaling group',
      () => (world.blueGreenGroup = { ...blueGreenGroupInput(WITH_INSTANCES), blueGreenDeploymentConfiguration: { greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' } } }),
      /^BlueGreen is BLUE_GREEN without COPY_AUTO_SCALING_GROUP, not a blue\/green group copying the Auto Scaling group: delete it \(clean-up\) and run again$/,
    ],
    [
      'a failed blue/green deployment',
      () => (world.outcome = (input, id) => ({ ...labOutcome(input, id), info: { deploymentId: id, status: 'Failed', errorInformation: { message: 'the replacement instances failed ValidateService' } } })),
      /^blue\/green deployment d-1 ended Failed: the replacement instances failed ValidateService$/,
    ],
    [
      'replacement instances whose AllowTraffic failed',
      () => (world.outcome = (input, id) => {
        const result = labOutcome(input, id);
        for (const t of result.targets) if (t.instanceLabel === 'Green') t.lifecycleEvents = events(REPLACE, 0, 'AllowTraffic');
        return result;
      }),
      /^no replacement \(Green\) instance of d-1 was registered with the target group$/,
    ],
    ['no original instance deregistered', only(['Green']), /no original \(Blue\) instance of d-1 was deregistered/],
    ['only the original instances, deployed in place', () => (world.outcome = (input, id) => ({ ...labOutcome(input, id), targets: [target('i-1', 'Succeeded', events(ALL, 0), 'Blue')] })), /^no replacement \(Green\) instance of d-1 was registered with the target group$/],
    ['no copy of the group', () => autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] }), /the copy CodeDeploy_BlueGreen_d-1 of the Auto Scaling group is not there/],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    expect(await failure('blue-green')).toMatch(message);
  });
});

describe('clean-up', () => {
  const copiesThenGone = (waiterReadsWhileThere: number) => {
    let waiterReads = 0;
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(({ AutoScalingGroupNames, NextToken }) => {
      if (AutoScalingGroupNames) {
        waiterReads += 1;
        return { AutoScalingGroups: waiterReads <= waiterReadsWhileThere ? AutoScalingGroupNames.map((name: string) => ({ AutoScalingGroupName: name })) : [] };
      }
      return NextToken
        ? { AutoScalingGroups: [{ AutoScalingGroupName: 'CodeDeploy_Other_d-2' }, { AutoScalingGroupName: 'CodeDeploy_BlueGreen_d-3' }] }
        : { AutoScalingGroups: [{ AutoScalingGroupName: 'CodeDeploy_BlueGreen_d-1' }, { AutoScalingGroupName: 'fleet' }], NextToken: 'next' };
    });
  };
  const waiterReads = () => autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).filter((c) => c.args[0].input.AutoScalingGroupNames);

  test('deletes the blue/green group, then force-deletes every copy it made, across pages, and waits until they are gone', async () => {
    copiesThenGone(1);
    codedeploy.on(DeleteDeploymentGroupCommand).resolves({ hooksNotCleanedUp: [] });
    await learnerRun('clean-up');
    expect(codedeploy.commandCalls(DeleteDeploymentGroupCommand).map((c) => c.args[0].input)).toEqual([{ applicationName: 'app', deploymentGroupName: 'BlueGreen' }]);
    expect(autoScaling.commandCalls(DeleteAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'CodeDeploy_BlueGreen_d-1', ForceDelete: true },
      { AutoScalingGroupName: 'CodeDeploy_BlueGreen_d-3', ForceDelete: true },
    ]);
    expect(waiterReads().map((c) => c.args[0].input.AutoScalingGroupNames)).toEqual([['CodeDeploy_BlueGreen_d-1', 'CodeDeploy_BlueGreen_d-3'], ['CodeDeploy_BlueGreen_d-1', 'CodeDeploy_BlueGreen_d-3']]);
    expect(lines.at(-1)).toBe('CodeDeploy_BlueGreen_d-1, CodeDeploy_BlueGreen_d-3 and their instances are gone: cdk destroy can delete the stack');
    expect(lines).toEqual([
      '\n== 1/1 clean-up: delete the blue/green group and the Auto Scaling groups it created, and wait until they are gone, before cdk destroy',
      'deleted the blue/green group BlueGreen',
      'deleting CodeDeploy_BlueGreen_d-1 and its instances',
      'deleting CodeDeploy_BlueGreen_d-3 and its instances',
      'CodeDeploy_BlueGreen_d-1, CodeDeploy_BlueGreen_d-3 and their instances are gone: cdk destroy can delete the stack',
    ]);
  });

  test('fails with CodeDeploy\'s own error when it refuses to delete the group for another reason', async () => {
    codedeploy.on(DeleteDeploymentGroupCommand).rejects(Object.assign(new Error('not authorized to delete the group'), { name: 'AccessDeniedException' }));
    const error = await run('clean-up').catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe('not authorized to delete the group');
    expect(autoScaling.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
  });

  test('says which lifecycle hooks CodeDeploy could not remove', async () => {
    copiesThenGone(0);
    codedeploy.on(DeleteDeploymentGroupCommand).resolves({ hooksNotCleanedUp: [{ name: 'fleet', hook: 'CodeDeploy-managed-automatic-launch-deployment-hook-BlueGreen-1' }] });
    await run('clean-up');
    expect(lines).toContain('CodeDeploy could not remove its lifecycle hook CodeDeploy-managed-automatic-launch-deployment-hook-BlueGreen-1 from fleet: aws autoscaling delete-lifecycle-hook --auto-scaling-group-name fleet --lifecycle-hook-name CodeDeploy-managed-automatic-launch-deployment-hook-BlueGreen-1');
  });

  test('fails when the copies are still there at the deadline', async () => {
    copiesThenGone(Number.MAX_SAFE_INTEGER);
    codedeploy.on(DeleteDeploymentGroupCommand).resolves({});
    const error = await run('clean-up', WITH_INSTANCES, { ...SHORT, groupDeletionDeadlineSeconds: 0.02 }).catch((e: unknown) => e);
    // No hooksNotCleanedUp in the answer: nothing to say about hooks.
    expect(lines.slice(1, 3)).toEqual(['deleted the blue/green group BlueGreen', 'deleting CodeDeploy_BlueGreen_d-1 and its instances']);
    expect((error as Error).message).toBe('CodeDeploy_BlueGreen_d-1, CodeDeploy_BlueGreen_d-3 still exist after 0.02 s: wait, then run clean-up again before cdk destroy');
  });

  test('without a blue/green group or copies there is nothing to delete', async () => {
    codedeploy.on(DeleteDeploymentGroupCommand).rejects(new DeploymentGroupDoesNotExistException({ message: 'no such group', $metadata: {} }));
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'fleet' } as never] });
    await runWithout('clean-up');
    expect(autoScaling.commandCalls(DeleteAutoScalingGroupCommand)).toHaveLength(0);
    expect(lines.slice(1)).toEqual([
      'no blue/green group BlueGreen: the blue-green step did not run, or clean-up already deleted it',
      'no Auto Scaling group named CodeDeploy_BlueGreen_*: nothing CodeDeploy created is left',
    ]);
  });
});
