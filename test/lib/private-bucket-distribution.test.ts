import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { PrivateBucketDistribution, StandardLogsOptions } from '../../lib/private-bucket-distribution';
import { testApp } from '../support/synth';
import { problemMessagesOf } from '../support/validation';

const newStack = () => new Stack(testApp({}, { builtinCloudFormationValidation: false }), 'Test');

const problemsOf = (build: (stack: Stack) => void) => problemMessagesOf(() => build(newStack()));

describe('PrivateBucketDistribution', () => {
  const stack = newStack();
  const bucket = new s3.Bucket(stack, 'Site');
  const cdn = new PrivateBucketDistribution(stack, 'Cdn', { bucket, ttl: { minTtl: Duration.seconds(5), defaultTtl: Duration.minutes(1), maxTtl: Duration.hours(1) } });
  const template = Template.fromStack(stack);

  test('a cache policy with the TTLs, and nothing but the path in the cache key', () => {
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        MinTTL: 5, DefaultTTL: 60, MaxTTL: 3600,
        Comment: 'TTL 5 s / 60 s / 3600 s, no cookies, headers or query strings in the key',
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          CookiesConfig: { CookieBehavior: 'none' }, HeadersConfig: { HeaderBehavior: 'none' }, QueryStringsConfig: { QueryStringBehavior: 'none' },
          EnableAcceptEncodingGzip: true, EnableAcceptEncodingBrotli: true,
        }),
      }),
    });
    expect(cdn.defaultTtl.toSeconds()).toBe(60);
  });

  test('origin access control signs every request; the bucket lets this distribution read, nothing else', () => {
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: Match.objectLike({ SigningBehavior: 'always', SigningProtocol: 'sigv4', OriginAccessControlOriginType: 's3' }) });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Allow', Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' }, Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } } })] },
    });
  });

  test('HTTPS (HTTP redirects), GET/HEAD only, compressed, PriceClass_100, index.html at the root, no logs without a bucket', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Comment: 'Private bucket origin of Test/Cdn',
        DefaultRootObject: 'index.html',
        PriceClass: 'PriceClass_100',
        HttpVersion: 'http2and3',
        Logging: Match.absent(),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], Compress: true }),
      }),
    });
  });

  test('url is the distribution\'s domain over HTTPS', () => {
    expect(stack.resolve(cdn.url)).toEqual({ 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [expect.stringMatching(/^CdnDistribution/), 'DomainName'] }, '/']] });
  });

  test('acknowledges the cdk-nag findings it leaves on purpose (default certificate, no geo restriction, no WAF), each with why', () => {
    const acknowledged = cdn.distribution.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>);
    expect(acknowledged).toEqual([
      { 'Annotation::AwsSolutions-CFR4': expect.stringMatching(/^The distribution uses the default \*\.cloudfront\.net certificate.*ACM certificate in us-east-1/) },
      { 'Annotation::AwsSolutions-CFR1': expect.stringMatching(/^Content served to any country; geo restriction/) },
      { 'Annotation::AwsSolutions-CFR2': expect.stringMatching(/^Static, read-only content.*WAF web ACL/) },
    ]);
  });
});

test('standard logs go to the log bucket under cloudfront/', () => {
  const stack = newStack();
  const logs = new s3.Bucket(stack, 'Logs', { objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED });
  new PrivateBucketDistribution(stack, 'Cdn', { bucket: new s3.Bucket(stack, 'Site'), standardLogs: { bucket: logs } });
  Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({ Logging: { Bucket: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Logs'), 'RegionalDomainName'] }, Prefix: 'cloudfront/' } }),
  });
});

test('a log prefix without a bucket has no spelling: the prefix is an option of standardLogs', () => {
  // Was the run-time error PrivateBucketDistribution.LogPrefixWithoutBucket.
  // @ts-expect-error standardLogs needs its bucket
  const logs: StandardLogsOptions = { prefix: 'cf/' };
  expect(logs.prefix).toBe('cf/');
});

test('validation: TTL order and bounds, whole seconds, a root object with a slash', () => {
  expect(
    problemsOf((s) =>
      new PrivateBucketDistribution(s, 'Cdn', {
        bucket: new s3.Bucket(s, 'Site'),
        ttl: { minTtl: Duration.minutes(10), defaultTtl: Duration.minutes(1) },
        defaultRootObject: '/index.html',
      }),
    ),
  ).toEqual([
    'PrivateBucketDistribution.TtlOrder: cache TTLs must satisfy minTtl ≤ defaultTtl ≤ maxTtl, got 600 s / 60 s / 31536000 s',
    'PrivateBucketDistribution.DefaultRootObject: defaultRootObject must not start with "/", got "/index.html"',
  ]);
  expect(problemsOf((s) => new PrivateBucketDistribution(s, 'Cdn', { bucket: new s3.Bucket(s, 'Site'), ttl: { maxTtl: Duration.days(365 * 101) } }))).toEqual([
    'PrivateBucketDistribution.MaxTtlRange: maxTtl must be at most 100 years (3153600000 s), got 3185136000',
  ]);
  expect(problemsOf((s) => new PrivateBucketDistribution(s, 'Cdn', { bucket: new s3.Bucket(s, 'Site'), ttl: { defaultTtl: Duration.millis(1500) } }))).toEqual([
    'PrivateBucketDistribution.NotWholeSeconds: ttl.defaultTtl must be a whole number of seconds, got 1.5 s',
  ]);
});

test('accepted at the edges: equal TTLs, a maxTtl of exactly 100 years, a root object without a slash', () => {
  const accepted = (props: Omit<ConstructorParameters<typeof PrivateBucketDistribution>[2], 'bucket'>) =>
    problemsOf((s) => new PrivateBucketDistribution(s, 'Cdn', { bucket: new s3.Bucket(s, 'Site'), ...props }));
  expect(accepted({ ttl: { minTtl: Duration.minutes(1), defaultTtl: Duration.minutes(1), maxTtl: Duration.minutes(1) } })).toEqual([]);
  expect(accepted({ ttl: { maxTtl: Duration.seconds(3_153_600_000) }, defaultRootObject: 'home.html' })).toEqual([]);
  // One TTL a token given in seconds: the others are not compared with it (nor with each other).
  const token = Duration.seconds(Token.asNumber({ Ref: 'Ttl' }));
  expect(accepted({ ttl: { minTtl: token, defaultTtl: Duration.minutes(1), maxTtl: Duration.minutes(2) } })).toEqual([]);
  expect(accepted({ ttl: { minTtl: Duration.minutes(1), defaultTtl: token, maxTtl: Duration.minutes(2) } })).toEqual([]);
  expect(accepted({ ttl: { minTtl: Duration.minutes(1), defaultTtl: Duration.minutes(2), maxTtl: token } })).toEqual([]);
});

test('a default TTL above the maximum, and a minimum TTL that is not whole seconds', () => {
  const bucket = (s: Stack) => new s3.Bucket(s, 'Site');
  expect(problemsOf((s) => new PrivateBucketDistribution(s, 'Cdn', { bucket: bucket(s), ttl: { defaultTtl: Duration.hours(2), maxTtl: Duration.hours(1) } }))).toEqual([
    'PrivateBucketDistribution.TtlOrder: cache TTLs must satisfy minTtl ≤ defaultTtl ≤ maxTtl, got 0 s / 7200 s / 3600 s',
  ]);
  expect(problemsOf((s) => new PrivateBucketDistribution(s, 'Cdn', { bucket: bucket(s), ttl: { minTtl: Duration.millis(500) } }))).toEqual([
    'PrivateBucketDistribution.NotWholeSeconds: ttl.minTtl must be a whole number of seconds, got 0.5 s',
  ]);
});

test('TTLs from tokens given in seconds go into the cache policy and its comment as the tokens', () => {
  const stack = newStack();
  const ttl = Token.asNumber({ Ref: 'Ttl' });
  new PrivateBucketDistribution(stack, 'Cdn', { bucket: new s3.Bucket(stack, 'Site'), ttl: { defaultTtl: Duration.seconds(ttl), maxTtl: Duration.seconds(ttl) } });
  Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::CachePolicy', {
    CachePolicyConfig: Match.objectLike({
      MinTTL: 0, DefaultTTL: { Ref: 'Ttl' }, MaxTTL: { Ref: 'Ttl' },
      Comment: { 'Fn::Join': ['', ['TTL 0 s / ', { Ref: 'Ttl' }, ' s / ', { Ref: 'Ttl' }, ' s, no cookies, headers or query strings in the key']] },
    }),
  });
});

test('a TTL from a token in another unit than seconds is listed with the other problems, not thrown by CDK', () => {
  expect(
    problemsOf((s) =>
      new PrivateBucketDistribution(s, 'Cdn', {
        bucket: new s3.Bucket(s, 'Site'),
        ttl: { defaultTtl: Duration.minutes(Token.asNumber({ Ref: 'Ttl' })), maxTtl: Duration.days(Token.asNumber({ Ref: 'Max' })) },
        defaultRootObject: '/index.html',
      }),
    ),
  ).toEqual([
    'PrivateBucketDistribution.TokenNotInSeconds: ttl.defaultTtl is a token in minutes, which cannot be converted at synth: give it as Duration.seconds(token)',
    'PrivateBucketDistribution.TokenNotInSeconds: ttl.maxTtl is a token in days, which cannot be converted at synth: give it as Duration.seconds(token)',
    'PrivateBucketDistribution.DefaultRootObject: defaultRootObject must not start with "/", got "/index.html"',
  ]);
});
