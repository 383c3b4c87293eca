import { itemSizeBytes, MAX_ITEM_BYTES, provisionedCapacity, readUnits, writeUnits } from '../../../labs/dynamodb-modelling/capacity';

test.each([
  [0, 1, 1, 0.5, 2, 2],
  [1, 1, 1, 0.5, 2, 2],
  [1024, 1, 1, 0.5, 2, 2],
  [1025, 2, 1, 0.5, 4, 2],
  [4096, 4, 1, 0.5, 8, 2],
  [4097, 5, 2, 1, 10, 4],
  [7_680, 8, 2, 1, 16, 4],
  [MAX_ITEM_BYTES, 400, 100, 50, 800, 200],
])('%i bytes: %i WCU; %i RCU strong, %f eventual; transactional %i WCU / %i RCU', (bytes, wcu, strong, eventual, txWrite, txRead) => {
  expect(writeUnits(bytes)).toBe(wcu);
  expect(readUnits(bytes)).toBe(strong);
  expect(readUnits(bytes, 'eventual')).toBe(eventual);
  expect(writeUnits(bytes, { transactional: true })).toBe(txWrite);
  expect(readUnits(bytes, 'transactional')).toBe(txRead);
});

test('an item above 400 KB or of a negative size is refused, naming the limit', () => {
  expect(() => writeUnits(MAX_ITEM_BYTES + 1)).toThrow(new RangeError('an item is 0 to 409600 bytes (400 KB), got 409601'));
  expect(() => writeUnits(-1)).toThrow(RangeError);
  expect(() => readUnits(-1)).toThrow(RangeError);
});

test.each([
  // The classic exam questions: units per request × requests per second, rounded up once.
  [{ itemBytes: 6 * 1024, readsPerSecond: 10, consistency: 'strong' as const }, 20, 0],
  [{ itemBytes: 6 * 1024, readsPerSecond: 10, consistency: 'eventual' as const }, 10, 0],
  [{ itemBytes: 3 * 1024, readsPerSecond: 5, consistency: 'eventual' as const }, 3, 0],
  [{ itemBytes: 1500, writesPerSecond: 10 }, 0, 20],
  [{ itemBytes: 512, writesPerSecond: 100, transactionalWrites: true }, 0, 200],
])('provisioned capacity for %j: %i RCU, %i WCU', (workload, rcu, wcu) => {
  expect(provisionedCapacity(workload)).toEqual({ readCapacityUnits: rcu, writeCapacityUnits: wcu });
});

describe('item size: attribute names plus values', () => {
  test.each([
    [{ a: 'xyz' }, 4],
    [{ name: 'é' }, 6], // UTF-8: é is 2 bytes
    [{ n: 12345 }, 1 + 4], // 5 significant digits → 3 bytes + 1
    [{ n: 19.99 }, 1 + 3],
    [{ n: 1000 }, 1 + 2], // trailing zeros are not significant
    [{ ok: true, gone: null }, 2 + 1 + 4 + 1],
    [{ bin: new Uint8Array(10) }, 3 + 10],
    [{ tags: new Set(['ab', 'cd']) }, 4 + 4],
    [{ l: ['ab', 1] }, 1 + 3 + (1 + 2) + (1 + 2)],
    [{ m: { k: 'v' } }, 1 + 3 + (1 + 1 + 1)],
  ])('%j → %i bytes', (item, bytes) => {
    expect(itemSizeBytes(item)).toBe(bytes);
  });
});
