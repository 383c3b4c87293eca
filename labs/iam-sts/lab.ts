import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The iam-sts lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const iamStsLab = defineLab({
  id: 'iam-sts',
  title: 'IAM and STS: MFA and external-id roles, boundaries, decoded denials, the credential chain, retries and SigV4',
  stackName: 'IamStsLab',
  seedTopics: ['002: IAM', '000: AWS CLI, SDK and CDK (STS decode, profiles, MFA, limits and backoff, credential chain, signing)', '000: CodeBuild (SSM or Secrets Manager)'],
  idleCostUsdPerMonth: 0,
  features: {
    secret: {
      description: 'a Secrets Manager secret read by the function beside the Parameter Store SecureString',
      idleCostUsdPerMonth: 0.4,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).IamStsLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
