// Query.listNotesByAuthor (DynamoDB): a Query on the byAuthor index, newest first, paginated with nextToken;
// a page holds 1 to 50 notes whatever limit the caller sends.
import { util } from '@aws-appsync/utils';

const MAX_PAGE = 50;

export function request(ctx) {
  const { authorId, limit, nextToken } = ctx.args;
  return {
    operation: 'Query',
    index: 'byAuthor',
    query: { expression: 'authorId = :authorId', expressionValues: util.dynamodb.toMapValues({ ':authorId': authorId }) },
    scanIndexForward: false,
    limit: Math.max(1, Math.min(limit ?? 10, MAX_PAGE)),
    nextToken: nextToken ?? undefined,
  };
}

export function response(ctx) {
  if (ctx.error) util.error(ctx.error.message, ctx.error.type);
  return { items: ctx.result.items, nextToken: ctx.result.nextToken ?? null };
}
