import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The lambda lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const lambdaLab = defineLab({
  id: 'lambda',
  title: 'Lambda: versions, a weighted alias, asynchronous retries with destinations and a DLQ, concurrency, Powertools',
  stackName: 'LambdaLab',
  seedTopics: ['002: Serverless Computing', '002: Lambda ALIAS', '002: Monitoring (X-Ray Lambda environment variables)'],
  idleCostUsdPerMonth: 0,
  features: {
    'provisioned-concurrency': {
      description: '1 provisioned execution environment (256 MB, arm64) on the live alias, billed every second it exists',
      // 0.25 GB × 2,628,000 s (730 h) × $0.0000033334 per GB-s (arm64, us-east-1), checked 2026-11-22.
      idleCostUsdPerMonth: 2.19,
    },
  },
  parameters: {
    release: {
      description: 'the release to publish; 2 publishes a second version and splits the alias 80/20 between them',
      pattern: /^[1-9]\d*$/,
      expected: 'a whole number of at least 1',
    },
    'reserved-concurrency': {
      description: 'reserved concurrency of the function (default 5); none for accounts with a concurrency quota of 10',
      pattern: /^([1-9]\d*|none)$/,
      expected: 'a whole number of at least 1 or "none"',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).LambdaLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
