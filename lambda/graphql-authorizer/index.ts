import type { AppSyncAuthorizerEvent, AppSyncAuthorizerResult } from 'aws-lambda';

/**
 * The graphql lab's AWS_LAMBDA authorizer. It shows the contract, not an authentication scheme: AppSync calls it
 * with the `Authorization` header (only for tokens matching the API's identityValidationExpression, `lab-...`), and
 * it answers whether the caller may proceed, which fields it may not resolve, what the resolvers see as
 * `ctx.identity.resolverContext`, and how long AppSync may cache that answer for this token. A real authorizer
 * verifies a signed token or looks it up; this one trusts the name in it, which is why it grants reads only.
 */

/** Tokens of this form are refused: `lab-blocked-...`. */
export const BLOCKED_PREFIX = 'lab-blocked-';
/**
 * What a Lambda-authorized caller may not resolve although the schema's directives allow it (`Note` carries
 * `@aws_lambda`): readers see a note's title, not its body. Fields without `@aws_lambda` (the mutations, egressIp)
 * are refused by the directives already and need no entry here.
 */
export const DENIED_FIELDS = ['Note.body'];
/** How long AppSync may reuse an answer for the same token (overrides the API's authorizerResultTtlInSeconds). */
export const ANSWER_TTL_SECONDS = 30;

export interface LabCallerContext {
  readonly caller: string;
  readonly role: 'reader';
  // AppSync's resolverContext holds string values only; an index signature keeps the type honest about that.
  readonly [key: string]: string;
}

export async function handler(event: AppSyncAuthorizerEvent): Promise<AppSyncAuthorizerResult<LabCallerContext>> {
  const token = event.authorizationToken ?? '';
  if (token.startsWith(BLOCKED_PREFIX) || !token.startsWith('lab-')) {
    return { isAuthorized: false, ttlOverride: ANSWER_TTL_SECONDS };
  }
  return {
    isAuthorized: true,
    resolverContext: { caller: token.slice('lab-'.length), role: 'reader' },
    deniedFields: DENIED_FIELDS,
    ttlOverride: ANSWER_TTL_SECONDS,
  };
}
