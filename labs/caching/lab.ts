import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The caching lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const cachingLab = defineLab({
  id: 'caching',
  title: 'Caching: lazy loading and write-through in front of DynamoDB, with ElastiCache (Valkey, Memcached) and DAX',
  stackName: 'CachingLab',
  seedTopics: ['002: DyanamoDB Accellerator (DAX) or Elasticache'],
  idleCostUsdPerMonth: 0,
  features: {
    valkey: {
      // 1 × cache.t4g.micro Valkey at $0.0128/hour (20% below Redis OSS's $0.016); its one daily snapshot is free.
      description: 'an ElastiCache for Valkey node (cache.t4g.micro, TLS, IAM auth) in an isolated VPC, used by the function',
      idleCostUsdPerMonth: 9.34,
    },
    memcached: {
      // 1 × cache.t4g.micro Memcached at $0.016/hour.
      description: 'an ElastiCache for Memcached node (cache.t4g.micro, TLS) in an isolated VPC, used by the function',
      idleCostUsdPerMonth: 11.68,
    },
    dax: {
      // 1 × dax.t3.small at $0.04/hour.
      description: 'a one-node DAX cluster (dax.t3.small, TLS) in an isolated VPC in front of the products table',
      idleCostUsdPerMonth: 29.2,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).CachingLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
