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
  codedeploy.on(BatchGetDeploymentTargetsCommand).callsFake(({ deploymentId, targetIds }) => ({
    deploymentTargets: world.deployments.get(deploymentId)!.targets.filter((t) => targetIds.includes(t.targetId!)).map((instanceTarget) => ({ deploymentTargetType: 'InstanceTarget', instanceTarget })),
  }));
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
});

describe('push', () => {
  test('uploads both revisions under the prefix and registers them', async () => {
    await learnerRun('push');
    const keys = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input.Key);
    expect(keys).toEqual(['revisions/run-t/sample.zip', 'revisions/run-t/broken-validate-service.zip']);
    const registered = codedeploy.commandCalls(RegisterApplicationRevisionCommand).map((c) => c.args[0].input.revision?.s3Location);
    expect(registered.map((l) => [l?.bundleType, l?.key])).toEqual([['zip', keys[0]], ['zip', keys[1]]]);
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
  });

  test('a configuration 2 instances cannot meet fails at once with HEALTH_CONSTRAINTS_INVALID, without a rollback', async () => {
    await run('configs');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).at(-1)!.args[0].input.autoRollbackConfiguration).toEqual({ enabled: false });
    expect(lines.at(-1)).toBe('\ncustom-three-quarters (FLEET_PERCENT 75 of 2 rounds up to 2 healthy): Failed (HEALTH_CONSTRAINTS_INVALID)');
  });

  test('without instances, shows the deployment to the empty group failing with NO_INSTANCES', async () => {
    await runWithout('configs');
    expect(lines.at(-1)).toMatch(/^the Auto Scaling group is at capacity 0; .* -c codedeploy-ec2:instances=true/);
  });

  test.each<[string, () => void, string]>([
    ['an empty group that does not report NO_INSTANCES', () => (world.outcome = (_i, id) => ({ info: { deploymentId: id, status: 'Succeeded' }, targets: [] })), 'not Failed with NO_INSTANCES'],
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
});

describe('rollback', () => {
  test('shows the failed ValidateService log with the IMDSv2 identity, then the automatic rollback', async () => {
    await learnerRun('rollback');
    expect(codedeploy.commandCalls(CreateDeploymentCommand).map((c) => c.args[0].input.revision?.s3Location?.key)).toEqual(['revisions/run-t/broken-validate-service.zip']);
    expect(lines).toContain('read with IMDSv2 in the hook: instance i-0aaa1111bbb22222c in us-east-1a, role lab-InstanceRole, its credentials expire 2026-12-03T18:00:00Z');
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
    expect(lines.at(-1)).toMatch(/^a failed ValidateService and the automatic rollback needs instances/);
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
  });

  test('without instances, says what it needs', async () => {
    await runWithout('alarm-rollback');
    expect(lines.at(-1)).toMatch(/^a deployment stopped by its alarm needs instances/);
    expect(alarmStates()).toEqual([]);
  });

  test('fails when the alarm does not stop the deployment, and still sets the alarm back to OK', async () => {
    cloudWatch.on(SetAlarmStateCommand).resolves({});
    expect(await failure('alarm-rollback')).toBe('deployment d-1 ended Succeeded (undefined), not stopped by its alarm (ALARM_ACTIVE)');
    expect(alarmStates().at(-1)).toBe('lab-5xx=OK');
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
  });

  test('without instances, says what it needs', async () => {
    await runWithout('redeploy-failed');
    expect(lines.at(-1)).toMatch(/^redeploying to failed instances needs instances/);
  });

  test('fails when no instance is marked Failed', async () => {
    world.outcome = (input, id) => {
      const result = labOutcome(input, id);
      if (result.info.status === 'Failed') result.targets = [target('i-1', 'Skipped', []), target('i-2', 'Skipped', [])];
      return result;
    };
    expect(await failure('redeploy-failed')).toMatch(/failed, but no instance is marked Failed/);
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
    expect(codedeploy.commandCalls(CreateDeploymentCommand)[0].args[0].input.deploymentGroupName).toBe('BlueGreen');
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
    expect(lines.at(-1)).toMatch(/^the blue\/green group needs instances/);
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
    ['no original instance deregistered', only(['Green']), /no original \(Blue\) instance of d-1 was deregistered/],
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
