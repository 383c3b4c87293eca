import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The s3 lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const s3Lab = defineLab({
  id: 's3',
  title: 'S3: SSE-KMS and TLS enforced by bucket policy, presigned URLs, multipart uploads, events, CloudFront with OAC',
  stackName: 'S3Lab',
  seedTopics: ['002: S3 (encryption policy, request rates, multipart, versions and inventory, CloudFront TTL)', '002: KMS (request quotas)'],
  // aws/s3 (AWS managed key) instead of a customer managed key keeps SSE-KMS at $0 idle; CloudFront bills per request.
  idleCostUsdPerMonth: 0,
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).S3LabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
