import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The athena lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const athenaLab = defineLab({
  id: 'athena',
  title: 'Athena over a partitioned data lake: CSV against Parquet, partition projection, CTAS and a scan cutoff',
  stackName: 'AthenaLab',
  seedTopics: ['000: Amazon Athena'],
  // Athena bills per TB scanned, S3 stores under a megabyte, the Glue Data Catalog is free under a million objects.
  idleCostUsdPerMonth: 0,
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).AthenaLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
