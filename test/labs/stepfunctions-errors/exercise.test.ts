import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { steps, timing } from '../../../labs/stepfunctions-errors/exercise';
import { ERRORS_LAB } from '../../../labs/stepfunctions-errors/constants';
import { ExerciseCheckFailed, ExerciseRunOptions, provide, runExercise } from '../../../labs/support/exercise';

// No local engine serves EventBridge and the Step Functions API, so the `event` step runs against SDK doubles.
const eventBridge = mockClient(EventBridgeClient);
const dynamodb = mockClient(DynamoDBClient);
const eventStep = steps.find((s) => s.id === 'event')!;
const lines: string[] = [];
const context: ExerciseRunOptions = {
  outputs: { OrdersTableName: 'orders' },
  log: (l) => lines.push(l),
  provide: [provide(timing, { pollMs: 5, timeoutMs: 200 })],
};

beforeEach(() => {
  eventBridge.reset();
  dynamodb.reset();
  lines.length = 0;
});

test('puts an OrderPlaced event and waits until the workflow the rule started has stored the order', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  dynamodb.on(GetItemCommand).resolvesOnce({}).resolvesOnce({}).resolves({ Item: { status: { S: 'ACCEPTED' } } });

  await runExercise([eventStep], context);

  const [put] = eventBridge.commandCalls(PutEventsCommand);
  const entry = put.args[0].input.Entries![0];
  expect(entry).toMatchObject({ Source: ERRORS_LAB.eventSource, DetailType: ERRORS_LAB.eventDetailType });
  const orderId = JSON.parse(entry.Detail!).orderId;
  expect(dynamodb.commandCalls(GetItemCommand).map((c) => c.args[0].input.Key)).toEqual(Array(3).fill({ orderId: { S: orderId } }));
  expect(lines.at(-1)).toBe(`the rule started the workflow with the event's detail as input: ${orderId} stored as ACCEPTED`);
});

test('fails when EventBridge refuses the event', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDenied' }] });
  await expect(runExercise([eventStep], context)).rejects.toThrow(new ExerciseCheckFailed('PutEvents refused the event: [{"ErrorCode":"AccessDenied"}]'));
});

test('fails when no execution stores the order in time (rule disabled or not matching)', async () => {
  eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });
  dynamodb.on(GetItemCommand).resolves({});
  await expect(runExercise([eventStep], context)).rejects.toThrow(/no execution stored event-run-\w+ within 0.2 s: is the rule enabled\?/);
});
