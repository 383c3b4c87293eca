import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, StackStatus } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { EXIT, Io, main } from '../../bin/lab';
import { LABS } from '../../labs/catalogue';
import { sqsLab } from '../../labs/sqs/lab';
import { deployQueuesLocally, startLocalSqs } from '../support/local-sqs';
import { labTemplate, REPO_ROOT } from '../support/lab-template';

const cloudFormation = mockClient(CloudFormationClient);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name });
const deployedStack = (tags: Record<string, string>, outputs: Record<string, string> = {}) => ({
  Stacks: [
    {
      StackName: 'SqsLab',
      StackStatus: StackStatus.CREATE_COMPLETE,
      CreationTime: new Date(),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    },
  ],
});

beforeEach(() => cloudFormation.reset());

describe('usage errors exit 2 before any AWS call', () => {
  test('no command prints the usage', async () => {
    const { code, out } = await run();
    expect(code).toBe(EXIT.usage);
    expect(out).toContain('usage: npm run lab -- <command>');
  });

  test('an unknown command names itself and prints the usage', async () => {
    const { code, err } = await run('launch');
    expect(code).toBe(EXIT.usage);
    expect(err).toContain('unknown command "launch"');
  });

  test.each(['deploy', 'outputs', 'exercise'])('%s with an unknown lab lists the valid ids', async (command) => {
    const ids = LABS.map((l) => l.id).join(', ');
    expect(await run(command, 'nope')).toEqual({ code: EXIT.usage, out: '', err: `unknown lab "nope"; labs: ${ids}` });
  });

  test('an unknown exercise step lists the steps', async () => {
    const { code, err } = await run('exercise', 'sqs', 'nope');
    expect(code).toBe(EXIT.usage);
    expect(err).toBe('lab sqs has no step "nope"; steps: send-receive, visibility, delay, fifo, poison');
    expect(cloudFormation.calls()).toHaveLength(0);
  });
});

describe('the deployed stack', () => {
  test('missing: one sentence saying how to deploy it, exit 1', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id SqsLab does not exist'));
    expect(await run('outputs', 'sqs')).toEqual({
      code: EXIT.failed,
      out: '',
      err: 'error: stack SqsLab is not deployed: npx cdk deploy SqsLab',
    });
  });

  test('no credentials: one sentence saying how to get them, exit 1', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const { code, err } = await run('exercise', 'sqs');
    expect(code).toBe(EXIT.failed);
    expect(err).toBe(
      'error: no usable AWS credentials: configure a profile (aws configure / aws sso login) or set AWS_PROFILE, then retry',
    );
  });

  test('a stack of that name without the lab tag is refused', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(deployedStack({ team: 'payments' }));
    const { code, err } = await run('outputs', 'sqs');
    expect(code).toBe(EXIT.failed);
    expect(err).toBe('error: stack SqsLab has no tag lab=sqs, so it is not this lab\'s stack; refusing to touch it');
  });

  test('outputs prints the tagged stack\'s outputs', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(deployedStack({ lab: 'sqs' }, { WorkQueueUrl: 'https://sqs/work' }));
    expect(await run('outputs', 'sqs')).toEqual({ code: EXIT.ok, out: 'WorkQueueUrl = https://sqs/work', err: '' });
  });
});

describe('list', () => {
  test('shows each lab with its stack, idle cost, optional parts and deployment status', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves(deployedStack({ lab: 'sqs' }));
    const { code, out } = await run('list');
    expect(code).toBe(EXIT.ok);
    expect(out).toMatch(/^sqs +SqsLab +idle \$0\.00\/month \(\$0\.0000\/hour\) +deployed: CREATE_COMPLETE$/m);
    expect(out).toContain('optional: -c sqs:alarms=true  +$0.20/month idle');
  });

  test('loads neither aws-cdk-lib nor cdk-nag nor any construct: only the labs\' declarations', () => {
    // One child process, as `npm run lab -- list` runs (tsx; on Node.js 24 the AWS SDK prints no version warning): it runs the list against an endpoint that refuses
    // connections, then prints every module it loaded, the stacks and exercises loaded lazily included.
    const script = [
      "require('./bin/lab').main(['list'], { out: () => undefined, err: () => undefined })",
      '.then(() => console.log(JSON.stringify(Object.keys(require.cache))))',
    ].join('');
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    expect(child.stderr).toBe('');
    const loaded = (JSON.parse(child.stdout) as string[]).map((file) => path.relative(REPO_ROOT, file));
    expect(loaded).toEqual(expect.arrayContaining(['bin/lab.ts', 'labs/catalogue.ts', 'labs/sqs/lab.ts']));
    // A construct loads aws-cdk-lib; a lab's declaration may share a CDK-free module of lib/ (its limits, a pattern).
    const heavy = loaded.filter(
      (file) => /^node_modules\/(aws-cdk-lib|cdk-nag|constructs)\//.test(file) || /^lambda\//.test(file) || /^labs\/(?!support\/)[^/]+\/(stack|exercise)\b/.test(file),
    );
    expect(heavy).toEqual([]);
  });

  test('still lists every lab without credentials, and says why the status is unknown', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials'));
    const { code, out, err } = await run('list');
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('deployed: unknown');
    expect(err).toMatch(/^deployment status unknown: no usable AWS credentials/);
  });
});

test('exercise runs a step against the stack\'s outputs and exits 0 when the lab behaves', async () => {
  const sqs = await startLocalSqs();
  try {
    const { outputs } = await deployQueuesLocally(labTemplate(sqsLab), sqs.client);
    cloudFormation.on(DescribeStacksCommand).resolves(deployedStack({ lab: 'sqs' }, outputs));
    const { code, out, err } = await run('exercise', 'sqs', 'fifo');
    expect(err).toBe('');
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('== 1/1 fifo: FIFO: order per message group and deduplication');
    expect(out).toContain('exercise sqs passed');
  } finally {
    await sqs.stop();
  }
  // A local SQS server, the lab's template (synthesized here when no earlier file did) and a real FIFO round trip:
  // ~2 s alone, over jest's 5 s on a loaded machine.
}, 20_000);

describe('deploy', () => {
  // A reachable account and Region where the lab is not deployed yet.
  beforeEach(() => cloudFormation.on(DescribeStacksCommand).rejects(awsError('ValidationError', 'Stack with id SqsLab does not exist')));

  const deployWith = async (answer: boolean, ...args: string[]) => {
    const questions: string[] = [];
    const commands: string[][] = [];
    const err: string[] = [];
    const code = await main(['deploy', 'sqs', ...args], {
      out: () => undefined,
      err: (l) => err.push(l),
      confirm: async (q) => (questions.push(q), answer),
      run: async (command, runArgs) => (commands.push([command, ...runArgs]), 0),
    });
    return { code, questions, commands, err };
  };

  test('a lab that is free while idle deploys without a question', async () => {
    const { code, questions, commands } = await deployWith(false);
    expect(code).toBe(EXIT.ok);
    expect(questions).toEqual([]);
    expect(commands).toEqual([['npx', 'cdk', 'deploy', 'SqsLab', '-c', 'labs:only=sqs']]);
  });

  test('an optional part that bills while idle is confirmed first, with its cost', async () => {
    const { code, questions, commands } = await deployWith(true, '-c', 'sqs:alarms=true');
    expect(questions).toEqual(['SqsLab costs about $0.20/month ($0.0003/hour) while deployed, even idle: alarms +$0.20/month. Deploy?']);
    expect(commands).toEqual([['npx', 'cdk', 'deploy', 'SqsLab', '-c', 'labs:only=sqs', '-c', 'sqs:alarms=true']]);
    expect(code).toBe(EXIT.ok);
  });

  test("the question names each optional part that bills, beside the lab's own idle cost", async () => {
    const questions: string[] = [];
    const ask = (labId: string, ...args: string[]) =>
      main(['deploy', labId, ...args], { out: () => undefined, err: () => undefined, confirm: async (q) => (questions.push(q), false), run: async () => 0 });
    await ask('certificates', '-c', 'certificates:pca=true');
    await ask('caching', '-c', 'caching:valkey=true', '-c', 'caching:dax=true');
    await ask('dynamodb-modelling', '-c', 'dynamodb-modelling:cmk=true');
    expect(questions).toEqual([
      'CertificatesLab costs about $400.00/month ($0.5479/hour) while deployed, even idle: pca +$400.00/month. Deploy?',
      'CachingLab costs about $38.54/month ($0.0528/hour) while deployed, even idle: valkey +$9.34/month, dax +$29.20/month. Deploy?',
      'DynamodbModellingLab costs about $2.37/month ($0.0032/hour) while deployed, even idle: the lab $1.37/month, cmk +$1.00/month. Deploy?',
    ]);
  });

  test('a declined (or unanswerable) question deploys nothing, and says what it would cost and how to skip it', async () => {
    const { code, commands, err } = await deployWith(false, '-c', 'labs:all-features=true');
    expect(code).toBe(EXIT.failed);
    expect(commands).toEqual([]);
    expect(err).toEqual([
      'not deployed: SqsLab costs about $0.20/month ($0.0003/hour) while deployed, even idle: alarms +$0.20/month; to deploy without this question: npm run lab -- deploy sqs --yes',
    ]);
  });

  test('without credentials: one sentence and exit 1, before any question or synth', async () => {
    cloudFormation.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const { code, questions, commands, err } = await deployWith(true, '-c', 'sqs:alarms=true');
    expect(code).toBe(EXIT.failed);
    expect([questions, commands]).toEqual([[], []]);
    expect(err).toEqual([expect.stringMatching(/^error: no usable AWS credentials/)]);
  });

  test('--yes skips the question and is not passed to cdk', async () => {
    const { questions, commands } = await deployWith(false, '--yes', '--context', 'sqs:alarms=true');
    expect(questions).toEqual([]);
    expect(commands).toEqual([['npx', 'cdk', 'deploy', 'SqsLab', '-c', 'labs:only=sqs', '--context', 'sqs:alarms=true']]);
  });
});
