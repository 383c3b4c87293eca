import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { GetQueueAttributesCommand, Message, PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { s3Lab } from '../../../labs/s3/lab';
import { steps, timing } from '../../../labs/s3/exercise';
import { S3_LAB } from '../../../labs/s3/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';
import { LocalAws } from '../../support/local-aws';
import type { PolicyStatement } from '../../support/local-iam';
import { deployStackLocally, LocallyDeployedStack } from '../../support/local-deploy';
import { cloudFrontTtl, LocalS3, startLocalCdn, startLocalS3 } from '../../support/local-s3';
import { deployQueuesLocally, LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { labTemplate } from '../../support/lab-template';
import { alter, AnyCommand, Answer, inConcurrentTest, is } from '../../support/altered-answers';
import { concurrentTest } from '../../support/concurrent-test';

// The steps check the same expiry and caching as against AWS, with shorter waits: a presigned URL keeps its 2 s
// expiry (X-Amz-Date counts whole seconds, so 1 s could expire before the first GET) but is tried again right after it.
jest.setTimeout(30_000);

const lab = s3Lab;
const template = labTemplate(lab);
const ttl = { min: S3_LAB.minTtl.toSeconds(), default: S3_LAB.defaultTtl.toSeconds(), max: S3_LAB.maxTtl.toSeconds() };

let sqs: LocalSqs;
let s3: LocalS3;
let cdn: { url: string; stop: () => Promise<void> };
let deployed: LocallyDeployedStack;
let outputs: Record<string, string>;
const lines: string[] = [];
const SHORT_TIMING = { presignedGetExpiresSeconds: 2, expiredGetAfterSeconds: 2.2, shortMaxAgeSeconds: 1, cachedGetAfterSeconds: 1.5, notificationDeadlineSeconds: 10 };
const context = (timingFigures = SHORT_TIMING, runId?: string, printed = lines): ExerciseRunOptions => ({ outputs, log: (line) => printed.push(line), provide: [provide(timing, timingFigures)], runId });

/**
 * The tests that wait (a presigned URL's expiry, a cached copy's age) or move 12 MiB run at once, beside the others
 * (`concurrentTest`), each printing to its own lines. The other tests' changes to what every test calls leave the
 * concurrent tests' calls alone: `alter` does so for the SDK clients, and the spies on fetch and the presigner ask
 * `inConcurrentTest()`.
 */

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
  // As the stack's output (PrivateBucketDistribution.url): https://<domain>/, with its slash.
  outputs = { ...deployed.outputs, ...queues.outputs, DistributionUrl: `${cdn.url}/` };
});
afterAll(async () => {
  await cdn?.stop();
  await s3?.stop();
  await sqs?.stop();
  delete process.env.AWS_ENDPOINT_URL_S3;
});
beforeEach(() => (lines.length = 0));

// What each step of run `run-t` prints against the local S3, line by line (its title first; printedShape says what
// varies): the lab's lesson is in these lines.
const PRINTED: Record<string, string[]> = {
  encryption: [
    '\n== 1/1 encryption: the bucket policy denies PutObject without SSE-KMS',
    'PutObject without x-amz-server-side-encryption → AccessDenied (DenyPutWithoutEncryptionHeader)',
    'PutObject with x-amz-server-side-encryption: AES256 → AccessDenied (DenyPutWithOtherEncryption)',
    'PutObject with x-amz-server-side-encryption: aws:kms → 200, ServerSideEncryption=aws:kms, BucketKeyEnabled=true',
    'HeadObject: SSE-KMS with the key (aws/s3), S3 Bucket Key on: S3 asks KMS for a bucket-level key, not one data key per object',
  ],
  tls: [
    '\n== 1/1 tls: the bucket policy denies requests without TLS',
    'presigned GET over https → 200; the same URL over http:// → 403 (Deny if aws:SecureTransport is false)',
  ],
  presigned: [
    '\n== 1/1 presigned: presigned PUT and GET URLs, and their expiry',
    'presigned PUT (60 s, X-Amz-SignedHeaders=host;x-amz-server-side-encryption): without the header → 403, with it → 200; no AWS credentials needed by the uploader',
    'presigned GET (X-Amz-Expires=2): at once → 200; after 2.2 s → 403 "Request has expired"',
  ],
  multipart: [
    '\n== 1/1 multipart: multipart upload with @aws-sdk/lib-storage; an abandoned upload and the lifecycle rule',
    'lib-storage Upload: 12 MiB in 3 parts of ≤ 5 MiB, 3 in parallel → ETag "MD5-3" ("-3": an MD5 of the parts\' MD5s, not of the file)',
    'progress events: …, 12 MiB; SSE-KMS asked once, in CreateMultipartUpload',
    'an upload started and never completed is listed by ListMultipartUploads; its parts are billed as storage but invisible to ListObjects',
    '  the lifecycle rule aborts such uploads 1 day after they start; this one is aborted now',
  ],
  notifications: [
    '\n== 1/1 notifications: ObjectCreated events to SQS, filtered by prefix',
    'put uploads/run-t.csv (prefix uploads/ notifies) and run-t/not-notified.txt (no notification)',
    'SQS received ObjectCreated:Put for uploads/run-t.csv (15 bytes) from bucket databuckete6b0faa8',
  ],
  configuration: [
    '\n== 1/1 configuration: default encryption with a Bucket Key, inventory, lifecycle',
    'default encryption: aws:kms with aws/s3, Bucket Key on',
    'inventory: daily CSV of all versions (Size, LastModifiedDate, StorageClass, ETag, IsMultipartUploaded, EncryptionStatus, BucketKeyStatus) into s3://reports65402a0a/inventory/; the first report comes within 48 hours',
    'lifecycle: abort-incomplete-multipart-uploads, expire-noncurrent-versions',
  ],
  cloudfront: [
    '\n== 1/1 cloudfront: CloudFront: origin access control, and TTLs against Cache-Control (X-Cache, Age)',
    'cache policy TTLs: min 10 s, default 60 s, max 300 s',
    'GET /run-t/short.txt (Cache-Control: max-age=1) → Miss from cloudfront',
    '1.5 s later → Hit from cloudfront, Age N: max-age=1 is raised to the minimum TTL (10 s)',
    'no Cache-Control → cached for the default TTL (60 s); max-age=86400 → cut to the maximum TTL (300 s)',
    '  (watch Age grow, then X-Cache turn to Miss or RefreshHit once the TTL has passed)',
    'the same object straight from S3 without credentials → 403: only the distribution (origin access control) may read the bucket',
  ],
};

const printedShape = (line: string) =>
  line
    .replace(/Age \d+/g, 'Age N')
    // The parts are random bytes, uploaded in parallel: their ETag and the order of the progress events vary.
    .replace(/ETag "[0-9a-f]{32}-/, 'ETag "MD5-')
    .replace(/progress events: .*, 12 MiB;/, 'progress events: …, 12 MiB;');

/** Object versions are not emulated by fauxqs: the versioning step runs against a double (below). */
const LOCAL_STEPS = steps.filter((s) => s.id !== 'versioning');
/**
 * The steps that wait or move 12 MiB run at once (at the end of the file). The others stay sequential: the encryption
 * and tls steps would see the bucket policies the tests below change, and the notifications step shares its queue with
 * the notification cases (a message one receives stays hidden from the other for the queue's 30 s visibility timeout).
 */
const CONCURRENT_STEPS = ['presigned', 'multipart', 'cloudfront'];
const STEPS_TITLE = 'against the lab\'s bucket policies, configuration and notifications on a local S3';
// One run id for all the steps, as in a learner's run: each step must tell its objects from the others'.
const stepPasses = async (id: string, step: (typeof steps)[number]) => {
  const printed: string[] = [];
  await runExercise([step], context(SHORT_TIMING, 'run-t', printed));
  expect(printed.map(printedShape)).toEqual(PRINTED[id]);
};

describe(STEPS_TITLE, () => {
  test.each(LOCAL_STEPS.filter((s) => !CONCURRENT_STEPS.includes(s.id)).map((s) => [s.id, s] as const))('step %s passes its own checks', stepPasses);

  test('the notifications step deletes its own event and S3\'s test event, and leaves other runs\' events on the queue', async () => {
    const queueUrl = outputs.NotificationQueueUrl;
    const bucket = outputs.DataBucketName;
    // Waiting on the queue before this run's event: S3's test event (sent when notifications are configured), then two uploads of other runs.
    const testEvent = { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-01-01T00:00:00.000Z', Bucket: bucket, RequestId: 'TESTREQUEST', HostId: 'TESTHOST' };
    const otherRun = (key: string) => ({ Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key, size: 3 } } }] });
    for (const body of [testEvent, otherRun('uploads/run-other.csv'), otherRun('uploads/run-another.csv')]) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    }
    try {
      const printed: string[] = [];
      await runExercise(steps.filter((s) => s.id === 'notifications'), context(SHORT_TIMING, 'run-q', printed));
      expect(printed.at(-1)).toBe(`SQS received ObjectCreated:Put for uploads/run-q.csv (15 bytes) from bucket ${bucket}`);
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      // Only the other runs' events are left: received, so in flight until their visibility timeout ends.
      expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '2' });
    } finally {
      await sqs.client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    }
  });
});

test.each([
  ['without the SSE header', 'DenyPutWithoutEncryptionHeader', 'PutObject without the header succeeded, but it should have been refused'],
  ['asking for SSE-S3', 'DenyPutWithOtherEncryption', 'PutObject asking for SSE-S3 succeeded, but it should have been refused'],
])('the encryption step fails when the bucket policy accepts uploads %s', async (_case, sid, message) => {
  const bucket = outputs.DataBucketName;
  const policy = s3.policy(bucket)!;
  const statements = policy.Statement as PolicyStatement[];
  s3.setPolicy(bucket, { ...policy, Statement: statements.filter((s) => s.Sid !== sid) });
  try {
    const failure = await runExercise(steps.filter((s) => s.id === 'encryption'), context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe(message);
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

describe('each check of the steps fails when the one answer it checks is changed', () => {
  /** S3 as the local engine answers, except `name` calls, whose answer `edit` rewrites. */
  const s3Answers = (name: string, edit: (answer: Answer) => Answer) => () => alter(S3Client, async (command, send) => (is(command, name) ? edit(await send()) : send()));
  /** HTTP answers of the local S3 and CDN, except the `nth` (from 1) of those `which` picks, whose status or headers `edit` sets. */
  type HttpEdit = { status?: number; headers?: Record<string, string> };
  const httpAnswers = (which: (url: string, init: RequestInit) => boolean, edit: HttpEdit, nth?: number, also?: [(url: string) => boolean, HttpEdit]) => () => {
    const realFetch = globalThis.fetch;
    let picked = 0;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init = {}) => {
      if (inConcurrentTest()) return realFetch(input, init);
      const response = await realFetch(input, init);
      const url = String(input);
      const rewrite = which(url, init) && (nth === undefined || ++picked === nth) ? edit : also?.[0](url) ? also[1] : undefined;
      if (!rewrite) return response;
      const body = await response.arrayBuffer();
      return new Response(body, { status: rewrite.status ?? response.status, headers: { ...Object.fromEntries(response.headers), ...rewrite.headers } });
    });
  };
  /** The short-lived object's cached copy as old as it would be after the wait the cases below skip. */
  const agedShortCopy: [(url: string) => boolean, HttpEdit] = [(url) => url.includes('short.txt') && url.startsWith(outputs.DistributionUrl.replace(/\/$/, '')), { headers: { age: '2' } }];
  const toCdn = (path: string) => (url: string) => url.startsWith(outputs.DistributionUrl.replace(/\/$/, '')) && url.includes(path);
  const toS3 = (url: string) => url.startsWith(s3.endpoint);
  const fastTiming = { ...SHORT_TIMING, expiredGetAfterSeconds: 0, cachedGetAfterSeconds: 0 };
  afterEach(() => jest.restoreAllMocks());

  test.each<[string, string, () => void, string]>([
    ['encryption', 'an accepted object encrypted otherwise', s3Answers('PutObject', (a) => ({ ...a, ServerSideEncryption: 'AES256' })), 'the accepted object is encrypted with AES256'],
    ['encryption', 'an object without the bucket key', s3Answers('HeadObject', (a) => ({ ...a, BucketKeyEnabled: false })), 'HeadObject: aws:kms, bucket key false'],
    ['encryption', 'an object HeadObject reports encrypted otherwise', s3Answers('HeadObject', (a) => ({ ...a, ServerSideEncryption: 'AES256' })), 'HeadObject: AES256, bucket key true'],
    ['tls', 'a presigned GET refused over the secure protocol', httpAnswers(toS3, { status: 403 }, 1), 'a presigned GET over https: returned 403'],
    ['presigned', 'a presigner that moves the SSE header into the query string', () => {
      const presign = S3RequestPresigner.prototype.presign;
      jest.spyOn(S3RequestPresigner.prototype, 'presign').mockImplementation(function (this: S3RequestPresigner, request, options) {
        return presign.call(this, request, inConcurrentTest() ? options : { ...options, unhoistableHeaders: new Set<string>(), hoistableHeaders: new Set(['x-amz-server-side-encryption']) });
      });
    }, 'the presigned PUT does not sign the SSE header: host'],
    ['presigned', 'a presigned PUT accepted without its signed header', httpAnswers((url, init) => toS3(url) && init.method === 'PUT' && init.headers === undefined, { status: 200 }), 'a presigned PUT without its signed SSE header returned 200, expected 403'],
    ['presigned', 'a presigned PUT refused with its header', httpAnswers((url, init) => toS3(url) && init.method === 'PUT' && init.headers !== undefined, { status: 403 }), 'the presigned PUT with its header returned 403'],
    ['presigned', 'a fresh presigned GET refused', httpAnswers((url, init) => toS3(url) && init.method === undefined, { status: 403 }, 1), 'the presigned GET returned 403'],
    ['presigned', 'a presigned GET still valid after its expiry', httpAnswers((url, init) => toS3(url) && init.method === undefined, { status: 200 }, 2), 'the presigned GET still worked after its 2 s expiry (200)'],
    ['configuration', 'default encryption without the bucket key', s3Answers('GetBucketEncryption', (a) => ({ ServerSideEncryptionConfiguration: { Rules: [{ ...(a.ServerSideEncryptionConfiguration as { Rules: object[] }).Rules[0], BucketKeyEnabled: false }] } })), 'default encryption: {"ApplyServerSideEncryptionByDefault"'],
    ['configuration', 'no default encryption', s3Answers('GetBucketEncryption', () => ({})), 'default encryption: undefined'],
    ['configuration', 'a default encryption without rules', s3Answers('GetBucketEncryption', () => ({ ServerSideEncryptionConfiguration: {} })), 'default encryption: undefined'],
    ['configuration', 'a rule with a bucket key but no default encryption', s3Answers('GetBucketEncryption', () => ({ ServerSideEncryptionConfiguration: { Rules: [{ BucketKeyEnabled: true }] } })), 'default encryption: {"BucketKeyEnabled":true}'],
    ['configuration', 'no inventory configuration', s3Answers('GetBucketInventoryConfiguration', () => ({})), 'inventory: undefined'],
    ['configuration', 'a disabled inventory', s3Answers('GetBucketInventoryConfiguration', (a) => ({ InventoryConfiguration: { ...(a.InventoryConfiguration as object), IsEnabled: false } })), 'inventory: {'],
    ['configuration', 'a weekly inventory', s3Answers('GetBucketInventoryConfiguration', (a) => ({ InventoryConfiguration: { ...(a.InventoryConfiguration as object), Schedule: { Frequency: 'Weekly' } } })), 'inventory: {'],
    ['configuration', 'an inventory delivered elsewhere', s3Answers('GetBucketInventoryConfiguration', (a) => {
      const inventory = a.InventoryConfiguration as { Destination: { S3BucketDestination: object } };
      return { InventoryConfiguration: { ...inventory, Destination: { S3BucketDestination: { ...inventory.Destination.S3BucketDestination, Bucket: 'arn:aws:s3:::another-bucket' } } } };
    }), 'the inventory is not delivered to the reports bucket'],
    ['configuration', 'an inventory without a schedule', s3Answers('GetBucketInventoryConfiguration', (a) => ({ InventoryConfiguration: { ...(a.InventoryConfiguration as object), Schedule: undefined } })), 'inventory: {'],
    ['configuration', 'an inventory delivered to no bucket', s3Answers('GetBucketInventoryConfiguration', (a) => ({ InventoryConfiguration: { ...(a.InventoryConfiguration as object), Destination: {} } })), 'the inventory is not delivered to the reports bucket'],
    ['configuration', 'an inventory without a destination', s3Answers('GetBucketInventoryConfiguration', (a) => ({ InventoryConfiguration: { ...(a.InventoryConfiguration as object), Destination: undefined } })), 'the inventory is not delivered to the reports bucket'],
    ['configuration', 'one lifecycle rule missing', s3Answers('GetBucketLifecycleConfiguration', (a) => ({ ...a, Rules: (a.Rules as object[]).slice(0, 1) })), 'expected 2 lifecycle rules, found 1'],
    ['configuration', 'no lifecycle rules', s3Answers('GetBucketLifecycleConfiguration', (a) => ({ ...a, Rules: undefined })), 'expected 2 lifecycle rules, found undefined'],
    ['cloudfront', 'a first GET already cached', httpAnswers(toCdn('short.txt'), { headers: { 'x-cache': 'Hit from cloudfront' } }, 1), 'short.txt: 200 Hit from cloudfront'],
    ['cloudfront', 'a first GET refused', httpAnswers(toCdn('short.txt'), { status: 403 }, 1), 'short.txt: 403 Miss from cloudfront'],
    ['cloudfront', 'a cached copy without its age', httpAnswers(toCdn('short.txt'), { headers: { age: '0' } }), 'the cached copy reports Age 0, expected about 0'],
    ['cloudfront', 'objects without max-age or with a long one not cached', httpAnswers(toCdn('none.txt'), { headers: { 'x-cache': 'Miss from cloudfront' } }, undefined, agedShortCopy), 'none.txt was not cached (Miss from cloudfront, then Miss from cloudfront)'],
    ['cloudfront', 'a bucket readable without the distribution', httpAnswers(toS3, { status: 200 }, undefined, agedShortCopy), 'an anonymous GET straight from the bucket returned 200, expected 403'],
  ])('%s fails on %s', async (id, _name, breakIt, message) => {
    breakIt();
    // The presigned and cloudfront cases set the answers that follow a wait themselves: no need to wait.
    const options = id === 'cloudfront' || id === 'presigned' ? context(fastTiming) : context();
    const failure = await runExercise(steps.filter((s) => s.id === id), options).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toContain(message);
  });

  test('presigned names no reason when the expired GET is refused without "Request has expired"', async () => {
    const realFetch = globalThis.fetch;
    let gets = 0;
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init = {}) =>
      !inConcurrentTest() && toS3(String(input)) && init.method === undefined && ++gets === 2
        ? new Response('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>', { status: 403 })
        : realFetch(input, init),
    );
    await runExercise(steps.filter((s) => s.id === 'presigned'), context(fastTiming));
    expect(lines.at(-1)).toBe('presigned GET (X-Amz-Expires=2): at once → 200; after 0 s → 403');
  });

  test('cloudfront passes with a cached copy exactly as old as its max-age', async () => {
    httpAnswers(toCdn('short.txt'), { headers: { age: '1' } }, 2)();
    await runExercise(steps.filter((s) => s.id === 'cloudfront'), context(fastTiming));
    expect(lines).toContain('0 s later → Hit from cloudfront, Age 1: max-age=1 is raised to the minimum TTL (10 s)');
  });

  describe('multipart, with the 12 MiB upload answered by the test (2 s each on the local S3, and no check reads its bytes)', () => {
    const LARGE = 12 * 1024 * 1024;
    /** The engine for everything but the large object's upload and HeadObject, which answer as S3 would, then pass through `edit`. */
    const largeObject = (edit: { complete?: Answer; head?: Answer } = {}, other: (command: AnyCommand, answer: Answer) => Answer = (_c, a) => a) =>
      alter(S3Client, async (command, send) => {
        const large = String(command.input.Key ?? '').endsWith('/large.bin');
        if (large && is(command, 'UploadPart')) return { ETag: `"part-${String(command.input.PartNumber)}"` };
        if (large && is(command, 'CompleteMultipartUpload')) return { ETag: '"0123456789abcdef0123456789abcdef-3"', ...edit.complete };
        if (large && is(command, 'HeadObject')) return { ContentLength: LARGE, ServerSideEncryption: 'aws:kms', ...edit.head };
        return other(command, await send());
      });
    const multipartFails = async (message: string) => {
      const failure = await runExercise(steps.filter((s) => s.id === 'multipart'), context()).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toContain(message);
    };
    test('passes with the upload answered by the test, so the cases below change one answer each; it aborts the abandoned upload', async () => {
      largeObject();
      await runExercise(steps.filter((s) => s.id === 'multipart'), context(SHORT_TIMING, 'run-mp'));
      const s3Client = new S3Client({ region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      try {
        // (The large object's upload stays open: the test answers its parts and its completion.)
        const { Uploads } = await s3Client.send(new ListMultipartUploadsCommand({ Bucket: outputs.DataBucketName, Prefix: 'run-mp/abandoned.bin' }));
        expect(Uploads ?? []).toEqual([]);
      } finally {
        s3Client.destroy();
      }
    });
    test('a single-part ETag', async () => {
      largeObject({ complete: { ETag: '"0123456789abcdef0123456789abcdef"' } });
      await multipartFails('the ETag "0123456789abcdef0123456789abcdef" is not a 3-part multipart ETag');
    });
    test('an object shorter than what was sent', async () => {
      largeObject({ head: { ContentLength: LARGE - 1 } });
      await multipartFails(`the object has ${LARGE - 1} bytes, ${LARGE} were sent`);
    });
    test('a multipart object encrypted otherwise', async () => {
      largeObject({ head: { ServerSideEncryption: 'AES256' } });
      await multipartFails('the multipart object is encrypted with AES256');
    });
    test('an abandoned upload not listed', async () => {
      // S3 leaves out Uploads when it lists none.
      largeObject({}, (command, answer) => (is(command, 'ListMultipartUploads') ? { ...answer, Uploads: undefined } : answer));
      await multipartFails('the abandoned multipart upload is not listed');
    });
    test('no rule aborting incomplete uploads', async () => {
      largeObject({}, (command, answer) =>
        is(command, 'GetBucketLifecycleConfiguration') ? { ...answer, Rules: (answer.Rules as object[]).map((r) => ({ ...r, AbortIncompleteMultipartUpload: undefined })) } : answer,
      );
      await multipartFails('no lifecycle rule aborts incomplete multipart uploads after 1 day (found undefined)');
    });
  });

  describe('notifications', () => {
    /** fauxqs, except that S3 events received from the notification queue pass through `edit`. */
    const events = (edit: (event: { Records?: Record<string, unknown>[] }) => object) =>
      alter(SQSClient, async (command, send) => {
        const answer = await send();
        if (!is(command, 'ReceiveMessage') || command.input.QueueUrl !== outputs.NotificationQueueUrl) return answer;
        return { ...answer, Messages: ((answer.Messages ?? []) as Message[]).map((m) => ({ ...m, Body: JSON.stringify(edit(JSON.parse(m.Body ?? '{}'))) })) };
      });
    const notificationsFail = async (message: string, timingFigures = SHORT_TIMING) => {
      const failure = await runExercise(steps.filter((s) => s.id === 'notifications'), context(timingFigures)).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ExerciseCheckFailed);
      expect((failure as Error).message).toContain(message);
    };
    test('an event that never arrives', async () => {
      events((event) => ({ ...event, Records: event.Records?.filter((r) => !String((r.s3 as { object: { key: string } }).object.key).startsWith('uploads/')) }));
      await notificationsFail('no ObjectCreated event for uploads/', { ...SHORT_TIMING, notificationDeadlineSeconds: 1 });
    });
    test('an event that is not ObjectCreated', async () => {
      events((event) => ({ ...event, Records: event.Records?.map((r) => ({ ...r, eventName: 'ObjectRemoved:Delete' })) }));
      await notificationsFail('the event is ObjectRemoved:Delete');
    });
    test('an object outside uploads/ notified', async () => {
      events((event) => ({
        ...event,
        Records: event.Records && [...event.Records, ...event.Records.map((r) => ({ ...r, s3: { ...(r.s3 as object), object: { key: 'run-x/not-notified.txt', size: 1 } } }))],
      }));
      await notificationsFail('an object outside uploads/ was notified');
    });
  });
});

describe('versioning, against an S3 double that keeps object versions as the template configures the data bucket', () => {
  type Version = { key: string; versionId: string; body?: string };
  const resources = template.toJSON().Resources as Record<string, { Properties: { VersioningConfiguration?: { Status?: string } } }>;
  const dataBucketId = (template.toJSON().Outputs.DataBucketName.Value as { Ref: string }).Ref;
  /**
   * S3 for the step's calls on a bucket with the template's versioning status: each PUT adds a version, a DELETE a
   * delete marker. `edit` rewrites the answer to one kind of call: the one fact a case changes.
   */
  const versionedBucket = (status = resources[dataBucketId].Properties.VersioningConfiguration?.Status, edit: (command: AnyCommand, answer: Answer) => Answer = (_c, a) => a) => {
    calledWith.length = 0;
    const versions: Version[] = [];
    const deleteMarkers: Version[] = [];
    const versionId = () => `v${versions.length + deleteMarkers.length + 1}`;
    const answer = (command: AnyCommand): Answer => {
      const key = String(command.input.Key ?? command.input.Prefix);
      calledWith.push(`${command.constructor.name.replace(/Command$/, '')} ${String(command.input.Bucket)}${command.input.Key ?? command.input.Prefix ? ` ${key}` : ''}`);
      if (is(command, 'GetBucketVersioning')) return { Status: status };
      // The bucket policy (DenyPutWithoutEncryptionHeader, DenyPutWithOtherEncryption).
      if (is(command, 'PutObject') && command.input.ServerSideEncryption !== 'aws:kms') throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      if (is(command, 'PutObject')) {
        const version = { key, versionId: versionId(), body: String(command.input.Body) };
        versions.push(version);
        return { VersionId: version.versionId, ServerSideEncryption: 'aws:kms' };
      }
      if (is(command, 'DeleteObject')) {
        const marker = { key, versionId: versionId() };
        deleteMarkers.push(marker);
        return { DeleteMarker: true, VersionId: marker.versionId };
      }
      const listed = (list: Version[]) => list.filter((v) => v.key.startsWith(key)).map((v) => ({ Key: v.key, VersionId: v.versionId }));
      if (is(command, 'ListObjectVersions')) return { Versions: listed(versions), DeleteMarkers: listed(deleteMarkers) };
      const body = versions.find((v) => v.key === key && v.versionId === command.input.VersionId)?.body;
      if (is(command, 'GetObject') && body !== undefined) return { Body: { transformToString: async () => body } };
      throw new Error(`the double does not answer ${command.constructor.name} ${JSON.stringify(command.input)}`);
    };
    alter(S3Client, async (command) => edit(command, answer(command)));
  };
  /** What the step asked the double: each call's name, bucket and key. */
  const calledWith: string[] = [];
  const versioningStep = steps.filter((s) => s.id === 'versioning');
  afterEach(() => jest.restoreAllMocks());

  test('passes its own checks', async () => {
    versionedBucket();
    await runExercise(versioningStep, context(SHORT_TIMING, 'run-t'));
    expect(lines).toEqual([
      '\n== 1/1 versioning: versions and delete markers',
      'two PUTs and a DELETE → 2 versions + 1 delete marker; GET ?versionId=v1 still returns "version 1"',
      'noncurrent versions expire after 7 days (lifecycle); millions of versions of one key slow it down (503 Slow Down)',
    ]);
    const bucket = outputs.DataBucketName;
    expect(calledWith).toEqual([
      `GetBucketVersioning ${bucket}`,
      ...['PutObject', 'PutObject', 'DeleteObject', 'ListObjectVersions', 'GetObject'].map((call) => `${call} ${bucket} run-t/versioned.txt`),
    ]);
  });

  test.each<[string, () => void, string]>([
    ['a bucket whose versioning is suspended', () => versionedBucket('Suspended'), 'versioning is Suspended'],
    // S3 leaves out the list of versions or of delete markers when it has none.
    ['a DELETE that leaves no delete marker', () => versionedBucket(undefined, (command, answer) => (is(command, 'ListObjectVersions') ? { ...answer, DeleteMarkers: undefined } : answer)), 'found 2 versions and undefined delete markers'],
    ['PUTs that keep no versions', () => versionedBucket(undefined, (command, answer) => (is(command, 'ListObjectVersions') ? { ...answer, Versions: undefined } : answer)), 'found undefined versions and 1 delete markers'],
    ['a GET of the first version without a body', () => versionedBucket(undefined, (command, answer) => (is(command, 'GetObject') ? {} : answer)), 'the first version did not come back'],
    ['a GET of the first version that returns the current one', () => versionedBucket(undefined, (command, answer) => (is(command, 'GetObject') ? { Body: { transformToString: async () => 'version 2' } } : answer)), 'the first version did not come back'],
  ])('fails on %s', async (_name, breakIt, message) => {
    breakIt();
    const failure = await runExercise(versioningStep, context()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toBe(message);
  });
});

// Last in the file: jest starts the concurrent tests with the file and waits for each one where its walk of the file
// reaches it, so the sequential tests above run while these wait.
describe(STEPS_TITLE, () => {
  concurrentTest.each(LOCAL_STEPS.filter((s) => CONCURRENT_STEPS.includes(s.id)).map((s) => [s.id, s] as const))('step %s passes its own checks', stepPasses);
});

concurrentTest('the cloudfront step fails when nothing is cached', async () => {
  const uncached = await startLocalCdn(sqs.endpoint, deployed.outputs.SiteBucketName, { min: 0, default: 0, max: 0 });
  try {
    const failure = await runExercise(steps.filter((s) => s.id === 'cloudfront'), { outputs: { ...outputs, DistributionUrl: `${uncached.url}/` }, log: () => undefined, provide: [provide(timing, SHORT_TIMING)] }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExerciseCheckFailed);
    expect((failure as Error).message).toMatch(/^1\.5 s later \(max-age=1 but min TTL 10 s\) GET returned Miss from cloudfront$/);
  } finally {
    await uncached.stop();
  }
});
