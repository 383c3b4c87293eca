import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';

/** Capacity units of one or more ConsumedCapacity answers. */
export const units = (capacity: ConsumedCapacity | ConsumedCapacity[] | undefined): number =>
  (Array.isArray(capacity) ? capacity : capacity ? [capacity] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

/** "total 1, table 0.5, StatusIndex 0.5": what ReturnConsumedCapacity INDEXES reports, for a log line. */
export const describeCapacity = (capacity: ConsumedCapacity | undefined) => {
  if (!capacity) return 'no capacity reported';
  const parts = [`total ${capacity.CapacityUnits}`];
  if (capacity.Table?.CapacityUnits !== undefined) parts.push(`table ${capacity.Table.CapacityUnits}`);
  for (const [name, c] of Object.entries({ ...capacity.LocalSecondaryIndexes, ...capacity.GlobalSecondaryIndexes })) {
    parts.push(`${name} ${c.CapacityUnits}`);
  }
  return parts.join(', ');
};

export const isSortedDescending = (values: string[]) => values.every((v, i) => i === 0 || values[i - 1] >= v);
