import { CloudFormationClient, DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  CreateApplicationVersionCommand,
  CreateEnvironmentCommand,
  CreateEnvironmentCommandInput,
  DeleteApplicationVersionCommand,
  DescribeAccountAttributesCommand,
  DescribeApplicationsCommand,
  DescribeApplicationVersionsCommand,
  DescribeConfigurationSettingsCommand,
  DescribeEnvironmentsCommand,
  DescribeEventsCommand,
  ElasticBeanstalkClient,
  EventDescription,
  EventSeverity,
  SwapEnvironmentCNAMEsCommand,
  TerminateEnvironmentCommand,
  UpdateEnvironmentCommand,
  UpdateEnvironmentCommandInput,
} from '@aws-sdk/client-elastic-beanstalk';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mockClient } from 'aws-sdk-client-mock';
import { BEANSTALK_LAB } from '../../../labs/beanstalk/constants';
import { appGreeting, greenConsent, steps, timing } from '../../../labs/beanstalk/exercise';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';

const beanstalkMock = mockClient(ElasticBeanstalkClient);
const cloudFormationMock = mockClient(CloudFormationClient);
const sqsMock = mockClient(SQSClient);
const { precedence } = BEANSTALK_LAB;
const APP = 'BeanstalkLab-App';

interface FakeEnvironment {
  name: string;
  id: string;
  tier: 'WebServer' | 'Worker';
  status: 'Launching' | 'Ready' | 'Updating' | 'Terminating' | 'Terminated';
  versionLabel: string;
  cname: string;
  /** GREETING in the environment's own settings (copied from the saved configuration at creation); undefined when removed. */
  greeting: string | undefined;
  pendingVersion?: string;
  /** When the last update finished. */
  dateUpdated: Date;
  /** What the next read returns instead, when a read lags behind an update. */
  staleRead?: FakeEnvironment;
}

/** An in-memory Elastic Beanstalk and CloudFormation with the behaviour the exercise relies on. */
class FakeBeanstalk {
  maxCount: number = BEANSTALK_LAB.maxVersions;
  savedGreeting: string = precedence.savedConfiguration;
  readonly versions = new Map<string, 'Processed' | 'Processing' | 'Failed'>([['v-old', 'Processed'], ['v-stack', 'Processed']]);
  readonly environments: FakeEnvironment[] = [this.environment('web-env', 'e-web1', 'WebServer', 'web-env.us-east-1.elasticbeanstalk.com')];
  readonly events: EventDescription[] = [];
  /** The environments' stacks by name (awseb-<id>-stack); a deleted one is found by its id only. */
  readonly stacks = new Map<string, { id: string; status: string; types: string[] }>([
    // In the order and with the repeats CloudFormation lists them: the exercise prints each type once, sorted.
    ['awseb-e-web1-stack', { id: 'arn:stack/awseb-e-web1-stack/1', status: 'CREATE_COMPLETE', types: ['AWS::EC2::SecurityGroup', 'AWS::AutoScaling::AutoScalingGroup', 'AWS::EC2::EIP', 'AWS::EC2::SecurityGroup'] }],
    ['awseb-e-worker-stack', { id: 'arn:stack/awseb-e-worker-stack/1', status: 'CREATE_COMPLETE', types: ['AWS::AutoScaling::AutoScalingGroup', 'AWS::DynamoDB::Table', 'AWS::EC2::SecurityGroup'] }],
  ]);
  readonly updates: UpdateEnvironmentCommandInput[] = [];
  readonly created: CreateEnvironmentCommandInput[] = [];
  /** Messages in the worker queue and its DLQ (visible, in flight); the daemon takes one per read unless stuck. */
  readonly queues = { jobs: { visible: 0, inFlight: 0 }, dlq: { visible: 0, inFlight: 0 } };

  /** Deviations a negative test switches on. */
  readonly faults = {
    deploymentRollsBack: false,
    versionFails: false,
    errorEvent: false,
    noCompletionEvent: false,
    neverReady: false,
    directIgnored: false,
    removalFallsToSaved: false,
    templateIgnored: false,
    swapIgnored: false,
    appUnreachable: false,
    versionStuck: false,
    updateStartsLate: false,
    listedStale: false,
    restoreIgnored: false,
    workerStuck: false,
    lifecycleError: false,
    /** Lifecycle notes at severities below WARN, which are no errors. */
    lifecycleNotes: false,
    fatalEvent: false,
    lifecycleIdle: false,
    stackNeverDeleted: false,
    serviceClockBehind: false,
    restoreRollsBack: false,
  };

  environment(name: string, id: string, tier: FakeEnvironment['tier'], cname: string): FakeEnvironment {
    return { name, id, tier, status: 'Ready', versionLabel: 'v-stack', cname, greeting: precedence.savedConfiguration, dateUpdated: new Date(0) };
  }

  private find(name: string | undefined): FakeEnvironment {
    const environment = this.environments.find((e) => e.name === name);
    if (!environment) throw new Error(`No Environment found for EnvironmentName = '${name}'.`);
    return environment;
  }

  /** What the app at an environment's CNAME answers: its effective GREETING. */
  readonly askedUrls: string[] = [];
  async greetingServedAt(url: string): Promise<string | undefined> {
    this.askedUrls.push(url);
    const environment = this.environments.find((e) => url === `http://${e.cname}/`);
    if (!environment || this.faults.appUnreachable) throw new Error(`connect ETIMEDOUT ${url}`);
    return environment.greeting ?? precedence.ebextensions;
  }

  /** An update finishes by the next describe (unless it never does): the exercise must wait for Ready. */
  private settle(environment: FakeEnvironment): void {
    if (environment.status === 'Terminating') {
      environment.status = 'Terminated';
      const stack = this.stacks.get(`awseb-${environment.id}-stack`);
      if (stack && !this.faults.stackNeverDeleted) stack.status = 'DELETE_COMPLETE';
      return;
    }
    if (!['Updating', 'Launching'].includes(environment.status) || this.faults.neverReady) return;
    environment.status = 'Ready';
    // The service's clock moves on between an update's start and its end.
    const serviceNow = Date.now() - (this.faults.serviceClockBehind ? 3_600_000 : 0);
    environment.dateUpdated = new Date(Math.max(serviceNow, environment.dateUpdated.getTime() + 1));
    if (environment.pendingVersion) {
      const rollsBack = this.faults.deploymentRollsBack || (this.faults.restoreRollsBack && environment.pendingVersion === 'v-stack');
      if (!rollsBack) environment.versionLabel = environment.pendingVersion;
      environment.pendingVersion = undefined;
      const event = (Message: string, Severity: EventSeverity = 'INFO') => this.events.push({ EventDate: new Date(), Severity, Message, EnvironmentName: environment.name });
      event('Environment update is starting.');
      event('Deploying new version to instance(s).');
      if (this.faults.fatalEvent) event('Instance deployment failed.', 'FATAL');
      if (this.faults.errorEvent) event('During an aborted deployment, some instances may have deployed the new application version.', 'ERROR');
      if (!this.faults.noCompletionEvent) event('Environment update completed successfully.');
    }
  }

  install(): void {
    beanstalkMock.on(DescribeAccountAttributesCommand).resolves({ ResourceQuotas: { ApplicationVersionQuota: { Maximum: 1000 } } });
    beanstalkMock.on(DescribeApplicationsCommand).callsFake(() => ({
      Applications: [{ ApplicationName: APP, ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxCountRule: { Enabled: true, MaxCount: this.maxCount, DeleteSourceFromS3: false } } } }],
    }));
    // Two pages, one version each: the exercise must follow NextToken.
    beanstalkMock.on(DescribeApplicationVersionsCommand).callsFake((input: { VersionLabels?: string[]; NextToken?: string }) => {
      const all = [...this.versions.entries()].reverse().map(([VersionLabel, Status]) => ({ VersionLabel, Status }));
      if (input.VersionLabels) return { ApplicationVersions: all.filter((v) => input.VersionLabels?.includes(v.VersionLabel)) };
      const page = Number(input.NextToken ?? 0);
      return { ApplicationVersions: all.slice(page, page + 1), NextToken: page + 1 < all.length ? String(page + 1) : undefined };
    });
    beanstalkMock.on(DescribeConfigurationSettingsCommand).callsFake((input: { TemplateName?: string; EnvironmentName?: string }) => {
      if (input.TemplateName) {
        return { ConfigurationSettings: [{ OptionSettings: [{ Namespace: precedence.namespace, OptionName: precedence.optionName, Value: this.savedGreeting }] }] };
      }
      const environment = this.find(input.EnvironmentName);
      const greeting = this.faults.listedStale ? precedence.savedConfiguration : (environment.greeting ?? precedence.ebextensions);
      return {
        ConfigurationSettings: [
          // A draft first: the exercise must read the deployed configuration.
          { DeploymentStatus: 'pending', OptionSettings: [{ Namespace: precedence.namespace, OptionName: precedence.optionName, Value: 'a draft' }] },
          {
            DeploymentStatus: 'deployed',
            OptionSettings: [
              { Namespace: 'aws:elasticbeanstalk:command', OptionName: 'DeploymentPolicy', Value: 'Immutable' },
              // The effective value, whatever its level: .ebextensions values are listed too.
              { Namespace: precedence.namespace, OptionName: precedence.optionName, Value: greeting },
              ...this.blueOptions,
            ],
          },
        ],
      };
    });
    beanstalkMock.on(DescribeEnvironmentsCommand).callsFake((input: { EnvironmentNames?: string[]; EnvironmentIds?: string[] }) => {
      const wanted = (e: FakeEnvironment) => (!input.EnvironmentNames || input.EnvironmentNames.includes(e.name)) && (!input.EnvironmentIds || input.EnvironmentIds.includes(e.id));
      const selected = this.environments.filter(wanted).map((e) => {
        const stale = e.staleRead;
        e.staleRead = undefined;
        if (stale) return stale;
        this.settle(e);
        return e;
      });
      return { Environments: selected.map((e) => this.describe(e)) };
    });
    beanstalkMock.on(CreateApplicationVersionCommand).callsFake((input: { VersionLabel: string }) => {
      this.versions.set(input.VersionLabel, this.faults.versionFails ? 'Failed' : this.faults.versionStuck ? 'Processing' : 'Processed');
      // The lifecycle policy deletes the oldest versions beyond its count, never one an environment runs.
      const inUse = new Set(this.environments.map((e) => e.versionLabel));
      for (const label of [...this.versions.keys()]) {
        if (this.faults.lifecycleIdle || this.versions.size <= this.maxCount) break;
        if (!inUse.has(label) && label !== input.VersionLabel) this.versions.delete(label);
      }
      if (this.faults.lifecycleNotes) {
        for (const Severity of ['TRACE', 'DEBUG', 'INFO'] as const) this.events.push({ EventDate: new Date(), Severity, Message: `application version lifecycle: ${Severity.toLowerCase()} note` });
      }
      if (this.faults.lifecycleError) this.events.push({ EventDate: new Date(), Severity: 'WARN', Message: 'Failed to delete application versions: the lifecycle service role is not allowed to' });
      return { ApplicationVersion: { VersionLabel: input.VersionLabel, DateCreated: new Date() } };
    });
    beanstalkMock.on(DeleteApplicationVersionCommand).callsFake((input: { VersionLabel: string }) => {
      this.versions.delete(input.VersionLabel);
      return {};
    });
    beanstalkMock.on(UpdateEnvironmentCommand).callsFake((input: UpdateEnvironmentCommandInput) => {
      this.updates.push(input);
      const environment = this.find(input.EnvironmentName);
      if (this.faults.updateStartsLate) environment.staleRead = { ...environment };
      const answer = this.describe(environment);
      environment.status = 'Updating';
      if (input.VersionLabel) environment.pendingVersion = input.VersionLabel;
      const direct = input.OptionSettings?.find((o) => o.OptionName === precedence.optionName);
      const ignored = this.faults.directIgnored || (this.faults.restoreIgnored && direct?.Value === precedence.savedConfiguration);
      if (direct && !ignored) environment.greeting = direct.Value;
      if (input.OptionsToRemove?.some((o) => o.OptionName === precedence.optionName)) {
        environment.greeting = this.faults.removalFallsToSaved ? this.savedGreeting : undefined;
      }
      return answer;
    });
    beanstalkMock.on(CreateEnvironmentCommand).callsFake((input: CreateEnvironmentCommandInput) => {
      this.created.push(input);
      const green = { ...this.environment(input.EnvironmentName ?? '', 'e-green', 'WebServer', 'green.us-east-1.elasticbeanstalk.com'), status: 'Launching' as const };
      this.environments.push(green);
      this.stacks.set('awseb-e-green-stack', { id: 'arn:stack/awseb-e-green-stack/1', status: 'CREATE_COMPLETE', types: ['AWS::AutoScaling::AutoScalingGroup'] });
      return this.describe(green);
    });
    beanstalkMock.on(TerminateEnvironmentCommand).callsFake((input: { EnvironmentId: string }) => {
      const environment = this.environments.find((e) => e.id === input.EnvironmentId);
      if (!environment) throw new Error(`No Environment found for EnvironmentId = '${input.EnvironmentId}'.`);
      environment.status = 'Terminating';
      return this.describe(environment);
    });
    beanstalkMock.on(DescribeEventsCommand).callsFake((input: { StartTime?: Date; NextToken?: string; EnvironmentName?: string }) => {
      const since = this.events.filter((e) => (e.EventDate?.getTime() ?? 0) >= (input.StartTime?.getTime() ?? 0))
        .filter((e) => !input.EnvironmentName || e.EnvironmentName === input.EnvironmentName);
      // Newest first, as the API answers, split over two pages.
      const ordered = [...since].reverse();
      return input.NextToken ? { Events: ordered.slice(2) } : { Events: ordered.slice(0, 2), NextToken: ordered.length > 2 ? 'more' : undefined };
    });
    beanstalkMock.on(SwapEnvironmentCNAMEsCommand).callsFake((input: { SourceEnvironmentName: string; DestinationEnvironmentName: string }) => {
      const [source, destination] = [this.find(input.SourceEnvironmentName), this.find(input.DestinationEnvironmentName)];
      if (!this.faults.swapIgnored) [source.cname, destination.cname] = [destination.cname, source.cname];
      source.status = destination.status = 'Updating';
      return {};
    });
    cloudFormationMock.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      const byName = this.stacks.get(input.StackName);
      const [name, stack] = byName && byName.status !== 'DELETE_COMPLETE' ? [input.StackName, byName] : [...this.stacks.entries()].find(([, s]) => s.id === input.StackName) ?? [];
      if (!stack) throw new Error(`Stack with id ${input.StackName} does not exist`);
      return { Stacks: [{ StackName: name, StackId: stack.id, StackStatus: stack.status, CreationTime: new Date() }] };
    });
    cloudFormationMock.on(ListStackResourcesCommand).callsFake((input: { StackName: string; NextToken?: string }) => {
      const summaries = (this.stacks.get(input.StackName)?.types ?? []).map((ResourceType, index) => ({ ResourceType, LogicalResourceId: `R${index}`, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() }));
      return input.NextToken ? { StackResourceSummaries: summaries.slice(1) } : { StackResourceSummaries: summaries.slice(0, 1), NextToken: summaries.length > 1 ? 'more' : undefined };
    });
    sqsMock.on(SendMessageCommand).callsFake(() => {
      this.queues.jobs.visible += 1;
      return { MessageId: 'm-1' };
    });
    sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => {
      const queue = input.QueueUrl === OUTPUTS.WorkerDlqUrl ? this.queues.dlq : this.queues.jobs;
      const counts = { ApproximateNumberOfMessages: String(queue.visible), ApproximateNumberOfMessagesNotVisible: String(queue.inFlight) };
      // The daemon takes a waiting message, then the app's 200 deletes it.
      if (queue === this.queues.jobs && !this.faults.workerStuck) {
        if (queue.inFlight > 0) queue.inFlight -= 1;
        else if (queue.visible > 0) [queue.visible, queue.inFlight] = [queue.visible - 1, queue.inFlight + 1];
      }
      return { Attributes: counts };
    });
  }

  /** The blue environment's instance and network options, which a green one copies. */
  blueOptions = [
    ['aws:elasticbeanstalk:environment', 'ServiceRole', 'arn:aws:iam::1:role/service'],
    ['aws:autoscaling:launchconfiguration', 'IamInstanceProfile', 'profile'],
    ['aws:autoscaling:launchconfiguration', 'DisableIMDSv1', 'true'],
    ['aws:autoscaling:launchconfiguration', 'RootVolumeType', 'gp3'],
    ['aws:autoscaling:launchconfiguration', 'RootVolumeSize', '10'],
    ['aws:ec2:instances', 'InstanceTypes', 't4g.micro'],
    ['aws:ec2:instances', 'SupportedArchitectures', 'arm64'],
    ['aws:ec2:vpc', 'VPCId', 'vpc-1'],
    ['aws:ec2:vpc', 'Subnets', 'subnet-a,subnet-b'],
    ['aws:ec2:vpc', 'AssociatePublicIpAddress', 'true'],
    ['aws:elasticbeanstalk:healthreporting:system', 'SystemType', 'enhanced'],
  ].map(([Namespace, OptionName, Value]) => ({ Namespace, OptionName, Value }));

  private describe(e: FakeEnvironment) {
    return { EnvironmentName: e.name, EnvironmentId: e.id, Status: e.status, VersionLabel: e.versionLabel, CNAME: e.cname, Tier: { Name: e.tier }, DateUpdated: e.dateUpdated };
  }
}

const OUTPUTS = {
  ApplicationName: APP,
  VersionLabel: 'v-stack',
  SavedConfigurationName: 'saved-config',
  SourceBundleBucket: 'cdk-assets',
  SourceBundleKey: 'bundle.zip',
  WebEnvironmentName: 'web-env',
  WorkerEnvironmentName: 'worker-env',
  WorkerQueueUrl: 'https://sqs/jobs',
  WorkerDlqUrl: 'https://sqs/jobs-dlq',
};

let fake: FakeBeanstalk;
let lines: string[];
beforeEach(() => {
  beanstalkMock.reset();
  cloudFormationMock.reset();
  sqsMock.reset();
  fake = new FakeBeanstalk();
  fake.environments.push(fake.environment('worker-env', 'e-worker', 'Worker', ''));
  fake.install();
  lines = [];
});

const options = (outputs: Record<string, string> = OUTPUTS, createGreen = false): ExerciseRunOptions => ({
  outputs,
  log: (line) => lines.push(line),
  runId: 'run-test',
  provide: [
    // The worker's deadline is a second: the fake drains the queue over a few reads, which a busy machine may spread over more than 50 ms.
    provide(timing, { pollSeconds: 0.01, updateDeadlineSeconds: 0.05, appDeadlineSeconds: 0, workerDeadlineSeconds: 1, emptyReadsInARow: 2 }),
    provide(appGreeting, (url: string) => fake.greetingServedAt(url)),
    provide(greenConsent, createGreen),
  ],
});
const run = (id: string, outputs?: Record<string, string>, createGreen?: boolean) => runExercise(steps, options(outputs, createGreen), id);
const failureOf = async (id: string, outputs?: Record<string, string>, createGreen?: boolean) => {
  const error = await run(id, outputs, createGreen).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ExerciseCheckFailed);
  return (error as Error).message;
};

describe('with the web environment and the worker', () => {
  test('every step passes its checks; without consent the swap says how to get a second web environment', async () => {
    await runExercise(steps, options());
    expect(lines).toEqual(expect.arrayContaining([
      `application ${APP}: lifecycle keeps the 5 newest versions, DeleteSourceFromS3=false`,
      '2 version(s), newest first: v-stack, v-old; the stack\'s is v-stack',
      'this account may keep 1000 versions across all its applications: the lifecycle policy keeps this one well below',
      'web-env deploys with DeploymentPolicy=Immutable (set with -c beanstalk:deployment-policy=...)',
      'web-env (e-web1) runs from its own stack awseb-e-web1-stack (CREATE_COMPLETE): AWS::AutoScaling::AutoScalingGroup, AWS::EC2::EIP, AWS::EC2::SecurityGroup',
      'awseb-e-worker-stack holds the cron leader table (AWS::DynamoDB::Table): the worker read cron.yaml, and its leader sends each job to the same queue',
    ]));
    expect(lines.some((l) => l.startsWith('only web-env serves web traffic: blue/green needs a second environment. Run this step with BEANSTALK_GREEN=create'))).toBe(true);
    const event = (text: string) => expect.stringMatching(new RegExp(`^  \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${text}$`));
    expect(lines).toEqual([
      '\n== 1/6 application: the application, its versions, lifecycle policy and saved configuration',
      'application BeanstalkLab-App: lifecycle keeps the 5 newest versions, DeleteSourceFromS3=false',
      '2 version(s), newest first: v-stack, v-old; the stack\'s is v-stack',
      'this account may keep 1000 versions across all its applications: the lifecycle policy keeps this one well below',
      'saved configuration saved-config: GREETING=from the saved configuration (the bundle\'s .ebextensions say "from .ebextensions")',
      '\n== 2/6 deploy: deploy a new version with the environment\'s deployment policy and print its events',
      'web-env deploys with DeploymentPolicy=Immutable (set with -c beanstalk:deployment-policy=...)',
      'created version run-test from the same bundle and validated it (Process=true)',
      '3 version(s) after the lifecycle policy ran (it keeps 5, never one an environment runs)',
      event('INFO Environment update is starting\\.'),
      event('INFO Deploying new version to instance\\(s\\)\\.'),
      event('INFO Environment update completed successfully\\.'),
      'web-env ran run-test (Immutable)',
      'web-env runs the stack\'s v-stack again; deleted version run-test (DeleteSourceBundle=false)',
      '\n== 3/6 precedence: one option at three levels: applied directly > saved configuration > .ebextensions',
      '  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="from the saved configuration"; the environment\'s settings list "from the saved configuration"',
      'the saved configuration\'s "from the saved configuration" beats the bundle\'s .ebextensions ("from .ebextensions")',
      '  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="applied directly"; the environment\'s settings list "applied directly"',
      'UpdateEnvironment set it directly: "applied directly", above the saved configuration',
      '  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="from .ebextensions"; the environment\'s settings list "from .ebextensions"',
      'OptionsToRemove took it out of the environment\'s settings: the bundle\'s .ebextensions value "from .ebextensions" shows',
      '  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="from the saved configuration"; the environment\'s settings list "from the saved configuration"',
      'set back to the saved configuration\'s value "from the saved configuration", as the environment was created',
      '\n== 4/6 environment-stack: the environment\'s own CloudFormation stack',
      'web-env (e-web1) runs from its own stack awseb-e-web1-stack (CREATE_COMPLETE): AWS::AutoScaling::AutoScalingGroup, AWS::EC2::EIP, AWS::EC2::SecurityGroup',
      'terminating an environment deletes that stack with everything in it (the swap step shows it on its green environment); this step only reads it',
      '\n== 5/6 worker: the worker: a message through the SQS daemon, and the cron leader table from cron.yaml',
      'sent message m-1 to the worker queue: the SQS daemon on worker-env POSTs it to /jobs and deletes it on the app\'s 200',
      'the worker queue read empty 2 times in a row and its dead-letter queue is empty: the app answered 200',
      'awseb-e-worker-stack holds the cron leader table (AWS::DynamoDB::Table): the worker read cron.yaml, and its leader sends each job to the same queue',
      '\n== 6/6 swap: blue/green: SwapEnvironmentCNAMEs between two web environments; a green one created and terminated with its stack',
      'only web-env serves web traffic: blue/green needs a second environment. Run this step with BEANSTALK_GREEN=create to let it create one',
      '(a single t4g.micro, about $0.0145 an hour, for the ten minutes or so until the step terminates it), or make one yourself (eb clone web-env)',
    ]);
    expect(beanstalkMock.commandCalls(SwapEnvironmentCNAMEsCommand)).toHaveLength(0);
    expect(beanstalkMock.commandCalls(CreateEnvironmentCommand)).toHaveLength(0);
    expect(beanstalkMock.commandCalls(DescribeApplicationsCommand).map((c) => c.args[0].input)).toEqual([{ ApplicationNames: [APP] }]);
    expect(beanstalkMock.commandCalls(DescribeEnvironmentsCommand).at(-1)!.args[0].input).toEqual({ ApplicationName: APP, IncludeDeleted: false });
    expect(sqsMock.commandCalls(GetQueueAttributesCommand)[0].args[0].input).toEqual({
      QueueUrl: OUTPUTS.WorkerQueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });
  });

  test('deploy: a version still being processed at the first read is waited for', async () => {
    let reads = 0;
    beanstalkMock.on(DescribeApplicationVersionsCommand).callsFake((input: { VersionLabels?: string[] }) => {
      if (input.VersionLabels) return { ApplicationVersions: [{ VersionLabel: 'run-test', Status: ++reads === 1 ? 'Processing' : 'Processed' }] };
      return { ApplicationVersions: [...fake.versions.keys()].reverse().map((VersionLabel) => ({ VersionLabel, Status: 'Processed' })) };
    });
    await run('deploy');
    expect(reads).toBe(2);
    expect(lines).toContain('created version run-test from the same bundle and validated it (Process=true)');
  });

  test('deploy: as many versions as the limit allows (5 kept + the one in use) is within it', async () => {
    for (let i = 0; i < 3; i++) fake.versions.set(`v-${i}`, 'Processed');
    fake.faults.lifecycleIdle = true;
    await run('deploy');
    expect(lines).toContain('6 version(s) after the lifecycle policy ran (it keeps 5, never one an environment runs)');
  });

  test('precedence: an app still serving the old greeting after the update is asked again until the deadline', async () => {
    let asked = 0;
    const stale = options();
    const served = (url: string) => (++asked === 2 ? Promise.resolve(precedence.savedConfiguration) : fake.greetingServedAt(url));
    await runExercise(steps, {
      ...stale,
      provide: [provide(timing, { pollSeconds: 0.01, updateDeadlineSeconds: 0.05, appDeadlineSeconds: 5, workerDeadlineSeconds: 1, emptyReadsInARow: 2 }), provide(appGreeting, served), provide(greenConsent, false)],
    }, 'precedence');
    // The second answer (after setting the option directly) was still the old one: the step asked once more.
    expect(asked).toBe(5);
    expect(lines).toContain('UpdateEnvironment set it directly: "applied directly", above the saved configuration');
  });

  test('deploy creates a validated version, deploys it, prints every event oldest first, then goes back to the stack\'s version and deletes its own', async () => {
    await run('deploy');
    expect(beanstalkMock.commandCalls(CreateApplicationVersionCommand)[0].args[0].input).toMatchObject({
      ApplicationName: APP, VersionLabel: 'run-test', SourceBundle: { S3Bucket: 'cdk-assets', S3Key: 'bundle.zip' }, Process: true,
    });
    expect(beanstalkMock.commandCalls(CreateApplicationVersionCommand)[0].args[0].input.Description).toBe('created by the beanstalk lab exercise');
    expect(beanstalkMock.commandCalls(DescribeApplicationVersionsCommand).map((c) => c.args[0].input)).toContainEqual({ ApplicationName: APP, VersionLabels: ['run-test'] });
    expect(fake.updates).toEqual([{ EnvironmentName: 'web-env', VersionLabel: 'run-test' }, { EnvironmentName: 'web-env', VersionLabel: 'v-stack' }]);
    expect(beanstalkMock.commandCalls(DeleteApplicationVersionCommand).map((c) => c.args[0].input)).toEqual([{ ApplicationName: APP, VersionLabel: 'run-test', DeleteSourceBundle: false }]);
    expect(fake.environments[0].versionLabel).toBe('v-stack');
    expect([...fake.versions.keys()]).toEqual(['v-old', 'v-stack']);
    const printed = lines.filter((l) => l.startsWith('  '));
    expect(printed.map((l) => l.replace(/^ {2}\S+ /, ''))).toEqual([
      'INFO Environment update is starting.',
      'INFO Deploying new version to instance(s).',
      'INFO Environment update completed successfully.',
    ]);
  });

  test('deploy: the lifecycle policy brings a long list of versions back within its count', async () => {
    for (let i = 0; i < 8; i++) fake.versions.set(`v-${i}`, 'Processed');
    await run('deploy');
    expect(lines).toContain('5 version(s) after the lifecycle policy ran (it keeps 5, never one an environment runs)');
  });

  test('precedence sets the option directly, removes it, then sets the saved value back; what is listed is what is served', async () => {
    await run('precedence');
    const option = { Namespace: precedence.namespace, OptionName: precedence.optionName };
    expect(fake.updates).toEqual([
      { EnvironmentName: 'web-env', OptionSettings: [{ ...option, Value: precedence.direct }] },
      { EnvironmentName: 'web-env', OptionsToRemove: [option] },
      { EnvironmentName: 'web-env', OptionSettings: [{ ...option, Value: precedence.savedConfiguration }] },
    ]);
    expect(fake.environments[0].greeting).toBe(precedence.savedConfiguration);
    expect(new Set(fake.askedUrls)).toEqual(new Set(['http://web-env.us-east-1.elasticbeanstalk.com/']));
    expect(lines.filter((l) => l.startsWith('  http://'))).toEqual([
      `  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="${precedence.savedConfiguration}"; the environment's settings list "${precedence.savedConfiguration}"`,
      `  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="${precedence.direct}"; the environment's settings list "${precedence.direct}"`,
      `  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="${precedence.ebextensions}"; the environment's settings list "${precedence.ebextensions}"`,
      `  http://web-env.us-east-1.elasticbeanstalk.com/ answers GREETING="${precedence.savedConfiguration}"; the environment's settings list "${precedence.savedConfiguration}"`,
    ]);
  });

  test('swap exchanges the CNAMEs of two web environments and swaps them back', async () => {
    fake.environments.push(fake.environment('green-env', 'e-green', 'WebServer', 'green-env.us-east-1.elasticbeanstalk.com'));
    await run('swap');
    expect(beanstalkMock.commandCalls(SwapEnvironmentCNAMEsCommand).map((c) => c.args[0].input)).toEqual([
      { SourceEnvironmentName: 'web-env', DestinationEnvironmentName: 'green-env' },
      { SourceEnvironmentName: 'web-env', DestinationEnvironmentName: 'green-env' },
    ]);
    expect(lines).toEqual([
      '\n== 1/1 swap: blue/green: SwapEnvironmentCNAMEs between two web environments; a green one created and terminated with its stack',
      'blue web-env answers web-env.us-east-1.elasticbeanstalk.com, green green-env answers green-env.us-east-1.elasticbeanstalk.com',
      'swap: web-env → green-env.us-east-1.elasticbeanstalk.com, green-env → web-env.us-east-1.elasticbeanstalk.com (DNS caches keep the old answer for its TTL)',
      'swap back: web-env → web-env.us-east-1.elasticbeanstalk.com, green-env → green-env.us-east-1.elasticbeanstalk.com (DNS caches keep the old answer for its TTL)',
    ]);
    expect(fake.environments[0].cname).toBe('web-env.us-east-1.elasticbeanstalk.com');
    expect(beanstalkMock.commandCalls(TerminateEnvironmentCommand)).toHaveLength(0);
  });

  test('with consent, swap creates a single-instance green environment like the blue one, swaps, swaps back, terminates it and sees its stack deleted', async () => {
    await run('swap', OUTPUTS, true);
    expect(fake.created).toEqual([expect.objectContaining({
      ApplicationName: APP, EnvironmentName: 'green-run-test', TemplateName: 'saved-config', VersionLabel: 'v-stack',
      OptionSettings: [{ Namespace: 'aws:elasticbeanstalk:environment', OptionName: 'EnvironmentType', Value: 'SingleInstance' }, ...fake.blueOptions],
    })]);
    expect(beanstalkMock.commandCalls(SwapEnvironmentCNAMEsCommand)).toHaveLength(2);
    expect(beanstalkMock.commandCalls(TerminateEnvironmentCommand).map((c) => c.args[0].input)).toEqual([{ EnvironmentId: 'e-green' }]);
    expect(fake.environments[0].cname).toBe('web-env.us-east-1.elasticbeanstalk.com');
    expect(lines).toContain('terminated green-run-test: its stack awseb-e-green-stack is DELETE_COMPLETE with everything it held');
    expect(fake.created[0]).toMatchObject({ Tags: [{ Key: 'lab', Value: 'beanstalk' }], Description: 'green environment of the beanstalk lab exercise: terminated by the swap step' });
    expect(lines.slice(0, 3)).toEqual([
      '\n== 1/1 swap: blue/green: SwapEnvironmentCNAMEs between two web environments; a green one created and terminated with its stack',
      'created green-run-test (e-green): a single instance from the saved configuration and the stack\'s version, with web-env\'s instance and network options',
      'blue web-env answers web-env.us-east-1.elasticbeanstalk.com, green green-run-test answers green.us-east-1.elasticbeanstalk.com',
    ]);
  });

  test('swap: a second web environment that is not Ready is not taken for the green one', async () => {
    fake.environments.push({ ...fake.environment('green-env', 'e-green', 'WebServer', 'green-env.us-east-1.elasticbeanstalk.com'), status: 'Launching' });
    fake.faults.neverReady = true;
    await run('swap');
    expect(lines.at(-2)).toBe('only web-env serves web traffic: blue/green needs a second environment. Run this step with BEANSTALK_GREEN=create to let it create one');
    expect(beanstalkMock.commandCalls(SwapEnvironmentCNAMEsCommand)).toHaveLength(0);
  });

  test('worker: a first read that shows the queue empty (the counts lag the send) is not taken for the job done', async () => {
    const counts = [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0]];
    sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => {
      const [visible, inFlight] = input.QueueUrl === OUTPUTS.WorkerDlqUrl ? [0, 0] : counts.shift() ?? [0, 0];
      return { Attributes: { ApproximateNumberOfMessages: String(visible), ApproximateNumberOfMessagesNotVisible: String(inFlight) } };
    });
    await run('worker');
    expect(sqsMock.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input.QueueUrl)).toEqual([...Array(5).fill(OUTPUTS.WorkerQueueUrl), OUTPUTS.WorkerDlqUrl]);
  });

  test('worker: a queue that reads empty at the deadline still gets its confirming reads', async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } });
    const zeroDeadline = options();
    await runExercise(steps, { ...zeroDeadline, provide: [provide(timing, { pollSeconds: 0.01, updateDeadlineSeconds: 0.05, appDeadlineSeconds: 0, workerDeadlineSeconds: 0, emptyReadsInARow: 2 }), ...zeroDeadline.provide!.slice(1)] }, 'worker');
    expect(lines).toContain('the worker queue read empty 2 times in a row and its dead-letter queue is empty: the app answered 200');
  });

  test('application: an account without a version quota in its attributes', async () => {
    beanstalkMock.on(DescribeAccountAttributesCommand).resolves({});
    await run('application');
    expect(lines).toContain('this account may keep an unknown number of versions across all its applications: the lifecycle policy keeps this one well below');
  });

  test('deploy: lifecycle notes below WARN are no lifecycle errors', async () => {
    fake.faults.lifecycleNotes = true;
    await run('deploy');
    expect(lines).toContain('web-env ran run-test (Immutable)');
  });

  test('worker: a message sent to the queue is taken and deleted, and nothing reaches the DLQ', async () => {
    await run('worker');
    expect(sqsMock.commandCalls(SendMessageCommand)[0].args[0].input).toEqual({ QueueUrl: OUTPUTS.WorkerQueueUrl, MessageBody: JSON.stringify({ job: 'exercise', runId: 'run-test' }) });
    expect(fake.queues.jobs).toEqual({ visible: 0, inFlight: 0 });
    expect(lines).toContain('the worker queue read empty 2 times in a row and its dead-letter queue is empty: the app answered 200');
  });
});

test('the web app\'s greeting is the greeting of the JSON it answers at /; an error status fails the request', async () => {
  const server = createServer((request, response) => {
    if (request.url === '/') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ greeting: 'hello from the app' }));
    else response.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const ask = await appGreeting.setUp({} as never);
    await expect(ask(`${base}/`)).resolves.toBe('hello from the app');
    await expect(ask(`${base}/down`)).rejects.toThrow(`${base}/down answered HTTP 503`);
  } finally {
    server.close();
  }
});

describe('without the environments (the default, $0)', () => {
  const withoutEnvironment = Object.fromEntries(Object.entries(OUTPUTS).filter(([name]) => !name.startsWith('Web') && !name.startsWith('Worker')));

  test('the application step passes and names the flag; the other steps say what they need and call nothing', async () => {
    await runExercise(steps, options(withoutEnvironment));
    const flag = `needs the environment: deploy with -c beanstalk:environment=true ($${BEANSTALK_LAB.environmentUsdPerMonth.toFixed(2)}/month while it exists)`;
    expect(lines).toContain(`the steps deploy, precedence, environment stack and swap ${flag}`);
    expect(lines.filter((l) => l === `skipped: this step ${flag}`)).toHaveLength(4);
    expect(lines).toContain(`skipped: this step needs the worker: deploy with -c beanstalk:worker=true ($${BEANSTALK_LAB.environmentUsdPerMonth.toFixed(2)}/month while it exists)`);
    expect(beanstalkMock.commandCalls(UpdateEnvironmentCommand)).toHaveLength(0);
    expect(beanstalkMock.commandCalls(DescribeEnvironmentsCommand)).toHaveLength(0);
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('each check fails when the lab misbehaves', () => {
  test('application: no lifecycle rule at all', async () => {
    beanstalkMock.on(DescribeApplicationsCommand).resolves({ Applications: [{ ApplicationName: APP }] });
    expect(await failureOf('application')).toBe('expected a lifecycle rule keeping 5 versions on BeanstalkLab-App, found undefined');
    beanstalkMock.on(DescribeApplicationsCommand).resolves({ Applications: [] });
    expect(await failureOf('application')).toBe('expected a lifecycle rule keeping 5 versions on BeanstalkLab-App, found undefined');
  });

  test('environment-stack: a stack whose update is still cleaning up is not complete', async () => {
    fake.stacks.get('awseb-e-web1-stack')!.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    expect(await failureOf('environment-stack')).toBe('the environment\'s stack awseb-e-web1-stack is UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
  });

  test('worker: messages in flight in the dead-letter queue count too', async () => {
    fake.queues.dlq.visible = 1;
    fake.queues.dlq.inFlight = 1;
    expect(await failureOf('worker')).toBe('the worker\'s dead-letter queue holds 2 message(s): jobs failed 3 times');
  });

  test('application: a lifecycle rule with the right count that is disabled', async () => {
    beanstalkMock.on(DescribeApplicationsCommand).resolves({
      Applications: [{ ApplicationName: APP, ResourceLifecycleConfig: { VersionLifecycleConfig: { MaxCountRule: { Enabled: false, MaxCount: 5, DeleteSourceFromS3: false } } } }],
    });
    expect(await failureOf('application')).toBe('expected a lifecycle rule keeping 5 versions on BeanstalkLab-App, found {"Enabled":false,"MaxCount":5,"DeleteSourceFromS3":false}');
  });

  test('deploy: an update that never starts (the environment stays Ready as it was)', async () => {
    beanstalkMock.on(UpdateEnvironmentCommand).callsFake((input: UpdateEnvironmentCommandInput) => {
      fake.updates.push(input);
      return { EnvironmentName: 'web-env', EnvironmentId: 'e-web1', Status: 'Ready', VersionLabel: 'v-stack', DateUpdated: new Date(0) };
    });
    expect(await failureOf('deploy')).toBe('web-env is still Ready without a finished update after 0.05 s');
  });

  test('deploy: a FATAL event', async () => {
    fake.faults.fatalEvent = true;
    expect(await failureOf('deploy')).toBe('the deployment logged 1 error event(s): Instance deployment failed.');
  });

  test('environment-stack: CloudFormation refusing the read for another reason fails with its error', async () => {
    cloudFormationMock.on(DescribeStacksCommand).rejects(Object.assign(new Error('User is not authorized to perform: cloudformation:DescribeStacks'), { name: 'AccessDenied' }));
    const error = await run('environment-stack').catch((caught: unknown) => caught);
    expect(error).not.toBeInstanceOf(ExerciseCheckFailed);
    expect((error as Error).message).toBe('User is not authorized to perform: cloudformation:DescribeStacks');
  });

  test('swap: a swap that fails leaves the created green environment running, and says so', async () => {
    fake.faults.swapIgnored = true;
    expect(await failureOf('swap', OUTPUTS, true)).toBe('0.05 s after the swap, web-env (Ready) answers web-env.us-east-1.elasticbeanstalk.com and green-run-test (Ready) green.us-east-1.elasticbeanstalk.com');
    expect(lines.at(-1)).toBe('green-run-test is left running (it may hold web-env\'s CNAME): swap back if needed (eb swap), then eb terminate green-run-test');
    expect(beanstalkMock.commandCalls(TerminateEnvironmentCommand)).toHaveLength(0);
  });

  test('application: a lifecycle policy keeping another number of versions', async () => {
    fake.maxCount = 200;
    expect(await failureOf('application')).toMatch(/^expected a lifecycle rule keeping 5 versions on BeanstalkLab-App, found .*"MaxCount":200/);
  });

  test('application: the stack\'s version is not among the versions (on any page)', async () => {
    fake.versions.delete('v-stack');
    expect(await failureOf('application')).toBe('the stack\'s version v-stack is not among the application\'s versions (v-old)');
  });

  test('application: the saved configuration does not set the precedence option', async () => {
    fake.savedGreeting = precedence.ebextensions;
    expect(await failureOf('application')).toBe(`the saved configuration saved-config sets GREETING="${precedence.ebextensions}", expected "${precedence.savedConfiguration}"`);
  });

  test('deploy: the new version fails validation', async () => {
    fake.faults.versionFails = true;
    expect(await failureOf('deploy')).toBe('version run-test failed validation (Process=true checks the bundle and its .ebextensions)');
    expect(fake.updates).toEqual([]);
  });

  test('deploy: the new version is never processed', async () => {
    fake.faults.versionStuck = true;
    expect(await failureOf('deploy')).toBe('version run-test is still Processing after 0.05 s');
    expect(fake.updates).toEqual([]);
  });

  test('deploy: the lifecycle policy deletes nothing (5 + 1 versions are allowed, 11 are not)', async () => {
    for (let i = 0; i < 8; i++) fake.versions.set(`v-${i}`, 'Processed');
    fake.faults.lifecycleIdle = true;
    expect(await failureOf('deploy')).toBe('11 versions 0.05 s after creating one: the lifecycle policy keeping 5 deleted none');
  });

  test('deploy: the lifecycle policy reports an error', async () => {
    fake.faults.lifecycleError = true;
    expect(await failureOf('deploy')).toBe('the version lifecycle reported: Failed to delete application versions: the lifecycle service role is not allowed to');
  });

  test('deploy: the environment named by the stack does not exist', async () => {
    expect(await failureOf('deploy', { ...OUTPUTS, WebEnvironmentName: 'gone-env' })).toBe('environment gone-env does not exist');
  });

  test('deploy: a read that still shows the environment Ready from before the update is not taken for its end', async () => {
    fake.faults.updateStartsLate = true;
    await run('deploy');
    expect(lines).toContain('web-env ran run-test (Immutable)');
  });

  test('deploy: a service clock an hour behind this machine\'s does not make a finished update look unfinished', async () => {
    fake.environments[0].dateUpdated = new Date(Date.now() - 7_200_000);
    fake.faults.serviceClockBehind = true;
    await run('deploy');
    expect(lines).toContain('web-env ran run-test (Immutable)');
  });

  test('deploy: the environment rolls back to the old version', async () => {
    fake.faults.deploymentRollsBack = true;
    expect(await failureOf('deploy')).toBe('web-env runs v-stack after the deployment, not run-test: it failed and rolled back');
  });

  test('deploy: going back to the stack\'s version fails, and the run\'s version is kept', async () => {
    fake.faults.restoreRollsBack = true;
    expect(await failureOf('deploy')).toBe('web-env runs run-test after going back, not the stack\'s v-stack');
    expect(beanstalkMock.commandCalls(DeleteApplicationVersionCommand)).toHaveLength(0);
  });

  test('deploy: an error event', async () => {
    fake.faults.errorEvent = true;
    expect(await failureOf('deploy')).toMatch(/^the deployment logged 1 error event\(s\): During an aborted deployment/);
  });

  test('deploy: no completion event', async () => {
    fake.faults.noCompletionEvent = true;
    expect(await failureOf('deploy')).toBe('no "update completed successfully" event since the deployment started');
  });

  test('deploy: the environment never becomes Ready again', async () => {
    fake.environments[0].status = 'Updating';
    fake.faults.neverReady = true;
    expect(await failureOf('deploy')).toBe('web-env is still Updating after 0.05 s');
  });

  test('precedence: the bundle\'s .ebextensions win over the saved configuration', async () => {
    fake.environments[0].greeting = undefined;
    expect(await failureOf('precedence')).toMatch(/^web-env serves GREETING="from .ebextensions": the saved configuration/);
  });

  test('precedence: a setting applied directly does not take effect', async () => {
    fake.faults.directIgnored = true;
    expect(await failureOf('precedence')).toBe(`after UpdateEnvironment set GREETING, web-env serves "${precedence.savedConfiguration}", expected "${precedence.direct}"`);
  });

  test('precedence: the configuration settings list another value than the app serves', async () => {
    fake.faults.listedStale = true;
    expect(await failureOf('precedence')).toBe(`web-env serves GREETING="${precedence.direct}" but its configuration settings list "${precedence.savedConfiguration}"`);
  });

  test('precedence: removing the setting shows the saved configuration instead of .ebextensions', async () => {
    fake.faults.removalFallsToSaved = true;
    expect(await failureOf('precedence')).toBe(`after OptionsToRemove, web-env serves "${precedence.savedConfiguration}", expected the bundle's .ebextensions value "${precedence.ebextensions}"`);
  });

  test('precedence: setting the saved value back changes nothing', async () => {
    fake.faults.restoreIgnored = true;
    expect(await failureOf('precedence')).toBe(`after setting it back, web-env serves "${precedence.ebextensions}", expected "${precedence.savedConfiguration}"`);
  });

  test('precedence: an app that does not answer fails with what the request said', async () => {
    fake.faults.appUnreachable = true;
    expect(await failureOf('precedence')).toBe(
      'web-env serves GREETING="(no answer: connect ETIMEDOUT http://web-env.us-east-1.elasticbeanstalk.com/)": the saved configuration ("from the saved configuration") should win over .ebextensions ("from .ebextensions")',
    );
  });

  test('environment-stack: the environment\'s stack is missing, deleted, rolled back, or holds no Auto Scaling group', async () => {
    const stack = fake.stacks.get('awseb-e-web1-stack');
    fake.stacks.delete('awseb-e-web1-stack');
    expect(await failureOf('environment-stack')).toBe('the environment\'s stack awseb-e-web1-stack is missing');
    // A deleted stack is not found by its name any more
    fake.stacks.set('awseb-e-web1-stack', { id: 'arn:1', status: 'DELETE_COMPLETE', types: [] });
    expect(await failureOf('environment-stack')).toBe('the environment\'s stack awseb-e-web1-stack is missing');
    fake.stacks.set('awseb-e-web1-stack', { id: 'arn:1', status: 'UPDATE_ROLLBACK_COMPLETE', types: ['AWS::AutoScaling::AutoScalingGroup'] });
    expect(await failureOf('environment-stack')).toBe('the environment\'s stack awseb-e-web1-stack is UPDATE_ROLLBACK_COMPLETE');
    fake.stacks.set('awseb-e-web1-stack', { ...(stack ?? { id: '' }), status: 'UPDATE_COMPLETE', types: ['AWS::EC2::SecurityGroup', 'AWS::EC2::EIP'] });
    expect(await failureOf('environment-stack')).toBe('awseb-e-web1-stack holds no Auto Scaling group: AWS::EC2::SecurityGroup, AWS::EC2::EIP');
  });

  test('worker: the daemon never takes the message', async () => {
    fake.faults.workerStuck = true;
    expect(await failureOf('worker')).toBe('1 s after the send the worker queue holds 1 waiting and 0 in-flight message(s): the daemon got no 200 from the app');
  });

  test('worker: a message in the dead-letter queue', async () => {
    fake.queues.dlq.visible = 1;
    expect(await failureOf('worker')).toBe('the worker\'s dead-letter queue holds 1 message(s): jobs failed 3 times');
  });

  test('worker: no cron leader table in the worker\'s stack', async () => {
    fake.stacks.set('awseb-e-worker-stack', { id: 'arn:w', status: 'CREATE_COMPLETE', types: ['AWS::AutoScaling::AutoScalingGroup'] });
    expect(await failureOf('worker')).toBe('awseb-e-worker-stack holds no DynamoDB table (AWS::AutoScaling::AutoScalingGroup): the worker did not read the bundle\'s cron.yaml, whose leader election needs it');
  });

  test('swap: the CNAMEs are not exchanged', async () => {
    fake.environments.push(fake.environment('green-env', 'e-green', 'WebServer', 'green-env.us-east-1.elasticbeanstalk.com'));
    fake.faults.swapIgnored = true;
    expect(await failureOf('swap')).toBe('0.05 s after the swap, web-env (Ready) answers web-env.us-east-1.elasticbeanstalk.com and green-env (Ready) green-env.us-east-1.elasticbeanstalk.com');
    // Not created by the step: nothing to say about leaving it running.
    expect(lines.at(-1)).toBe('blue web-env answers web-env.us-east-1.elasticbeanstalk.com, green green-env answers green-env.us-east-1.elasticbeanstalk.com');
  });

  test('swap: the blue environment\'s settings lack an option the green one copies', async () => {
    fake.blueOptions = fake.blueOptions.filter((o) => o.OptionName !== 'Subnets');
    expect(await failureOf('swap', OUTPUTS, true)).toBe('web-env\'s settings lack aws:ec2:vpc Subnets: a green environment without them would not run like it');
    expect(fake.created).toEqual([]);
  });

  test('swap: the terminated green environment\'s stack is never deleted', async () => {
    fake.faults.stackNeverDeleted = true;
    expect(await failureOf('swap', OUTPUTS, true)).toBe('0.05 s after TerminateEnvironment, green-run-test is Terminated and its stack CREATE_COMPLETE');
  });
});
