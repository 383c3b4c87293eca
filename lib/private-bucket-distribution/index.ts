import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PropsValidator, tokenInSeconds } from '../core/validation';

/** CloudFront's own bounds on cache policy TTLs. */
export const CLOUDFRONT_LIMITS = { maxTtlSeconds: 31_536_000 * 100 } as const;

/** How long CloudFront keeps objects, and how the origin's `Cache-Control` / `Expires` headers move it. */
export interface CacheTtlOptions {
  /**
   * Floor: objects stay cached at least this long, even with `max-age` below it or `no-cache`/`no-store`/`private`.
   * Every TTL is a whole number of seconds. @default Duration.seconds(0)
   */
  readonly minTtl?: Duration;
  /** Used when the origin sends neither `Cache-Control: max-age`/`s-maxage` nor `Expires`. @default Duration.days(1) */
  readonly defaultTtl?: Duration;
  /** Ceiling: a longer `max-age`/`s-maxage`/`Expires` is cut to this. @default Duration.days(365) */
  readonly maxTtl?: Duration;
}

/** CloudFront standard logs (legacy), written to an S3 bucket. */
export interface StandardLogsOptions {
  /** Bucket receiving the logs: it must have ACLs enabled (object ownership not BucketOwnerEnforced). */
  readonly bucket: s3.IBucket;
  /** Prefix of the log files. @default 'cloudfront/' */
  readonly prefix?: string;
}

export interface PrivateBucketDistributionProps {
  /**
   * The origin bucket. It stays private: CloudFront reads it with origin access control (SigV4), and the bucket policy
   * allows this distribution only. Objects encrypted with `aws/s3` (the AWS managed key) cannot be served: its key
   * policy cannot allow CloudFront. Use SSE-S3 or a customer managed key in the same stack.
   */
  readonly bucket: s3.IBucket;
  /** Cache policy TTLs. @default - 0 s / 1 day / 365 days, CloudFront's own defaults */
  readonly ttl?: CacheTtlOptions;
  /** CloudFront standard logs (legacy) into a bucket. @default - no logs */
  readonly standardLogs?: StandardLogsOptions;
  /** Edge locations used: PriceClass_100 serves North America, Europe and Israel from the cheapest ones. @default PRICE_CLASS_100 */
  readonly priceClass?: cloudfront.PriceClass;
  /** Object served for `/`. @default 'index.html' */
  readonly defaultRootObject?: string;
  /** What the distribution is for. @default - the construct path */
  readonly comment?: string;
}

/**
 * A CloudFront distribution in front of a private S3 bucket: origin access control, HTTPS only (HTTP redirects), a
 * cache policy whose minimum / default / maximum TTLs bound what the origin's Cache-Control asks for, compression,
 * and standard logs when a log bucket is given.
 */
export class PrivateBucketDistribution extends Construct {
  public readonly distribution: cloudfront.Distribution;
  public readonly cachePolicy: cloudfront.CachePolicy;
  public readonly minTtl: Duration;
  public readonly defaultTtl: Duration;
  public readonly maxTtl: Duration;

  constructor(scope: Construct, id: string, props: PrivateBucketDistributionProps) {
    super(scope, id);
    this.minTtl = props.ttl?.minTtl ?? Duration.seconds(0);
    this.defaultTtl = props.ttl?.defaultTtl ?? Duration.days(1);
    this.maxTtl = props.ttl?.maxTtl ?? Duration.days(365);
    const seconds = validate(this, props, this.minTtl, this.defaultTtl, this.maxTtl);

    this.cachePolicy = new cloudfront.CachePolicy(this, 'CachePolicy', {
      comment: `TTL ${seconds.min} s / ${seconds.def} s / ${seconds.max} s, no cookies, headers or query strings in the key`,
      minTtl: this.minTtl,
      defaultTtl: this.defaultTtl,
      maxTtl: this.maxTtl,
      cookieBehavior: cloudfront.CacheCookieBehavior.none(),
      headerBehavior: cloudfront.CacheHeaderBehavior.none(),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.none(),
      enableAcceptEncodingGzip: true,
      enableAcceptEncodingBrotli: true,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: props.comment ?? `Private bucket origin of ${this.node.path}`,
      defaultRootObject: props.defaultRootObject ?? 'index.html',
      priceClass: props.priceClass ?? cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: props.standardLogs !== undefined,
      logBucket: props.standardLogs?.bucket,
      logFilePrefix: props.standardLogs ? (props.standardLogs.prefix ?? 'cloudfront/') : undefined,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(props.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: this.cachePolicy,
        compress: true,
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, whose security policy is fixed at TLSv1; ' +
          'a TLSv1.2_2021 minimum needs a custom domain and an ACM certificate in us-east-1, which an offline lab cannot own.',
      },
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Content served to any country; geo restriction is a business decision, not a security default.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Static, read-only content behind origin access control (GET/HEAD only); a WAF web ACL costs $5/month plus $1 per rule and is left to the user.',
      },
    );
  }

  /** https://<domain>/ */
  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }
}

/** The three TTLs in seconds: checked numbers, or tokens given in seconds. */
interface TtlSeconds {
  readonly min: number;
  readonly def: number;
  readonly max: number;
}

/** Validates the props; returns the TTLs in seconds. */
function validate(scope: Construct, props: PrivateBucketDistributionProps, min: Duration, def: Duration, max: Duration): TtlSeconds {
  const check = new PropsValidator(scope, 'PrivateBucketDistribution');
  const minS = check.seconds(min, 'ttl.minTtl');
  const defS = check.seconds(def, 'ttl.defaultTtl');
  const maxS = check.seconds(max, 'ttl.maxTtl');
  const minToken = tokenInSeconds(min);
  const defToken = tokenInSeconds(def);
  const maxToken = tokenInSeconds(max);
  if (minS !== undefined && defS !== undefined && maxS !== undefined) {
    check.require(
      minS <= defS && defS <= maxS,
      'TtlOrder',
      `cache TTLs must satisfy minTtl ≤ defaultTtl ≤ maxTtl, got ${minS} s / ${defS} s / ${maxS} s`,
    );
    check.require(maxS <= CLOUDFRONT_LIMITS.maxTtlSeconds, 'MaxTtlRange', `maxTtl must be at most 100 years (${CLOUDFRONT_LIMITS.maxTtlSeconds} s), got ${maxS}`);
  }
  check.require(
    props.defaultRootObject === undefined || !props.defaultRootObject.startsWith('/'),
    'DefaultRootObject',
    `defaultRootObject must not start with "/", got "${props.defaultRootObject}"`,
  );
  check.throwIfInvalid();
  // After throwIfInvalid, each TTL is either a checked number or a token given in seconds.
  return { min: (minS ?? minToken)!, def: (defS ?? defToken)!, max: (maxS ?? maxToken)! };
}
