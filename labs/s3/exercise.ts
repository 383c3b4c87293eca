import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetBucketEncryptionCommand,
  GetBucketInventoryConfigurationCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { check, defineTiming, ExerciseContext, ExerciseStep, expectRejection, requireOutput, serviceEndpoint } from '../support/exercise';
import { S3_LAB } from './constants';
import { deleteMessage, receiveUntil } from '../support/sqs-messages';

/**
 * Local emulators are reached path-style (http://host:port/bucket/key); AWS virtual-hosted style. Checksums only
 * where S3 requires them: with the SDK's default (WHEN_SUPPORTED) a presigned PUT would sign the CRC32 of an
 * empty body, and the upload of a real body would then fail its checksum.
 */
const s3Of = (context: ExerciseContext) =>
  context.client(S3Client, 'S3', { forcePathStyle: serviceEndpoint('S3') ? true : undefined, requestChecksumCalculation: 'WHEN_REQUIRED' as const });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const timing = defineTiming(S3_LAB.exerciseTiming);

/** A request the bucket policy must deny: S3 answers 403 AccessDenied. */
const expectDenied = async (call: () => Promise<unknown>, what: string) => (await expectRejection(call, 'AccessDenied', what)).name;

async function encryptionPolicy(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const put = (key: string, sse?: 'aws:kms' | 'AES256') =>
    s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `hello from ${context.runId}`, ServerSideEncryption: sse }));

  log(`PutObject without x-amz-server-side-encryption → ${await expectDenied(() => put(`${context.runId}/plain.txt`), 'PutObject without the header')} (DenyPutWithoutEncryptionHeader)`);
  log(`PutObject with x-amz-server-side-encryption: AES256 → ${await expectDenied(() => put(`${context.runId}/sse-s3.txt`, 'AES256'), 'PutObject asking for SSE-S3')} (DenyPutWithOtherEncryption)`);
  const accepted = await put(`${context.runId}/sse-kms.txt`, 'aws:kms');
  check(accepted.ServerSideEncryption === 'aws:kms', `the accepted object is encrypted with ${accepted.ServerSideEncryption}`);
  log(`PutObject with x-amz-server-side-encryption: aws:kms → 200, ServerSideEncryption=${accepted.ServerSideEncryption}, BucketKeyEnabled=${accepted.BucketKeyEnabled}`);
  const head = await s3Of(context).send(new HeadObjectCommand({ Bucket: bucket, Key: `${context.runId}/sse-kms.txt` }));
  check(head.ServerSideEncryption === 'aws:kms' && head.BucketKeyEnabled === true, `HeadObject: ${head.ServerSideEncryption}, bucket key ${head.BucketKeyEnabled}`);
  log(`HeadObject: SSE-KMS with the key ${head.SSEKMSKeyId ?? '(aws/s3)'}, S3 Bucket Key on: S3 asks KMS for a bucket-level key, not one data key per object`);
}

async function tlsOnly(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const key = `${context.runId}/tls.txt`;
  await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'over TLS only', ServerSideEncryption: 'aws:kms' }));
  const url = await getSignedUrl(s3Of(context), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
  const secure = await fetch(url);
  check(secure.status === 200, `a presigned GET over ${new URL(url).protocol} returned ${secure.status}`);
  const plain = new URL(url);
  plain.protocol = 'http:';
  const insecure = await fetch(plain);
  check(insecure.status === 403, `the same presigned GET over http:// returned ${insecure.status}, expected 403`);
  log(`presigned GET over https → 200; the same URL over http:// → 403 (Deny if aws:SecureTransport is false)`);
}

async function presigned(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const key = `${context.runId}/presigned.txt`;
  // The header is signed, not moved to the query string: the uploader must send exactly it.
  const putUrl = await getSignedUrl(s3Of(context), new PutObjectCommand({ Bucket: bucket, Key: key, ServerSideEncryption: 'aws:kms' }), {
    expiresIn: 60,
    unhoistableHeaders: new Set(['x-amz-server-side-encryption']),
  });
  const signedHeaders = new URL(putUrl).searchParams.get('X-Amz-SignedHeaders') ?? '';
  check(signedHeaders.includes('x-amz-server-side-encryption'), `the presigned PUT does not sign the SSE header: ${signedHeaders}`);
  const without = await fetch(putUrl, { method: 'PUT', body: 'no header' });
  check(without.status === 403, `a presigned PUT without its signed SSE header returned ${without.status}, expected 403`);
  const uploaded = await fetch(putUrl, { method: 'PUT', body: 'uploaded with a presigned URL', headers: { 'x-amz-server-side-encryption': 'aws:kms' } });
  check(uploaded.status === 200, `the presigned PUT with its header returned ${uploaded.status}`);
  log(`presigned PUT (60 s, X-Amz-SignedHeaders=${signedHeaders}): without the header → 403, with it → 200; no AWS credentials needed by the uploader`);

  const { presignedGetExpiresSeconds, expiredGetAfterSeconds } = await context.use(timing);
  const getUrl = await getSignedUrl(s3Of(context), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: presignedGetExpiresSeconds });
  const fresh = await fetch(getUrl);
  check(fresh.status === 200 && (await fresh.text()) === 'uploaded with a presigned URL', `the presigned GET returned ${fresh.status}`);
  await sleep(expiredGetAfterSeconds * 1000);
  const expired = await fetch(getUrl);
  const body = await expired.text();
  check(expired.status === 403, `the presigned GET still worked after its ${presignedGetExpiresSeconds} s expiry (${expired.status})`);
  const reason = /Request has expired/.test(body) ? ' "Request has expired"' : '';
  log(`presigned GET (X-Amz-Expires=${presignedGetExpiresSeconds}): at once → 200; after ${expiredGetAfterSeconds} s → 403${reason}`);
}

async function multipart(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const key = `${context.runId}/large.bin`;
  const body = randomBytes(12 * 1024 * 1024);
  const upload = new Upload({
    client: s3Of(context),
    params: { Bucket: bucket, Key: key, Body: body, ServerSideEncryption: 'aws:kms' },
    partSize: 5 * 1024 * 1024, // the minimum part size (except the last part)
    queueSize: 3,
  });
  const progress: number[] = [];
  upload.on('httpUploadProgress', (p) => progress.push(p.loaded ?? 0));
  const result = await upload.done();
  check(/-3"?$/.test(result.ETag ?? ''), `the ETag ${result.ETag} is not a 3-part multipart ETag`);
  const head = await s3Of(context).send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  check(head.ContentLength === body.length, `the object has ${head.ContentLength} bytes, ${body.length} were sent`);
  check(head.ServerSideEncryption === 'aws:kms', `the multipart object is encrypted with ${head.ServerSideEncryption}`);
  log(`lib-storage Upload: 12 MiB in 3 parts of ≤ 5 MiB, 3 in parallel → ETag ${result.ETag} ("-3": an MD5 of the parts' MD5s, not of the file)`);
  log(`progress events: ${progress.map((p) => `${(p / 1024 / 1024).toFixed(0)} MiB`).join(', ')}; SSE-KMS asked once, in CreateMultipartUpload`);

  const abandoned = await s3Of(context).send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${context.runId}/abandoned.bin`, ServerSideEncryption: 'aws:kms' }));
  await s3Of(context).send(new UploadPartCommand({ Bucket: bucket, Key: `${context.runId}/abandoned.bin`, UploadId: abandoned.UploadId, PartNumber: 1, Body: randomBytes(1024) }));
  const { Uploads } = await s3Of(context).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${context.runId}/` }));
  check((Uploads ?? []).some((u) => u.UploadId === abandoned.UploadId), 'the abandoned multipart upload is not listed');
  const { Rules } = await s3Of(context).send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  const abort = (Rules ?? []).find((r) => r.AbortIncompleteMultipartUpload)?.AbortIncompleteMultipartUpload?.DaysAfterInitiation;
  check(abort === 1, `no lifecycle rule aborts incomplete multipart uploads after 1 day (found ${abort})`);
  log(`an upload started and never completed is listed by ListMultipartUploads; its parts are billed as storage but invisible to ListObjects`);
  log(`  the lifecycle rule aborts such uploads ${abort} day after they start; this one is aborted now`);
  await s3Of(context).send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `${context.runId}/abandoned.bin`, UploadId: abandoned.UploadId }));
}

async function versioning(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const key = `${context.runId}/versioned.txt`;
  const { Status } = await s3Of(context).send(new GetBucketVersioningCommand({ Bucket: bucket }));
  check(Status === 'Enabled', `versioning is ${Status}`);
  const v1 = await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version 1', ServerSideEncryption: 'aws:kms' }));
  await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version 2', ServerSideEncryption: 'aws:kms' }));
  await s3Of(context).send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  const listed = await s3Of(context).send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  check((listed.Versions ?? []).length === 2 && (listed.DeleteMarkers ?? []).length === 1, `found ${listed.Versions?.length} versions and ${listed.DeleteMarkers?.length} delete markers`);
  const old = await s3Of(context).send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: v1.VersionId }));
  check((await old.Body?.transformToString()) === 'version 1', 'the first version did not come back');
  log(`two PUTs and a DELETE → 2 versions + 1 delete marker; GET ?versionId=${v1.VersionId} still returns "version 1"`);
  log('noncurrent versions expire after 7 days (lifecycle); millions of versions of one key slow it down (503 Slow Down)');
}

interface S3EventMessage {
  Records?: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size: number } } }[];
  Event?: string;
}

async function notifications(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const queueUrl = requireOutput(outputs, 'NotificationQueueUrl');
  const key = `uploads/${context.runId}.csv`;
  await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'id,amount\n1,10\n', ServerSideEncryption: 'aws:kms' }));
  await s3Of(context).send(new PutObjectCommand({ Bucket: bucket, Key: `${context.runId}/not-notified.txt`, Body: 'x', ServerSideEncryption: 'aws:kms' }));
  log(`put uploads/${context.runId}.csv (prefix uploads/ notifies) and ${context.runId}/not-notified.txt (no notification)`);
  const seen: string[] = [];
  const handled: Message[] = [];
  const eventOf = (message: Message) => JSON.parse(message.Body ?? '{}') as S3EventMessage;
  const { notificationDeadlineSeconds } = await context.use(timing);
  const message = await receiveUntil(
    context,
    queueUrl,
    (candidate) => {
      const event = eventOf(candidate);
      for (const record of event.Records ?? []) seen.push(record.s3.object.key);
      if (event.Event === 's3:TestEvent' || (event.Records ?? []).some((r) => r.s3.object.key.includes(context.runId))) handled.push(candidate);
      return (event.Records ?? []).some((r) => r.s3.object.key === key);
    },
    notificationDeadlineSeconds,
  );
  // This run's events and S3's test event are deleted; other messages are left for whoever they belong to.
  for (const done of handled) await deleteMessage(context, queueUrl, done);
  check(message !== undefined, `no ObjectCreated event for ${key} reached the queue within ${notificationDeadlineSeconds} s`);
  const ours = eventOf(message).Records?.find((r) => r.s3.object.key === key);
  check(ours !== undefined && ours.eventName.startsWith('ObjectCreated:'), `the event is ${ours?.eventName}`);
  check(!seen.some((k) => k.includes('not-notified')), 'an object outside uploads/ was notified');
  log(`SQS received ${ours.eventName} for ${ours.s3.object.key} (${ours.s3.object.size} bytes) from bucket ${ours.s3.bucket.name}`);
}

async function bucketConfiguration(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const bucket = requireOutput(outputs, 'DataBucketName');
  const reports = requireOutput(outputs, 'ReportsBucketName');
  const { ServerSideEncryptionConfiguration } = await s3Of(context).send(new GetBucketEncryptionCommand({ Bucket: bucket }));
  const rule = ServerSideEncryptionConfiguration?.Rules?.[0];
  check(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm === 'aws:kms' && rule.BucketKeyEnabled === true, `default encryption: ${JSON.stringify(rule)}`);
  log(`default encryption: ${rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm} with ${rule.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID ?? 'aws/s3'}, Bucket Key on`);
  const { InventoryConfiguration } = await s3Of(context).send(new GetBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'BucketInventory0' }));
  check(InventoryConfiguration?.IsEnabled === true && InventoryConfiguration.Schedule?.Frequency === 'Daily', `inventory: ${JSON.stringify(InventoryConfiguration)}`);
  check((InventoryConfiguration.Destination?.S3BucketDestination?.Bucket ?? '').endsWith(`:::${reports}`), 'the inventory is not delivered to the reports bucket');
  log(`inventory: daily CSV of all versions (${InventoryConfiguration.OptionalFields?.join(', ')}) into s3://${reports}/inventory/; the first report comes within 48 hours`);
  const { Rules } = await s3Of(context).send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
  log(`lifecycle: ${(Rules ?? []).map((r) => r.ID).join(', ')}`);
  check((Rules ?? []).length === 2, `expected 2 lifecycle rules, found ${Rules?.length}`);
}

async function cloudFront(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const site = requireOutput(outputs, 'SiteBucketName');
  const cdn = requireOutput(outputs, 'DistributionUrl').replace(/\/$/, '');
  const [minTtl, defaultTtl, maxTtl] = requireOutput(outputs, 'CacheTtlSeconds').split('/').map(Number);
  log(`cache policy TTLs: min ${minTtl} s, default ${defaultTtl} s, max ${maxTtl} s`);
  const { shortMaxAgeSeconds, cachedGetAfterSeconds } = await context.use(timing);
  const objects = {
    [`${context.runId}/short.txt`]: `max-age=${shortMaxAgeSeconds}`,
    [`${context.runId}/none.txt`]: undefined,
    [`${context.runId}/long.txt`]: 'max-age=86400',
  };
  for (const [key, cacheControl] of Object.entries(objects)) {
    await s3Of(context).send(new PutObjectCommand({ Bucket: site, Key: key, Body: `${key} at ${new Date().toISOString()}`, CacheControl: cacheControl, ContentType: 'text/plain' }));
  }
  const get = async (key: string) => {
    const response = await fetch(`${cdn}/${key}`);
    await response.arrayBuffer();
    return { status: response.status, cache: response.headers.get('x-cache') ?? '', age: Number(response.headers.get('age') ?? 0) };
  };

  // CloudFront has several caches per edge location: retry a few times to reach the one that holds the object.
  const untilHit = async (key: string) => {
    let response = await get(key);
    for (let attempt = 0; attempt < 3 && !/Hit from cloudfront/i.test(response.cache); attempt += 1) response = await get(key);
    return response;
  };

  const shortKey = `${context.runId}/short.txt`;
  const first = await get(shortKey);
  check(first.status === 200 && /Miss from cloudfront/i.test(first.cache), `first GET of ${shortKey}: ${first.status} ${first.cache}`);
  log(`GET /${shortKey} (Cache-Control: max-age=${shortMaxAgeSeconds}) → ${first.cache}`);
  await sleep(cachedGetAfterSeconds * 1000);
  const later = await untilHit(shortKey);
  const when = `${cachedGetAfterSeconds} s later`;
  check(/Hit from cloudfront/i.test(later.cache), `${when} (max-age=${shortMaxAgeSeconds} but min TTL ${minTtl} s) GET returned ${later.cache}`);
  check(later.age >= shortMaxAgeSeconds, `the cached copy reports Age ${later.age}, expected about ${cachedGetAfterSeconds}`);
  log(`${when} → ${later.cache}, Age ${later.age}: max-age=${shortMaxAgeSeconds} is raised to the minimum TTL (${minTtl} s)`);

  for (const key of [`${context.runId}/none.txt`, `${context.runId}/long.txt`]) {
    const miss = await get(key);
    const hit = await untilHit(key);
    check(/Hit from cloudfront/i.test(hit.cache), `${key} was not cached (${miss.cache}, then ${hit.cache})`);
  }
  log(`no Cache-Control → cached for the default TTL (${defaultTtl} s); max-age=86400 → cut to the maximum TTL (${maxTtl} s)`);
  log('  (watch Age grow, then X-Cache turn to Miss or RefreshHit once the TTL has passed)');

  const direct = new URL(await getSignedUrl(s3Of(context), new GetObjectCommand({ Bucket: site, Key: shortKey }), { expiresIn: 60 }));
  direct.search = '';
  const anonymous = await fetch(direct);
  check(anonymous.status === 403, `an anonymous GET straight from the bucket returned ${anonymous.status}, expected 403`);
  log(`the same object straight from S3 without credentials → 403: only the distribution (origin access control) may read the bucket`);
}

export const steps: readonly ExerciseStep[] = [
  { id: 'encryption', title: 'the bucket policy denies PutObject without SSE-KMS', run: encryptionPolicy },
  { id: 'tls', title: 'the bucket policy denies requests without TLS', run: tlsOnly },
  { id: 'presigned', title: 'presigned PUT and GET URLs, and their expiry', run: presigned },
  { id: 'multipart', title: 'multipart upload with @aws-sdk/lib-storage; an abandoned upload and the lifecycle rule', run: multipart },
  { id: 'versioning', title: 'versions and delete markers', run: versioning },
  { id: 'notifications', title: 'ObjectCreated events to SQS, filtered by prefix', run: notifications },
  { id: 'configuration', title: 'default encryption with a Bucket Key, inventory, lifecycle', run: bucketConfiguration },
  { id: 'cloudfront', title: 'CloudFront: origin access control, and TTLs against Cache-Control (X-Cache, Age)', run: cloudFront },
];
