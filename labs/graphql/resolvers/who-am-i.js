// Query.whoAmI (NONE data source): what AppSync knows of the caller, for every authorization mode.
import { util } from '@aws-appsync/utils';

export function request() {
  return { payload: null };
}

// Which identity field names the caller depends on the mode: an IAM identity also has a username, but it is the
// principal id (AROA…:session), not who the caller is.
const PRINCIPAL_OF = {
  'User Pool Authorization': (identity) => identity.username,
  'IAM Authorization': (identity) => identity.userArn,
  'Open ID Connect Authorization': (identity) => identity.sub,
  'Lambda Authorization': (identity) => identity.resolverContext.caller,
};

export function response(ctx) {
  const authType = util.authType();
  const principalOf = PRINCIPAL_OF[authType];
  const principal = principalOf && ctx.identity ? principalOf(ctx.identity) : null;
  return { authType, principal: principal ?? null, groups: ctx.identity?.groups ?? null };
}
