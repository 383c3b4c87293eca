/**
 * For negative tests of exercise checks: the local engine answers every call as usual, except the calls a test
 * rewrites, so that exactly the one fact a check reads is changed. Restore with `jest.restoreAllMocks()`.
 */
export type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
export type Answer = Record<string, unknown>;

/**
 * Answers each call of `client`'s class as `change` says, given the call and a way to make it against the local
 * engine. `A` is the shape of the answers `change` reads. Alterations of one class stack: each one's `send` makes the
 * call as the ones before it answer.
 */
export function alter<A extends Answer = Answer>(
  client: { prototype: { send: (...args: never[]) => unknown } },
  change: (command: AnyCommand, send: () => Promise<A>) => Promise<A>,
): void {
  const current = client.prototype.send as unknown as (...args: unknown[]) => Promise<A>;
  // A second spy on a spied method is the same mock: its implementation so far is what this alteration builds on.
  const send = jest.isMockFunction(current) ? (current.getMockImplementation() as typeof current) : current;
  jest.spyOn(client.prototype, 'send' as never).mockImplementation(function (this: unknown, command: AnyCommand, ...rest: unknown[]) {
    return change(command, () => send.call(this, command, ...rest));
  } as never);
}

/** Whether `command` is the SDK's `<name>Command`. */
export const is = (command: AnyCommand, name: string) => command.constructor.name === `${name}Command`;
