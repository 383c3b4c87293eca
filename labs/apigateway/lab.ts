import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The apigateway lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const apigatewayLab = defineLab({
  id: 'apigateway',
  title: 'API Gateway REST: proxy, mapping templates, mock, validation, stages and canary, usage plan, Cognito authorizer',
  stackName: 'ApigatewayLab',
  seedTopics: ['002: API Gateway', '002: Lambda ALIAS (stage variables select the alias)', '002: Web Identity Federation (user pool authorizer)'],
  idleCostUsdPerMonth: 0,
  features: {
    cache: {
      description: 'a 0.5 GB cache cluster on the prod stage, caching GET /hello for 60 s per name',
      // $0.020 per hour for 0.5 GB (us-east-1) × 730 h, checked 2026-11-22.
      idleCostUsdPerMonth: 14.6,
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).ApigatewayLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
