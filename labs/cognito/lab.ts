import { defineLab, LabExercise, LabStackClass } from '../support/define-lab';

/** The cognito lab as the catalogue, the app, the lab CLI, the docs and the tests see it; loads no CDK. */
export const cognitoLab = defineLab({
  id: 'cognito',
  title: 'Cognito: a user pool with MFA, groups and managed login; an identity pool that hands out AWS credentials by group',
  stackName: 'CognitoLab',
  seedTopics: ['002: Web Identity Federation', '000: AWS AppSync (Cognito user pools as an authorization mode)'],
  idleCostUsdPerMonth: 0,
  features: {
    'threat-protection': {
      description:
        'threat protection (compromised credentials, adaptive authentication) on the Plus plan: $0.02 per monthly active user, no free tier, nothing while no one signs in',
      // Plus bills per monthly active user only ($0.020/MAU, no free tier; checked 2026-11-22): $0 while idle.
      idleCostUsdPerMonth: 0,
    },
  },
  parameters: {
    'oidc-issuer': { description: 'issuer URL of an OIDC identity provider to federate', pattern: /^\S+$/, expected: 'a URL' },
    'oidc-client-id': { description: 'client id registered at that provider', pattern: /^\S+$/, expected: 'a client id' },
    'oidc-client-secret-name': {
      description: 'name of the Secrets Manager secret holding the client secret',
      pattern: /^[\w/+=.@-]+$/,
      expected: 'a Secrets Manager secret name',
    },
    'oidc-name': { description: 'provider name shown on the login page (default Corporate)', pattern: /^[\w .-]{1,32}$/, expected: 'a name of up to 32 characters' },
  },
  loadStack: async (): Promise<LabStackClass> => (await import('./stack')).CognitoLabStack,
  loadExercise: (): Promise<LabExercise> => import('./exercise'),
});
