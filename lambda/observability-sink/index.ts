import { gunzipSync } from 'node:zlib';
import type { CloudWatchAlarmEvent, CloudWatchLogsDecodedData, CloudWatchLogsEvent } from 'aws-lambda';

/**
 * Where the observability lab's signals land: the log group's subscription filter (gzipped, base64 batches of
 * matching log events) and a CloudWatch alarm's Lambda action (the alarm's state change). It prints one structured
 * line per delivery, which the exercise finds with FilterLogEvents; a real sink would page, open a ticket or forward.
 */
export type SinkEvent = CloudWatchLogsEvent | CloudWatchAlarmEvent;

export interface LogBatchSummary {
  event: 'log_batch_received';
  logGroup: string;
  subscriptionFilters: string[];
  count: number;
  messages: string[];
}

export interface AlarmSummary {
  event: 'alarm_state_change';
  alarmName: string;
  state: string;
  previousState: string;
  reason: string;
}

/** A subscription filter's payload: base64 of gzip of JSON. CONTROL_MESSAGE batches only check the destination. */
export function decodeLogBatch(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8')) as CloudWatchLogsDecodedData;
}

export async function handler(event: SinkEvent): Promise<LogBatchSummary | AlarmSummary | undefined> {
  if ('awslogs' in event) {
    const batch = decodeLogBatch(event);
    if (batch.messageType !== 'DATA_MESSAGE') return undefined;
    const summary: LogBatchSummary = {
      event: 'log_batch_received',
      logGroup: batch.logGroup,
      subscriptionFilters: batch.subscriptionFilters,
      count: batch.logEvents.length,
      messages: batch.logEvents.map((e) => e.message.trim()),
    };
    console.log(JSON.stringify(summary));
    return summary;
  }
  const summary: AlarmSummary = {
    event: 'alarm_state_change',
    alarmName: event.alarmData.alarmName,
    state: event.alarmData.state.value,
    previousState: event.alarmData.previousState.value,
    reason: event.alarmData.state.reason,
  };
  console.log(JSON.stringify(summary));
  return summary;
}
