// Pipeline function 2 of Mutation.createNote (DynamoDB): a conditional PutItem. The client chooses the id, so a
// retried request cannot create the note twice: the condition fails and the caller gets a GraphQL error.
import { util } from '@aws-appsync/utils';

export function request(ctx) {
  const { id, title, body } = ctx.args.input;
  const note = { title, body: body ?? null, authorId: ctx.prev.result.authorId, createdAt: util.time.nowISO8601(), version: 1 };
  return {
    operation: 'PutItem',
    key: util.dynamodb.toMapValues({ id }),
    attributeValues: util.dynamodb.toMapValues(note),
    condition: { expression: 'attribute_not_exists(id)' },
  };
}

export function response(ctx) {
  if (ctx.error) {
    const duplicate = ctx.error.type === 'DynamoDB:ConditionalCheckFailedException';
    util.error(duplicate ? `note ${ctx.args.input.id} already exists` : ctx.error.message, ctx.error.type);
  }
  return ctx.result;
}
