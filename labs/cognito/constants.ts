/** Names and figures the stack, the exercise, the README and the tests share; imports no CDK. */

/** Figures the exercise and README rely on. */
export const COGNITO_LAB = {
  /** Where the managed login page may send the authorization code (a local single-page app). */
  callbackUrl: 'http://localhost:5173/callback',
  groups: {
    editors: { precedence: 1, description: 'May read and write their own notes' },
    viewers: { precedence: 2, description: 'May read their own notes' },
  },
} as const;

/**
 * Lab parameters of the optional OIDC provider (declared in ./lab.ts; off unless all required ones are set).
 * The client secret is read from Secrets Manager at deploy time by name, never put in context or the template.
 */
export const OIDC_PARAMETERS = {
  issuerUrl: 'oidc-issuer',
  clientId: 'oidc-client-id',
  clientSecretName: 'oidc-client-secret-name',
  name: 'oidc-name',
} as const;
