// Subscription.onNoteCreated (NONE data source): enhanced filtering. AppSync evaluates the filter on each
// createNote result before sending it, so a subscriber hears only the notes it asked for, and never drafts.
import { extensions, util } from '@aws-appsync/utils';

export function request() {
  return { payload: null };
}

export function response(ctx) {
  const filter = { title: { notContains: '[draft]' } };
  if (ctx.args.authorId) filter.authorId = { eq: ctx.args.authorId };
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  return null;
}
