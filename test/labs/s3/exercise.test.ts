import { s3Lab } from '../../../labs/s3/lab';
import { withStack } from '../../../labs/support/app';
import { steps, timing } from '../../../labs/s3/exercise';
import { S3LabStack } from '../../../labs/s3/stack';
import { S3_LAB } from '../../../labs/s3/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalAws } from '../../support/local-aws';
import type { PolicyStatement } from '../../support/local-iam';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { cloudFrontTtl, LocalS3, startLocalCdn, startLocalS3 } from '../../support/local-s3';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/synth';

// The steps check the same expiry and caching as against AWS, with shorter waits: a presigned URL keeps its 2 s
// expiry (X-Amz-Date counts whole seconds, so 1 s could expire before the first GET) but is tried again right after it.
jest.setTimeout(30_000);

const lab = withStack(s3Lab, S3LabStack);
const template = labTemplate(lab);
const ttl = { min: S3_LAB.minTtl.toSeconds(), default: S3_LAB.defaultTtl.toSeconds(), max: S3_LAB.maxTtl.toSeconds() };

let sqs: LocalSqs;
let s3: LocalS3;
let cdn: { url: string; stop: () => Promise<void> };
let deployed: LocallyDeployedStack;
let outputs: Record<string, string>;
const lines: string[] = [];
const shortTiming = provide(timing, { presignedGetExpiresSeconds: 2, expiredGetAfterSeconds: 2.2, shortMaxAgeSeconds: 1, cachedGetAfterSeconds: 1.5 });
const context = (): ExerciseRunOptions => ({ outputs, log: (line) => lines.push(line), provide: [shortTiming] });

beforeAll(async () => {
  sqs = await startLocalSqs();
  const queues = await deployQueuesLocally(template, sqs.client);
  deployed = deployStackLocally(template, new LocalAws(), { stackName: lab.stackName });
  s3 = await startLocalS3(template, {
    fauxqsEndpoint: sqs.endpoint,
    sqs: sqs.client,
    queueUrls: Object.fromEntries(Object.entries(queues.queues).map(([id, q]) => [id, q.url])),
    env: deployed.env,
  });
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  cdn = await startLocalCdn(sqs.endpoint, deployed.outputs.SiteBucketName, ttl);
  outputs = { ...deployed.outputs, ...queues.outputs, DistributionUrl: cdn.url };
});
afterAll(async () => {
  await cdn?.stop();
  await s3?.stop();
  await sqs?.stop();
  delete process.env.AWS_ENDPOINT_URL_S3;
});
beforeEach(() => (lines.length = 0));

/** Object versions are not emulated by fauxqs; the step runs against AWS only. */
const LOCAL_STEPS = steps.filter((s) => s.id !== 'versioning');

describe('against the lab\'s bucket policies, configuration and notifications on a local S3', () => {
  test.each(LOCAL_STEPS.map((s) => [s.id, s] as const))('step %s passes its own checks', async (_id, step) => {
    await runExercise([step], context());
    expect(lines.length).toBeGreaterThan(1);
  });
});

test('the encryption step fails when the bucket policy accepts uploads without the SSE header', async () => {
  const bucket = outputs.DataBucketName;
  const policy = s3.policy(bucket)!;
  const statements = policy.Statement as PolicyStatement[];
  s3.setPolicy(bucket, { ...policy, Statement: statements.filter((s) => s.Sid !== 'DenyPutWithoutEncryptionHeader') });
  try {
    const failure = await runExercise(steps.filter((s) => s.id === 'encryption'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('PutObject without the header succeeded, but it should have been refused');
  } finally {
    s3.setPolicy(bucket, policy);
  }
});

test('the tls step fails when the bucket policy allows plain HTTP', async () => {
  const bucket = outputs.DataBucketName;
  const policy = s3.policy(bucket)!;
  const statements = policy.Statement as PolicyStatement[];
  s3.setPolicy(bucket, { ...policy, Statement: statements.filter((s) => (s.Condition?.Bool as Record<string, unknown> | undefined)?.['aws:SecureTransport'] === undefined) });
  try {
    const failure = await runExercise(steps.filter((s) => s.id === 'tls'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe('the same presigned GET over http:// returned 200, expected 403');
  } finally {
    s3.setPolicy(bucket, policy);
  }
});

test('CloudFront keeps an object for max-age bounded by the minimum and maximum TTLs, the default without one', () => {
  expect(cloudFrontTtl('max-age=2', ttl)).toBe(10);
  expect(cloudFrontTtl(null, ttl)).toBe(60);
  expect(cloudFrontTtl('public, max-age=86400', ttl)).toBe(300);
  expect(cloudFrontTtl('max-age=100, s-maxage=30', ttl)).toBe(30);
  expect(cloudFrontTtl('no-store', ttl)).toBe(10);
});

test('the cloudfront step fails when nothing is cached', async () => {
  const uncached = await startLocalCdn(sqs.endpoint, deployed.outputs.SiteBucketName, { min: 0, default: 0, max: 0 });
  try {
    const failure = await runExercise(steps.filter((s) => s.id === 'cloudfront'), { outputs: { ...outputs, DistributionUrl: uncached.url }, log: () => undefined, provide: [shortTiming] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(/^1\.5 s later \(max-age=1 but min TTL 10 s\) GET returned Miss from cloudfront$/);
  } finally {
    await uncached.stop();
  }
});
