import { PutRecordsCommand, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { check, elapsedSeconds, ExerciseContext, requireOutput } from '../../support/exercise';
import { STREAMING_LAB } from '../constants';
import { encode, kinesisOf, runKey } from './clients';
import { timing } from './reading';

/** What the producer saw: records refused on the first attempt, retries it took, records still refused at the end. */
interface BurstOutcome {
  readonly throttledFirst: number;
  readonly attempts: number;
  readonly refused: number;
}

/**
 * Writes `entries` in PutRecords calls of 500, all at once, then retries only the refused entries with exponential
 * backoff and full jitter (wait a random time up to base × 2^attempt): PutRecords is not all-or-nothing, each entry
 * has its own ErrorCode.
 */
async function putWithBackoff(
  context: ExerciseContext,
  streamName: string,
  entries: PutRecordsRequestEntry[],
  random: () => number = Math.random,
): Promise<BurstOutcome> {
  const { retryBaseMs, maxRetries } = await context.use(timing);
  const kinesis = await kinesisOf(context);
  let pending = entries;
  let throttledFirst = 0;
  let attempt = 0;
  for (; pending.length > 0 && attempt <= maxRetries; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, random() * retryBaseMs * 2 ** attempt));
    const chunks = Array.from({ length: Math.ceil(pending.length / 500) }, (_, i) => pending.slice(i * 500, i * 500 + 500));
    const results = await Promise.all(chunks.map((Records) => kinesis.send(new PutRecordsCommand({ StreamName: streamName, Records }))));
    const refused = chunks.flatMap((chunk, c) => chunk.filter((_, i) => results[c].Records?.[i]?.ErrorCode !== undefined));
    const throttled = results.flatMap((r) => r.Records ?? []).filter((r) => r.ErrorCode === 'ProvisionedThroughputExceededException').length;
    if (attempt === 0) throttledFirst = throttled;
    context.log(`  attempt ${attempt + 1}: ${pending.length - refused.length} written, ${throttled} ProvisionedThroughputExceededException`);
    pending = refused;
  }
  return { throttledFirst, attempts: attempt, refused: pending.length };
}

export async function throttling(context: ExerciseContext): Promise<void> {
  const { outputs, log } = context;
  const streamName = requireOutput(outputs, 'StreamName');
  const key = runKey(context, 'burst');
  const padding = 'x'.repeat(STREAMING_LAB.burstRecordBytes - 64);
  // Not numbered (no seq): the consumer reads them and leaves them alone, whatever order the retries put them in.
  const entries = Array.from({ length: STREAMING_LAB.burstRecords }, (_, i) => ({ PartitionKey: key, Data: encode({ key, n: i, page: '/burst', padding }) }));
  log(`writing ${entries.length} records of ~${STREAMING_LAB.burstRecordBytes} bytes with one partition key (so one shard) at once: more than 1,000 records or 1 MiB in a second`);
  const started = Date.now();
  const outcome = await putWithBackoff(context, streamName, entries);
  log(`after ${outcome.attempts} attempt(s) in ${elapsedSeconds(started)} s: ${outcome.throttledFirst} refused at first, ${outcome.refused} refused in the end`);
  check(outcome.throttledFirst > 0, 'no record was refused: a shard took more than 1,000 records in one second, which it should not');
  check(outcome.refused === 0, `${outcome.refused} records were still refused after the retries`);
  log('the refused entries were retried alone, after a growing random wait: the same records now sit in the shard, each once');
}
