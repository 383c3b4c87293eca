// Mutation.createNote, the pipeline resolver around its functions: the before step passes nothing on, the after
// step returns what the last function returned.
export function request() {
  return {};
}

export function response(ctx) {
  return ctx.prev.result;
}
