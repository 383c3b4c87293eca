// Query.getNote (DynamoDB): GetItem by id, strongly consistent so a note just written is found; a missing note is
// null, not an error.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  return { operation: 'GetItem', key: util.dynamodb.toMapValues({ id: ctx.args.id }), consistentRead: true };
}

export function response(ctx) {
  if (ctx.error) util.error(ctx.error.message, ctx.error.type);
  return ctx.result ?? null;
}
