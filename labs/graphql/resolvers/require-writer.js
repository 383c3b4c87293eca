// Pipeline function 1 of Mutation.createNote (NONE data source): only editors and IAM callers may write. The
// schema's directives already keep other modes out; this check runs before the write, with the identity, so rules
// that directives cannot express (a group, an owner) stop the pipeline before any data source is called.
import { util } from '@aws-appsync/utils';

const WRITER_GROUP = 'editors';

export function request(ctx) {
  const authType = util.authType();
  const groups = ctx.identity?.groups ?? [];
  const allowed = authType === 'IAM Authorization' || (authType === 'User Pool Authorization' && groups.includes(WRITER_GROUP));
  if (!allowed) util.unauthorized();
  // An IAM caller's username is its principal id (AROA…:session); its userArn names the role session.
  const authorId = authType === 'IAM Authorization' ? ctx.identity.userArn : ctx.identity.username;
  return { payload: { authorId } };
}

export function response(ctx) {
  return ctx.result;
}
