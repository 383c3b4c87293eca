/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */
import { LabDuration } from '../support/duration';

/** Figures the exercise and README rely on. */
export const S3_LAB = {
  /** Objects created under this prefix of the data bucket notify the queue. */
  notificationPrefix: 'uploads/',
  abortIncompleteMultipartUploadAfter: LabDuration.days(1),
  noncurrentVersionExpiration: LabDuration.days(7),
  reportsExpiration: LabDuration.days(7),
  /** CloudFront: at least 10 s, 60 s without Cache-Control, at most 5 minutes. */
  minTtl: LabDuration.seconds(10),
  defaultTtl: LabDuration.seconds(60),
  maxTtl: LabDuration.minutes(5),
  /** How long the exercise's steps wait (see defineTiming). */
  exerciseTiming: {
    /** Expiry of the presigned GET, whole seconds (X-Amz-Expires). */
    presignedGetExpiresSeconds: 2,
    /** When the presigned GET is tried again, after its expiry. */
    expiredGetAfterSeconds: 3.5,
    /** max-age of the object whose Cache-Control asks for less than the minimum TTL. */
    shortMaxAgeSeconds: 2,
    /** When that object is fetched again: after its max-age, before the minimum TTL. */
    cachedGetAfterSeconds: 3,
    /** How long the notifications step waits for the ObjectCreated event in the queue before failing. */
    notificationDeadlineSeconds: 60,
  },
} as const;
