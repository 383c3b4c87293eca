import type { HistoryEvent } from '@aws-sdk/client-sfn';

/** The name of the state an event belongs to: follows previousEventId back to the event that entered the state. */
export function stateOf(event: HistoryEvent, byId: ReadonlyMap<number, HistoryEvent>): string | undefined {
  let current: HistoryEvent | undefined = event;
  for (let hops = 0; current && hops < 1000; hops++) {
    const name = current.stateEnteredEventDetails?.name ?? current.stateExitedEventDetails?.name;
    if (name) return name;
    current = current.previousEventId ? byId.get(current.previousEventId) : undefined;
  }
  return undefined;
}

export interface StateAttempts {
  /** When each attempt of the task was scheduled. */
  readonly scheduled: Date[];
  /** When each failed attempt failed, with its error. */
  readonly failed: { at: Date; error: string }[];
  readonly timedOut: Date[];
}

/** Attempts of one Task state in an execution history: its schedules, failures and timeouts, in order. */
export function attemptsOf(history: readonly HistoryEvent[], stateName: string): StateAttempts {
  const byId = new Map(history.map((e) => [e.id ?? 0, e]));
  const mine = history.filter((e) => stateOf(e, byId) === stateName);
  const at = (e: HistoryEvent) => new Date(e.timestamp ?? 0);
  return {
    scheduled: mine.filter((e) => e.type === 'TaskScheduled').map(at),
    failed: mine
      .filter((e) => e.type === 'TaskFailed')
      .map((e) => ({ at: at(e), error: e.taskFailedEventDetails?.error ?? '' })),
    timedOut: mine.filter((e) => e.type === 'TaskTimedOut').map(at),
  };
}

/** Seconds between each failure (or timeout) and the next schedule of the task: the retry waits. */
export function retryWaits(attempts: StateAttempts): number[] {
  const ends = [...attempts.failed.map((f) => f.at), ...attempts.timedOut].sort((a, b) => a.getTime() - b.getTime());
  return attempts.scheduled.slice(1).map((next, i) => (next.getTime() - ends[i].getTime()) / 1000);
}

/** The states entered, in order. */
export function statesEntered(history: readonly HistoryEvent[]): string[] {
  return history.flatMap((e) => (e.stateEnteredEventDetails?.name ? [e.stateEnteredEventDetails.name] : []));
}

/** The input a state was entered with (the first time), parsed. */
export function stateInput(history: readonly HistoryEvent[], stateName: string): unknown {
  const entered = history.find((e) => e.stateEnteredEventDetails?.name === stateName);
  return entered?.stateEnteredEventDetails?.input ? JSON.parse(entered.stateEnteredEventDetails.input) : undefined;
}

/** One line per event, as the console's event view shows it: elapsed time, type, state, error. */
export function formatHistory(history: readonly HistoryEvent[]): string[] {
  const byId = new Map(history.map((e) => [e.id ?? 0, e]));
  const start = history[0]?.timestamp ? new Date(history[0].timestamp).getTime() : 0;
  return history.map((e) => {
    const elapsed = ((new Date(e.timestamp ?? 0).getTime() - start) / 1000).toFixed(1).padStart(6);
    const error =
      e.taskFailedEventDetails?.error ??
      e.taskTimedOutEventDetails?.error ??
      e.executionFailedEventDetails?.error;
    const state = stateOf(e, byId);
    return `${elapsed}s  ${(e.type ?? '').padEnd(28)} ${state ?? ''}${error ? `  error=${error}` : ''}`;
  });
}
