/**
 * The lab's dataset: the same orders written as gzip CSV and as Parquet, one Hive-style partition (`dt=YYYY-MM-DD/`)
 * per day. Generated from a seeded random sequence, so every run (the exercise, the tests) writes the same rows and
 * the same bytes, and the answers the exercise expects can be computed from the rows themselves.
 */
import { gzipSync } from 'node:zlib';
import { ATHENA_LAB } from './constants';

const CATEGORIES = ['books', 'garden', 'games', 'kitchen', 'music', 'toys'] as const;

/** One order: the columns of both tables, in order (the partition key `dt` is in the object key, not in the file). */
export interface Order {
  readonly order_id: string;
  readonly customer_id: string;
  readonly category: string;
  readonly product: string;
  readonly quantity: number;
  readonly unit_price: number;
  readonly ordered_at: Date;
}

/** The data columns with their Glue (Hive) types: what the tables declare and the files hold. */
export const ORDER_COLUMNS = [
  { name: 'order_id', type: 'string' },
  { name: 'customer_id', type: 'string' },
  { name: 'category', type: 'string' },
  { name: 'product', type: 'string' },
  { name: 'quantity', type: 'int' },
  { name: 'unit_price', type: 'double' },
  { name: 'ordered_at', type: 'timestamp' },
] as const satisfies readonly { name: keyof Order; type: string }[];

/** mulberry32: a small seeded generator, so the rows do not depend on Math.random. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The orders of one day of the dataset, always the same for the same day. */
function ordersOf(day: string): Order[] {
  const random = seededRandom(Number(day.replaceAll('-', '')));
  const start = Date.parse(`${day}T00:00:00Z`);
  return Array.from({ length: ATHENA_LAB.ordersPerDay }, (_, index) => {
    const category = CATEGORIES[Math.floor(random() * CATEGORIES.length)];
    return {
      order_id: `o-${day.replaceAll('-', '')}-${String(index).padStart(5, '0')}`,
      customer_id: `c-${String(Math.floor(random() * 1000)).padStart(4, '0')}`,
      category,
      product: `${category}-${Math.floor(random() * 50)}`,
      quantity: 1 + Math.floor(random() * 5),
      unit_price: Math.round((2 + random() * 98) * 100) / 100,
      // Spread over the day in order, whole seconds, so CSV and Parquet hold the same instant.
      ordered_at: new Date(start + Math.floor((index * 86_400) / ATHENA_LAB.ordersPerDay) * 1000),
    };
  });
}

/** Athena's CSV timestamp form (`yyyy-MM-dd HH:mm:ss`, UTC), which LazySimpleSerDe parses into a timestamp column. */
const csvTimestamp = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

/** The day's orders as gzip CSV with a header line (the table skips it); Athena decompresses by the `.gz` suffix. */
function csvOf(orders: readonly Order[]): Buffer {
  const lines = orders.map((o) =>
    [o.order_id, o.customer_id, o.category, o.product, o.quantity, o.unit_price.toFixed(2), csvTimestamp(o.ordered_at)].join(','),
  );
  return gzipSync([ORDER_COLUMNS.map((c) => c.name).join(','), ...lines].join('\n') + '\n', { level: 9 });
}

/**
 * The day's orders as Parquet: GZIP pages (Athena's default for CTAS Parquet), row groups of
 * ATHENA_LAB.parquetRowGroupRows rows with min/max statistics, delta encodings for the ever-growing order id and time.
 */
async function parquetOf(orders: readonly Order[]): Promise<Buffer> {
  // hyparquet-writer is published as an ES module only: loaded when a Parquet file is written, not with the exercise.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const column = <K extends keyof Order>(name: K) => orders.map((o) => o[name]);
  const buffer = parquetWriteBuffer({
    codec: 'GZIP',
    // hyparquet-writer brings Snappy only; Node's zlib writes the GZIP pages.
    compressors: { GZIP: (page) => new Uint8Array(gzipSync(page)) },
    rowGroupSize: ATHENA_LAB.parquetRowGroupRows,
    createdBy: 'aws-developer-labs athena dataset',
    columnData: [
      { name: 'order_id', data: column('order_id'), type: 'STRING', nullable: false, encoding: 'DELTA_BYTE_ARRAY' },
      { name: 'customer_id', data: column('customer_id'), type: 'STRING', nullable: false },
      { name: 'category', data: column('category'), type: 'STRING', nullable: false },
      { name: 'product', data: column('product'), type: 'STRING', nullable: false },
      { name: 'quantity', data: column('quantity'), type: 'INT32', nullable: false },
      { name: 'unit_price', data: column('unit_price'), type: 'DOUBLE', nullable: false },
      { name: 'ordered_at', data: column('ordered_at'), type: 'TIMESTAMP', nullable: false, encoding: 'DELTA_BINARY_PACKED' },
    ],
  });
  return Buffer.from(buffer);
}

/** One object of the dataset: its key in the data bucket and its bytes. */
export interface DatasetObject {
  readonly key: string;
  readonly format: 'csv' | 'parquet';
  readonly day: string;
  readonly body: Buffer;
}

/** Every object of the dataset: for each day, `orders/csv/dt=<day>/orders.csv.gz` and `orders/parquet/dt=<day>/orders.parquet`. */
export async function datasetObjects(): Promise<DatasetObject[]> {
  const objects: DatasetObject[] = [];
  for (const day of ATHENA_LAB.days) {
    const orders = ordersOf(day);
    const partition = `${ATHENA_LAB.partitionKey}=${day}/`;
    objects.push({ key: `${ATHENA_LAB.prefixes.csv}${partition}orders.csv.gz`, format: 'csv', day, body: csvOf(orders) });
    objects.push({ key: `${ATHENA_LAB.prefixes.parquet}${partition}orders.parquet`, format: 'parquet', day, body: await parquetOf(orders) });
  }
  return objects;
}

/** One row of the exercise's question: orders and revenue per category on one day. */
export interface CategoryRevenue {
  readonly category: string;
  readonly orders: number;
  readonly revenue: string;
}

/** What the exercise's question must answer for `day`, computed from the rows, not by an engine. */
export function expectedAnswer(day: string): CategoryRevenue[] {
  const totals = new Map<string, { orders: number; cents: number }>();
  for (const order of ordersOf(day)) {
    const total = totals.get(order.category) ?? { orders: 0, cents: 0 };
    total.orders += 1;
    total.cents += Math.round(order.quantity * order.unit_price * 100);
    totals.set(order.category, total);
  }
  return [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([category, { orders, cents }]) => ({ category, orders, revenue: (cents / 100).toFixed(2) }));
}
