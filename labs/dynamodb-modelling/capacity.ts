/**
 * DynamoDB capacity arithmetic, as the exam asks it and as DynamoDB bills it:
 * - 1 write capacity unit (WCU, or write request unit on demand) = one write of up to 1 KB per second;
 * - 1 read capacity unit (RCU) = one strongly consistent read of up to 4 KB per second, or two eventually
 *   consistent ones; a transactional read or write costs twice a standard one;
 * - item sizes round **up** to the next 1 KB (writes) or 4 KB (reads), per item for GetItem / PutItem /
 *   BatchGetItem, over the sum of all items read for Query and Scan.
 */

export const WRITE_UNIT_BYTES = 1024;
export const READ_UNIT_BYTES = 4096;
/** The largest item DynamoDB stores, attribute names included. */
export const MAX_ITEM_BYTES = 400 * 1024;

export type ReadConsistency = 'eventual' | 'strong' | 'transactional';

function checkSize(itemBytes: number): void {
  if (!Number.isFinite(itemBytes) || itemBytes < 0 || itemBytes > MAX_ITEM_BYTES) {
    throw new RangeError(`an item is 0 to ${MAX_ITEM_BYTES} bytes (400 KB), got ${itemBytes}`);
  }
}

/** Write units one write of an item of this size consumes (at least 1). */
export function writeUnits(itemBytes: number, { transactional = false } = {}): number {
  checkSize(itemBytes);
  const units = Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
  return transactional ? 2 * units : units;
}

/** Read units one read of an item (or of a Query/Scan page) of this size consumes: 0.5 for an eventual read of ≤ 4 KB. */
export function readUnits(itemBytes: number, consistency: ReadConsistency = 'strong'): number {
  if (!Number.isFinite(itemBytes) || itemBytes < 0) throw new RangeError(`a size is at least 0 bytes, got ${itemBytes}`);
  const blocks = Math.max(1, Math.ceil(itemBytes / READ_UNIT_BYTES));
  return { eventual: blocks / 2, strong: blocks, transactional: 2 * blocks }[consistency];
}

export interface Workload {
  readonly itemBytes: number;
  readonly readsPerSecond?: number;
  readonly writesPerSecond?: number;
  readonly consistency?: ReadConsistency;
  readonly transactionalWrites?: boolean;
}

/** The provisioned capacity a steady workload needs: the exam's "how many RCU/WCU" question. */
export function provisionedCapacity(workload: Workload): { readCapacityUnits: number; writeCapacityUnits: number } {
  const { itemBytes, readsPerSecond = 0, writesPerSecond = 0 } = workload;
  return {
    readCapacityUnits: Math.ceil(readsPerSecond * readUnits(itemBytes, workload.consistency ?? 'strong')),
    writeCapacityUnits: writesPerSecond * writeUnits(itemBytes, { transactional: workload.transactionalWrites }),
  };
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** DynamoDB's size of a number: about one byte per two significant digits, plus one. */
function numberBytes(value: number | bigint | string): number {
  const digits = String(value).replace(/^-/, '').replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberBytes(value);
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') {
    return 3 + Object.entries(value).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
  }
  throw new TypeError(`no DynamoDB type for ${typeof value}`);
}

/**
 * The size DynamoDB counts for an item (plain JavaScript values, as the document client takes them): the UTF-8
 * length of every attribute name plus its value. Exact for strings, numbers, binary, booleans and null; lists
 * and maps are estimated (3 bytes of overhead plus 1 per element).
 */
export function itemSizeBytes(item: object): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueBytes(value), 0);
}
