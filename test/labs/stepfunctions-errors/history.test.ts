import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { attemptsOf, formatHistory, retryWaits, stateInput, statesEntered } from '../../../labs/stepfunctions-errors/history';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
/** A history as GetExecutionHistory returns it: ChargePayment fails twice, is retried after 1 s and 2 s, succeeds. */
const history: HistoryEvent[] = [
  { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
  { id: 2, previousEventId: 1, type: 'TaskStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'ChargePayment', input: '{"orderId":"o-1"}' } },
  { id: 3, previousEventId: 2, type: 'TaskScheduled', timestamp: at(0) },
  { id: 4, previousEventId: 3, type: 'TaskStarted', timestamp: at(0) },
  { id: 5, previousEventId: 4, type: 'TaskFailed', timestamp: at(1), taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'PaymentGatewayError' } },
  { id: 6, previousEventId: 5, type: 'TaskScheduled', timestamp: at(2) },
  { id: 7, previousEventId: 6, type: 'TaskStarted', timestamp: at(2) },
  { id: 8, previousEventId: 7, type: 'TaskFailed', timestamp: at(3), taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: 'PaymentGatewayError' } },
  { id: 9, previousEventId: 8, type: 'TaskScheduled', timestamp: at(5) },
  { id: 10, previousEventId: 9, type: 'TaskSucceeded', timestamp: at(6) },
  { id: 11, previousEventId: 10, type: 'TaskStateExited', timestamp: at(6), stateExitedEventDetails: { name: 'ChargePayment' } },
  { id: 12, previousEventId: 11, type: 'PassStateEntered', timestamp: at(6), stateEnteredEventDetails: { name: 'Done', input: '{}' } },
];

test('attributes retries to their state through previousEventId and measures the waits', () => {
  const attempts = attemptsOf(history, 'ChargePayment');
  expect(attempts.scheduled).toHaveLength(3);
  expect(attempts.failed.map((f) => f.error)).toEqual(['PaymentGatewayError', 'PaymentGatewayError']);
  expect(retryWaits(attempts)).toEqual([1, 2]);
  expect(attemptsOf(history, 'Done').scheduled).toEqual([]);
});

test('lists the states entered, their inputs, and one readable line per event', () => {
  expect(statesEntered(history)).toEqual(['ChargePayment', 'Done']);
  expect(stateInput(history, 'ChargePayment')).toEqual({ orderId: 'o-1' });
  const lines = formatHistory(history);
  expect(lines).toHaveLength(12);
  expect(lines[4]).toMatch(/^\s+1\.0s {2}TaskFailed\s+ChargePayment {2}error=PaymentGatewayError$/);
});
