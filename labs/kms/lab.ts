import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The kms lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const kmsLab = defineLab({
  id: 'kms',
  title: 'KMS: a customer managed key with rotation and a key policy that separates admins from users; envelope encryption',
  stackName: 'KmsLab',
  seedTopics: ['002: KMS', '002: S3 (KMS as a bottleneck)'],
  // A customer managed key costs $1/month (prorated hourly) from creation until it is scheduled for deletion.
  idleCostUsdPerMonth: 1,
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).KmsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
