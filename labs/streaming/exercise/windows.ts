/** The exercise's windows step: the second mapping's tumbling window, seen through the totals it writes. */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { windowItemKey } from '../../../lambda/kinesis-window';
import { check, defineTiming, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { documentClient, encode, kinesisOf, runKey } from './clients';
import { STREAMING_LAB, WINDOW_TIMING } from '../constants';

export const windowTiming = defineTiming(WINDOW_TIMING);

/**
 * A window's total as the counter writes it: `<shard>@<start>/<end>#<first sequence number>` → clicks of the run in
 * that window of that shard. A window Lambda ended early has two parts, each with its own first record.
 */
export interface WindowTotal {
  readonly shardId: string;
  readonly start: string;
  readonly end: string;
  readonly firstSequenceNumber: string;
  readonly count: number;
}

export function parseWindows(windows: Record<string, unknown> | undefined): WindowTotal[] {
  return Object.entries(windows ?? {}).map(([key, count]) => {
    const [window, firstSequenceNumber = ''] = key.split('#');
    const [shardId, range] = window.split('@');
    const [start, end] = (range ?? '').split('/');
    return { shardId, start, end, firstSequenceNumber, count: Number(count) };
  });
}

/**
 * Puts this step's clicks, with a run id of their own (the window counter totals the clicks of a run id, and the
 * consumer step's records carry the run's), then reads the totals the window counter writes when each window closes,
 * until they add up to what was put or the deadline passes. A window is per shard, so clicks of one run may be split across shards
 * and across two windows when they straddle a boundary, and a window Lambda ends early (state at 1 MB) is written in
 * two parts: the check is on the sum, each total on its own window.
 */
export async function windowedTotals(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const table = requireOutput(outputs, 'ProgressTableName');
  const windowRun = `${context.runId}-windows`;
  const keys = STREAMING_LAB.orderingKeys.map((name) => runKey(context, `window-${name}`));
  const Records = Array.from({ length: STREAMING_LAB.windowRecords }, (_, i) => ({
    PartitionKey: keys[i % keys.length],
    Data: encode({ key: keys[i % keys.length], page: `/window/${i + 1}`, runId: windowRun }),
  }));
  const started = Date.now();
  const { FailedRecordCount = 0 } = await (await kinesisOf(context)).send(new PutRecordsCommand({ StreamName: streamName, Records }));
  check(FailedRecordCount === 0, `${FailedRecordCount} of the step's ${Records.length} clicks were refused: run the step again`);
  const windowSeconds = STREAMING_LAB.tumblingWindow.toSeconds();
  log(
    `put ${Records.length} clicks over ${keys.length} partition keys; the window counter adds them up per shard and ${windowSeconds} s ` +
      'window and writes each total when the window closes (after its end, when the mapping next polls the shard)',
  );

  const { totalsDeadlineSeconds, totalsPollSeconds } = await context.use(windowTiming);
  const documents = await context.use(documentClient);
  let totals: WindowTotal[] = [];
  const sum = () => totals.reduce((total, window) => total + window.count, 0);
  while (Date.now() - started < totalsDeadlineSeconds * 1000) {
    const { Item } = await documents.send(new GetCommand({ TableName: table, Key: { partitionKey: windowItemKey(windowRun) }, ConsistentRead: true }));
    const seen = parseWindows(Item?.windows as Record<string, unknown> | undefined);
    if (seen.length > totals.length) log(`  after ${elapsedSeconds(started)} s: ${seen.map((w) => `${w.shardId} ${w.start}–${w.end}: ${w.count}`).join('; ')}`);
    totals = seen;
    if (sum() >= Records.length) break;
    await new Promise((resolve) => setTimeout(resolve, totalsPollSeconds * 1000));
  }
  check(totals.length > 0, `no window total for this step's clicks within ${totalsDeadlineSeconds} s: is the window counter's mapping enabled?`);
  check(sum() === Records.length, `the windows counted ${sum()} clicks of this step, not the ${Records.length} put: ${JSON.stringify(totals)}`);
  for (const window of totals) {
    const length = (Date.parse(window.end) - Date.parse(window.start)) / 1000;
    check(length === windowSeconds, `window ${window.start}–${window.end} of ${window.shardId} lasts ${length} s, not the mapping's ${windowSeconds} s`);
  }
  log(
    `${totals.length} window total(s) add up to the ${Records.length} clicks: the state Lambda carried between invocations held ` +
      'the count, and the final invocation of each window wrote it once',
  );
}
