import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';
import { REPOSITORY_ACCESS } from './constants';

/** The cicd-bluegreen lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const cicdBluegreenLab = defineLab({
  id: 'cicd-bluegreen',
  title: 'CI/CD: CodePipeline V2 → CodeBuild → approval → CodeDeploy blue/green to a Lambda alias, with hooks and rollback alarms',
  stackName: 'CicdBluegreenLab',
  // The pipeline's picture is at the page's width already: who may reach the repository is drawn on its own.
  separateViews: { RepositoryAccess: 'Repository access' },
  seedTopics: [
    '000: AWS CI/CD (CodeCommit, CodePipeline, CodeBuild, CodeDeploy, CodeStar, CodeArtifact)',
    '002: CodeStar - CI / CD; Code Commit; Code Build; Code Deploy; Code Pipeline',
  ],
  // 3 CloudWatch alarms at $0.10 each (alias errors and p99 duration, which roll deployments back; FailedBuilds).
  // CodePipeline V2 bills per action-execution minute, CodeBuild per build minute, CodeArtifact per GB stored.
  idleCostUsdPerMonth: 0.3,
  features: {
    secret: {
      description: 'a Secrets Manager secret the build reads as a SECRETS_MANAGER environment variable',
      idleCostUsdPerMonth: 0.4,
    },
    ecs: {
      description:
        'ECS blue/green: a second pipeline deploying a Fargate service (arm64, 0.25 vCPU, 0.5 GB, 1 task) behind an ALB ' +
        'with production (80) and test (8080) listeners',
      // ALB $0.0225/h + Fargate arm64 (0.25 vCPU x $0.03238 + 0.5 GB x $0.00356)/h + 3 public IPv4 addresses (the ALB's
      // 2, the task's 1) x $0.005/h, over 730 h; FailedBuilds alarm $0.10.
      idleCostUsdPerMonth: 34.68,
    },
    encryption: {
      description:
        'a customer managed KMS key (rotated yearly) encrypting the repository notifications topic, with the key-policy ' +
        'statement CodeStar Notifications needs to publish to it',
      // One customer managed key at $1/month in its first year (each of its first two yearly rotations adds $1/month);
      // its requests stay inside the free 20,000 a month.
      idleCostUsdPerMonth: 1,
    },
  },
  parameters: {
    'trusted-account': {
      description: 'the AWS account whose principals may assume the repository developer role (default: this account)',
      pattern: REPOSITORY_ACCESS.accountIdPattern,
      expected: 'a 12-digit AWS account id',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).CicdBluegreenLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
