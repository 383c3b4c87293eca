/**
 * For negative tests of exercise checks: the local engine answers every call as usual, except the calls a test
 * rewrites, so that exactly the one fact a check reads is changed.
 *
 * Tests that run at once (`concurrentTest`) alter only their own calls. An alteration made in a concurrent test applies
 * to the calls that test makes (jest names the running concurrent test through its awaits and the loops it starts);
 * one made elsewhere applies to every call but those, and ends with `jest.restoreAllMocks()`.
 */
export type AnyCommand = { constructor: { name: string }; input: Record<string, unknown> };
export type Answer = Record<string, unknown>;
type Change<A> = (command: AnyCommand, send: () => Promise<A>) => Promise<A>;
type Send = (...args: unknown[]) => Promise<Answer>;
type SdkClientClass = { prototype: { send: (...args: never[]) => unknown } };

/** The concurrent test whose code is running, if any. */
const runningConcurrentTest = (): string | undefined =>
  (expect.getState() as { currentConcurrentTestName?: () => string | undefined }).currentConcurrentTestName?.();
/** Whether the code running belongs to a concurrent test: what a test's own spy (on fetch, a presigner) leaves alone. */
export const inConcurrentTest = () => runningConcurrentTest() !== undefined;

/**
 * Each client class's alterations by concurrent test, applied by a wrapper put on `send` before the class's first
 * jest spy: `jest.restoreAllMocks()` after another test restores that wrapper, so a concurrent test keeps its own.
 */
const concurrentChanges = new Map<SdkClientClass, Map<string, Change<Answer>>>();
function wrapForConcurrentTests(client: SdkClientClass): Map<string, Change<Answer>> {
  const send = client.prototype.send as unknown as Send;
  const byTest = new Map<string, Change<Answer>>();
  concurrentChanges.set(client, byTest);
  client.prototype.send = function (this: unknown, command: AnyCommand, ...rest: unknown[]) {
    const sendAsIs = () => send.call(this, command, ...rest);
    const change = byTest.get(runningConcurrentTest() ?? '');
    return change ? change(command, sendAsIs) : sendAsIs();
  } as never;
  return byTest;
}

/**
 * Answers each call of `client`'s class as `change` says, given the call and a way to make it against the local
 * engine. `A` is the shape of the answers `change` reads. Alterations of one class by one test stack: each one's
 * `send` makes the call as the ones before it answer.
 */
export function alter<A extends Answer = Answer>(client: SdkClientClass, change: Change<A>): void {
  const current = client.prototype.send as unknown as Send;
  const spied = jest.isMockFunction(current);
  const test = runningConcurrentTest();
  if (test !== undefined) {
    const byTest = concurrentChanges.get(client) ?? (spied ? undefined : wrapForConcurrentTests(client));
    if (!byTest) throw new Error(`a concurrent test alters ${(client as { name?: string }).name} while another test's spy on its send, made without alter(), is on`);
    const before = byTest.get(test) as Change<A> | undefined;
    const stacked: Change<A> = before ? (command, send) => change(command, () => before(command, send)) : change;
    byTest.set(test, stacked as unknown as Change<Answer>);
    return;
  }
  if (!spied && !concurrentChanges.has(client)) wrapForConcurrentTests(client);
  // A second spy on a spied method is the same mock: its implementation so far is what this alteration builds on.
  const send = spied ? (current.getMockImplementation() as Send) : (client.prototype.send as unknown as Send);
  jest.spyOn(client.prototype, 'send' as never).mockImplementation(function (this: unknown, command: AnyCommand, ...rest: unknown[]) {
    const sendOn = () => send.call(this, command, ...rest) as Promise<A>;
    return inConcurrentTest() ? sendOn() : change(command, sendOn);
  } as never);
}

/** Ends the running test's alterations: a concurrent test's own, or every jest spy (`jest.restoreAllMocks()`) for another. */
export function restoreAlterations(): void {
  const test = runningConcurrentTest();
  if (test === undefined) jest.restoreAllMocks();
  else for (const byTest of concurrentChanges.values()) byTest.delete(test);
}

/** Whether `command` is the SDK's `<name>Command`. */
export const is = (command: AnyCommand, name: string) => command.constructor.name === `${name}Command`;
