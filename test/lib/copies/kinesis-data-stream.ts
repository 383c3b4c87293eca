import { Duration, Stack } from 'aws-cdk-lib';
import { KinesisDataStream, StreamCapacity } from '../../../lib/kinesis-data-stream';

/** A stream of two shards keeping records 48 hours, with one enhanced fan-out consumer. */
export function build(stack: Stack): void {
  const clicks = new KinesisDataStream(stack, 'Clicks', { capacity: StreamCapacity.provisioned(2), retentionPeriod: Duration.hours(48) });
  clicks.addEnhancedFanOutConsumer('Analytics');
}
