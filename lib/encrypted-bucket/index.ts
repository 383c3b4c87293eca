import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PropsValidator } from '../core/validation';

/** S3's bounds on these props (S3 user guide: lifecycle rules, TLS policies). */
export const S3_LIMITS = {
  /** Lifecycle actions count in whole days, at least one. */
  minLifecycleDays: 1,
  /** TLS versions a bucket policy can require as a minimum (`s3:TlsVersion`). */
  tlsVersions: [1.0, 1.1, 1.2, 1.3],
} as const;

/** Where S3 writes this bucket's reports: server access logs and inventory. */
export interface BucketReportsOptions {
  /** Bucket receiving the reports; access logs need SSE-S3 on it. */
  readonly bucket: s3.IBucket;
  /** Prefix of the server access logs. @default 'access-logs/<construct id>/' */
  readonly accessLogsPrefix?: string;
  /** Prefix of the inventory reports. @default 'inventory' */
  readonly inventoryPrefix?: string;
  /** How often S3 writes an inventory (the first one within 48 hours). @default s3.InventoryFrequency.DAILY */
  readonly inventoryFrequency?: s3.InventoryFrequency;
}

export interface EncryptedBucketProps {
  /**
   * Customer managed key for SSE-KMS. With one, PutObject must also name this key.
   * @default - the AWS managed key `aws/s3`: no monthly key charge, but its key policy cannot be changed, so no other
   * account and no CloudFront origin access control can decrypt the objects
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Deny PutObject requests that do not ask for SSE-KMS with the `x-amz-server-side-encryption` header, on top of
   * the default encryption, so every writer states how objects are encrypted. @default true
   */
  readonly requireEncryptionHeader?: boolean;
  /** Keep every version of every object. @default true */
  readonly versioned?: boolean;
  /** How long a noncurrent version is kept before expiring (versioned buckets; whole days). @default Duration.days(30) */
  readonly noncurrentVersionExpiration?: Duration;
  /** Days after which S3 aborts a multipart upload never completed, deleting its parts (≥ 1 day). @default Duration.days(1) */
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  /** Server access logs and a daily CSV inventory. @default - none */
  readonly reports?: BucketReportsOptions;
  /** Lowest TLS version accepted: 1.0, 1.1, 1.2 or 1.3. @default 1.2 */
  readonly minimumTlsVersion?: number;
  /**
   * Role of CDK's bucket-notifications custom resource (a stack-wide singleton), used when event notifications are
   * added. @default - a role with the AWS managed policy AWSLambdaBasicExecutionRole
   */
  readonly notificationsHandlerRole?: iam.IRole;
  /** Delete the bucket with the stack, emptying it first (labs). @default false: the bucket is retained */
  readonly autoDeleteObjects?: boolean;
}

/**
 * An S3 bucket encrypted with SSE-KMS and an S3 Bucket Key, whose policy denies requests without TLS (or below TLS 1.2)
 * and PutObject requests that do not ask for SSE-KMS; versioned, with lifecycle rules that abort abandoned multipart
 * uploads and expire old versions, server access logs and an inventory when a reports bucket is given.
 */
export class EncryptedBucket extends Construct {
  public readonly bucket: s3.Bucket;
  /** The key that encrypts the objects, or undefined for the AWS managed key `aws/s3`. */
  public readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: EncryptedBucketProps = {}) {
    super(scope, id);
    const versioned = props.versioned ?? true;
    const abortAfter = props.abortIncompleteMultipartUploadAfter ?? Duration.days(1);
    const noncurrent = props.noncurrentVersionExpiration ?? Duration.days(30);
    const minimumTlsVersion = props.minimumTlsVersion ?? 1.2;
    validate(this, props, versioned, abortAfter, noncurrent, minimumTlsVersion);

    const reports = props.reports;
    this.encryptionKey = props.encryptionKey;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.KMS_MANAGED,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: minimumTlsVersion,
      versioned,
      notificationsHandlerRole: props.notificationsHandlerRole,
      autoDeleteObjects: props.autoDeleteObjects,
      removalPolicy: props.autoDeleteObjects ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: abortAfter },
        ...(versioned ? [{ id: 'expire-noncurrent-versions', noncurrentVersionExpiration: noncurrent }] : []),
      ],
      serverAccessLogsBucket: reports?.bucket,
      serverAccessLogsPrefix: reports ? (reports.accessLogsPrefix ?? `access-logs/${id}/`) : undefined,
      inventories: reports
        ? [
            {
              destination: { bucket: reports.bucket, prefix: reports.inventoryPrefix ?? 'inventory' },
              frequency: reports.inventoryFrequency ?? s3.InventoryFrequency.DAILY,
              format: s3.InventoryFormat.CSV,
              includeObjectVersions: versioned ? s3.InventoryObjectVersion.ALL : s3.InventoryObjectVersion.CURRENT,
              optionalFields: ['Size', 'LastModifiedDate', 'StorageClass', 'ETag', 'IsMultipartUploaded', 'EncryptionStatus', 'BucketKeyStatus'],
            },
          ]
        : undefined,
    });

    if (props.requireEncryptionHeader ?? true) {
      const objects = this.bucket.arnForObjects('*');
      // The header must be present on PutObject, CreateMultipartUpload and CopyObject (all authorized as s3:PutObject).
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyPutWithoutEncryptionHeader',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject'],
          resources: [objects],
          conditions: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
        }),
      );
      // ...and, when present, ask for SSE-KMS rather than SSE-S3. Both conditions must hold: a negated operator
      // (StringNotEquals, and StringNotEqualsIfExists too) is true when the key is missing, so `Null: false` limits
      // this statement to requests that carry the header.
      this.bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'DenyPutWithOtherEncryption',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:PutObject'],
          resources: [objects],
          conditions: {
            StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' },
            Null: { 's3:x-amz-server-side-encryption': 'false' },
          },
        }),
      );
      if (props.encryptionKey) {
        this.bucket.addToResourcePolicy(
          new iam.PolicyStatement({
            sid: 'DenyPutWithOtherKey',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['s3:PutObject'],
            resources: [objects],
            // Without the key id header S3 uses the bucket's default key: only a request naming another key is denied.
            conditions: {
              StringNotEquals: { 's3:x-amz-server-side-encryption-aws-kms-key-id': props.encryptionKey.keyArn },
              Null: { 's3:x-amz-server-side-encryption-aws-kms-key-id': 'false' },
            },
          }),
        );
      }
    }
  }

  /** Read objects (and decrypt them with a customer managed key). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.bucket.grantRead(grantee);
  }

  /** Write objects; with SSE-KMS, multipart uploads also need kms:Decrypt, which this grants with a customer managed key. */
  grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.bucket.grantReadWrite(grantee);
  }
}

const SECONDS_PER_DAY = 86_400;

function validate(
  scope: Construct,
  props: EncryptedBucketProps,
  versioned: boolean,
  abortAfter: Duration,
  noncurrent: Duration,
  minimumTlsVersion: number,
): void {
  const check = new PropsValidator(scope, 'EncryptedBucket');
  const days = (duration: Duration, name: string) => {
    // The property renders whole days: a token renders only as Duration.days(token).
    const seconds = check.seconds(duration, name, { integral: false, tokenUnit: 'days' });
    return seconds === undefined ? undefined : seconds / SECONDS_PER_DAY;
  };
  const abortDays = days(abortAfter, 'abortIncompleteMultipartUploadAfter');
  check.require(
    abortDays === undefined || (Number.isInteger(abortDays) && abortDays >= S3_LIMITS.minLifecycleDays),
    'AbortMultipartRange',
    `abortIncompleteMultipartUploadAfter must be a whole number of days, at least 1, got ${abortDays}`,
  );
  const noncurrentDays = days(noncurrent, 'noncurrentVersionExpiration');
  check.require(
    noncurrentDays === undefined || (Number.isInteger(noncurrentDays) && noncurrentDays >= S3_LIMITS.minLifecycleDays),
    'NoncurrentExpirationRange',
    `noncurrentVersionExpiration must be a whole number of days, at least 1, got ${noncurrentDays}`,
  );
  check.require(
    props.noncurrentVersionExpiration === undefined || versioned,
    'NoncurrentExpirationNeedsVersioning',
    'noncurrentVersionExpiration applies to versioned buckets only: drop it or keep versioned: true',
  );
  check.require(
    (S3_LIMITS.tlsVersions as readonly number[]).includes(minimumTlsVersion),
    'MinimumTlsVersion',
    `minimumTlsVersion must be 1.0, 1.1, 1.2 or 1.3, got ${minimumTlsVersion}`,
  );
  const prefixes = [props.reports?.accessLogsPrefix, props.reports?.inventoryPrefix].filter((p): p is string => p !== undefined);
  for (const prefix of prefixes) {
    check.require(!prefix.startsWith('/'), 'ReportsPrefix', `report prefix "${prefix}" must not start with "/"`);
  }
  check.throwIfInvalid();
}
