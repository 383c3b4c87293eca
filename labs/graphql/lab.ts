import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The graphql lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const graphqlLab = defineLab({
  id: 'graphql',
  title: 'AppSync GraphQL: JS, VTL, Lambda and HTTP resolvers, five authorization modes, real-time subscriptions, Amplify Hosting',
  stackName: 'GraphqlLab',
  seedTopics: ['000: AWS AppSync', '000: AWS Amplify'],
  // AppSync bills per request and per real-time message/connection-minute, DynamoDB on demand, Cognito per monthly
  // active user, Amplify Hosting per build minute, GB served and GB stored (the deployed zip is a few KB, well under
  // a cent): nothing while idle (checked 2026-12-03). Caching, billed hourly, stays off (see the README).
  idleCostUsdPerMonth: 0,
  parameters: {
    'oidc-issuer': {
      description: 'issuer URL of an external OIDC provider for the OPENID_CONNECT mode (default: a second user pool of the lab)',
      pattern: /^https:\/\/\S+$/,
      expected: 'an https URL',
    },
    'oidc-client-id': {
      description: 'client id the OPENID_CONNECT mode accepts in the token audience (with oidc-issuer)',
      pattern: /^\S{1,128}$/,
      expected: 'a client id',
    },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).GraphqlLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
