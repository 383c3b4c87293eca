import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';
import { BEANSTALK_LAB, DEPLOYMENT_POLICY_NAMES } from './constants';

/** The beanstalk lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const beanstalkLab = defineLab({
  id: 'beanstalk',
  title: 'Elastic Beanstalk: application versions, lifecycle, saved configurations, .ebextensions, deployment policies and worker environments',
  stackName: BEANSTALK_LAB.stackName,
  seedTopics: ['002: Elastic Beanstalk', '000: AWS CodePipeline (Elastic Beanstalk deploy); AWS CodeStar'],
  // An application, its versions, a saved configuration and IAM roles bill nothing; the bundle's S3 object is pennies.
  idleCostUsdPerMonth: 0,
  features: {
    environment: {
      description:
        `a single-instance web environment (${BEANSTALK_LAB.instanceType} arm64, ${BEANSTALK_LAB.rootVolumeGiB} GB gp3, an Elastic IP) in a VPC ` +
        'without NAT, with enhanced health and managed platform updates',
      // t4g.micro $0.0084/hour + public IPv4 $0.005/hour over 730 hours, + 10 GB gp3 at $0.08/GB-month.
      idleCostUsdPerMonth: BEANSTALK_LAB.environmentUsdPerMonth,
    },
    'load-balanced': {
      description:
        `makes the web environment load-balanced: an Application Load Balancer in 2 AZs and ${BEANSTALK_LAB.loadBalancedInstances} ${BEANSTALK_LAB.instanceType} instances ` +
        '(public addresses, no Elastic IP), which Rolling, RollingWithAdditionalBatch and TrafficSplitting need; implies the web environment',
      // 2 × (t4g.micro $0.0084/hour + public IPv4 $0.005/hour) over 730 hours + 2 × 10 GB gp3 at $0.08/GB-month,
      // + the ALB $0.0225/hour and its 2 public IPv4 addresses; instead of the single instance, not on top of it.
      idleCostUsdPerMonth: BEANSTALK_LAB.loadBalancedUsdPerMonth,
    },
    worker: {
      description:
        `a single-instance worker environment (${BEANSTALK_LAB.instanceType} arm64, ${BEANSTALK_LAB.rootVolumeGiB} GB gp3, a public IPv4 address) ` +
        'reading an SQS queue with a DLQ, running the cron.yaml jobs',
      // The same instance, address and volume; the SQS daemon's long polls stay within the SQS free tier.
      idleCostUsdPerMonth: BEANSTALK_LAB.environmentUsdPerMonth,
    },
  },
  parameters: {
    platform: {
      description: `a Node.js platform name and version to pin (default: the recommended version of ${BEANSTALK_LAB.platformBranch}, looked up at deploy time); only a branch's latest version can create environments`,
      pattern: BEANSTALK_LAB.platformPattern,
      expected: 'a platform name and version such as "Node.js 22 running on 64bit Amazon Linux 2023/6.10.0"',
    },
    'deployment-policy': {
      description: `the web environment's deployment policy (default ${BEANSTALK_LAB.defaultDeploymentPolicy}); a single instance supports AllAtOnce and Immutable, the others need -c beanstalk:load-balanced=true`,
      pattern: new RegExp(`^(${DEPLOYMENT_POLICY_NAMES.join('|')})$`),
      expected: `one of ${DEPLOYMENT_POLICY_NAMES.join(', ')}`,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).BeanstalkLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
